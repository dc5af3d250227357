"""The costly parts of running snapshots on their own clocks (``explore.amortize``): when each is computed again,
that what is carried is right for the step it says (checked against a fresh run to that step), and that the
training loop counts them out of a snapshot's own cost."""
from __future__ import annotations

import time

import numpy as np

from rnnviz.core import Config
from rnnviz.core.explore import amortize
from rnnviz.core.explore.amortize import BudgetClock, LiveParts
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.live import messages as m
from rnnviz.core.live.loop import TrainingLoop
from rnnviz.core.train.trainer import Trainer

LSTM = Config(dataset="negation", n_examples=200, hidden=6, batch_size=8, cell="lstm", dtype="float64")


def sorted_eigs(a) -> np.ndarray:
    a = np.asarray(a)
    return a[np.lexsort((a.imag.round(9), a.real.round(9)))]


def trainer_at(step: int) -> Trainer:
    """A fresh run of LSTM to ``step`` (the same seed repeats every number)."""
    t = Trainer(LSTM)
    while t.step_count < step:
        t.step()
    return t


def test_budget_clock_waits_cost_over_budget_or_the_least_interval():
    clock = BudgetClock(budget=0.02, min_interval=1.0)
    assert clock.due(0.0)                                # never computed
    clock.cost, clock.last_at = 0.1, 100.0               # 0.1 s at 2 %: every 5 s
    assert clock.wait() == 5.0 and not clock.due(104.9) and clock.due(105.0)
    clock.cost = 0.001                                   # cheap: the least interval rules
    assert clock.wait() == 1.0 and not clock.due(100.5) and clock.due(101.0)
    clock.reset()
    assert clock.due(100.0)
    cheap = BudgetClock(budget=0.02, cheap=0.01)
    cheap.cost, cheap.last_at = 0.005, 100.0             # below ``cheap``: due every time
    assert cheap.due(100.0)


def test_spent_counts_only_computations_above_cheap():
    ticks = iter([0.0, 0.004, 10.0, 10.5])
    clock = BudgetClock(cheap=0.01)
    real = time.perf_counter
    try:
        time.perf_counter = lambda: next(ticks)
        clock.timed(lambda: None)                        # 4 ms: cheap, the snapshot's own cost
        assert clock.spent == 0.0 and clock.cost == 0.004
        clock.timed(lambda: None)                        # 0.5 s: moving average 0.1032, paid by the budget
        assert clock.spent == 0.5 and abs(clock.cost - (0.8 * 0.004 + 0.2 * 0.5)) < 1e-12
    finally:
        time.perf_counter = real


def test_live_eigenvalues_are_those_of_the_step_they_say():
    trainer = trainer_at(2)
    parts = LiveParts(budget=1e-9, cheap=0.0)            # once computed, never due again while live
    parts.live = True
    first, at = parts.eigenvalues(trainer)
    assert at == 2
    for _ in range(3):
        trainer.step()
    carried, at = parts.eigenvalues(trainer)
    assert at == 2 and carried is first
    then = trainer_at(2).model.W_blocks()                # W of step 2, from a fresh run
    for g, block in then.items():
        assert np.allclose(sorted_eigs(carried[g]), sorted_eigs(np.linalg.eigvals(block)), atol=1e-10)
        spectral = max(abs(np.linalg.eigvals(block)))
        now = max(abs(np.linalg.eigvals(trainer.model.W_blocks()[g])))
        assert abs(max(abs(carried[g])) - spectral) < 1e-10 and spectral != now
    parts.live = False                                   # paused: always of now
    fresh, at = parts.eigenvalues(trainer)
    assert at == 5
    parts.live = True
    parts.forget()                                       # the weights changed other than by a step
    assert parts.eigenvalues(trainer)[1] == 5


def test_cheap_parts_are_fresh_in_every_live_snapshot():
    trainer = trainer_at(1)
    parts = LiveParts(budget=1e-9)                       # a tiny model's eigenvalues cost far less than CHEAP
    parts.live = True
    for _ in range(3):
        trainer.step()
        snap = build_snapshot(trainer, parts=parts)
        assert snap.eigenvalues_step == snap.step and snap.grad_norms_step == snap.step


def test_live_gradient_flow_is_the_newest_measured_and_right_for_its_step():
    trainer = trainer_at(3)
    parts = LiveParts(budget=1e-9, cheap=0.0)
    parts.live = True
    snap = build_snapshot(trainer, parts=parts)          # measured at 3 (the Trainer recorded step 0)
    assert snap.grad_norms_step == 3
    steps = []
    while trainer.step_count < trainer.monitor_every + 2:
        trainer.step()
        snap = build_snapshot(trainer, parts=parts)
        steps.append((snap.step, snap.grad_norms_step))
        ref = trainer_at(snap.grad_norms_step).measure_monitor()
        assert np.allclose(snap.grad_norms, ref[0], rtol=1e-12) and np.allclose(snap.grad_norms_last, ref[1])
        assert np.allclose(snap.grad_norms_c, ref[2], rtol=1e-12)
    every = trainer.monitor_every
    assert steps == [(s, 3 if s < every else every) for s in range(4, every + 3)]   # then the Trainer's record
    still = build_snapshot(trainer, flow=False, parts=parts)   # the panel not shown: the Trainer's record
    assert still.grad_norms_step == every


def test_loop_keeps_parts_out_of_the_snapshot_cost(monkeypatch):
    """A fake clock that moves only while the eigenvalues are computed: the snapshot's own cost stays 0."""
    now = [1000.0]
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    real = amortize.eigenvalues_of

    def slow(model):
        now[0] += 5.0
        return real(model)

    monkeypatch.setattr(amortize, "eigenvalues_of", slow)
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0)
    loop.handle(m.Configure(LSTM.replace(epochs=100), None))
    loop.handle(m.Start())
    loop.emit_snapshot()
    assert loop.parts.spent >= 5.0 and loop.snapshot_cost == 0.0
    spent = loop.parts.spent
    loop.tick()                                          # live, and its 5 s at 2 % is not due for 250 s
    now[0] += 1.0
    loop.emit_snapshot()
    snap = [e.snapshot for e in events if isinstance(e, m.SnapshotReady)][-1]
    assert loop.parts.spent == spent and snap.eigenvalues_step == snap.step - 1
    loop.handle(m.RestoreBest())                          # before any evaluation: an error, weights unchanged
    loop.handle(m.Pause())                                # paused: fresh
    snap = [e.snapshot for e in events if isinstance(e, m.SnapshotReady)][-1]
    assert snap.eigenvalues_step == snap.step
