"""Slow-motion BPTT: every number of the trace against the model's own gradients, finite differences and an"""
from __future__ import annotations

import numpy as np

from rnnviz.core.explore.capture import build_snapshot

from helpers import trainer_for
from qt_helpers import no_leaks  # noqa: F401  (a fixture)


def test_panel_steps_through_the_traces_numbers(qtbot):
    from rnnviz.gui.panels.bptt import BPTTPanel

    t = trainer_for("negation", cell="lstm", dtype="float32")
    snap = build_snapshot(t, bptt=True)
    tr, probe = snap.probe.bptt, snap.probe
    T = len(probe.ids)
    panel = BPTTPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.render(snap)
    assert panel.T == T and panel.current() == ("forward", 0)
    # forward step 3: s_3 as bars, columns after it not yet computed (blank)
    panel.set_position(2)
    np.testing.assert_allclose(panel.vector_bars.opts["height"], probe.states[2])
    np.testing.assert_allclose(panel.pre_bars.opts["height"], probe.preact[2])
    img = panel.state_image.image                                     # (D, T)
    np.testing.assert_allclose(img[:, :3], np.asarray(probe.states[:3]).T)
    assert np.isnan(img[:, 3:]).all()
    assert "t = 3</b>: reads" in panel.readout.text() and f"(id {int(probe.ids[2])})" in panel.readout.text()
    assert panel.phase_label.text() == f"Forward pass, step t = 3 of {T}"
    # backward: the first backward position is t = T, then T-1 ...
    panel.set_position(T + 1)
    assert panel.current() == ("backward", T - 2)
    t_ = T - 2
    np.testing.assert_allclose(panel.vector_bars.opts["height"], tr.dS[t_])
    gimg = panel.grad_image.image
    np.testing.assert_allclose(gimg[:, t_:], np.asarray(tr.dS[t_:]).T)
    assert np.isnan(gimg[:, :t_]).all()
    x, y = panel.norm_curve.getData()
    np.testing.assert_allclose(10 ** y, tr.norms[t_:], rtol=1e-9)
    assert f"= <b>{tr.norms[t_]:.4g}</b>" in panel.readout.text()
    assert f"<b>{tr.factors[t_]:.4g}</b>" in panel.readout.text() and "c\u209c\u208b\u2081" in panel.readout.text()
    assert panel.pre_plot.titleLabel.text == "gates i f g o"
    # the last position is backward t = 1, clamped there
    panel.set_position(10 * T)
    assert panel.current() == ("backward", 0) and panel.position == 2 * T - 1
    # keys when the panel has focus
    from PySide6.QtCore import Qt

    panel.set_position(3)
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert panel.position == 4
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    assert panel.position == 2
    qtbot.keyClick(panel, Qt.Key.Key_Home)
    assert panel.position == 0
    # speed and playing
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(8))
    assert panel.timer.interval() == 125
    panel.set_position(0)
    panel.play(True)
    qtbot.waitUntil(lambda: panel.position >= 2, timeout=3000)
    panel.play(False)
    assert not panel.timer.isActive()


def test_window_turns_the_trace_on_with_its_tab(qtbot, no_leaks):
    from rnnviz.gui.main_window import MainWindow

    from helpers import small_config
    from qt_helpers import wait_snapshot

    win = MainWindow(small_config(n_examples=120), backend="thread")
    qtbot.addWidget(win)
    win.show()
    ctl = win.controller
    snap = wait_snapshot(qtbot, ctl)
    assert snap.probe.bptt is None                     # not computed while its tab is hidden
    win.explore_tools.show_bptt()
    snap = wait_snapshot(qtbot, ctl, lambda s: s.probe.bptt is not None)
    panel = win.panels["bptt"]
    qtbot.waitUntil(lambda: panel.T == len(snap.probe.ids), timeout=3000)
    panel.play(False)
    win.tabs.setCurrentWidget(win.panels["confusion"])
    wait_snapshot(qtbot, ctl, lambda s: s.probe.bptt is None)
    win.close()
