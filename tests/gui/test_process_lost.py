"""The window after its training process dies: the real child is killed (SIGKILL) or exits by itself in a real
window (process backend). The window says how it ended, shows the last checkpoint's snapshot, and Space goes on
from exactly that step and those weights in a new process (checked against a headless Trainer); R builds a fresh
model."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.core.train.trainer import Trainer
from rnnviz.gui.features.process_lost import STATE_TEXT

from helpers import small_config
from qt_helpers import no_leaks, open_window, wait_for, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")

# epochs enough that training never finishes while a test waits for steps after the lost process's checkpoint
# (with small_config's 400 steps, a checkpoint taken late left fewer than the 20 steps a test waits for, and the
# run ended "done" instead of running on)
CONFIG = small_config(epochs=1000)


def headless(config, steps: int) -> Trainer:
    trainer = Trainer(config)
    for _ in range(steps):
        trainer.step()
    return trainer


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, CONFIG, size=(1280, 800), backend="process", timeout=30)
    yield win
    win.close()
    assert win.controller.thread.isFinished()


def record(ctl) -> list:
    """Every snapshot the worker hands over from now on, in order."""
    seen: list = []
    ctl.worker.snapshotReady.connect(seen.append)
    return seen


def kill_child(qtbot, ctl) -> int:
    """SIGKILL the real training process; wait until the window knows."""
    proc = ctl.worker.process
    os.kill(proc.pid, signal.SIGKILL)
    wait_for(qtbot, lambda: ctl.lost is not None, timeout=20)
    assert not proc.is_alive()
    return proc.pid


def test_killed_process_is_explained_and_space_goes_on_from_the_last_snapshot(qtbot, window):
    win, ctl = window, window.controller
    win.set_speed(200)
    ctl.start_training()
    wait_snapshot(qtbot, ctl, lambda s: s.step >= 30, timeout=30)
    wait_for(qtbot, lambda: ctl.checkpoint is not None and ctl.checkpoint[0].step > 0, timeout=30)
    old_pid = kill_child(qtbot, ctl)

    # what happened, in words; the status bar and Start button say training has stopped
    text = win.process_lost.text
    assert "killed by signal 9 (SIGKILL)" in text, text
    assert win.process_lost.frame.isVisible()
    assert win.status_labels["state"].text() == STATE_TEXT
    assert not ctl.running and win.actions_by_name["start"].text() == "Start"
    # the screen shows the last checkpoint's snapshot, and the message names its step
    shown, state = ctl.checkpoint
    assert ctl.latest is shown and state["step_count"] == shown.step > 0
    assert f"step {shown.step}" in text
    qtbot.waitUntil(lambda: win.status_labels["step"].text() == f"Step {shown.step}", timeout=5000)
    reference = headless(CONFIG, shown.step)
    np.testing.assert_array_equal(shown.W, reference.model.params["W"])

    # Space: a new process goes on from that step with those weights, and training runs again
    seen = record(ctl)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    wait_snapshot(qtbot, ctl, lambda s: s.step >= shown.step + 20, timeout=30)
    assert ctl.running and ctl.worker.process.pid != old_pid and ctl.worker.process.is_alive()
    assert seen[0].step == shown.step
    np.testing.assert_array_equal(seen[0].W, shown.W)
    later = seen[-1]
    reference = headless(CONFIG, later.step)        # the same numbers as if nothing had happened
    np.testing.assert_array_equal(later.W, reference.model.params["W"])
    np.testing.assert_array_equal(later.train_loss, [float(v) for v in reference.loss_history.view()[1][:, 0]])
    assert not win.process_lost.frame.isVisible()
    assert win.status_labels["state"].text() == "Training"


def test_r_after_a_lost_process_builds_a_fresh_model(qtbot, window):
    win, ctl = window, window.controller
    ctl.step_batch(15)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 15, timeout=30)
    wait_for(qtbot, lambda: ctl.checkpoint is not None and ctl.checkpoint[0].step == 15, timeout=30)
    kill_child(qtbot, ctl)
    assert "killed by signal 9 (SIGKILL)" in win.process_lost.text and "step 15" in win.process_lost.text
    assert ctl.latest.step == 15                     # paused: the checkpoint is the last snapshot itself
    with qtbot.waitSignal(ctl.modelReset, timeout=30000):
        qtbot.keyClick(win, Qt.Key.Key_R)
    snap = wait_snapshot(qtbot, ctl, timeout=30)
    assert snap.step == 0 and ctl.lost is None and not win.process_lost.frame.isVisible()
    np.testing.assert_array_equal(snap.W, Trainer(CONFIG).model.params["W"])
    ctl.step_batch(3)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 3, timeout=30)


class ExitsAtStep5(Trainer):
    """The real Trainer, whose process ends by itself (exit code 3) in its sixth step."""

    def step(self) -> float:
        if self.step_count == 5:
            os._exit(3)
        return super().step()


def test_a_process_that_exits_by_itself_is_explained_and_nothing_hangs(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="process", factory=f"{__name__}:ExitsAtStep5")
    qtbot.addWidget(win)
    win.show()
    ctl = win.controller
    try:
        wait_snapshot(qtbot, ctl, timeout=30)
        ctl.step_batch(3)
        wait_for(qtbot, lambda: ctl.checkpoint is not None and ctl.checkpoint[0].step == 3, timeout=30)
        ctl.start_training()
        wait_for(qtbot, lambda: ctl.lost is not None, timeout=30)
        assert ctl.lost.exitcode == 3
        assert "Training stopped: the training process exited with code 3." in win.process_lost.text
        assert f"The panels show step {ctl.checkpoint[0].step}," in win.process_lost.text
        assert ctl.latest is ctl.checkpoint[0] and ctl.latest.step in (3, 4, 5)
        # no process: a session cannot be saved, and the window says why instead of waiting for ever
        with qtbot.waitSignal(win.session_actions.failed, timeout=10000) as failed:
            win.show_error = lambda *a: None
            win.session_actions.save_session(str(tmp_path / "s.rnnviz.npz"))
        assert "the training process was lost" in failed.args[0]
        # Space: a new process, from the checkpoint; it dies again at step 5 and says so again
        with qtbot.waitSignal(ctl.processLost, timeout=30000):
            ctl.toggle()
        assert ctl.lost.exitcode == 3
    finally:
        win.close()
