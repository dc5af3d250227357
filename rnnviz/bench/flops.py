"""FLOP counts of one training step, the machine's matmul peak, and timing helpers.

Only matrix products are counted (2*m*n*k FLOPs for an (m x k) @ (k x n) product): they are the work a BLAS can do
at its peak; the element-wise gate arithmetic, the softmax and the optimiser are memory-bound and not counted, so a
"fraction of peak" is the fraction of the machine's matmul speed spent on the step's unavoidable products.

One layer, one direction, G gates (1 RNN, 4 LSTM, 3 GRU), hidden d, vocabulary n, k classes, batch B, T steps:
  forward   recurrence  W s_{t-1}          (T-1) * 2*B*(G*d)*d      (s_{-1} = 0: no product at t = 0)
            input       U x_t              0                         (x_t one-hot: a column look-up, no product)
            head        V s                2*B*k*d  classification,  2*T*B*k*d  labelling
  backward  dL/ds_{t-1} = dA_t W           (T-1) * 2*B*(G*d)*d
            dW = sum_t dA_t^T s_{t-1}      (T-1) * 2*B*(G*d)*d
            dU         scatter-add of rows 0
            head       dL/ds = dlogits V and dV = dlogits^T s: 2 x the head's forward
  total = 3 * (T-1) * 2*B*G*d^2 + 3 * head
The same count is used for the PyTorch row (it is the model's work, not either implementation's).
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from rnnviz.core.config import GATES


def step_flops(cell: str, task: str, hidden: int, T: int, batch: int, n_classes: int) -> int:
    """Matmul FLOPs of one training step (forward + BPTT) as derived in the module docstring."""
    G, d, B, k = len(GATES[cell]), hidden, batch, n_classes
    recurrent = (T - 1) * 2 * B * G * d * d
    head = 2 * B * k * d * (T if task == "labelling" else 1)
    return 3 * recurrent + 3 * head


def fraction_of_peak(flops: int, seconds: float, peak_gflops: float) -> float:
    """(flops / seconds) / peak: the share of the machine's matmul speed a step achieved."""
    return flops / seconds / (peak_gflops * 1e9)


def gflops(flops: int, seconds: float) -> float:
    return flops / seconds / 1e9


def matmul_peak(dtype: str = "float32", n: int = 512, repeats: int = 7, min_seconds: float = 0.05) -> float:
    """Best GFLOP/s of an n x n @ n x n product on this process's BLAS threads (the fastest of ``repeats`` runs,
    each at least ``min_seconds`` long): the machine's practical matmul peak."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.dot(a, b, out=out)                      # warm up
    best = 0.0
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while True:
            np.dot(a, b, out=out)
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = max(best, gflops(2 * n**3 * count, elapsed))
    return best


def time_per_call(fn, min_seconds: float) -> float:
    """Seconds per call of ``fn`` over a batch of calls lasting at least ``min_seconds`` (at least one call)."""
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / count


def interleaved_medians(fns: dict, rounds: int, min_seconds: float) -> dict:
    """Time every function in ``fns`` in turn, ``rounds`` times round-robin (so a busy moment on a shared machine
    hits all of them alike), and return each one's median seconds per call."""
    samples = {name: [] for name in fns}
    for fn in fns.values():
        fn()                                   # warm up (allocations, lazy initialisation)
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(time_per_call(fn, min_seconds))
    return {name: statistics.median(v) for name, v in samples.items()}

