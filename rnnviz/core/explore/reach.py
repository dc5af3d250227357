"""Who reaches whom: itemised backpropagation through time on the probe sequence.

With a loss at every step (labelling, generation), L = sum_t' L_t'. Here each step's loss is taken on its own and
followed back through the recurrence:

    R[t', t] = ||dL_t' / ds_t||        for every step t' that has a target (the rows) and every state s_t (columns)

A unidirectional model's loss at t' cannot depend on a later state, so R[t', t] for t > t' is not defined (NaN:
the view draws a triangle). How far each row reaches to the left is how far back that step's loss still teaches the
network: a band along the diagonal when the gradient vanishes (tanh RNN), a wide triangle when it survives (LSTM).
Bidirectional models: s_t = [forward; backward] and the backward half at t > t' does receive gradient, so the whole
row is kept. Truncated BPTT (``bptt = k``) is followed, as in training.

Classification has one loss, at the last step: one row, R[0, t] = ||dL/ds_t|| of the probe's loss.

Cost: one forward and backward pass of the model per row, run ``CHUNK`` rows at a time as one batch of copies of the
probe (the model's own BPTT; its workspace grows to at most a batch of ``CHUNK`` probe-length sequences).
"""
from __future__ import annotations

import numpy as np

from rnnviz.core.data.batch import IGNORE, Batch

CHUNK = 32      # rows (losses) per batched backward pass


def reach(model, ids: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows (R,), R (R, T)) for one sequence ``ids`` (T,) against ``targets`` (() for classification, else (T,)
    with IGNORE where a step has no target). ``rows`` are the 0-based steps t' whose loss each row follows."""
    ids = np.asarray(ids, dtype=np.int64)
    targets = np.asarray(targets)
    T = len(ids)
    if model.task == "classification":
        batch = Batch(ids=ids[None, :], lengths=np.array([T]), targets=np.array([int(targets)]), index=np.array([0]))
        grads = model.loss_and_grads(batch, details=True).state_grads          # (1, T, D)
        return np.array([T - 1]), np.sqrt((grads.astype(np.float64) ** 2).sum(axis=2))
    rows = np.flatnonzero(targets != IGNORE)
    out = np.zeros((len(rows), T))
    for lo in range(0, len(rows), CHUNK):
        part = rows[lo:lo + CHUNK]
        B = len(part)
        tg = np.full((B, T), IGNORE, dtype=np.int64)
        tg[np.arange(B), part] = targets[part]                 # copy b keeps only the target of its own row
        batch = Batch(ids=np.repeat(ids[None, :], B, axis=0), lengths=np.full(B, T), targets=tg,
                      index=np.arange(B))
        grads = model.loss_and_grads(batch, details=True).state_grads.astype(np.float64)   # (B, T, D) of L / B
        out[lo:lo + B] = np.sqrt((grads ** 2).sum(axis=2)) * B                             # of each L_t' alone
    if len(model.directions) == 1:
        out[np.arange(T)[None, :] > rows[:, None]] = np.nan
    return rows, out
