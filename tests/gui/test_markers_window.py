"""Markers: a live setting change during training leaves a labelled line at that step on the loss and gradient plots."""
from __future__ import annotations

import numpy as np
import pytest

from qt_helpers import enlarge, no_leaks, open_window, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def _visible(markers):
    return [(line.value(), line.label.format if markers.labelled else None)
            for line in markers.lines if line.isVisible()]


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot)
    yield win
    win.close()


@pytest.mark.usefixtures("no_leaks")
def test_live_changes_in_the_window_put_markers_in_both_plots(qtbot, window):
    win, ctl = window, window.controller
    lr0 = ctl.config.lr
    ctl.step_batch(12)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 12)
    win.controls.settingChanged.emit("lr", lr0 / 10)          # what the learning-rate box sends
    ctl.step_batch(8)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 20)
    win.controls.widgets["clip"].setValue(1.0)                  # the user edits the clip box
    ctl.step_batch(5)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 25)
    trainer = ctl.worker.loop.trainer
    want = [(12, f"lr {lr0:g}\u2192{lr0 / 10:g}"), (20, "clip 5\u21921")]
    assert list(snap.markers) == want == trainer.markers
    enlarge(qtbot, win, "gradients")          # its ||dL/dθ|| plot shows in a tall place only
    win.show_snapshot(snap, everything=True)
    assert win.panel_errors == []

    loss, grads = win.panels["loss"], win.panels["gradients"]
    assert _visible(loss.markers) == [(float(s), t) for s, t in want]            # the loss plot, labelled
    assert _visible(loss.metric_markers) == [(float(s), None) for s, _ in want]  # the accuracy plot below
    assert _visible(grads.markers) == [(float(s), t) for s, t in want]           # ||dL/dθ|| over training
    # the gradient-flow heatmap: a row index, between the rows recorded around that step
    rows = np.asarray(snap.grad_flow_steps, dtype=float)
    expected_rows = [np.interp(s, rows, np.arange(rows.size)) for s, _ in want]
    assert np.allclose([v for v, _ in _visible(grads.flow_markers)], expected_rows)
    for step, _ in want:
        assert step in set(np.asarray(snap.train_steps).tolist())     # the marker sits on a plotted step

    # redrawing the same markers makes no new items; a reset hides them
    made = len(loss.markers.lines)
    win.show_snapshot(snap, everything=True)
    assert len(loss.markers.lines) == made
    ctl.reset()
    fresh = wait_snapshot(qtbot, ctl, lambda s: s.step == 0)
    win.show_snapshot(fresh, everything=True)
    assert fresh.markers == () and _visible(loss.markers) == [] and _visible(grads.markers) == []
