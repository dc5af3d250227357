"""The worker and the controller: snapshots on the worker's clock, commands between steps, clean stops.

Both backends are tested: "thread" (the Trainer in the QThread) and "process" (the QThread drives a training
subprocess, the window's default).
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from rnnviz.core.errors import TrainingFault
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import Trainer
from rnnviz.gui.training.controller import Controller

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")


class FaultAt3(Trainer):
    """A Trainer whose fourth step blows up (for the fault path, without depending on real divergence)."""

    def step(self) -> float:
        if self.step_count == 3:
            self.fault = "Training paused at step 4: the loss became NaN or infinite (injected)."
            raise TrainingFault(self.fault)
        return super().step()


@pytest.fixture
def controller(qtbot):
    made = []

    def make(backend="thread", **kw):
        ctl = Controller(small_config(**kw.pop("config", {})), backend=backend, **kw)
        made.append(ctl)
        ctl.start()
        return ctl

    yield make
    for ctl in made:
        assert ctl.shutdown(timeout=2.0), "worker thread did not stop"


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_snapshots_arrive_and_thread_stops(qtbot, controller, backend):
    ctl = controller(backend)
    snap = wait_snapshot(qtbot, ctl)
    assert snap.step == 0
    with qtbot.waitSignal(ctl.frameReady, timeout=10000):
        ctl.start_training()
    wait_snapshot(qtbot, ctl, lambda s: s.step > 20)
    assert ctl.running
    assert ctl.shutdown(timeout=1.0)        # True: the thread ended within shutdown's bounded waits
    assert ctl.thread.isFinished()
    if backend == "process":
        assert not ctl.worker.process.is_alive()


def test_snapshots_are_paced_not_flooded(qtbot, controller):
    ctl = controller("thread", interval=0.1)
    wait_snapshot(qtbot, ctl)
    ctl.start_training()
    first = wait_snapshot(qtbot, ctl, lambda s: s.step > 0)
    n0, t0 = ctl.snapshots, time.perf_counter()
    qtbot.wait(1000)
    n = ctl.snapshots - n0
    rate = n / (time.perf_counter() - t0)
    assert rate <= 12, f"{rate:.1f} snapshots/s with a 0.1 s clock"
    # measured in the same second: many training steps for each snapshot, not one snapshot a step
    assert ctl.latest.step - first.step > 3 * max(n, 1), (ctl.latest.step - first.step, n)


def test_commands_pause_step_epoch_reset(qtbot, controller):
    ctl = controller("thread")
    first = wait_snapshot(qtbot, ctl)
    trainer = ctl.worker.loop.trainer
    W0 = np.array(first.W)

    ctl.step_batch(3)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 3)
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    assert ctl.latest.step == 3 == trainer.step_count

    ctl.step_epoch()
    spe = trainer.steps_per_epoch
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == spe)
    assert snap.epoch == 1 and len(snap.val_loss) == 1

    ctl.start_training()
    wait_snapshot(qtbot, ctl, lambda s: s.step > spe + 5)
    ctl.pause()
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    qtbot.waitUntil(lambda: ctl.latest.step == ctl.worker.loop.trainer.step_count, timeout=5000)
    paused = ctl.latest.step
    qtbot.wait(200)
    assert ctl.latest.step == paused == ctl.worker.loop.trainer.step_count

    ctl.set_lr(0.002)
    ctl.step_batch(1)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == paused + 1)
    assert snap.lr == pytest.approx(0.002)

    ctl.reset()
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 0)
    assert np.array_equal(snap.W, W0), "same seed must give the same initial weights"
    assert np.array_equal(ctl.worker.loop.trainer.model.params["W"], W0)


def test_process_backend_matches_headless_trainer(qtbot, controller):
    ctl = controller("process")
    wait_snapshot(qtbot, ctl)
    ctl.step_batch(7)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 7)
    assert not snap.W.flags.writeable
    ref = Trainer(small_config())
    for _ in range(7):
        ref.step()
    assert np.array_equal(snap.W, ref.model.params["W"])
    assert np.allclose(snap.train_loss, build_snapshot(ref).train_loss)


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_fault_pauses_and_keeps_last_snapshot(qtbot, controller, backend):
    ctl = controller(backend, factory=f"{__name__}:FaultAt3")
    wait_snapshot(qtbot, ctl)
    with qtbot.waitSignal(ctl.faultRaised, timeout=10000) as blocker:
        ctl.start_training()
    assert "NaN" in blocker.args[0]
    snap = wait_snapshot(qtbot, ctl, lambda s: s.fault is not None)
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    assert snap.step == 3 and ctl.faulted


def test_bad_settings_in_worker_go_back(qtbot, controller):
    ctl = controller("thread")
    wait_snapshot(qtbot, ctl)
    good = ctl.config
    errors = []
    ctl.errorRaised.connect(errors.append)
    # a probe outside the validation split is reported, not fatal
    ctl.set_probe(10**6)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    ctl.step_batch(1)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 1)
    assert ctl.config == good


def test_training_stops_at_epochs_but_steps_still_work(qtbot, controller):
    ctl = controller("thread", config={"epochs": 1})
    wait_snapshot(qtbot, ctl)
    ctl.start_training()
    qtbot.waitUntil(lambda: ctl.done and not ctl.running, timeout=10000)
    spe = ctl.worker.loop.trainer.steps_per_epoch
    wait_snapshot(qtbot, ctl, lambda s: s.step == spe)
    ctl.start_training()                  # done: Start does nothing
    qtbot.wait(100)
    assert ctl.latest.step == spe and not ctl.running
    ctl.step_batch(2)                     # but asked-for steps run
    wait_snapshot(qtbot, ctl, lambda s: s.step == spe + 2)




def test_every_event_type_has_its_signal_and_every_signal_fires(qtbot):
    """Each event the loop can send becomes one of the worker's signals (``Stopped`` ends the relay instead);
    an event of no known type is reported, not dropped."""
    from rnnviz.core.live import messages as m
    from rnnviz.gui.training.worker import Worker

    assert set(Worker.SIGNALS) == set(m.EVENTS) - {m.Stopped}
    worker = Worker(small_config(), backend="thread")
    state = m.TrainingState(running=False, done=False, step=4, epoch=0, faulted=False)
    for event, signal, payload in [
        (state, worker.stateChanged, state), (m.Fault("NaN at step 4"), worker.faulted, "NaN at step 4"),
        (m.Error("boom"), worker.failed, "boom"), (m.Shared(("V",), ("U",)), worker.weightsShared,
                                                    m.Shared(("V",), ("U",))),
        (m.SessionResult("save", False, "x.npz", message="disk full"), worker.sessionEvent,
         m.SessionResult("save", False, "x.npz", message="disk full")),
    ]:
        with qtbot.waitSignal(signal, timeout=1000) as blocker:
            worker._emit(event)
        assert blocker.args == [payload]
    with qtbot.waitSignal(worker.failed, timeout=1000) as blocker:
        worker._emit(("state", {"running": True}))
    assert blocker.args[0].startswith("the training loop sent an unknown event ('state'")
