"""Checkpoints and Restore: the loop of the training process hands the window the Trainer's state with the
snapshot of the same step, and a new loop that is given it goes on with exactly the same numbers."""
from __future__ import annotations

import numpy as np

from rnnviz.core.live import loop as live
from rnnviz.core.live import messages as m
from rnnviz.core.live.loop import TrainingLoop

from helpers import small_config

CONFIG = small_config(hidden=6, n_examples=120)


def run(loop: TrainingLoop, *commands) -> None:
    for cmd in commands:
        loop.handle(cmd)
        while loop.tick():
            pass


def checkpoints(events: list) -> list[m.Checkpoint]:
    return [e for e in events if isinstance(e, m.Checkpoint)]


def test_each_checkpoint_follows_the_snapshot_of_its_step_when_training_stops(monkeypatch):
    monkeypatch.setattr(live, "CHECKPOINT_INTERVAL", 1e9)      # while running: none (the clock never comes)
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0, checkpoints=True)
    run(loop, m.Configure(CONFIG), m.Step(4))
    loop.handle(m.Start())
    for _ in range(30):
        loop.tick()
    run(loop, m.Pause(), m.RequestSnapshot())
    marks = checkpoints(events)
    assert [c.step for c in marks] == [0, 4, 34]                  # new model, steps done, pause; none repeated
    for c in marks:
        before = events[events.index(c) - 1]
        assert isinstance(before, m.SnapshotReady) and before.snapshot.step == c.step == c.state["step_count"]
        np.testing.assert_array_equal(before.snapshot.W, c.state["params"]["W"])
    # only the process backend asks for them
    quiet: list = []
    run(TrainingLoop(quiet.append, interval=0.0), m.Configure(CONFIG), m.Step(2))
    assert checkpoints(quiet) == []


def test_running_checkpoints_come_on_their_own_clock(monkeypatch):
    monkeypatch.setattr(live, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(live, "CHECKPOINT_BUDGET", 1e9)        # no cost limit: one with every snapshot
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0, budget=1e9, checkpoints=True)   # a snapshot every step
    run(loop, m.Configure(CONFIG))
    loop.handle(m.Start())
    for _ in range(5):
        loop.tick()
    assert [c.step for c in checkpoints(events)] == [0, 1, 2, 3, 4, 5]
    assert loop.checkpoint_cost > 0


def test_restore_goes_on_bit_for_bit():
    events: list = []
    first = TrainingLoop(events.append, interval=0.0, checkpoints=True)
    run(first, m.Configure(CONFIG), m.Step(7))
    state = checkpoints(events)[-1].state
    run(first, m.Step(9))
    events2: list = []
    second = TrainingLoop(events2.append, interval=0.0, checkpoints=True)
    second.handle(m.Restore(CONFIG, first.dataset, state))
    assert [type(e) for e in events2] == [m.TrainingState, m.SnapshotReady, m.Checkpoint]
    assert events2[1].snapshot.step == 7 and second.trainer.step_count == 7
    run(second, m.Step(9))
    a, b = first.trainer, second.trainer
    assert b.step_count == a.step_count == 16
    for name in a.model.param_names:
        np.testing.assert_array_equal(b.model.get(name), a.model.get(name))
    np.testing.assert_array_equal(b.loss_history.view()[1], a.loss_history.view()[1])
    np.testing.assert_array_equal(b.optimizer.m, a.optimizer.m)


def test_restore_puts_live_settings_changed_meanwhile_in_force():
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0, checkpoints=True)
    run(loop, m.Configure(CONFIG), m.Step(3))
    state = checkpoints(events)[-1].state
    again: list = []
    other = TrainingLoop(again.append, interval=0.0, checkpoints=True)
    other.handle(m.Restore(CONFIG.replace(lr=0.002), loop.dataset, state))
    assert other.trainer.optimizer.lr == 0.002 and other.config.lr == 0.002
    assert other.trainer.markers[-1] == (3, "lr 0.01\u21920.002")


def test_a_state_that_does_not_fit_is_an_error_and_a_fresh_model():
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0, checkpoints=True)
    run(loop, m.Configure(CONFIG), m.Step(3))
    state = dict(checkpoints(events)[-1].state, pos=10**9)
    events.clear()
    loop.handle(m.Restore(CONFIG, loop.dataset, state))
    kinds = [type(e) for e in events]
    assert kinds[0] is m.Error and m.Configured in kinds
    assert "could not go on from the last checkpoint" in events[0].message and "position" in events[0].message
    assert loop.trainer.step_count == 0 and not loop.stopped
