"""A new model starts clean: markers, replay, histories, the probe and the sampled text of the old one are gone.

The path that showed "temperature 1→1.15" on the loss plot of another lesson: move the temperature in
Generating characters, switch to Sentiment with negation, train, change the learning rate. The marker must say lr.
"""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.presets import load_preset

from qt_helpers import confirming_window, enlarge, no_leaks, wait_snapshot  # noqa: F401  (fixtures)

pytest.importorskip("pytestqt")


def shown_labels(markers) -> list[tuple[float, str]]:
    """What a reader sees: the visible lines and the text their labels really show (not the format asked for)."""
    return [(line.value(), line.label.toPlainText()) for line in markers.lines if line.isVisible()]


window = confirming_window


def test_temperature_in_chars_then_negation_then_lr_marker_says_lr(qtbot, window):
    win, ctl = window, window.controller
    win.lessons.open("chars")
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "chars")
    ctl.step_batch(3)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 3 and s.config["dataset"] == "chars")
    win.panels["predictions"].temp_slider.setValue(115)          # the user drags the temperature slider
    old = wait_snapshot(qtbot, ctl, lambda s: bool(s.markers))
    win.show_snapshot(old, everything=True)
    assert [t for _, t in shown_labels(win.panels["loss"].markers)] == ["temperature 1\u21921.15"]
    hidden = win.panels["hidden"]
    hidden.probe_text.setText("to be or not")
    hidden.probe_text.returnPressed.emit()                       # a typed probe for the characters
    wait_snapshot(qtbot, ctl, lambda s: s.probe is not None and s.probe.source == "typed")
    assert len(ctl.replay) >= 1 and ctl.replay[0].config["dataset"] == "chars"

    win.lessons.open("negation")
    first = wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "negation")
    assert first.step == 0 and first.markers == () and first.sample_text == ""
    assert first.probe.source == "validation #0"                 # the typed characters are not sent along
    assert hidden.probe_text.text() == "" and win.explore_tools.typed == ""
    assert all(s.config["dataset"] == "negation" for s in (ctl.replay[i] for i in range(len(ctl.replay))))
    ctl.step_batch(4)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 4 and s.config["dataset"] == "negation")
    lr0 = ctl.config.lr
    win.controls.settingChanged.emit("lr", lr0 * 2)              # what the learning-rate box sends
    ctl.step_batch(2)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 6 and bool(s.markers))
    enlarge(qtbot, win, "gradients")          # its ||dL/dθ|| plot shows in a tall place only
    win.show_snapshot(snap, everything=True)
    want = [(4.0, f"lr {lr0:g}\u2192{lr0 * 2:g}")]
    assert list(snap.markers) == [(4, want[0][1])]
    assert shown_labels(win.panels["loss"].markers) == want      # the label reads lr, not temperature
    assert shown_labels(win.panels["gradients"].markers) == want
    assert win.panel_errors == []
    # the histories drawn are the new model's only
    loss = win.panels["loss"]
    x, _ = loss.raw_curve.getData()
    assert np.array_equal(x, np.arange(1, 7))


def test_reset_keeps_the_typed_probe_of_the_same_data_and_empties_the_rest(qtbot, window):
    win, ctl = window, window.controller
    ctl.step_batch(5)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 5)
    hidden = win.panels["hidden"]
    hidden.probe_text.setText("this movie is not good")
    hidden.probe_text.returnPressed.emit()
    wait_snapshot(qtbot, ctl, lambda s: s.probe is not None and s.probe.source == "typed")
    win.controls.settingChanged.emit("clip", 2.0)
    wait_snapshot(qtbot, ctl, lambda s: bool(s.markers))
    win.reset_model()
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 0 and s.probe is not None and s.probe.source == "typed")
    assert snap.markers == () and len(snap.train_loss) == 0 and len(snap.val_loss) == 0
    win.show_snapshot(snap, everything=True)
    x, _ = win.panels["loss"].raw_curve.getData()
    assert shown_labels(win.panels["loss"].markers) == [] and (x is None or len(x) == 0)
    assert [ctl.replay[i].step for i in range(len(ctl.replay))] == [0] * len(ctl.replay)


def test_a_reused_marker_line_shows_its_new_text():
    """The bug under the stale label: pyqtgraph does not retext a hidden label, and a cleared marker line is
    hidden until it is reused."""
    import pyqtgraph as pg

    from rnnviz.gui import style
    from rnnviz.gui.panels.markers import MarkerLines

    plot = pg.PlotItem()
    markers = MarkerLines(plot, style.theme())
    markers.set([(10, "temperature 1\u21921.15")])
    markers.clear()
    markers.set([(30, "lr 0.01\u21920.02")])
    assert shown_labels(markers) == [(30.0, "lr 0.01\u21920.02")]
    assert load_preset("chars").config.temperature == 1.0
