"""Replay: the ring buffer's memory is measured and stays under its cap; scrubbing shows that snapshot's numbers."""
from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.replay import HISTORIES, ReplayBuffer, nbytes, snapshot_nbytes
from rnnviz.core.train.history import History
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
            assert buf.nbytes == held_bytes(buf.snapshots())
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




def held_bytes(snaps) -> int:
    """What ``snaps`` hold, found by walking them: the arrays behind their history fields once (several snapshots
    may share them), everything else snapshot by snapshot (``snapshot_nbytes``)."""
    shared = {}
    for snap in snaps:
        for steps, values in HISTORIES:
            for name in (steps,) + values:
                v = getattr(snap, name)
                for a in (v.values() if isinstance(v, dict) else [v]):
                    base = a.base if isinstance(a.base, np.ndarray) else a
                    shared[id(base)] = base
    return sum(nbytes(s, set(shared)) for s in snaps) + sum(b.nbytes for b in shared.values())


def _histories(snap) -> dict:
    """Copies of every history array of ``snap`` by (field, key)."""
    out = {}
    for steps, values in HISTORIES:
        for name in (steps,) + values:
            v = getattr(snap, name)
            for key, a in (v.items() if isinstance(v, dict) else [("", v)]):
                out[(name, key)] = np.array(a, copy=True)
    return out


@pytest.mark.parametrize("loss_cap", [20000, 16])       # 16: the trainer thins its loss history while we record
def test_histories_are_held_once_and_every_moment_keeps_its_own_numbers(loss_cap):
    clock = Clock()
    buf = ReplayBuffer(max_bytes=10**9, max_count=10_000, min_gap=0.0, clock=clock)
    t = Trainer(small_config(n_examples=200, hidden=8))
    t.loss_history = History(1, loss_cap)
    arrived = []
    for _ in range(120):
        t.step()
        clock.t += 0.05
        snap = build_snapshot(t)
        arrived.append((snap, _histories(snap), snapshot_nbytes(snap)))
        buf.add(snap)
    assert len(buf) == 120
    for (snap, before, _), held in zip(arrived, buf.snapshots()):
        assert held is snap                                          # the same objects, in order
        after = _histories(held)
        assert after.keys() == before.keys()
        for k, a in before.items():                                  # the very numbers each arrived with
            assert a.dtype == after[k].dtype and np.array_equal(a, after[k], equal_nan=True), k
            if k[1] == "":
                assert not getattr(held, k[0]).flags.writeable
    alone = sum(size for _, _, size in arrived)                      # what 120 separate snapshots would hold
    assert buf.nbytes == held_bytes(buf.snapshots()) and buf.nbytes < alone


def test_late_in_a_run_the_buffer_keeps_many_more_moments():
    """Late in a run a snapshot is mostly histories: a cap of 8 such snapshots holds several times as many."""
    clock = Clock()
    t = Trainer(small_config(n_examples=200, hidden=8))
    for _ in range(1500):
        t.step()
    one = snapshot_nbytes(build_snapshot(t))
    buf = ReplayBuffer(max_bytes=8 * one, max_count=10_000, min_gap=0.0, clock=clock)
    for _ in range(200):
        t.step()
        clock.t += 0.05
        buf.add(build_snapshot(t))
    assert buf.nbytes <= 8 * one and len(buf) >= 40, (len(buf), one, buf.nbytes)
    assert buf[len(buf) - 1].step == t.step_count


def test_dropping_moments_frees_their_histories_when_no_one_uses_them():
    clock = Clock()
    buf = ReplayBuffer(max_bytes=10**9, max_count=3, min_gap=0.0, clock=clock)
    t = Trainer(small_config(n_examples=200, hidden=8))
    t.loss_history = History(1, 8)                       # thinned every few steps: a new store each time
    for _ in range(40):
        t.step()
        clock.t += 0.05
        buf.add(build_snapshot(t))
        assert len(buf) <= 3 and buf.nbytes == held_bytes(buf.snapshots())
    buf.drop_after(buf[0].step)
    assert len(buf) == 1 and buf.nbytes == held_bytes(buf.snapshots())
    buf.clear()
    assert buf.nbytes == 0 and len(buf) == 0


def test_a_snapshot_stops_growing_once_its_histories_are_at_their_caps():
    """Every history a Snapshot copies is capped (trainer.HISTORY_CAPS, EVAL_CAP): with small caps its size is
    the same however long training goes on (the model's part is fixed by the settings)."""
    t = Trainer(small_config(n_examples=60, hidden=8))
    for name in ("loss_history", "param_grad_history", "grad_flow", "gate_saturation"):
        h = getattr(t, name)
        setattr(t, name, History(h.values.shape[1], 8))
    t.eval_cap = 4
    sizes = []
    for steps in (200, 400, 800):
        while t.step_count < steps:
            t.step()
        snap = build_snapshot(t)
        assert len(snap.train_steps) <= 8 and len(snap.val_steps) <= 4 and len(snap.grad_flow_steps) <= 8
        sizes.append(sum(a.nbytes for a in snap.arrays().values())
                     + sum(a.nbytes for a in snap.param_grad_norms.values()))
    assert sizes[0] == sizes[1] == sizes[2]
