"""The model's parameters by name and shape, and how many numbers they hold: what the settings dock counts before
any model is built (``count_params``), without the model's passes.

One layer, one direction: ``U`` (G*d x n), ``W`` (G*d x d), ``b`` (G*d), ``V`` (k x D), ``c`` (k), and for the GRU
``b_hn`` (d). G = 1 (RNN), 4 (LSTM), 3 (GRU); D = d, or 2d when bidirectional (``model`` explains each one).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.config import GATES, Config


@dataclass(frozen=True)
class ParamSpec:
    name: str
    shape: tuple[int, ...]   # the shape users see
    transposed: bool = False  # stored transposed (layer-1 U is kept as rows U^T for fast lookup by id)
    kind: str = "matrix"      # "matrix" or "bias" (weight decay applies to matrices only)


def gate_count(cell: str) -> int:
    """G: the blocks of d rows in ``U``, ``W`` and ``b`` (1 for the RNN, 4 for the LSTM, 3 for the GRU)."""
    return len(GATES[cell])


def param_specs(cfg: Config, n_vocab: int, n_classes: int) -> list[ParamSpec]:
    """The parameters of a model in buffer order."""
    d, G = cfg.hidden, gate_count(cfg.cell) * cfg.hidden
    dirs = ("", "_rev") if cfg.bidirectional else ("",)
    D = d * len(dirs)
    specs = []
    for layer in range(1, cfg.layers + 1):
        tag = "" if layer == 1 else str(layer)
        for direction in dirs:
            suffix = tag + direction
            n_in = n_vocab if layer == 1 else D
            specs.append(ParamSpec("U" + suffix, (G, n_in), transposed=(layer == 1)))
            specs.append(ParamSpec("W" + suffix, (G, d)))
            specs.append(ParamSpec("b" + suffix, (G,), kind="bias"))
            if cfg.cell == "gru":
                specs.append(ParamSpec("b_hn" + suffix, (d,), kind="bias"))
    specs.append(ParamSpec("V", (n_classes, D)))
    specs.append(ParamSpec("c", (n_classes,), kind="bias"))
    return specs


def count_params(cfg: Config, n_vocab: int, n_classes: int) -> int:
    """Number of trainable numbers (vanilla, one layer: d*n + d*d + k*d + d + k)."""
    return int(sum(np.prod(s.shape) for s in param_specs(cfg, n_vocab, n_classes)))
