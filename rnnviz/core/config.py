"""Settings of a run: data, model and training in one frozen, validated record.

One flat record keeps ``--set key=value``, preset TOML files and session files simple: every key is a field
below, every field is checked with a message that names it and its allowed values.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, fields
from typing import Any

from rnnviz.core.errors import ConfigError

TASKS = ("classification", "labelling", "generation")
CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "sigmoid", "relu")
INITS = ("uniform", "normal", "xavier", "orthogonal", "identity")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adagrad")
TOKENIZERS = ("word", "char")
DTYPES = ("float32", "float64")
GENERATED = ("negation", "names", "pos", "delayed-recall", "chars")


@dataclass(frozen=True)
class Config:
    """Every setting of a run. Field docs are shown as tooltips and in ``rnnviz train --help``."""

    # --- data -------------------------------------------------------------------------------------
    dataset: str = "negation"        # a generated dataset name (GENERATED) or a path to a file
    task: str = "classification"     # classification | labelling | generation
    tokenize: str = "word"           # word | char
    lowercase: bool = True           # lower-case words before building the vocabulary
    min_freq: int = 1                # tokens seen fewer times in the training split become <unk>
    max_vocab: int = 10000           # keep at most this many tokens (specials included)
    sos: bool = False                # prepend <sos> to each sequence
    eos: bool = False                # append <eos> to each sequence
    val_fraction: float = 0.2        # fraction of examples held out for validation (stratified)
    n_examples: int = 2000           # size of a generated dataset (10..20000: more takes minutes to generate)
    delay: int = 10                  # delayed-recall: number of distractor tokens L after the label token
    window: int = 64                 # generation: tokens per training window
    column: int = 4                  # CoNLL-U: 1-based column of the tag (4 = UPOS, 5 = XPOS)
    max_len: int = 400               # longer sequences are cut to this length (with a warning)
    # --- model ------------------------------------------------------------------------------------
    cell: str = "rnn"                # rnn | lstm | gru
    activation: str = "tanh"         # vanilla RNN g(): tanh | sigmoid | relu
    hidden: int = 32                 # d, the size of s_t
    layers: int = 1                  # stacked recurrent layers
    bidirectional: bool = False      # a second RNN reads each sequence backwards (not for generation)
    init: str = "uniform"            # initialiser of W (U and V: the same family, see core.init)
    spectral_radius: float = 0.0     # >0: rescale W (each gate block) to this spectral radius
    forget_bias: float = 1.0         # LSTM: initial forget-gate bias
    dtype: str = "float32"           # float32 for speed, float64 for checks
    # --- training ---------------------------------------------------------------------------------
    optimizer: str = "adam"          # sgd | momentum | rmsprop | adam | adagrad
    lr: float = 0.01                 # learning rate (changeable between steps)
    momentum: float = 0.9            # momentum (sgd with momentum) / beta1 (adam)
    batch_size: int = 32             # larger than the training split is fine: one batch of all examples
    clip: float = 5.0                # global gradient-norm clipping threshold; 0 = off
    weight_decay: float = 0.0        # L2 on U, W, V (not biases)
    bptt: int = 0                    # truncated BPTT length k; 0 = full BPTT (k >= the sequence length: full)
    epochs: int = 10
    seed: int = 0
    temperature: float = 1.0         # generation: sampling temperature (0 = greedy)

    def replace(self, **changes: Any) -> "Config":
        """A copy with ``changes`` applied and validated."""
        return validate(dataclasses.replace(self, **changes))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


STRUCTURAL = frozenset(
    "dataset task tokenize lowercase min_freq max_vocab sos eos val_fraction n_examples delay window column "
    "max_len cell activation hidden layers bidirectional init spectral_radius forget_bias dtype seed".split()
)
"""Settings that change the model's shape or data: changing them means a new model (a reset)."""

FIELD_TYPES: dict[str, type] = {f.name: type(f.default) for f in fields(Config)}

_CHOICES = {
    "task": TASKS, "cell": CELLS, "activation": ACTIVATIONS, "init": INITS, "optimizer": OPTIMIZERS,
    "tokenize": TOKENIZERS, "dtype": DTYPES,
}
# name: (low, high, low_inclusive) for numbers
_RANGES = {
    "min_freq": (1, 10**9, True), "max_vocab": (5, 10**7, True), "val_fraction": (0.0, 0.9, False),
    "n_examples": (10, 20000, True), "delay": (0, 10000, True), "window": (2, 100000, True),
    "column": (2, 10, True), "max_len": (1, 1000000, True), "hidden": (1, 4096, True), "layers": (1, 8, True),
    "spectral_radius": (0.0, 100.0, True), "forget_bias": (-100.0, 100.0, True), "lr": (0.0, 100.0, False),
    "momentum": (0.0, 0.9999, True), "batch_size": (1, 100000, True), "clip": (0.0, 1e9, True),
    "weight_decay": (0.0, 10.0, True), "bptt": (0, 100000, True), "epochs": (1, 100000, True),
    "seed": (0, 2**32 - 1, True), "temperature": (0.0, 100.0, True),
}


MAX_DATASET_CHARS = 4096             # a path longer than this is refused (the OS refuses it too)
MAX_RECURRENT_WEIGHTS = 50_000_000   # G*d*d per layer and direction, summed: larger models cannot train live
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _range_text(name: str) -> str:
    lo, hi, inclusive = _RANGES[name]
    return f"from {lo} ({'inclusive' if inclusive else 'exclusive'}) to {hi}"


def allowed(name: str) -> str:
    """What field ``name`` accepts, in words: "a whole number from 1 (inclusive) to 4096", "one of rnn, lstm"..."""
    want = FIELD_TYPES[name]
    if want is bool:
        return "true or false"
    if name in _CHOICES:
        return f"one of {', '.join(_CHOICES[name])}"
    kind = {int: "a whole number", float: "a finite number", str: "text"}.get(want, want.__name__)
    if name in _RANGES:
        return f"{kind} {_range_text(name)}"
    if name == "dataset":
        return f"a built-in dataset ({', '.join(GENERATED)}) or a file path (one line, at most {MAX_DATASET_CHARS} " \
               "characters)"
    return kind


def _show(value: Any) -> str:
    """``repr(value)`` cut to one short line (a 5000-digit integer cannot even be printed)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number with thousands of digits"
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(name: str, value: Any) -> ConfigError:
    return ConfigError(name, f"must be {allowed(name)}; got {_show(value)}")


def validate(cfg: Config) -> Config:
    """Check every field; raise ConfigError naming the first bad field and what is allowed."""
    for f in fields(Config):
        value = getattr(cfg, f.name)
        want = FIELD_TYPES[f.name]
        if want is bool:
            if not isinstance(value, bool):
                raise _bad(f.name, value)
        elif want is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad(f.name, value)
        elif want is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _bad(f.name, value)
        elif want is str and not isinstance(value, str):
            raise _bad(f.name, value)
        if f.name in _CHOICES and value not in _CHOICES[f.name]:
            raise _bad(f.name, value)
        if f.name in _RANGES:
            lo, hi, inclusive = _RANGES[f.name]
            ok = (lo <= value <= hi) if inclusive else (lo < value <= hi)
            if not ok:
                raise _bad(f.name, value)
    if not cfg.dataset.strip() or len(cfg.dataset) > MAX_DATASET_CHARS or any(
            ord(ch) < 32 or ord(ch) == 127 for ch in cfg.dataset):
        raise _bad("dataset", cfg.dataset)
    if cfg.bidirectional and cfg.task == "generation":
        raise ConfigError("bidirectional", "cannot be used for generation (the model would see the next token)")
    weights = GATES[cfg.cell] * cfg.hidden * cfg.hidden * cfg.layers * (2 if cfg.bidirectional else 1)
    if weights > MAX_RECURRENT_WEIGHTS:
        raise ConfigError("hidden", f"cell={cfg.cell}, hidden={cfg.hidden}, layers={cfg.layers}"
                                    f"{', bidirectional' if cfg.bidirectional else ''} make {weights:,} recurrent "
                                    f"weights; at most {MAX_RECURRENT_WEIGHTS:,} train live: use a smaller hidden "
                                    "size or fewer layers")
    return cfg


def _unknown(name: str) -> ConfigError:
    close = difflib.get_close_matches(name, list(FIELD_TYPES), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return ConfigError(name, f"unknown setting; {hint}known settings: {', '.join(sorted(FIELD_TYPES))}")


def parse_value(name: str, text: str) -> Any:
    """Turn the text of ``--set name=text`` into the field's type, with a clear error."""
    if name not in FIELD_TYPES:
        raise _unknown(name)
    want = FIELD_TYPES[name]
    text = text.strip()
    if want is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise _bad(name, text)
    if want is int:
        try:
            return int(text)
        except ValueError:
            raise _bad(name, text) from None
    if want is float:
        try:
            return float(text)
        except ValueError:
            raise _bad(name, text) from None
    return text


def from_dict(values: dict[str, Any], base: Config | None = None) -> Config:
    """Build a Config from a mapping (preset, session, JSON); unknown keys are an error."""
    base = base or Config()
    if not isinstance(values, dict):
        raise ConfigError("settings", f"must be a table of key = value pairs, got {_show(values)}")
    changes = {}
    for key, value in values.items():
        if not isinstance(key, str) or key not in FIELD_TYPES:
            raise _unknown(str(key))
        if FIELD_TYPES[key] is float and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                raise _bad(key, value) from None
        changes[key] = value
    return validate(dataclasses.replace(base, **changes))


def apply_sets(cfg: Config, assignments: list[str]) -> Config:
    """Apply ``key=value`` strings (the CLI's ``--set``)."""
    changes = {}
    for item in assignments:
        if "=" not in item:
            raise ConfigError(item, "expected key=value")
        key, text = item.split("=", 1)
        key = key.strip().replace("-", "_")
        changes[key] = parse_value(key, text)
    return from_dict(changes, cfg)


def to_toml(values: dict[str, Any]) -> str:
    """Write a flat mapping as TOML lines (the stdlib reads TOML but does not write it)."""
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            lines.append(f"{key} = {value!r}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    return "\n".join(lines) + "\n"
