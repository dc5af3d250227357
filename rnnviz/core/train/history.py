"""Bounded histories: per-step series that never grow past a stated cap.

When a history is full it keeps every second entry and from then on records every second step (then every
fourth, …): the curve keeps its shape over any length of training while memory stays fixed.
"""
from __future__ import annotations

import numpy as np


class History:
    """Rows of ``width`` floats indexed by training step, at most ``capacity`` rows."""

    def __init__(self, width: int, capacity: int = 20000):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.steps = np.zeros(capacity, dtype=np.int64)
        self.values = np.zeros((capacity, width), dtype=np.float64)
        self.n = 0
        self.stride = 1      # record every ``stride``-th offered step
        self._offered = 0

    @property
    def nbytes(self) -> int:
        return self.steps.nbytes + self.values.nbytes

    def append(self, step: int, row) -> None:
        self._offered += 1
        if (self._offered - 1) % self.stride:
            return
        if self.n == self.capacity:
            half = self.capacity // 2
            self.steps[:half] = self.steps[0::2]
            self.values[:half] = self.values[0::2]
            self.n = half
            self.stride *= 2
        self.steps[self.n] = step
        self.values[self.n] = row
        self.n += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps (n,), values (n, width)) — views; copy before handing them to another thread."""
        return self.steps[: self.n], self.values[: self.n]

    def state_dict(self) -> dict:
        """Copies of the rows kept and the decimation state (what ``from_state`` needs to go on exactly)."""
        return {"steps": self.steps[: self.n].copy(), "values": self.values[: self.n].copy(), "n": self.n,
                "stride": self.stride, "offered": self._offered, "capacity": self.capacity}

    @classmethod
    def from_state(cls, state: dict) -> "History":
        """The History ``state_dict`` described (ValueError when its parts do not fit together)."""
        steps, values = np.asarray(state["steps"]), np.asarray(state["values"])
        n, stride, offered = int(state["n"]), int(state["stride"]), int(state["offered"])
        if values.ndim != 2 or steps.shape != (n,) or values.shape[0] != n or stride < 1 or offered < n:
            raise ValueError(f"history state does not fit together: {n} rows, steps {steps.shape}, "
                             f"values {values.shape}, stride {stride}, {offered} offered")
        if n > int(state["capacity"]):          # before the rows are allocated
            raise ValueError(f"history state has {n} rows, more than its capacity {int(state['capacity'])}")
        hist = cls(values.shape[1], int(state["capacity"]))
        hist.steps[:n] = steps
        hist.values[:n] = values
        hist.n, hist.stride, hist._offered = n, stride, offered
        return hist
