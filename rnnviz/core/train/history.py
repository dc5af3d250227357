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
