"""Replay: the ring buffer's memory is measured and stays under its cap; scrubbing shows that snapshot's numbers."""
from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.replay import ReplayBuffer, snapshot_nbytes
from rnnviz.core.train.trainer import Trainer

from helpers import small_config


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_snapshot_bytes_count_every_array_dicts_and_probe_included():
    t = Trainer(small_config())
    for _ in range(60):
        t.step()
    snap = build_snapshot(t)
    size = snapshot_nbytes(snap)
    arrays = sum(a.nbytes for a in snap.arrays().values())
    inner = (sum(a.nbytes for a in snap.param_grad_norms.values()) + sum(a.nbytes for a in snap.eigenvalues.values())
             + sum(np.asarray(getattr(snap.probe, f)).nbytes for f in ("ids", "states", "probs", "target",
                                                                        "predicted", "grad_norms", "preact")))
    assert size >= arrays + inner
    # an independent measure of the same thing: the pickled size (array data dominates both)
    assert 0.8 < size / len(pickle.dumps(snap)) < 1.5


@pytest.mark.parametrize("steps,cap", [(150, 800_000),
                                       pytest.param(3000, 20_000_000, marks=pytest.mark.ondemand)])
def test_memory_stays_under_the_cap_over_a_long_run(steps, cap):
    clock = Clock()
    buf = ReplayBuffer(max_bytes=cap, max_count=10_000, min_gap=0.0, clock=clock)
    t = Trainer(small_config(n_examples=200, hidden=8))
    tracemalloc.start()
    base = None
    for i in range(steps):
        t.step()
        clock.t += 0.05
        buf.add(build_snapshot(t))
        assert buf.nbytes <= cap or len(buf) == 1
        if i % 100 == 99:
            assert buf.nbytes == sum(snapshot_nbytes(s) for s in buf.snapshots())
        if i == 20:
            base = tracemalloc.get_traced_memory()[0]
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert buf.dropped > 0 and len(buf) < steps
    assert buf[len(buf) - 1].step == t.step_count                  # the newest is always kept
    steps = buf.steps()
    assert steps == sorted(steps) and steps[-1] - steps[0] == len(buf) - 1
    # what Python actually holds grew by about the buffer, not by every snapshot
    assert held - base < 2 * cap


def test_count_cap_thinning_and_same_step_replacement():
    clock = Clock()
    buf = ReplayBuffer(max_bytes=10**9, max_count=5, min_gap=1.0, clock=clock)

    class S:
        def __init__(self, step):
            self.step = step
            self.a = np.zeros(10)

    for step in range(1, 4):            # within one second: each replaces the last
        buf.add(S(step))
        clock.t += 0.25
    assert buf.steps() == [3]
    for step in range(4, 20):
        clock.t += 1.0
        buf.add(S(step))
    assert buf.steps() == [15, 16, 17, 18, 19]
    clock.t += 5
    buf.add(S(19))                      # the same step again (a paused probe change): replaces it
    assert buf.steps() == [15, 16, 17, 18, 19] and len(buf) == 5
    with pytest.raises(ValueError, match="max_bytes"):
        ReplayBuffer(max_bytes=0)


