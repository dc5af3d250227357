"""Markers: a live setting change during training leaves a labelled line at that step on the loss and gradient plots."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import MARKER_CAP, Trainer

from qt_helpers import no_leaks, open_window, small_config, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def _visible(markers):
    return [(line.value(), line.label.format if markers.labelled else None)
            for line in markers.lines if line.isVisible()]


def test_trainer_records_changes_after_the_first_step_only():
    t = Trainer(small_config(n_examples=120))
    t.apply_live("lr", 0.05)                        # before training: a new starting value, no marker
    t.step()
    t.step()
    t.apply_live("lr", 0.02)
    t.apply_live("lr", 0.001)                       # dragged twice between two steps: one marker, first→last
    t.apply_live("clip", 0.0)
    t.apply_live("epochs", 80)                      # the loop's SetLive("epochs", 80)
    t.apply_live("temperature", 0.5)
    t.step()
    t.apply_live("lr", 0.003)
    t.apply_live("lr", 0.001)                       # and back: no marker
    assert build_snapshot(t).markers == ((2, "lr 0.05\u21920.001"), (2, "clip 5\u21920"),
                                         (2, "epochs 50\u219280"), (2, "temperature 1\u21920.5"))
    for i in range(MARKER_CAP + 5):
        t.step_count += 1
        t.apply_live("clip", float(i % 2))
    assert len(t.markers) == MARKER_CAP and t.markers[-1][0] == t.step_count


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
