"""Replay: the ring buffer's memory is measured and stays under its cap; scrubbing shows that snapshot's numbers."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


@pytest.mark.usefixtures("no_leaks")
def test_scrubbing_shows_that_snapshot_in_every_panel(qtbot):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="thread")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    ctl = win.controller
    ctl.replay.min_gap = 0.0
    wait_snapshot(qtbot, ctl)
    bar = win.replay_bar
    assert "200 MB" in bar.label.text() or "nothing" in bar.label.text()
    for _ in range(6):
        ctl.step_batch(7)
        wait_snapshot(qtbot, ctl, lambda s, n=ctl.latest.step + 7: s.step >= n)
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    qtbot.wait(100)
    assert len(ctl.replay) >= 5
    assert bar.slider.isEnabled() and bar.slider.value() == len(ctl.replay) - 1
    i = 2
    old = ctl.replay[i]
    assert old.step < ctl.latest.step
    bar.slider.setValue(i)
    assert bar.replaying is old
    assert win.statusBar().currentMessage() == f"Replaying step {old.step} \u2014 press Space to continue"
    loss = win.panels["loss"]
    np.testing.assert_array_equal(loss.raw_curve.yData, np.asarray(old.train_loss, dtype=loss.raw_curve.yData.dtype))
    np.testing.assert_array_equal(loss.raw_curve.xData, np.asarray(old.train_steps, dtype=loss.raw_curve.xData.dtype))
    np.testing.assert_allclose(win.panels["hidden"].image.image, np.asarray(old.probe.states).T)
    _, y = win.panels["gradients"].norm_curve.getData()
    np.testing.assert_allclose(10 ** y, np.maximum(old.grad_norms, 1e-12), rtol=1e-9)
    np.testing.assert_allclose(win.panels["weights"].image.image, np.asarray(old.W, dtype=np.float64), rtol=1e-6)
    assert not np.allclose(np.asarray(old.W), np.asarray(ctl.latest.W))      # a different moment indeed
    assert win.status_labels["step"].text() == f"Step {old.step}"
    # a live snapshot arriving meanwhile (e.g. after a setting) does not pull the view away
    ctl.request_snapshot()
    qtbot.wait(200)
    assert bar.replaying is old and win.status_labels["step"].text() == f"Step {old.step}"
    # back to the end = live
    bar.slider.setValue(len(ctl.replay) - 1)
    assert bar.replaying is None and win.status_labels["step"].text() == f"Step {ctl.latest.step}"
    np.testing.assert_allclose(win.panels["hidden"].image.image, np.asarray(ctl.latest.probe.states).T)
    # starting training leaves replay
    bar.slider.setValue(1)
    assert bar.replaying is ctl.replay[1]
    ctl.start_training()
    qtbot.waitUntil(lambda: ctl.running, timeout=5000)
    assert bar.replaying is None and not bar.slider.isEnabled()
    ctl.pause()
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    win.close()
