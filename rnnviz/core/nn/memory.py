"""How much memory training a configuration takes, estimated before anything is built, and the budget it must fit.

The estimate adds what ``RNNModel``, ``Optimizer`` and ``Trainer`` allocate (s = bytes per number, 4 or 8;
P parameters; n vocabulary; k outputs; d hidden; G gates; B batch; T sequence length)::

    weights and optimiser state   10 P s      model.flat, model.grad, the decay mask, Adam m, v and its scratch,
                                              the Trainer's last good weights, m and v, one temporary of P
    the input table               n G d s     U + b, the rows looked up by token id (one per forward pass)
    training activations          c T B d s   per layer and direction: the cell's saved states and backward
                                              scratch (c: RNN 5, GRU 17, LSTM 18 times d), kept between steps
    training output               3 T B k s   logits, log-probabilities, probabilities / their gradient
                                              (classification: B k instead of T B k)
    evaluation                    f T E d s   a forward pass (f: RNN 2, GRU 8, LSTM 11) of E sequences, E the
                  + 4 T E k s     smaller of the Trainer's EVAL_BATCH (256) and the validation examples, with
                  + 8 k k         their outputs, and the k x k confusion matrix (not for generation)
    evaluation history            8 M k k     the confusion matrix of each evaluation kept: M = epochs + 1, at
                                              most the Trainer's EVAL_CAP (not for generation)

The peak is the weights, the evaluation history, the input table and the training activations, plus the larger of
the training output and the evaluation (which runs between steps, with the training scratch still allocated), plus
FIXED for the loss and gradient histories. Tested against the allocations ``tracemalloc`` measures
within a factor of 2 either way (tests/core/test_memory_estimate.py; 0.8 to 1.2 measured for ten configurations).
The data themselves (token ids, the vocabulary) are loaded before and are not counted.

The budget: half of the machine's memory (or of the container's limit when lower), or ``RNNVIZ_MEMORY_MB``
megabytes when that is set. A configuration over it is refused with a ConfigError naming the setting to lower.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from rnnviz.core.config import GATES, Config
from rnnviz.core.errors import ConfigError
from rnnviz.core.nn.params import count_params

TRAIN_UNITS = {"rnn": 5, "gru": 17, "lstm": 18}    # (T, B, d) arrays one layer and direction keeps for BPTT
FORWARD_UNITS = {"rnn": 2, "gru": 8, "lstm": 11}   # (T, B, d) arrays of a forward pass alone
PARAM_COPIES = 10                                  # arrays of P numbers (see the module docstring)
FIXED = 2 * 2**20                                  # histories, monitor, confusion cells: measured 1.5-2 MB
BUDGET_ENV = "RNNVIZ_MEMORY_MB"


@dataclass(frozen=True)
class Estimate:
    """Bytes by part, the peak, and the settings that shrink the largest part (first: the one to name)."""

    parts: dict[str, int]
    peak: int
    largest: str
    lower: tuple[str, ...] = field(default_factory=tuple)


def estimate(cfg: Config, n_vocab: int, n_classes: int, n_train: int, n_val: int, t_train: int,
             t_val: int, eval_batch: int, eval_cap: int) -> Estimate:
    """The memory training ``cfg`` takes on data of ``n_vocab`` tokens, ``n_classes`` outputs, ``n_train`` /
    ``n_val`` examples of at most ``t_train`` / ``t_val`` steps, evaluated ``eval_batch`` sequences at a time,
    keeping at most ``eval_cap`` evaluations (see the module docstring)."""
    s = 8 if cfg.dtype == "float64" else 4
    d, G = cfg.hidden, len(GATES[cfg.cell]) * cfg.hidden
    dirs = 2 if cfg.bidirectional else 1
    k = n_classes
    P = count_params(cfg, n_vocab, n_classes)
    B = max(1, min(cfg.batch_size, n_train))
    # the training scratch grows to the larger of a training batch and the monitor batch (validation)
    TB = max(max(1, t_train) * B, max(1, t_val) * max(1, min(cfg.batch_size, n_val)))
    E = max(1, min(eval_batch, n_val))
    Tv = max(1, t_val)
    runs = cfg.layers * dirs
    between = 3 * (cfg.layers - 1 + (dirs - 1))      # (T, B, D) copies that join layers and directions
    sequence_out = cfg.task != "classification"
    parts = {
        "weights": PARAM_COPIES * P * s + P,
        "evaluation history": (min(eval_cap, cfg.epochs + 1) * 8 * (k * k + k) if cfg.task != "generation" else 0),
        "input table": n_vocab * G * s * dirs,
        "training activations": (TRAIN_UNITS[cfg.cell] * runs + dirs + between * dirs) * TB * d * s,
        "training output": 3 * (TB if sequence_out else B) * k * s,
        "evaluation": (FORWARD_UNITS[cfg.cell] * runs + between * dirs) * Tv * E * d * s
        + 4 * (Tv if sequence_out else 1) * E * k * s + (8 * k * k if cfg.task != "generation" else 0),
    }
    peak = (FIXED + parts["weights"] + parts["evaluation history"] + parts["input table"]
            + parts["training activations"]
            + max(parts["training output"], parts["evaluation"]))
    largest = max(parts, key=parts.get)
    return Estimate(parts, peak, largest, _advice(cfg, largest, n_vocab, k, d, G))


def _advice(cfg: Config, part: str, n_vocab: int, k: int, d: int, G: int) -> tuple[str, ...]:
    """The settings that make ``part`` smaller, the most effective first."""
    length = "window" if cfg.task == "generation" else "max_len"
    generation = cfg.task == "generation"
    if part == "weights":
        by_vocab = n_vocab * G + k * d > G * d * cfg.layers
        return ("max_vocab", "hidden") if by_vocab and (generation or n_vocab > k) else ("hidden", "layers")
    if part == "evaluation history":
        return ("epochs",)
    if part == "input table":
        return ("max_vocab", "hidden")
    if part == "training activations":
        return ("batch_size", length, "hidden")
    if part == "training output":
        return ("max_vocab", "batch_size", length) if generation else ("batch_size", length)
    return ("max_vocab", length) if generation else (length, "hidden")


def estimate_for(cfg: Config, dataset: Any, eval_batch: int, eval_cap: int) -> Estimate:
    """``estimate`` for ``cfg`` on a loaded Dataset."""
    def longest(split: Any) -> int:
        return max((len(x) for x in split.ids), default=1)

    return estimate(cfg, len(dataset.vocab), dataset.n_classes, len(dataset.train), len(dataset.val),
                    longest(dataset.train), longest(dataset.val), eval_batch, eval_cap)


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as fh:
                text = fh.read(64).strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def physical_memory() -> int | None:
    """Bytes of memory of this machine, or of its container when that is less (None when unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = None
    limit = _cgroup_limit()
    if total is None or total <= 0:
        return limit
    return min(total, limit) if limit else total


def budget() -> tuple[int, str]:
    """(bytes, where it comes from): ``RNNVIZ_MEMORY_MB`` when set, else half the memory (at least 1 GB)."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    if text:
        if text.isascii() and text.isdigit() and 0 < len(text) <= 9 and int(text) > 0:
            return int(text) * 2**20, f"{BUDGET_ENV}={text}"
        raise ConfigError(BUDGET_ENV, f"must be a whole number of megabytes from 1 to 999999999, got {text[:40]!r}")
    total = physical_memory()
    if total is None:
        return 4 * 2**30, "4 GB (the machine's memory is unknown)"
    return max(2**30, total // 2), f"half of this machine's {total / 2**30:.1f} GB"


def _size(n: float) -> str:
    if n >= 2**30:
        return f"{n / 2**30:,.1f} GB"
    return f"{n / 2**20:,.0f} MB" if n >= 10 * 2**20 else f"{n / 2**20:.1f} MB"


def check(cfg: Config, est: Estimate, limit: int | None = None, source: str | None = None) -> Estimate:
    """``est`` when its peak fits the budget (``limit`` bytes, default ``budget()``); otherwise a ConfigError
    naming the setting to lower, the need, the largest part and the budget."""
    if limit is None:
        limit, source = budget()
    if est.peak <= limit:
        return est
    first, *rest = est.lower
    values = ", ".join(f"{name}={getattr(cfg, name)}" for name in est.lower)
    also = f" (or {', '.join(rest)})" if rest else ""
    raise ConfigError(first, f"training needs about {_size(est.peak)} of memory ({est.largest}: "
                             f"{_size(est.parts[est.largest])}), more than the budget of {_size(limit)} "
                             f"({source or 'given'}); lower {first}{also}: now {values}")

