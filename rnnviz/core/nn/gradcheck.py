"""Finite-difference check of backpropagation through time.

For every parameter theta_j (or a random sample of its entries), the central difference
    (L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps)
is compared with the BPTT gradient; the relative error |a - n| / max(|a| + |n|, tiny) of the worst entry is reported.
Run in float64: float32 rounding swamps the difference quotient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.data.batch import Batch
from rnnviz.core.nn.model import RNNModel


@dataclass
class GradcheckReport:
    worst_relative_error: float
    worst_parameter: str
    per_parameter: dict        # name -> worst relative error among the checked entries
    checked: int               # entries compared

    def passed(self, tolerance: float = 1e-6) -> bool:
        return self.worst_relative_error <= tolerance


def gradcheck(model: RNNModel, batch: Batch, eps: float = 1e-5, max_per_param: int = 40,
              seed: int = 0) -> GradcheckReport:
    """Compare BPTT with central differences on up to ``max_per_param`` entries of every parameter.

    The error of a parameter is ||a - n|| / (||a|| + ||n||) over its checked entries (a: BPTT, n: numeric),
    with the denominator floored at 1e-6 of the whole gradient's norm so that a parameter whose gradient is
    all but zero is not judged on rounding noise.
    """
    if model.dtype != np.float64:
        raise ValueError("gradcheck needs a float64 model (set dtype=float64)")
    rng = np.random.default_rng(seed)
    model.loss_and_grads(batch)
    analytic = model.grad.copy()
    floor = 1e-6 * float(np.linalg.norm(analytic)) + 1e-300
    per_param, checked = {}, 0
    for spec, lo, hi in zip(model.specs, model.offsets[:-1], model.offsets[1:]):
        idx = np.arange(lo, hi)
        if len(idx) > max_per_param:
            idx = np.sort(rng.choice(idx, size=max_per_param, replace=False))
        numeric = np.empty(len(idx))
        for pos, j in enumerate(idx):
            old = model.flat[j]
            model.flat[j] = old + eps
            plus = model.loss(batch)
            model.flat[j] = old - eps
            minus = model.loss(batch)
            model.flat[j] = old
            numeric[pos] = (plus - minus) / (2 * eps)
        a = analytic[idx]
        denom = max(float(np.linalg.norm(a) + np.linalg.norm(numeric)), floor)
        per_param[spec.name] = float(np.linalg.norm(a - numeric)) / denom
        checked += len(idx)
    model.loss_and_grads(batch)  # leave the model's gradient as it was
    name = max(per_param, key=per_param.get)
    return GradcheckReport(per_param[name], name, per_param, checked)
