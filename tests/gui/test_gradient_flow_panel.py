"""The gradient-flow panel says what its curve is: which examples it averages, how they are aligned, how many have
each position (hollow points: fewer than all), and the training step when that is not the snapshot's own."""
from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest

from rnnviz.core import Config
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import Trainer
from rnnviz.gui.panels.gradients import GradientFlowPanel

import screen_measures as sm


@pytest.fixture
def panel(qtbot):
    p = GradientFlowPanel()
    qtbot.addWidget(p)
    p.resize(760, 560)
    p.show()
    qtbot.waitExposed(p)
    return p


def _negation_snapshot(steps: int = 12, flow: bool = True):
    t = Trainer(Config(dataset="negation", n_examples=300, hidden=12, batch_size=16), monitor_every=10)
    for _ in range(steps):
        t.step()
    return t, build_snapshot(t, flow=flow)


def test_negation_curve_is_aligned_at_the_last_token_and_counted(panel):
    t, snap = _negation_snapshot()
    assert snap.grad_norms_align == "end" and snap.grad_norms_count[-1] == len(t.monitor_batch.lengths)
    panel.render(snap)
    x, y = panel.norm_curve.getOriginalDataset()
    np.testing.assert_allclose(y, snap.grad_norms)
    # the x axis counts steps back from each example's last token
    ticks = dict(panel.flow_plot.getAxis("bottom")._tickLevels[0])
    T = snap.grad_norms.size
    assert ticks[float(T)] == "last" and ticks[float(T - 2)] == "\u22122"
    label = panel.flow_plot.getAxis("bottom").labelText
    assert "last token" in label and "#0\u201315" in label                   # which examples
    # hollow points where fewer than all the examples have the position
    brushes = panel.norm_curve.opts["symbolBrush"]
    full = int(snap.grad_norms_count.max())
    filled = [b.color().name() != panel.theme.background for b in brushes]
    assert filled == [int(n) == full for n in snap.grad_norms_count] and not all(filled)
    assert "fewer" in sm.plain(panel.norm_plot.titleLabel.text)
    text = panel.hover.at_scene(panel.norm_plot.vb.mapViewToScene(pg.Point(1.0, float(np.log10(snap.grad_norms[0])))))
    assert f"over {int(snap.grad_norms_count[0])} of {full} examples" in text and "before the last token" in text


def test_an_older_curve_says_its_step(panel):
    _t, snap = _negation_snapshot(steps=13, flow=False)
    assert snap.grad_norms_step == 10 and snap.step == 13
    panel.render(snap)
    assert "(at step 10)" in sm.plain(panel.norm_plot.titleLabel.text)
    fresh = dataclasses.replace(snap, grad_norms_step=13)
    panel.render(fresh)
    assert "at step" not in sm.plain(panel.norm_plot.titleLabel.text)


def test_no_text_over_the_curve_and_three_ticks(panel, qtbot):
    t, snap = _negation_snapshot()
    snap = dataclasses.replace(snap, clip=5.0)
    for _ in range(2):
        panel.render(snap)
        qtbot.wait(30)
    assert "clip 5" in sm.plain(panel.norm_plot.titleLabel.text)
    for m in sm.measure_plots(panel):
        assert not m.texts_over_curves, m.title
        assert not sm.few_ticks(m), (m.title, m.ticks)
        assert not m.title_clipped and not m.axis_titles_clipped, m.title
