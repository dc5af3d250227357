"""Replay and a live setting change (the user's path: pause, scrub back, change the learning rate in the dock):
the status and the replay bar agree. The change acts on the live model, so the view goes back to live and says
so; and while replaying, a training state arriving does not make the status say "Paused" over "Replaying"."""
from __future__ import annotations

import pytest

from rnnviz.core.live import messages as m

from helpers import small_config
from qt_helpers import no_leaks, open_window, wait_snapshot  # noqa: F401  (a fixture)


@pytest.mark.usefixtures("no_leaks")
def test_a_live_change_while_replaying_goes_back_to_live_and_says_so(qtbot):
    win = open_window(qtbot, size=(1024, 768))
    ctl, bar = win.controller, win.replay_bar
    ctl.replay.min_gap = 0.0
    wait_snapshot(qtbot, ctl)
    for _ in range(5):
        ctl.step_batch(5)
        wait_snapshot(qtbot, ctl, lambda s, n=ctl.latest.step + 5: s.step >= n)
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    qtbot.wait(100)
    state = win.status_labels["state"]
    assert state.text() == "Paused"
    bar.slider.setValue(1)
    old = ctl.replay[1]
    assert bar.replaying is old and state.text() == f"Replaying step {old.step}"
    # a training state arriving while replaying keeps the status on the replay
    ctl.stateChanged.emit(m.TrainingState(running=False, done=False, step=ctl.latest.step, epoch=0, faulted=False))
    assert state.text() == f"Replaying step {old.step}" and "Replaying step" in bar.label.text()
    # the learning rate changed in the dock
    live_step = ctl.latest.step
    win.controls.widgets["lr"].setValue(ctl.config.lr * 5)
    qtbot.waitUntil(lambda: ctl.config.lr == pytest.approx(small_config().lr * 5), timeout=5000)
    assert bar.replaying is None
    assert win.statusBar().currentMessage().startswith(f"Back to live: lr changed on the live model at step "
                                                      f"{live_step}")
    qtbot.wait(300)                                         # the worker's state and snapshot after the change
    assert state.text() == "Paused" and "Replaying" not in bar.label.text()
    assert bar.label.text().startswith(f"Live again (lr changed) · step {ctl.latest.step} of {ctl.latest.step}")
    assert not bar.label.clipped() and "Live again (lr changed)" in bar.label.shown_text()     # seen at 1024x768
    assert win.status_labels["step"].text() == f"Step {ctl.latest.step}"       # the panels show the live step
    assert ctl.latest.step == live_step and "lr" in ctl.latest.markers[-1][1]
    bar.slider.setValue(0)                                  # scrubbing again: the note has done its job
    assert "Live again" not in bar.label.text()
    win.close()
