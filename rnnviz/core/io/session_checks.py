"""What a session file may hold: every field of its state.json and every array checked against the range a real run
can produce (capacities, strides, positions, steps, epochs, counts, temperature, optimiser state) before anything
is allocated from it. ``session.load_session`` calls ``check_state``; a failed check is a CheckpointError naming
the file and the field."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.core.config import SETTINGS, Config, allowed
from rnnviz.core.config import _show as _short
from rnnviz.core.errors import CheckpointError

HISTORIES = ("loss", "param_grad", "grad_flow", "gate_saturation")
LATER_HISTORIES = ("gate_saturation",)   # absent from files saved before it existed: the restored run starts it anew
EVAL_SCALARS = ("step", "epoch", "val_loss", "val_accuracy", "val_perplexity", "train_loss")
NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
COUNT_LIMIT = 2**62    # largest step, epoch or index a session may hold: the histories store steps as int64
MONITOR_EVERY_LIMIT = 10_000    # the gradient flow of the monitor batch is recorded at least every this many steps


def want(cond: bool, path: Path, what: str) -> None:
    """CheckpointError "PATH: damaged session file: WHAT" unless ``cond``."""
    if not cond:
        raise CheckpointError(f"{path}: damaged session file: {what}")


def unfloat(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, str) and v in NONFINITE:
        return NONFINITE[v]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError(f"not a number: {v!r}")


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_state(path: Path, state: dict, arrays: dict, config: Config, n_vocab: int, k: int, model_cls) -> None:
    """Every field of state.json and every array against what a real run can hold; CheckpointError on the first
    that is not (nothing is allocated from a number before it is checked)."""
    from rnnviz.core.train.trainer import EVAL_CAP, HISTORY_CAPS, MARKER_CAP

    def integer(name: str, lo: int = 0, hi: int = COUNT_LIMIT) -> int:
        v = state.get(name)
        want(is_int(v) and lo <= v <= hi, path, f"{name} = {_short(v)} (must be a whole number from {lo} to {hi})")
        return v

    step = integer("step_count")
    epoch = integer("epoch", 0, step)                   # every epoch takes at least one step
    integer("pos")
    integer("probe_index")
    integer("monitor_every", 1, MONITOR_EVERY_LIMIT)
    for name in ("temperature", "last_grad_norm", "last_loss"):
        try:
            state[name] = unfloat(state.get(name))
        except TypeError:
            state[name] = None
        want(state[name] is not None, path, name)
    t = state["temperature"]
    want(math.isfinite(t) and SETTINGS["temperature"].accepts(t), path,
         f"temperature = {_short(t)} (must be {allowed('temperature')})")
    for name in ("last_grad_norm", "last_loss"):             # NaN or infinite when the last step faulted
        want(not state[name] < 0, path, f"{name} = {_short(state[name])} (cannot be negative)")
    want(state.get("fault") is None or isinstance(state.get("fault"), str), path, "fault")
    want(isinstance(state.get("sample_text"), str), path, "sample_text")
    want(is_int(state.get("sample_step", -1)) and -1 <= state.get("sample_step", -1) <= step, path,
         f"sample_step (from -1 to {step})")
    want(isinstance(state.get("flush_subnormal", False), bool), path, "flush_subnormal")
    tokens = state.get("probe_tokens")
    want(tokens is None or (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens)), path,
         "probe_tokens")
    markers = state.get("markers")
    want(isinstance(markers, list) and len(markers) <= MARKER_CAP
         and all(isinstance(m, list) and len(m) == 2 and is_int(m[0]) and 0 <= m[0] <= step
                  and isinstance(m[1], str) for m in markers), path,
          f"markers (at most {MARKER_CAP}, each [a step from 0 to {step}, a text])")
    for name in ("rng", "sample_rng"):
        rng = state.get(name)
        want(isinstance(rng, dict) and rng.get("bit_generator") == "PCG64", path, f"{name} state")
        try:
            np.random.PCG64().state = rng
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise CheckpointError(f"{path}: damaged session file: {name} state ({exc})") from None
    # the model: every parameter present with the right shape, finite floats
    model = model_cls(config, n_vocab, k)
    for name in model.param_names:
        arr = arrays.get(f"param/{name}")
        if arr is None:
            raise CheckpointError(f"{path}: parameter {name} is missing")
        if arr.dtype.kind != "f" or arr.shape != model.params[name].shape:
            raise CheckpointError(f"{path}: parameter {name} has shape {arr.shape} ({arr.dtype}), "
                                  f"expected {model.params[name].shape} floats")
        if not np.isfinite(arr).all():
            raise CheckpointError(f"{path}: parameter {name} contains NaN or infinity")
    check_optimizer(path, arrays, model.flat.shape)
    order = arrays.get("order")
    want(order is not None and order.ndim == 1 and order.dtype.kind in "iu", path, "the data order")
    want(np.array_equal(np.sort(order), np.arange(order.size)), path,
         f"the data order is not an order of the {order.size} training examples")
    want(state["pos"] <= order.size, path, f"the position {state['pos']} in the data order of {order.size}")
    check_histories(path, state, arrays, step, HISTORY_CAPS, len(model.param_names))
    check_evals(path, state, arrays, config, k, step, epoch, EVAL_CAP)
    for name in ("monitor/all", "monitor/last"):
        arr = arrays.get(name)
        want(arr is not None and arr.ndim == 1 and arr.dtype.kind == "f" and not (arr < 0).any(), path, name)
    want(arrays["monitor/all"].size == arrays["hist/grad_flow/values"].shape[1], path, "gradient-flow width")


def check_optimizer(path: Path, arrays: dict, shape: tuple) -> None:
    """m and v of the model's size and finite (v, a mean of squares, not negative); t a whole number of steps."""
    for key, expected in (("m", shape), ("v", shape), ("t", ())):
        arr = arrays.get(f"optim/{key}")
        want(arr is not None and arr.shape == expected and arr.dtype.kind in "fiu", path,
             f"optimiser state {key} does not match the model")
    m, v, t = arrays["optim/m"], arrays["optim/v"], arrays["optim/t"]
    want(bool(np.isfinite(m).all() and np.isfinite(v).all()), path, "optimiser state contains NaN or infinity")
    want(not (v < 0).any(), path, "optimiser state v (a mean of squared gradients) is negative")
    want(bool(np.isfinite(t)) and float(t) == int(t) and 0 <= int(t) <= COUNT_LIMIT, path,
         f"optimiser step count t = {_short(t.item())}")


def check_histories(path: Path, state: dict, arrays: dict, step: int, caps: dict, n_params: int) -> None:
    """Each bounded history: capacity even and at most the Trainer's cap, rows within it, a power-of-two stride
    no larger than the steps offered, steps in order and not past ``step``, values not negative."""
    hist = state.get("history")
    want(isinstance(hist, dict), path, "history")
    for key in HISTORIES:
        h = hist.get(key)
        if h is None and key in LATER_HISTORIES and f"hist/{key}/steps" not in arrays:
            continue
        want(isinstance(h, dict) and all(is_int(h.get(x)) for x in ("n", "stride", "offered", "capacity")), path,
             f"history {key}")
        n, stride, offered, capacity = h["n"], h["stride"], h["offered"], h["capacity"]
        want(4 <= capacity <= caps[key] and capacity % 2 == 0, path,
             f"history {key} capacity = {_short(capacity)} (must be an even number from 4 to {caps[key]})")
        want(0 <= n <= capacity and n <= offered <= COUNT_LIMIT, path,
             f"history {key}: {_short(n)} rows of {_short(offered)} offered")
        want(1 <= stride <= max(1, offered) and stride & (stride - 1) == 0, path,
             f"history {key} stride = {_short(stride)} (a power of two, at most the {offered} rows offered)")
        steps, values = arrays.get(f"hist/{key}/steps"), arrays.get(f"hist/{key}/values")
        want(steps is not None and values is not None and steps.ndim == 1 and values.ndim == 2
             and steps.shape[0] == values.shape[0] == n and steps.dtype.kind in "iu" and values.dtype.kind == "f",
              path, f"history {key} arrays")
        want(steps.size == 0 or (int(steps.min()) >= 0 and bool((np.diff(steps) >= 0).all())), path,
             f"history {key} steps are not in order")
        want(steps.size == 0 or int(steps.max()) <= step, path, f"history {key} goes past step {step}")
        want(not (values < 0).any(), path, f"history {key} has negative values (losses and norms are not)")
    want(arrays["hist/param_grad/values"].shape[1] == n_params, path, "parameter-gradient history")


def check_evals(path: Path, state: dict, arrays: dict, config: Config, k: int, step: int, epoch: int,
                 cap: int) -> None:
    """At most ``cap`` evaluations, in order, at steps and epochs already reached; losses not negative,
    accuracies in [0, 1]; confusion counts not negative."""
    evals = state.get("evals")
    want(isinstance(evals, list) and len(evals) <= cap
         and all(isinstance(e, dict) and set(EVAL_SCALARS) <= set(e) for e in evals), path, "evaluations")
    try:
        last = (0, 0)
        for e in evals:
            at = (e["step"], e["epoch"])
            want(all(is_int(x) for x in at) and last <= at and at[0] <= step and at[1] <= epoch, path,
                 f"evaluation at step {_short(e['step'])}, epoch {_short(e['epoch'])}")
            last = at
            for x in ("val_loss", "val_accuracy", "val_perplexity", "train_loss"):
                e[x] = unfloat(e[x])
            want(all(e[x] is None or not e[x] < 0 for x in ("val_loss", "val_perplexity", "train_loss"))
                 and (e["val_accuracy"] is None or not (e["val_accuracy"] < 0 or e["val_accuracy"] > 1)), path,
                  f"evaluation at step {e['step']}: a negative loss or an accuracy outside 0..1")
    except TypeError as exc:
        raise CheckpointError(f"{path}: damaged session file: an evaluation ({exc})") from None
    conf, pca = arrays.get("eval/confusion"), arrays.get("eval/per_class")
    kk = 0 if config.task == "generation" else k
    want(conf is not None and conf.shape == (len(evals), kk, kk) and conf.dtype.kind in "iu"
         and not (conf < 0).any(), path, f"confusion matrices (must be {len(evals)} of {kk} x {kk} counts, none "
                                          f"negative)")
    want(pca is not None and pca.shape == (len(evals), kk) and pca.dtype.kind == "f"
         and not ((pca < 0) | (pca > 1)).any(), path, "per-class accuracies (must be from 0 to 1)")


# -------------------------------------------------------------------------------------------- restoring
