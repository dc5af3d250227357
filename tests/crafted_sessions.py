"""Crafted session files (Qt-free): a good session with one number made absurd, and what the refusal must say.
Shared by the core, command-line and window tests of sessions."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from rnnviz.core.files import atomic_save_npz, json_to_array


def _state(change: Callable[[dict], None]) -> Callable[[dict], None]:
    def apply(arrays: dict) -> None:
        state = json.loads(arrays["state.json"].tobytes())
        change(state)
        arrays["state.json"] = json_to_array(state)
    return apply


def _hist(key: str, **values) -> Callable[[dict], None]:
    return _state(lambda s: s["history"][key].update(values))


def _array(name: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[dict], None]:
    return lambda a: a.update({name: make(a[name])})


# name -> (how the good file is changed, words the one-line refusal must contain)
CRAFTED: dict[str, tuple[Callable[[dict], None], str]] = {
    "capacity-absurd": (_hist("loss", capacity=10**12), "history loss capacity = 1000000000000"),
    "capacity-odd": (_hist("grad_flow", capacity=7), "history grad_flow capacity = 7"),
    "capacity-huge-int": (_hist("param_grad", capacity=10**4000), "history param_grad capacity = 1000"),
    "stride-absurd": (_hist("loss", stride=2**50), "history loss stride"),
    "stride-not-power": (_hist("loss", stride=3), "history loss stride = 3"),
    "offered-negative": (_hist("loss", offered=-5), "history loss"),
    "temperature-nan": (_state(lambda s: s.update(temperature="nan")), "temperature = nan"),
    "temperature-inf": (_state(lambda s: s.update(temperature="inf")), "temperature = inf"),
    "temperature-minus-inf": (_state(lambda s: s.update(temperature="-inf")), "temperature = -inf"),
    "temperature-negative": (_state(lambda s: s.update(temperature=-0.5)), "temperature = -0.5"),
    "temperature-huge": (_state(lambda s: s.update(temperature=1e300)), "temperature = 1e+300"),
    "epoch-past-steps": (_state(lambda s: s.update(epoch=10**9)), "epoch = 1000000000"),
    "step-negative": (_state(lambda s: s.update(step_count=-1)), "step_count = -1"),
    "position-past-order": (_state(lambda s: s.update(pos=10**6)), "the position 1000000"),
    "monitor-every-absurd": (_state(lambda s: s.update(monitor_every=10**15)), "monitor_every = 1000000000000000"),
    "marker-negative-step": (_state(lambda s: s.update(markers=[[-5, "lr 1\u21922"]])), "markers"),
    "grad-norm-negative": (_state(lambda s: s.update(last_grad_norm=-1.0)), "last_grad_norm = -1.0"),
    "eval-negative-step": (_state(lambda s: s["evals"][0].update(step=-4)), "evaluation at step -4"),
    "eval-accuracy-above-1": (_state(lambda s: s["evals"][0].update(val_accuracy=3.0)), "accuracy outside 0..1"),
    "rng-huge": (_state(lambda s: s["rng"]["state"].update(state=10**4000)), "rng state"),
    "optimiser-t-negative": (_array("optim/t", lambda t: np.array(-3)), "optimiser step count t = -3"),
    "optimiser-t-nan": (_array("optim/t", lambda t: np.array(np.nan)), "optimiser step count t = nan"),
    "optimiser-v-negative": (_array("optim/v", lambda v: -np.ones_like(v)), "optimiser state v"),
    "optimiser-m-inf": (_array("optim/m", lambda m: np.full_like(m, np.inf)), "NaN or infinity"),
    "history-steps-backwards": (_array("hist/loss/steps", lambda s: s[::-1].copy()), "steps are not in order"),
    "history-negative-loss": (_array("hist/loss/values", lambda v: -np.abs(v) - 1), "negative values"),
    "order-not-a-permutation": (_array("order", np.zeros_like), "the data order is not an order"),
    "confusion-negative": (_array("eval/confusion", lambda c: c - 10**6), "confusion matrices"),
    "per-class-above-1": (_array("eval/per_class", lambda p: p + 5), "per-class accuracies"),
    "monitor-negative": (_array("monitor/all", lambda m: -np.ones_like(m)), "monitor/all"),
}


def craft(good: Path, dst: Path, change: Callable[[dict], None]) -> Path:
    """``good`` with ``change(arrays)`` applied, written to ``dst``."""
    arrays = dict(np.load(good, allow_pickle=False))
    change(arrays)
    atomic_save_npz(dst, arrays)
    return dst


def as_version_1(arrays: dict) -> None:
    """What a session written before the data fingerprint looks like: version 1, no data_sha256."""
    meta = json.loads(arrays["meta.json"].tobytes())
    meta.pop("data_sha256")
    meta["version"] = 1
    arrays["meta.json"] = json_to_array(meta)
