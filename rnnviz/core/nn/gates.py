"""The gates of the LSTM and the GRU as the gates view shows them, and how many of them are saturated.

LSTM (gate order i, f, g, o):  i, f, o = sigma(a), g = tanh(a_g),  c_t = f * c_{t-1} + i * g,  s_t = o * tanh(c_t)
GRU (gate order r, z, n):      r, z = sigma(.),  n = tanh(.),      s_t = (1 - z) * n + z * s_{t-1}

A sigmoid gate is *saturated* where it is below ``SATURATED_BELOW`` or above ``SATURATED_ABOVE``: it then passes
(almost) nothing or (almost) everything, and its own gradient sigma' = sigma (1 - sigma) is below 0.0475. A forget
gate f near 1 is the LSTM's memory highway: c_t = f c_{t-1} + ... carries c (and dL/dc) unchanged from step to step.

Every function reads a cell's forward cache (``cells.Cache``, time-major (T, B, ...)); the vanilla RNN has no gates.
"""
from __future__ import annotations

import numpy as np

from rnnviz.core.config import GATES

SATURATED_BELOW, SATURATED_ABOVE = 0.05, 0.95
SIGMOID_GATES = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("r", "z")}   # the gates in [0, 1], as they are shown


def gate_values(cell: str, cache, example: int = 0) -> dict[str, np.ndarray]:
    """name -> (T, d) of one example (processing order): every gate after its activation (LSTM i, f, g, o and the
    cell state c; GRU r, z, n); {} for the vanilla RNN."""
    if cell == "rnn":
        return {}
    A = np.asarray(cache.A[:, example], dtype=np.float64)           # (T, G*d)
    d = A.shape[1] // len(GATES[cell])
    out = {name: A[:, k * d:(k + 1) * d].copy() for k, name in enumerate(GATES[cell])}
    if cell == "lstm":
        out["c"] = np.asarray(cache.C[:, example], dtype=np.float64).copy()
    return out


def saturation(cell: str, cache, mask: np.ndarray) -> np.ndarray:
    """(len(SIGMOID_GATES[cell]),) the share of the sigmoid gates' values (every unit at every real position of
    the batch, ``mask`` (T, B)) below SATURATED_BELOW or above SATURATED_ABOVE; (0,) for the vanilla RNN."""
    names = SIGMOID_GATES[cell]
    if not names:
        return np.zeros(0)
    A = cache.A                                                       # (T, B, G*d)
    d = A.shape[2] // len(GATES[cell])
    real = np.asarray(mask, dtype=bool)
    n = int(real.sum()) * d
    out = np.zeros(len(names))
    if n == 0:
        return out
    for j, name in enumerate(names):
        k = GATES[cell].index(name)
        v = A[:, :, k * d:(k + 1) * d][real]                          # (n_real, d)
        out[j] = np.count_nonzero((v < SATURATED_BELOW) | (v > SATURATED_ABOVE)) / n
    return out
