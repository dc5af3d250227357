"""The gradient flow the window draws: ||dL_b/ds_t|| per timestep, example by example, averaged over the examples
that have that timestep.

Example b of a batch has its own loss L_b (its cross-entropy, summed over its steps) and top-layer states
s_1 .. s_{n_b} (n_b = its true length). The curve at position j (of T = the longest length) is

    mean over the examples b that have position j  of  ||dL_b / ds_t^b||,   t = that example's step at position j

and ``counts[j]`` says over how many examples it is taken. How positions meet steps (``alignment``):

- "end" (classification, examples of different lengths): position T is every example's last token, position
  T - k is k steps before it. The one loss of an example is at its last token, so a position is a distance from
  the loss, which is what vanishing and exploding gradients are about.
- "start" (labelling and generation, or examples of one length): position t is step t. A loss sits at every
  step, so the position in the sequence is the natural axis.

The plain norm over a padded batch (``Result.grad_norms``: sqrt of the sum over the batch of ||dL/ds_t^b||^2, L the
batch mean) shrinks wherever few examples are long enough, which reads as gradients vanishing at the end; these
means do not, and one example's curve is exactly that example's own ||dL/ds_t|| (the probe's ``grad_norms``).
The LSTM's ||dL_b/dc_t|| of its cell states is averaged the same way, so the two curves compare.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

ALIGNMENTS = ("start", "end")


def alignment(task: str, lengths: np.ndarray) -> str:
    """ "end" for classification examples of different lengths, else "start" (see the module docstring)."""
    lengths = np.asarray(lengths)
    varies = lengths.size > 0 and int(lengths.min()) != int(lengths.max())
    return "end" if task == "classification" and varies else "start"


def steps_at(lengths: np.ndarray, T: int, align: str) -> np.ndarray:
    """(T, B) the 0-based step of example b at position j, -1 where the example has no step there."""
    lengths = np.asarray(lengths, dtype=np.int64)                       # (B,)
    j = np.arange(T, dtype=np.int64)[:, None]                           # (T, 1)
    t = j - (T - lengths)[None, :] if align == "end" else np.broadcast_to(j, (T, lengths.size))
    return np.where((t >= 0) & (t < lengths[None, :]), t, -1)


def counts(lengths: np.ndarray, T: int, align: str) -> np.ndarray:
    """(T,) how many examples have a step at each position."""
    return (steps_at(lengths, T, align) >= 0).sum(axis=1).astype(np.int64)


def aligned_mean(example_norms: np.ndarray, lengths: np.ndarray, align: str, scale: float = 1.0) -> np.ndarray:
    """(T,) the mean at each position of ``scale * example_norms[t, b]`` over the examples that have a step there
    (NaN where none has). ``example_norms``: (T, B), step-indexed as the batch is (``Result.example_grad_norms``);
    ``scale``: the batch size B when they are gradients of the batch mean L = (1/B) sum_b L_b, so that each
    becomes ||dL_b/ds_t||."""
    e = np.asarray(example_norms, dtype=np.float64) * float(scale)     # (T, B)
    T, B = e.shape
    t = steps_at(lengths, T, align)                                     # (T, B)
    have = t >= 0
    picked = np.where(have, e[np.maximum(t, 0), np.arange(B)[None, :]], 0.0)
    n = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, picked.sum(axis=1) / np.maximum(n, 1), np.nan)


def measure(model: Any, batch: Any, task: str, align: str,
            on_forward: Callable[[Any], None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(norms, norms_last, norms_c) of ``batch``: the aligned means of ||dL_b/ds_t|| from each example's whole loss
    and, for labelling and generation, from the loss of its last real step alone (for classification the same
    array); for the LSTM the aligned means of ||dL_b/dc_t|| of its cell states from the whole loss (else empty).
    ``on_forward(forward)`` is called with the first pass's forward pass while it is valid. Runs
    ``model.loss_and_grads`` (two passes when the task has a loss at every step): its gradient buffers and its
    float32 flush flag change as after any backward pass."""
    B = len(batch.lengths)
    res = model.loss_and_grads(batch, details=True)
    norms = aligned_mean(res.example_grad_norms, batch.lengths, align, scale=B)
    cells = (aligned_mean(res.example_cell_grad_norms, batch.lengths, align, scale=B)
             if res.example_cell_grad_norms is not None else np.zeros(0))
    if on_forward is not None:
        on_forward(res.forward)
    if task == "classification":
        return norms, norms, cells
    last = model.loss_and_grads(batch, only_last=True)
    return norms, aligned_mean(last.example_grad_norms, batch.lengths, align, scale=B), cells
