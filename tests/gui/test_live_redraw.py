"""Cheap live redraws: ranges that follow the data in steps, titles and ticks set only on change, a live frame
drawn one panel per event-loop turn, and a snapshot drawn as soon as it arrives.

These are the changes that brought a full window refresh from ~50 ms to ~25 ms; the tests check that they
never hide data or show a stale frame (timings themselves are measured by ``rnnviz bench``, never asserted).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtWidgets

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import Trainer
from rnnviz.gui.panels.bptt import BPTTPanel
from rnnviz.gui.panels.gradients import GradientFlowPanel
from rnnviz.gui.panels.loss import LossPanel
from rnnviz.gui.panels.ranges import FollowRange, set_ticks_once, set_title_once, view_bounds

from helpers import small_config
from qt_helpers import no_leaks, open_window, wait_snapshot  # noqa: F401 (fixture)

KEEP: list = []       # the test's plot widgets stay alive until the test module ends


def plot_item(qtbot, log_y: bool = False) -> pg.PlotItem:
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    KEEP.append(w)
    w.resize(400, 300)
    w.show()
    if log_y:
        w.getPlotItem().setLogMode(y=True)
    return w.getPlotItem()


def view(plot, index: int) -> tuple[float, float]:
    return tuple(plot.vb.viewRange()[index])


# ------------------------------------------------------------------------------------------------ FollowRange
def test_view_bounds_in_view_coordinates():
    assert view_bounds([[3.0, np.nan, -1.0], [np.inf, 7.0]]) == (-1.0, 7.0)
    lo, hi = view_bounds([[0.0, 1e-3, 10.0, -5.0]], log=True)          # log axis: log10 of the positive values
    assert (lo, hi) == pytest.approx((-3.0, 1.0))
    assert view_bounds([[np.nan], []]) is None and view_bounds([[0.0, -1.0]], log=True) is None


@pytest.mark.parametrize("log_y", [False, True])
def test_follow_range_always_holds_the_data_and_moves_rarely(qtbot, log_y):
    """A loss-like history that grows by a few steps per frame: every frame the range holds all the data (with
    the noise), and it changes on a small share of the frames only."""
    plot = plot_item(qtbot, log_y)
    fx, fy = FollowRange(plot, "x"), FollowRange(plot, "y")
    rng = np.random.default_rng(0)
    steps = np.arange(1, 3001, dtype=float)
    loss = 2.0 * np.exp(-steps / 800) + 0.05 + 0.1 * rng.random(steps.size)
    changes = frames = 0
    for n in range(20, steps.size + 1, 25):
        x, y = steps[:n], loss[:n]
        plot.plot(x, y, clear=True)
        changes += fx.follow(x) + fy.follow(y)
        frames += 1
        xl, xh = view(plot, 0)
        yl, yh = view(plot, 1)
        lo, hi = view_bounds([y], log_y)
        assert xl <= x[0] and x[-1] <= xh
        assert yl <= lo and hi <= yh
    assert changes < 0.25 * 2 * frames, f"the ranges changed {changes} times in {frames} frames"


def test_follow_range_refits_when_the_data_shrinks(qtbot):
    plot = plot_item(qtbot)
    fy = FollowRange(plot, "y")
    fy.follow([0.0, 100.0])
    assert view(plot, 1)[1] >= 100
    assert not fy.follow([10.0, 90.0])                   # still most of the range: nothing to do
    assert fy.follow([1.0, 2.0])                         # a hundredth of the range: refit around the data
    lo, hi = view(plot, 1)
    assert lo <= 1.0 and hi >= 2.0 and hi - lo < 5


def test_zooming_stops_the_following_and_auto_range_resumes_it(qtbot):
    plot = plot_item(qtbot)
    fx = FollowRange(plot, "x")
    fx.follow(np.arange(100.0))
    plot.vb.setXRange(10, 20, padding=0)                 # what a mouse zoom does (pyqtgraph turns auto off)
    assert not fx.follow(np.arange(500.0))
    assert view(plot, 0) == pytest.approx((10, 20))      # the user's view is left alone
    plot.enableAutoRange(x=True)                         # the plot's "A" button
    assert fx.follow(np.arange(500.0))
    lo, hi = view(plot, 0)
    assert lo <= 0 and hi >= 499


def test_titles_and_ticks_are_set_once_and_changes_still_show(qtbot):
    plot = plot_item(qtbot)
    assert set_title_once(plot, "a", size="12pt")
    assert not set_title_once(plot, "a", size="12pt")
    assert set_title_once(plot, "b", size="12pt") and plot.titleLabel.text == "b"
    assert set_title_once(plot, "b", size="12pt", color="#ff0000")     # a new colour (theme) is a change
    axis = plot.getAxis("bottom")
    assert set_ticks_once(axis, [[(1, "x")]])
    assert not set_ticks_once(axis, [[(1.0, "x")]])
    assert set_ticks_once(axis, [[(1, "y")]]) and axis._tickLevels[0] == [(1, "y")]
    assert set_ticks_once(axis, None) and axis._tickLevels is None



def test_a_new_title_of_as_many_lines_does_not_lay_the_plot_out_again(qtbot):
    """A wrapped title with live numbers (the eigenvalue plot's spectral radii) changes on every frame; the plot's
    view box keeps its size through the changes, and the title row holds the wrapped lines."""
    from rnnviz.gui.panels import plotting

    plot = plot_item(qtbot)
    plotting.style_plot(plot)
    plot.getViewBox().parentWidget().resize(200, 300)
    words = "W<sub>i</sub> ρ = {:.3f} &nbsp; W<sub>f</sub> ρ = {:.3f} &nbsp; W<sub>g</sub> ρ = {:.3f}"
    plotting.set_title(plot, "Eigenvalues<br>" + words.format(1, 2, 3))
    qtbot.wait(100)
    vb = plot.getViewBox()
    sizes = set()
    resized = []
    vb.sigResized.connect(lambda *_: resized.append(1))
    for k in range(6):
        plotting.set_title(plot, "Eigenvalues<br>" + words.format(1 + k / 7, 2 - k / 9, 3 + k / 11))
        qtbot.wait(20)
        sizes.add((round(vb.width()), round(vb.height())))
        label = plot.titleLabel
        assert plot.layout.rowMinimumHeight(0) >= label.itemRect().height()       # the wrapped lines fit
    assert resized == [] and len(sizes) == 1, (resized, sizes)


# ------------------------------------------------------------------------------------------------ panels
def real_snapshots(n_frames: int = 12, steps_per_frame: int = 15, **config):
    trainer = Trainer(small_config(hidden=16, **config))
    out = []
    for _ in range(n_frames):
        for _ in range(steps_per_frame):
            trainer.step()
        out.append(build_snapshot(trainer))
    return out


def holds(plot, index: int, *arrays) -> bool:
    lo, hi = view_bounds(arrays, bool(plot.vb.state["logMode"][index]))
    vlo, vhi = view(plot, index)
    return vlo <= lo + 1e-9 and hi - 1e-9 <= vhi


@pytest.mark.parametrize("log", [False, True])
def test_loss_panel_keeps_every_point_in_view_over_real_training(qtbot, log):
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    panel.set_log_y(log)
    for snap in real_snapshots():
        panel.render(snap)
        QtWidgets.QApplication.processEvents()
        assert holds(panel.loss_plot, 0, snap.train_steps, snap.val_steps)
        assert holds(panel.loss_plot, 1, snap.train_loss, snap.val_loss)
        assert holds(panel.metric_plot, 0, snap.val_steps)          # the linked step axis
    assert panel.metric_plot.vb.viewRange()[1] == pytest.approx([-0.1, 1.1])   # accuracy keeps its fixed axis


def test_gradient_panel_keeps_every_point_in_view_over_real_training(qtbot):
    panel = GradientFlowPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 700)
    panel.show()
    for snap in real_snapshots(clip=5.0):
        panel.render(snap)
        QtWidgets.QApplication.processEvents()
        assert holds(panel.norm_plot, 1, snap.grad_norms, snap.grad_norms_last, [snap.clip])
        params = list(snap.param_grad_norms.values())
        assert holds(panel.param_plot, 0, snap.param_grad_steps)
        assert holds(panel.param_plot, 1, *params, [snap.clip])
        labels = [s for _, s in panel.flow_plot.getAxis("left")._tickLevels[0]]
        assert labels[-1] == str(int(snap.grad_flow_steps[-1]))     # the newest heatmap row is labelled


def test_bptt_panel_titles_and_bars_follow_the_animation(qtbot):
    panel = BPTTPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    snap = real_snapshots(n_frames=2)[-1]
    panel.render(snap)
    T = panel.T
    assert T > 2
    for k in (0, 1, T - 1, T, 2 * T - 1, 0):          # forward, backward, and back to the start
        panel.set_position(k)
        phase, t = panel.current()
        title = panel.vec_plot.titleLabel.text
        assert f"t = {t + 1}" in title and (("\u2202L" in title) == (phase == "backward"))
        shown = panel.vector_bars.opts["height"]
        assert holds(panel.vec_plot, 1, shown, [0.0])


# ------------------------------------------------------------------------------------------------ the window
def test_a_live_frame_draws_every_visible_panel_one_per_turn(qtbot, no_leaks):
    win = open_window(qtbot)
    qtbot.waitUntil(lambda: win._spread is None, timeout=5000)     # the window's own first frame is done
    snaps = real_snapshots(n_frames=3)
    calls: list[tuple[str, int]] = []
    for key, panel in win.panels.items():
        original = panel.render
        panel.render = lambda snap, key=key, original=original: (calls.append((key, snap.step)), original(snap))
    visible = [k for k, p in win.panels.items() if p.isVisible()]
    drawn = []
    win.frameDrawn.connect(lambda snap: drawn.append(snap.step))
    try:
        win.show_live_frame(snaps[0])
        assert calls == [(visible[0], snaps[0].step)]          # one panel in this turn, the rest follow
        win.show_live_frame(snaps[1])                           # arrive while the first is being drawn: wait
        win.show_live_frame(snaps[2])                           # ...and only the newest of them is kept
        qtbot.waitUntil(lambda: len(drawn) == 2, timeout=5000)
        assert drawn == [snaps[0].step, snaps[2].step]
        assert calls == [(k, snaps[0].step) for k in visible] + [(k, snaps[2].step) for k in visible]
        assert f"Step {snaps[2].step}" == win.status_labels["step"].text()
    finally:
        win.close()


def test_a_new_model_cancels_the_frame_being_drawn(qtbot, no_leaks):
    win = open_window(qtbot)
    qtbot.waitUntil(lambda: win._spread is None, timeout=5000)
    snaps = real_snapshots(n_frames=2)
    steps = []
    win.frameDrawn.connect(lambda snap: steps.append(snap.step))
    try:
        win.show_live_frame(snaps[0])
        win.show_live_frame(snaps[1])
        win._spread = win._spread_next = None           # what a model reset does (see _on_model_reset)
        QtWidgets.QApplication.processEvents()
        qtbot.wait(100)
        assert steps == []                               # neither old frame finishes drawing
        win.show_live_frame(snaps[1])
        qtbot.waitUntil(lambda: steps == [snaps[1].step], timeout=5000)
    finally:
        win.close()


def test_a_snapshot_is_drawn_as_soon_as_it_arrives(qtbot, no_leaks):
    """No timer tick to wait for when the last frame is older than the redraw interval; a second snapshot right
    after waits for the next tick (the redraw rate still holds)."""
    from rnnviz.gui.training.controller import Controller

    ctl = Controller(small_config(), backend="thread")
    ctl.start()
    try:
        snap = wait_snapshot(qtbot, ctl)
        frames = []
        ctl.frameReady.connect(lambda s: frames.append(s))
        ctl.timer.setInterval(200)
        ctl._last_frame = 0.0
        ctl._on_snapshot(snap)
        assert frames == [snap]                           # drawn within the same call, no tick needed
        ctl._on_snapshot(snap)
        assert frames == [snap]                           # 200 ms have not passed: the timer's tick draws it
        qtbot.waitUntil(lambda: len(frames) == 2, timeout=2000)
    finally:
        assert ctl.shutdown(timeout=2.0)


def test_a_double_click_or_a_reset_follows_the_data_again_after_a_zoom(qtbot):
    from PySide6 import QtCore

    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    qtbot.waitExposed(panel)
    snaps = real_snapshots(n_frames=4)
    panel.render(snaps[0])
    panel.loss_plot.vb.setYRange(0.30, 0.31, padding=0)           # what a mouse-wheel zoom does
    panel.render(snaps[1])
    assert view(panel.loss_plot, 1) == pytest.approx((0.30, 0.31))  # the zoom is kept while training
    centre = panel.loss_plot.vb.mapViewToScene(QtCore.QPointF(10.0, 0.305))
    at_plot = panel.view.mapFromScene(centre)
    left = QtCore.Qt.MouseButton.LeftButton
    qtbot.mousePress(panel.view.viewport(), left, pos=at_plot)     # a real double-click: press, release,
    qtbot.mouseRelease(panel.view.viewport(), left, pos=at_plot)   # the double-click press, release
    qtbot.mouseDClick(panel.view.viewport(), left, pos=at_plot)
    qtbot.mouseRelease(panel.view.viewport(), left, pos=at_plot)
    panel.render(snaps[2])
    assert holds(panel.loss_plot, 1, snaps[2].train_loss)           # following again
    panel.loss_plot.vb.setYRange(0.30, 0.31, padding=0)
    panel.reset()                                                    # R: a new run
    panel.render(snaps[3])
    assert holds(panel.loss_plot, 1, snaps[3].train_loss)


def test_one_point_gives_a_readable_axis_not_a_sliver(qtbot):
    """After the first step there is one loss value: the axes are 10 steps wide and 5 % of the value high, with
    the point inside (they were 0.0001 wide, and the ticks read 0.68930 / 0.68935 over the axis title)."""
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    snap = real_snapshots(n_frames=1, steps_per_frame=1)[0]
    assert len(snap.train_steps) == 1
    panel.render(snap)
    xl, xh = view(panel.loss_plot, 0)
    yl, yh = view(panel.loss_plot, 1)
    assert xh - xl >= 10 and xl <= snap.train_steps[0] <= xh
    loss = float(snap.train_loss[0])
    assert yh - yl >= 0.05 * loss and yl <= loss <= yh


def test_bars_that_vanish_on_the_way_back_stay_readable(qtbot):
    """dL/ds_t at the first steps can be 1e-13 while it was 1e-2 at the last: every frame of the backward pass
    scales the bars to their own size (a fixed floor on the span drew them as empty)."""
    plot = plot_item(qtbot)
    follow = FollowRange(plot, "y", min_span=1e-300)
    for exponent in range(-2, -14, -1):
        heights = np.array([0.0, 10.0 ** exponent, -0.5 * 10.0 ** exponent])
        follow.follow(heights, [0.0])
        lo, hi = view(plot, 1)
        assert lo <= heights.min() and heights.max() <= hi
        assert hi - lo < 10 * 1.5 * 10.0 ** exponent, (exponent, lo, hi)     # the bars fill a good part of it
