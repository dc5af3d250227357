"""The panels of the registry: render hand-made Snapshots and check what the plot items hold.

Every panel is also grabbed to /tmp/panel_<name>_<task>.png at 800 x 500 for a human to look at.
"""
from __future__ import annotations

import dataclasses
import gc
import weakref

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.core.data.batch import IGNORE
from rnnviz.gui import style
from rnnviz.gui.panels import (
    PANEL_CLASSES,
    ConfusionPanel,
    DataPanel,
    GradientFlowPanel,
    HiddenStatesPanel,
    LossPanel,
    PredictionsPanel,
    WeightsPanel,
    plotting,
)
from rnnviz.gui.panels.loss import smoothing_weight

from snapshot_factory import make_dataset, make_snapshot

SIZE = (800, 500)


def show(qtbot, cls, **kw):
    panel = cls(**kw)
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def grab(panel, name: str) -> None:
    QtWidgets.QApplication.processEvents()
    panel.grab().save(f"/tmp/panel_{name}.png")


def ticks(axis: pg.AxisItem, level: int = 0) -> list[tuple[float, str]]:
    return list(axis._tickLevels[level]) if axis._tickLevels else []


def at(plot: pg.PlotItem, x: float, y: float) -> QtCore.QPointF:
    """Scene position of view coordinates (x, y) of ``plot``."""
    return plot.vb.mapViewToScene(QtCore.QPointF(x, y))


def data_items(plot: pg.PlotItem) -> int:
    return len(plot.items)


# ------------------------------------------------------------------------------------------------ helpers
def test_nice_ceil_and_log_safe():
    assert [plotting.nice_ceil(v) for v in (0.07, 0.3, 1.0, 1.3, 2.2, 4.9, 7, 12)] == [0.1, 0.5, 1, 2, 2.5, 5, 10, 20]
    assert plotting.nice_ceil(0) == 1 and plotting.nice_ceil(float("nan")) == 1
    out = plotting.log_safe(np.array([0.0, -1.0, np.nan, np.inf, 3.0]))
    assert out[0] == out[1] == plotting.LOG_FLOOR and np.isnan(out[2]) and out[3] == 1e12 and out[4] == 3.0


def test_ema_matches_the_loop_and_continues():
    rng = np.random.default_rng(1)
    x = rng.random(5000)
    ref = np.empty_like(x)
    y = x[0]
    for i, v in enumerate(x):
        y = 0.97 * y + 0.03 * v
        ref[i] = y
    assert np.allclose(plotting.ema(x, 0.03), ref, rtol=1e-10)
    head = plotting.ema(x[:3000], 0.03)
    assert np.allclose(np.concatenate([head, plotting.ema(x[3000:], 0.03, start=head[-1])]), ref, rtol=1e-10)
    x[10] = np.nan                                 # a NaN loss leaves the average where it was
    e = plotting.ema(x, 0.03)
    assert np.isfinite(e).all() and e[10] == e[9]


def test_log_axis_labels_decades_without_overlap(qapp):
    axis = plotting.LogAxis("left")
    axis.setLogMode(False, True)
    levels = axis.logTickValues(-12.0, 2.0, 100, [])
    labels = [s for s in axis.logTickStrings(levels[0][1], 1, 1) if s]
    assert 2 <= len(labels) <= 5 and "1" in labels and all("\u207b" in s for s in labels if s != "1")
    levels = axis.logTickValues(-1.02, 0.0, 100, [])          # less than a decade: 1-2-5 gives only two labels
    assert axis.logTickStrings(levels[0][1], 1, 1) == ["0.1", "0.2", "0.3", "0.5", "0.7", "1"]   # inside: four
    levels = axis.logTickValues(-1.02, 0.0, 60, [])           # no room for three: as many as fit
    assert axis.logTickStrings(levels[0][1], 1, 1) == ["0.1", "0.2", "0.5", "1"]
    levels = axis.logTickValues(-5.06, -2.94, 100, [])        # two decades whose ends are too near the edges
    assert axis.logTickStrings(levels[0][1], 1, 1) == ["10\u207b\u2075", "3\u00b710\u207b\u2075", "10\u207b\u2074",
                                                       "3\u00b710\u207b\u2074", "10\u207b\u00b3"]
    assert plotting.pow10_text(-5) == "10\u207b\u2075" and plotting.pow10_text(2) == "100"


# ------------------------------------------------------------------------------------------------ loss
def test_loss_panel_curves_hold_the_snapshot(qtbot):
    panel = show(qtbot, LossPanel)
    snap = make_snapshot("classification", step=3000)
    panel.render(snap)
    x, y = panel.raw_curve.getOriginalDataset()
    assert np.array_equal(x, snap.train_steps) and np.allclose(y, snap.train_loss)
    x, y = panel.smooth_curve.getOriginalDataset()
    alpha = smoothing_weight(3000)
    assert alpha == pytest.approx(2 / 17)                        # a window of about 1 % of the history
    assert np.allclose(y, plotting.ema(snap.train_loss, alpha)) and np.diff(y).std() < 0.5 * np.diff(snap.train_loss).std()
    x, y = panel.val_curve.getData()
    assert np.array_equal(x, snap.val_steps) and np.allclose(y, snap.val_loss)
    x, y = panel.metric_curve.getData()
    assert np.allclose(y, snap.val_accuracy)
    assert "accuracy" in panel.metric_plot.getAxis("left").labelText
    lo, hi = panel.metric_plot.vb.viewRange()[1]
    assert lo <= 0 and hi >= 1 and hi < 1.2                   # fixed 0-1, not autoscaled
    for c in (panel.raw_curve, panel.smooth_curve):
        assert c.opts["autoDownsample"] and c.opts["clipToView"] and c.opts["downsampleMethod"] in ("peak", "mean")
    n_items = (data_items(panel.loss_plot), data_items(panel.metric_plot))

    # a second, longer snapshot: the same items, extended (incremental smoothing equals a full recomputation)
    snap2 = make_snapshot("classification", step=3100, seed=0)          # same smoothing window: extended
    snap2 = dataclasses.replace(snap2, train_loss=np.concatenate([snap.train_loss, snap2.train_loss[3000:]]))
    panel.render(snap2)
    assert (data_items(panel.loss_plot), data_items(panel.metric_plot)) == n_items
    assert np.allclose(panel.smooth_curve.getOriginalDataset()[1], plotting.ema(snap2.train_loss, alpha))
    grab(panel, "loss_classification")

    # hover: exact values at the mouse
    text = panel.hover.at_scene(at(panel.loss_plot, 1500, 0.3))
    assert "step 1500" in text and plotting.fmt(snap2.train_loss[1499]) in text
    text = panel.hover.at_scene(at(panel.metric_plot, 1510, 0.5))
    assert "step 1500" in text and plotting.fmt(snap2.val_accuracy[14]) in text


def test_loss_panel_log_scale_and_generation(qtbot):
    panel = show(qtbot, LossPanel)
    snap = make_snapshot("generation", T=32)
    panel.render(snap)
    assert "perplexity" in panel.metric_plot.getAxis("left").labelText
    assert np.allclose(panel.metric_curve.getData()[1], snap.val_perplexity)
    panel.log_check.setChecked(True)
    assert panel.raw_curve.opts["logMode"][1] and panel.loss_plot.getAxis("left").logMode
    assert not panel.metric_curve.opts["logMode"][1]
    panel.render(snap)
    grab(panel, "loss_generation_log")
    panel.set_log_y(False)
    assert not panel.log_check.isChecked() and not panel.raw_curve.opts["logMode"][1]
    panel.reset()
    x, _ = panel.raw_curve.getOriginalDataset()
    assert x is None or x.size == 0


# ------------------------------------------------------------------------------------------------ hidden
def test_hidden_panel_heatmap_ticks_levels_and_hover(qtbot):
    panel = show(qtbot, HiddenStatesPanel)
    snap = make_snapshot("classification", T=8, d=12, cell="lstm")
    panel.render(snap)
    states = snap.probe.states
    assert panel.image.image.shape == (12, 8) and np.allclose(panel.image.image, states.T)
    assert tuple(panel.image.levels) == (-1.0, 1.0) and tuple(panel.colorbar.levels()) == (-1.0, 1.0)
    labels = ticks(panel.plot.getAxis("bottom"))
    assert [pos for pos, _ in labels] == list(range(1, 9))
    assert [lab for _, lab in labels] == list(snap.probe.tokens)
    assert panel.source_label.text() == "showing: validation #3"
    assert panel.probe_spin.value() == 3
    n = data_items(panel.plot)
    snap2 = make_snapshot("classification", T=8, d=12, cell="lstm", seed=5, probe_index=6)
    panel.render(snap2)
    assert data_items(panel.plot) == n and np.allclose(panel.image.image, snap2.probe.states.T)
    assert tuple(panel.image.levels) == (-1.0, 1.0)             # never autolevels
    assert panel.probe_spin.value() == 6
    text = panel.hover.at_scene(at(panel.plot, 3, 2))
    assert snap2.probe.tokens[2] in text and "unit 2" in text and f"{snap2.probe.states[2, 2]:+.4f}" in text
    grab(panel, "hidden_classification")


def test_hidden_panel_probe_choice_emits_the_index(qtbot):
    panel = show(qtbot, HiddenStatesPanel)
    panel.set_probe_count(40)
    assert panel.probe_spin.maximum() == 39
    with qtbot.waitSignal(panel.probeChanged, timeout=1000) as blocker:
        panel.probe_spin.setValue(17)
    assert blocker.args == [17]
    with qtbot.assertNotEmitted(panel.probeChanged):          # following the trainer does not echo back
        panel.render(make_snapshot("classification", probe_index=5))
    assert panel.probe_spin.value() == 5


def test_hidden_panel_relu_levels_are_stable_and_bidirectional_split(qtbot):
    panel = show(qtbot, HiddenStatesPanel)
    big = make_snapshot("classification", activation="relu", T=20, d=16)
    panel.render(big)
    level = panel.levels[1]
    assert panel.levels == (-level, level) and level >= np.percentile(big.probe.states, 99)
    assert level in (1, 2, 2.5, 5, 10, 20)
    small = dataclasses.replace(big, probe=dataclasses.replace(big.probe, states=big.probe.states * 0.1))
    panel.render(small)
    assert panel.levels[1] == level                              # only ever grows
    panel.reset()
    assert panel.levels == (-1.0, 1.0)
    bi = make_snapshot("labelling", bidirectional=True, d=10, T=15)
    panel.render(bi)
    assert panel.image.image.shape == (20, 15)
    assert panel.split_line.isVisible() and panel.split_line.value() == pytest.approx(9.5)
    grab(panel, "hidden_bidirectional")


def test_hidden_panel_thins_tick_labels_for_long_sequences(qtbot):
    panel = show(qtbot, HiddenStatesPanel)
    snap = make_snapshot("generation", T=200, d=32)
    panel.render(snap)
    labels = ticks(panel.plot.getAxis("bottom"))
    assert 5 <= len(labels) < 200
    tokens = [plotting.display_token(t) for t in snap.probe.tokens]
    # thinned characters carry their timestep ("5:e"): every k-th letter side by side would read as another string
    assert all(lab == f"{int(pos)}:{tokens[int(pos) - 1]}" for pos, lab in labels)
    grab(panel, "hidden_generation")


# ------------------------------------------------------------------------------------------------ gradients
def test_gradient_panel_norms_clip_heatmap_and_parameters(qtbot):
    panel = show(qtbot, GradientFlowPanel)
    snap = make_snapshot("labelling", T=18, clip=5.0)
    panel.render(snap)
    x, y = panel.norm_curve.getOriginalDataset()
    assert np.array_equal(x, np.arange(1, 19)) and np.allclose(y, snap.grad_norms)
    assert panel.norm_plot.getAxis("left").logMode and panel.norm_curve.opts["logMode"][1]
    assert panel.last_curve.isVisible() and np.allclose(panel.last_curve.getOriginalDataset()[1], snap.grad_norms_last)
    assert panel.last_curve.opts["pen"].style() == QtCore.Qt.PenStyle.DashLine
    assert panel.clip_line.isVisible() and panel.clip_line.value() == pytest.approx(np.log10(5.0))
    assert panel.param_clip_line.value() == pytest.approx(np.log10(5.0))
    # the threshold is named in the titles, never in a label drawn over the curve
    assert "clip&nbsp;5" in panel.norm_plot.titleLabel.text and "clip 5" in panel.param_plot.titleLabel.text
    assert not [i for i in panel.norm_plot.vb.addedItems if isinstance(i, pg.TextItem) or
                (isinstance(i, pg.InfiniteLine) and getattr(i, "label", None) is not None)]

    img = panel.flow_image.image
    assert img.shape == snap.grad_flow.shape
    assert np.allclose(img, np.log10(np.maximum(snap.grad_flow, plotting.LOG_FLOOR)))
    assert np.isfinite(img).all()                               # the zero became the floor, not -inf
    assert tuple(panel.flow_image.levels) == (-8.0, 2.0) and tuple(panel.flow_colorbar.levels()) == (-8.0, 2.0)
    assert list(panel.param_curves) == ["U", "W", "b", "V", "c"]
    for name, curve in panel.param_curves.items():
        x, y = curve.getOriginalDataset()
        assert np.array_equal(x, snap.param_grad_steps) and np.allclose(y, snap.param_grad_norms[name])
        assert curve.opts["logMode"][1]
    assert all(f"\u2501 {n}" in panel.param_plot.titleLabel.text for n in "UWbVc")

    curves = dict(panel.param_curves)
    n_items = [data_items(p) for p in (panel.norm_plot, panel.flow_plot, panel.param_plot)]
    cls = make_snapshot("classification", T=18, clip=0.0, seed=3)
    panel.render(cls)
    assert all(panel.param_curves[n] is curves[n] for n in curves)   # reused, not recreated
    assert [data_items(p) for p in (panel.norm_plot, panel.flow_plot, panel.param_plot)] == n_items
    assert not panel.last_curve.isVisible()                     # equal to grad_norms for classification
    assert not panel.clip_line.isVisible() and not panel.param_clip_line.isVisible()
    assert "clip" not in panel.param_plot.titleLabel.text
    text = panel.hover.at_scene(at(panel.flow_plot, 5, 10))
    assert f"training step {int(cls.grad_flow_steps[10])}" in text and "t = 5" in text
    grab(panel, "gradients_classification")


def test_gradient_panel_survives_zeros_nan_and_inf(qtbot):
    panel = show(qtbot, GradientFlowPanel)
    snap = make_snapshot("generation", T=40, cell="gru")
    norms = np.array(snap.grad_norms)
    norms[:5] = 0.0
    norms[5] = np.nan
    norms[6] = np.inf
    flow = np.array(snap.grad_flow)
    flow[3, :4] = np.nan
    bad = dataclasses.replace(snap, grad_norms=norms, grad_norms_last=norms, grad_flow=flow,
                              param_grad_norms={**snap.param_grad_norms, "W": np.zeros_like(snap.param_grad_norms["W"])})
    panel.render(bad)
    y = panel.norm_curve.getOriginalDataset()[1]
    assert (y[:5] == plotting.LOG_FLOOR).all() and np.isnan(y[5]) and y[6] == 1e12
    assert np.isnan(panel.flow_image.image[3, :4]).all()        # left blank, not painted as a value
    assert (panel.param_curves["W"].getOriginalDataset()[1] == plotting.LOG_FLOOR).all()
    assert "b_hn" in panel.param_curves
    grab(panel, "gradients_generation")
    panel.reset()
    assert panel.param_curves == {} and not panel.flow_image.isVisible()


# ------------------------------------------------------------------------------------------------ confusion
def test_confusion_panel_counts_fractions_and_accuracy(qtbot):
    panel = show(qtbot, ConfusionPanel)
    snap = make_snapshot("classification", k=4)
    panel.render(snap)
    conf = snap.confusion
    rows = conf.sum(axis=1, keepdims=True)
    frac = conf / np.maximum(rows, 1)
    assert panel.image.image.shape == (4, 4) and np.allclose(panel.image.image, frac)
    assert tuple(panel.image.levels) == (0.0, 1.0)
    texts = [[item.toPlainText() for item in row] for row in panel.cell_text]
    assert texts == [[str(int(v)) for v in row] for row in conf]
    assert [lab for _, lab in ticks(panel.plot.getAxis("left"))] == list(snap.classes)
    assert [lab for _, lab in ticks(panel.plot.getAxis("bottom"))] == list(snap.classes)
    assert "true" in panel.plot.getAxis("left").labelText and "predicted" in panel.plot.getAxis("bottom").labelText
    assert np.allclose(panel.bars.opts["width"], np.nan_to_num(snap.per_class_accuracy))
    assert [t.toPlainText() for t in panel.bar_text][-1] == "n/a"       # the class absent from validation
    assert f"{100 * snap.val_accuracy[-1]:.1f}\u00a0%" in panel.accuracy_label.text()     # never broken apart

    panel.set_normalised(True)
    texts = [[item.toPlainText() for item in row] for row in panel.cell_text]
    for i in range(4):
        for j in range(4):
            expect = "\u2013" if rows[i, 0] == 0 else f"{conf[i, j] / rows[i, 0]:.2f}"
            assert texts[i][j] == expect
    grab(panel, "confusion_normalised")
    panel.set_normalised(False)
    assert panel.cell_text[0][0].toPlainText() == str(conf[0, 0])

    items = [i for row in panel.cell_text for i in row]
    snap2 = make_snapshot("classification", k=4, seed=9)
    panel.render(snap2)
    assert [i for row in panel.cell_text for i in row] == items          # same k: the same TextItems
    assert panel.cell_text[1][2].toPlainText() == str(snap2.confusion[1, 2])
    text = panel.hover.at_scene(at(panel.plot, 1, 0))
    assert f"{int(snap2.confusion[0, 1])} of {int(snap2.confusion[0].sum())}" in text
    grab(panel, "confusion_classification")


def test_confusion_panel_many_classes_and_generation(qtbot):
    panel = show(qtbot, ConfusionPanel)
    snap = make_snapshot("labelling", k=20, T=30)
    panel.render(snap)
    assert len(panel.cell_text) == 20 and all(len(r) == 20 for r in panel.cell_text)
    assert len([i for i in panel.plot.items if isinstance(i, pg.TextItem)]) == 400
    assert panel.cell_text[0][0].textItem.font().pixelSize() >= 10
    bottom = [lab for _, lab in ticks(panel.plot.getAxis("bottom"))]
    left = [lab for _, lab in ticks(panel.plot.getAxis("left"))]
    assert len(bottom) == 20 and all(lab.strip() for lab in left)
    grab(panel, "confusion_20_classes")
    small = make_snapshot("classification", k=3)
    panel.render(small)                                          # k changed: rebuilt, old items removed
    assert len([i for i in panel.plot.items if isinstance(i, pg.TextItem)]) == 9
    panel.render(make_snapshot("generation"))
    assert panel.stack.currentIndex() == 1 and "generation" in panel.message.text()
    grab(panel, "confusion_generation")
    panel.render(small)
    assert panel.stack.currentIndex() == 0


# ------------------------------------------------------------------------------------------------ weights
def test_weights_panel_heatmap_gates_and_eigenvalues(qtbot):
    panel = show(qtbot, WeightsPanel)
    snap = make_snapshot("classification", cell="lstm", d=10)
    panel.render(snap)
    assert panel.image.image.shape == (40, 10) and np.allclose(panel.image.image, snap.W)
    lo, hi = panel.levels
    assert lo == -hi and hi >= np.abs(snap.W).max() and hi == plotting.nice_ceil(np.abs(snap.W).max())
    assert tuple(panel.image.levels) == (lo, hi) and tuple(panel.colorbar.levels()) == (lo, hi)
    assert [line.value() for line in panel.gate_lines] == [9.5, 19.5, 29.5]
    assert [lab for _, lab in ticks(panel.plot.getAxis("left"))] == ["W_i", "W_f", "W_g", "W_o"]
    for g, scatter in panel.eig_scatter.items():
        x, y = scatter.getData()
        assert np.allclose(x, snap.eigenvalues[g].real) and np.allclose(y, snap.eigenvalues[g].imag)
    cx, cy = panel.unit_circle.getData()
    assert np.allclose(np.hypot(cx, cy), 1.0)
    assert panel.eig_plot.vb.state["aspectLocked"]
    title = panel.eig_plot.titleLabel.text
    assert "\u03c1" in title and all(f"{r:.2f}" in title for r in snap.spectral_radius.values())
    scatters = dict(panel.eig_scatter)

    smaller = dataclasses.replace(snap, W=snap.W * 0.1)
    panel.render(smaller)
    assert panel.levels == (lo, hi)                              # never shrinks: colours stay comparable
    assert all(panel.eig_scatter[g] is scatters[g] for g in scatters)
    bigger = dataclasses.replace(snap, W=snap.W * 10)
    panel.render(bigger)
    assert panel.levels[1] == plotting.nice_ceil(np.abs(bigger.W).max()) > hi
    grab(panel, "weights_lstm")
    panel.reset()
    assert panel.levels == (-1.0, 1.0) and panel.eig_scatter == {}
    rnn = make_snapshot("generation", cell="rnn", d=24)
    panel.render(rnn)
    assert panel.gate_lines == [] and list(panel.eig_scatter) == ["s"]
    assert "W" in panel.eig_plot.titleLabel.text
    grab(panel, "weights_rnn")



def test_weights_panel_warns_when_the_spectral_radius_passes_one(qtbot):
    """A plain RNN: the line under the plots warns when W's spectral radius (rounded as shown) is above 1; a gated
    cell's says that ρ is only a hint. The eigenvalue plot's title gives each radius."""
    panel = show(qtbot, WeightsPanel)
    rnn = make_snapshot("generation", cell="rnn", d=24)
    for rho, warned in ((0.97, False), (1.004, False), (1.04, True), (2.5, True)):
        panel.render(dataclasses.replace(rnn, step=rnn.step + 1, spectral_radius={"s": rho}))
        text = panel.radius_label.text() + panel.radius_label.toolTip()
        assert ("\u03c1 &gt; 1: W<" in text) == warned, (rho, text)
        assert f"{rho:.2f}" in panel.eig_plot.titleLabel.text
    lstm = make_snapshot("classification", cell="lstm", d=10)       # gated: the gates decide, no warning
    rho = dict.fromkeys(lstm.spectral_radius, 0.5) | {"f": 1.3, "o": 1.1}
    panel.render(dataclasses.replace(lstm, spectral_radius=rho))
    text = panel.radius_label.text() + panel.radius_label.toolTip()
    assert "&gt; 1" not in text and "read \u03c1 as a hint" in text
    assert "1.30" in panel.eig_plot.titleLabel.text and "1.10" in panel.eig_plot.titleLabel.text


# ------------------------------------------------------------------------------------------------ predictions
def test_predictions_panel_classification_bars(qtbot):
    panel = show(qtbot, PredictionsPanel)
    snap = make_snapshot("classification", k=5, seed=2)
    panel.render(snap)
    probe = snap.probe
    assert panel.stack.currentIndex() == 0
    assert np.allclose(panel.bars.opts["height"], probe.probs)
    pred, true = int(probe.predicted), int(probe.target)
    brushes = panel.bars.opts["brushes"]
    assert brushes[pred].color().name() == style.colour(0)
    assert all(brushes[i].color().name() != style.colour(0) for i in range(5) if i != pred)
    assert panel.bars.opts["pens"][true].width() == 3
    assert panel.true_marker.isVisible() and panel.true_marker.pos().x() == true
    assert snap.classes[pred] in panel.caption.text() and snap.classes[true] in panel.caption.text()
    assert [lab for _, lab in ticks(panel.plot.getAxis("bottom"))] == list(snap.classes)
    grab(panel, "predictions_classification")


def test_predictions_panel_labelling_table_marks_wrong_tags(qtbot):
    panel = show(qtbot, PredictionsPanel)
    snap = make_snapshot("labelling", k=6, T=12)
    panel.render(snap)
    probe = snap.probe
    assert panel.stack.currentIndex() == 1 and panel.table.rowCount() == 12
    red = QtWidgets.QTableWidgetItem().foreground()
    for t in range(12):
        assert panel.table.item(t, 1).text() == probe.tokens[t]
        tgt, pred = int(probe.target[t]), int(probe.predicted[t])
        assert panel.table.item(t, 3).text() == snap.classes[pred]
        if tgt == IGNORE:
            assert panel.table.item(t, 2).text() == "\u2013"
        else:
            assert panel.table.item(t, 2).text() == snap.classes[tgt]
        wrong = tgt != IGNORE and tgt != pred
        colour = panel.table.item(t, 3).foreground().color().name()
        assert (colour == panel.theme.bad) == wrong
    n_wrong = int(((probe.target != IGNORE) & (probe.target != probe.predicted)).sum())
    n_total = int((probe.target != IGNORE).sum())
    assert f"{n_total - n_wrong} / {n_total} tags correct" in panel.caption.text()
    items = [panel.table.item(0, c) for c in range(5)]
    panel.render(make_snapshot("labelling", k=6, T=12, seed=4))
    assert [panel.table.item(0, c) for c in range(5)] == items           # reused
    grab(panel, "predictions_labelling")


def test_predictions_panel_generation_text_and_temperature(qtbot):
    panel = show(qtbot, PredictionsPanel)
    snap = make_snapshot("generation", temperature=1.5)
    panel.render(snap)
    assert panel.stack.currentIndex() == 2
    assert panel.sample_box.toPlainText() == snap.sample_text
    assert panel.sample_box.font().fixedPitch() or panel.sample_box.font().styleHint() == panel.sample_box.font().StyleHint.Monospace \
        or "mono" in panel.sample_box.font().family().lower()
    assert panel.temp_slider.value() == 150 and "1.50" in panel.temp_label.text()
    with qtbot.waitSignal(panel.temperatureChanged, timeout=1000) as blocker:
        panel.temp_slider.setValue(50)
    assert blocker.args == [pytest.approx(0.5)]
    with qtbot.assertNotEmitted(panel.temperatureChanged):
        panel.render(dataclasses.replace(snap, sample_temperature=0.0))
    assert panel.temp_slider.value() == 0 and "greedy" in panel.temp_label.text()
    assert panel.temp_slider.maximum() == 200
    grab(panel, "predictions_generation")


# ------------------------------------------------------------------------------------------------ data
@pytest.mark.parametrize("task", ["classification", "labelling"])
def test_data_panel_shows_tokens_ids_lengths_and_one_hot(qtbot, task):
    panel = show(qtbot, DataPanel)
    ds = make_dataset(task)
    panel.set_dataset(ds)
    batch = panel.batch
    B, T = batch.ids.shape
    assert B == 4 and panel.token_table.rowCount() == 4 and panel.id_table.columnCount() == T + 1
    vocab = ds.vocab.tokens
    for r in range(B):
        L = int(batch.lengths[r])
        for t in range(T):
            shown = panel.token_table.item(r, t).text()
            assert shown == (ds.val.tokens[batch.index[r]][t] if t < L else "<pad>")
            assert panel.id_table.item(r, t).text() == str(batch.ids[r, t])
            assert vocab[batch.ids[r, t]] == shown
        assert panel.id_table.item(r, T).text() == str(L)
    words = {panel.token_table.item(r, t).text() for r in range(B) for t in range(T)}
    assert {"<sos>", "<eos>", "<pad>"} <= words
    assert f"[{', '.join(str(int(x)) for x in batch.lengths)}]" in panel.lengths_label.text()
    assert len(set(batch.lengths.tolist())) > 1                 # padding is visible
    explained = panel.explain.text()                             # where the loss reads the outputs, for this task
    assert ("true last step" in explained) == (task == "classification")
    assert (f"targets are {IGNORE}" in explained) == (task != "classification")
    if task == "classification":
        assert panel.token_table.horizontalHeaderItem(T).text() == "class"
        assert panel.token_table.item(0, T).text() == ds.classes[int(batch.targets[0])]
    assert panel.vocab_model.rowCount() == len(vocab)
    assert panel.vocab_model.data(panel.vocab_model.index(5, 1)) == vocab[5]
    assert panel.vocab_model.data(panel.vocab_model.index(5, 2)) == str(ds.vocab.counts[5])

    # clicking a token shows its one-hot vector and selects it in the vocabulary
    r, t = 1, 2
    token_id = int(batch.ids[r, t])
    rect = panel.token_table.visualItemRect(panel.token_table.item(r, t))
    qtbot.mouseClick(panel.token_table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    text = panel.onehot_label.text()
    assert f"(id {token_id})" in text and f"U[:, {token_id}]" in text and f"{len(vocab)} numbers" in text
    assert panel.vocab_view.selectionModel().selectedRows()[0].row() == token_id
    panel.render(make_snapshot(task))                            # a no-op, must not fail
    grab(panel, f"data_{task}")
    first = list(batch.index)
    panel.next_batch()
    assert list(panel.batch.index) != first


def test_one_hot_text():
    from rnnviz.gui.panels.data_view import onehot_html
    html = onehot_html(10, 24)
    assert html.count("1</b>") == 1 and "\u2026" in html and "23" in html
    assert onehot_html(2, 5).startswith("[0 0 <b")


# ------------------------------------------------------------------------------------------------ all panels
@pytest.mark.parametrize("task", ["classification", "labelling", "generation"])
def test_every_panel_renders_every_task_twice_without_growing(qtbot, task):
    snap_a = make_snapshot(task, T=16, d=20, cell="gru")
    snap_b = make_snapshot(task, T=16, d=20, cell="gru", seed=7, step=2500)
    for cls in PANEL_CLASSES:
        panel = show(qtbot, cls)
        assert isinstance(panel.title, str) and panel.title
        if cls is DataPanel:
            panel.set_dataset(make_dataset("labelling" if task == "labelling" else "classification"))
        panel.render(snap_a)
        QtWidgets.QApplication.processEvents()
        scene_items = [len(v.scene().items()) for v in panel._views]
        panel.render(snap_b)
        QtWidgets.QApplication.processEvents()
        assert [len(v.scene().items()) for v in panel._views] == scene_items, cls.__name__
        grab(panel, f"{cls.__name__.replace('Panel', '').lower()}_{task}_all")


def test_panels_switch_to_dark_theme(qtbot):
    snap = make_snapshot("classification")
    for cls in PANEL_CLASSES:
        panel = show(qtbot, cls)
        panel.render(snap)
        panel.set_theme("dark")
        for view in panel._views:
            assert view.backgroundBrush().color().name() == style.DARK.background
            axes = [i for i in view.scene().items() if isinstance(i, pg.AxisItem)]
            assert all(a.pen().color().name() == style.DARK.foreground for a in axes)
        panel.render(snap)
        grab(panel, f"dark_{cls.__name__.replace('Panel', '').lower()}")


def test_panels_are_destroyed_cleanly(qtbot):
    """Regression: a rendered panel in a reference cycle (its hover methods, a lambda) was left to the garbage
    collector, whose clean-up order crashed PySide6/pyqtgraph. Panels must be freed by reference counting."""
    snap = make_snapshot("labelling", k=12, T=18)
    gc.collect()
    gc.disable()
    try:
        for _ in range(2):
            for cls in PANEL_CLASSES:
                panel = cls()
                panel.resize(*SIZE)
                if cls is DataPanel:
                    panel.set_dataset(make_dataset())
                panel.render(snap)
                QtWidgets.QApplication.processEvents()
                panel.close()
                ref = weakref.ref(panel)
                del panel
                assert ref() is None, f"{cls.__name__} is kept alive by a reference cycle"
    finally:
        gc.enable()
    gc.collect()


def test_rendering_again_reuses_the_plot_items(qtbot):
    """Realistic worst sizes (20k loss points, 400 x 64 gradient flow, LSTM d = 128, 20 classes). A frame must only
    update existing items (setData / setImage), never add new ones: the scene holds as many items after ten frames
    as after the first. (Refresh cost in milliseconds is measured by `rnnviz bench`, not asserted here.)"""
    kw = dict(T=64, d=128, k=20, cell="lstm", step=20000, n_train=20000, flow_rows=400)
    snaps = [make_snapshot("classification", seed=s, **kw) for s in range(2)]
    panels = [show(qtbot, cls) for cls in PANEL_CLASSES]

    def scene_items() -> list[int]:
        return [sum(len(v.scene().items()) for v in p.findChildren(pg.GraphicsView)) for p in panels]

    for p in panels:
        p.render(snaps[0])
    QtWidgets.QApplication.processEvents()
    for p in panels:
        p.render(snaps[1])
    QtWidgets.QApplication.processEvents()
    first = scene_items()
    for i in range(10):
        for p in panels:
            p.render(snaps[i % 2])        # every frame a new confusion matrix: the worst case
    QtWidgets.QApplication.processEvents()
    assert scene_items() == first
    drawn = [type(p).__name__ for p, n in zip(panels, first) if n > 0]
    # the data and equation panels are plain widgets (tables, text)
    assert set(drawn) == {c.__name__ for c in PANEL_CLASSES} - {"DataPanel", "EquationPanel"}


def _empty(curve) -> bool:
    x, _ = curve.getData()
    return x is None or len(x) == 0


def _loss_at_step0(panel, snap):
    assert all(_empty(c) for c in (panel.raw_curve, panel.smooth_curve, panel.val_curve, panel.metric_curve))
    lo, hi = panel.loss_plot.vb.viewRange()[0]
    assert -5 < lo <= 0 and 100 <= hi < 105                    # a training-step axis, not pyqtgraph's 0..1


def _hidden_at_step0(panel, snap):
    assert panel.image.isVisible() and np.array_equal(panel.image.image, snap.probe.states.T)


def _gradients_at_step0(panel, snap):
    assert np.allclose(panel.norm_curve.getOriginalDataset()[1], snap.grad_norms)
    assert panel.flow_image.isVisible() and panel.flow_image.image.shape == (1, snap.grad_norms.size)
    assert list(panel.param_curves) == list("UWbVc") and all(_empty(c) for c in panel.param_curves.values())


def _confusion_at_step0(panel, snap):
    assert panel.stack.currentIndex() == 0 and np.array_equal(panel.image.image, np.zeros((3, 3)))
    assert [[t.toPlainText() for t in row] for row in panel.cell_text] == [["0"] * 3] * 3
    assert [t.toPlainText() for t in panel.bar_text] == ["n/a"] * 3
    assert panel.accuracy_label.text() == "Overall accuracy: \u2013 (no evaluation yet)"


def _predictions_at_step0(panel, snap):
    assert panel.stack.currentIndex() == 0 and np.allclose(panel.bars.opts["height"], snap.probe.probs)
    assert snap.probe.source in panel.caption.text()


def _weights_at_step0(panel, snap):
    assert np.array_equal(panel.image.image, snap.W)
    assert np.allclose(panel.eig_scatter["s"].getData()[0], snap.eigenvalues["s"].real)


def _data_at_step0(panel, snap):
    assert panel.token_table.rowCount() == 0 and panel.dataset is None     # it shows a Dataset, none given


def _bptt_at_step0(panel, snap):
    T = len(snap.probe.tokens)
    assert panel.T == T and panel.current() == ("forward", 0)
    assert panel.phase_label.text() == f"Forward pass, step t = 1 of {T}"
    image = panel.state_image.image                               # (D, T): s_1 shown, the rest not computed yet
    assert np.allclose(image[:, 0], snap.probe.states[0]) and np.isnan(image[:, 1:]).all()


def _statespace_at_step0(panel, snap):
    # the states of the untrained model are a picture already: every path drawn, the probe's too
    n = sum(len(path.getData()[0]) for path in panel.paths.values() if path.getData()[0] is not None)
    assert n == len(snap.state_space.points) and len(panel.probe_curve.getData()[0]) == len(snap.probe.tokens)


def _gates_at_step0(panel, snap):
    assert panel.note.isVisible() and not panel.view.isVisible()     # the vanilla RNN has no gates, and says so


def _reach_at_step0(panel, snap):
    assert panel.image.isVisible() and panel.image.image.shape == np.asarray(snap.probe.reach).shape


def _equation_at_step0(panel, snap):
    assert panel.lines and panel.lines[0][1].startswith("t = 1 ")


STEP0 = {"loss": _loss_at_step0, "hidden": _hidden_at_step0, "gradients": _gradients_at_step0,
         "confusion": _confusion_at_step0, "predictions": _predictions_at_step0, "weights": _weights_at_step0,
         "data": _data_at_step0, "bptt": _bptt_at_step0, "statespace": _statespace_at_step0,
         "gates": _gates_at_step0, "reach": _reach_at_step0, "equation": _equation_at_step0}


def test_every_panel_handles_a_snapshot_before_training(qtbot):
    """Step 0: no losses, no evaluation, one gradient-flow row, an all-zero confusion matrix. Each panel shows what
    there is (the probe, W, the first gradients) and leaves the rest empty, after a reset as before it."""
    from rnnviz.gui.panels.registry import SPECS

    snap = make_snapshot("classification", k=3, step=0, n_train=0, flow_rows=1)
    empty = np.zeros(0)
    snap = dataclasses.replace(snap, val_steps=empty.astype(np.int64), val_loss=empty, val_accuracy=empty,
                               val_perplexity=empty, confusion=np.zeros((3, 3), np.int64),
                               per_class_accuracy=np.full(3, np.nan), param_grad_steps=empty.astype(np.int64),
                               param_grad_norms={n: empty for n in "UWbVc"})
    assert set(STEP0) == {spec.key for spec in SPECS}
    for spec in SPECS:
        panel = show(qtbot, spec.load())
        panel.render(snap)
        STEP0[spec.key](panel, snap)
        panel.reset()
        panel.render(snap)
        STEP0[spec.key](panel, snap)
        grab(panel, f"{spec.key}_step0")


def test_short_panels_keep_their_main_plot_and_titles_that_fit(qtbot):
    """A 1280x800 projector leaves a panel ~260 px: the gradient panel drops its dL/dtheta plot (and takes it back
    when tall again) and the loss panel's stacked vertical axis titles shorten instead of running into each other."""
    from rnnviz.gui.panels.gradients import COMPACT_BELOW, GradientFlowPanel
    from rnnviz.gui.panels.loss import LossPanel

    snap = make_snapshot("classification", T=20)
    grad = show(qtbot, GradientFlowPanel)
    grad.render(snap)
    assert not grad.compact and grad.param_plot.scene() is grad.view.scene()
    grad.resize(SIZE[0], COMPACT_BELOW - 160)
    QtWidgets.QApplication.processEvents()
    assert grad.compact and grad.param_plot.scene() is None
    assert grad.norm_plot.vb.height() > 40                       # the point of the panel stays readable
    grad.render(snap)                                             # drawing while compact is fine
    grad.resize(*SIZE)
    QtWidgets.QApplication.processEvents()
    assert not grad.compact
    np.testing.assert_allclose(grad.param_curves["W"].yData, snap.param_grad_norms["W"])

    loss = show(qtbot, LossPanel)
    loss.render(snap)
    QtWidgets.QApplication.processEvents()
    assert loss.metric_plot.getAxis("left").labelText == "val. accuracy"
    loss.resize(SIZE[0], 230)
    QtWidgets.QApplication.processEvents()
    metrics = QtGui.QFontMetricsF(style.font())
    for plot in (loss.loss_plot, loss.metric_plot):
        text = plot.getAxis("left").labelText
        assert metrics.horizontalAdvance(text) <= plot.vb.height() or text in ("loss", "acc."), text
    assert loss.metric_plot.getAxis("left").labelText != "val. accuracy"


def test_confusion_empty_cells_follow_the_theme(qtbot):
    """On the dark theme an empty cell is dark (a white one glared on a dark projector) and its "0" is light;
    back on the light theme it is white with dark ink again."""
    panel = show(qtbot, ConfusionPanel)
    snap = make_snapshot("classification", k=3)
    for name, empty_is_dark in (("light", False), ("dark", True), ("light", False)):
        panel.set_theme(name)
        panel.render(snap)
        zero = panel.cmap.map(0.0, mode="qcolor")
        assert (zero.lightness() < 80) == empty_is_dark and (zero.lightness() > 240) == (not empty_is_dark)
        i, j = map(int, np.argwhere(np.asarray(snap.confusion) == 0)[0])
        ink = QtGui.QColor(panel._shown[i][j][1])
        assert abs(ink.lightness() - zero.lightness()) > 120          # readable on its cell
    grab(panel, "confusion_dark_check")


@pytest.mark.parametrize("size", [(250, 330), (360, 200), (800, 500)] + [(w, 260) for w in range(240, 440, 12)])
def test_confusion_panel_never_draws_a_cut_number_or_overlapping_titles(qtbot, size):
    """A narrow or short confusion panel (a small projector, the panel in a small place): every per-class
    percentage it draws lies wholly inside its plot ("100%" once showed as "00%"), the two plot titles never run
    into each other, and the header says the accuracy in a wording that fits."""
    import dataclasses

    panel = ConfusionPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    snap = make_snapshot("classification", k=2)
    perfect = np.diag([200, 200]).astype(np.int64)
    snap = dataclasses.replace(snap, confusion=perfect, per_class_accuracy=np.array([1.0, 1.0]),
                               val_accuracy=np.array([1.0]), val_steps=np.array([500]))
    mixed = dataclasses.replace(snap, confusion=np.array([[180, 20], [34, 166]]),
                                per_class_accuracy=np.array([0.9, 0.83]), val_accuracy=np.array([0.865]))
    for shown_snap, texts in ((mixed, ("90%", "83%")), (snap, ("100%", "100%"))):
        panel.render(shown_snap)
        for _ in range(3):
            QtWidgets.QApplication.processEvents()
        box = panel.bar_plot.vb.sceneBoundingRect()
        shown = [item for item in panel.bar_text if item.toPlainText()]
        for item, want in zip(panel.bar_text, texts):
            if item.toPlainText():
                assert item.toPlainText() == want
                rect = item.mapRectToScene(item.textItem.mapRectToParent(item.textItem.boundingRect()))
                assert box.adjusted(-1, -1, 1, 1).contains(rect), (item.toPlainText(), rect, box)
        if size == (800, 500):
            assert len(shown) == 2                          # room enough: both percentages are written
    titles = [p.titleLabel for p in (panel.plot, panel.bar_plot) if p.titleLabel.isVisible()]
    if len(titles) == 2:
        a, b = (t.mapRectToScene(t.itemRect()) for t in titles)
        assert not a.intersects(b), (a, b)
    header = panel.accuracy_label
    assert header.text() == "Overall accuracy: 100.0\u00a0% (step 500)"
    assert "100.0" in header.shown_text() and not header.clipped()
