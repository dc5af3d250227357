"""The fast path's plumbing: reused buffers, the flush of float32 subnormals, and the scatter-add of U's rows.

None of this changes the equations (``reference.py``); it only decides where numbers are stored and in which
order sums are taken. A workspace is a plain dict owned by one model (one per layer and direction), mapping a
key to a flat buffer that only grows.
"""
from __future__ import annotations

import math

import numpy as np


def buffer(work: dict | None, key: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` from ``work``, or a new one when ``work`` is None.

    ``work[key]`` is a flat buffer that only grows, and the array is a view of its start: batches of any length
    reuse the same pages (a fresh multi-MB array per step costs thousands of page faults: measured 5 ms of
    system time in a 25 ms step). Its contents are valid until the next call with the same key."""
    if work is None:
        return np.empty(shape, dtype=dtype)
    size = math.prod(shape)                     # (np.prod takes microseconds: too slow for small steps)
    a = work.get(key)
    if a is None or a.size < size or a.dtype != dtype:
        a = work[key] = np.empty(size, dtype=dtype)
    return a[:size].reshape(shape)


def flush_subnormal(a: np.ndarray) -> None:
    """Set the entries of a float32 gradient below float32's smallest normal number (1.2e-38) to 0, in place.

    A vanishing gradient otherwise turns subnormal and every product it enters runs many times slower on x86
    (measured: a whole classification step 6x slower); no gradient changes by more than 1.2e-38. The model
    switches this on only after a backward pass whose gradient norms fell below 1e-20 somewhere, and applies it
    to the backward pass's own buffers."""
    np.copyto(a, 0.0, where=np.abs(a) < np.finfo(np.float32).tiny)


# Scatter-add of dU. The two exact ways for a small vocabulary differ in cost, not in meaning (the sums are taken
# in a different order, so the last bits can differ; the choice depends only on the sizes and the number of
# distinct ids, so a run still repeats itself bit for bit). Costs per
# element, float32, one BLAS thread, best of 7 timings of each path on 8 shapes (n 10..200 ids, N 640..3200 rows,
# G 128..4096 columns) on the 2-core bench machine:
#   one-hot product   0.034 ns per n*N*G   (re-measured: median 0.032, range 0.017..0.080 over the 8 shapes)
#   sorted block sums 0.8 ns per N*G + 4 us per distinct id   (re-measured: least-squares fit 0.74 ns + 4.6 us)
ONE_HOT_MAX = 256   # above this many rows in ``target``: always the sorted reduceat
ONE_HOT_NS, BLOCK_SUM_NS, BLOCK_CALL_NS = 0.034, 0.8, 4000.0


def scatter_add_rows(target: np.ndarray, ids: np.ndarray, rows: np.ndarray, work: dict | None = None) -> None:
    """target[ids[i]] += rows[i] for every i (repeated ids accumulate), in place, without slow ``np.add.at``.

    This is dU = sum_t da_t x_t^T for one-hot x_t: each step's da_t lands in U's column for its token (U is
    stored transposed, so a column is a row of ``target``). A small vocabulary (n <= ONE_HOT_MAX rows in
    ``target``) has two exact ways, chosen by their measured cost (above): target += onehot(ids) @ rows, one BLAS
    product of 2 n N G FLOPs (best for narrow rows), or the rows sorted by id (one gather) and each id's block
    summed by one reduction, N G additions (wide rows: 2x faster for 3,200 rows of 1,024 on 50 ids). Many
    distinct ids: sort the rows by id and reduceat."""
    n = target.shape[0]
    N, G = rows.shape
    if N == 0:
        return
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])   # where each id's block starts
    if n > ONE_HOT_MAX:
        target[sorted_ids[first]] += np.add.reduceat(rows[order], first, axis=0)
        return
    if ONE_HOT_NS * n * N * G <= BLOCK_SUM_NS * N * G + BLOCK_CALL_NS * len(first):
        onehot = np.zeros((n, N), dtype=rows.dtype)                 # (n, N)
        onehot[ids, np.arange(N)] = 1.0
        target += onehot @ rows
        return
    blocks = np.take(rows, order, axis=0, out=buffer(work, "sorted_rows", (N, G), rows.dtype), mode="clip")
    block_sum = buffer(work, "block_sum", (G,), rows.dtype)
    starts = first.tolist()
    for a, b in zip(starts, starts[1:] + [N]):                     # rows a..b-1 all have id sorted_ids[a]
        np.add.reduce(blocks[a:b], axis=0, out=block_sum)
        target[sorted_ids[a]] += block_sum
