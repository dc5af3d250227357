"""Small projectors: the window fits 1024x768 and nothing on it is cut; the lesson's panel is the big one with
readable plots; the replay slider keeps its length; the A/B race has presentation mode and fits too; empty plots
forget old ranges; the sweep's small multiples are not flattened by one spike.

Measured on real windows after real (short) training, at 1024x768, 1280x800 and 1920x1080, normal and
presentation mode (``screen_measures``: font metrics and the tick labels pyqtgraph really draws)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset
from rnnviz.gui.windows.render import train_headless

import screen_measures as sm
from snapshot_factory import make_snapshot

SIZES = ((1024, 768), (1280, 800), (1920, 1080))
HERO_SHARE = 0.40                   # the lesson's panel: at least this share of the panel grid's area
HERO_PLOT_PX = {1024: 110, 1280: 130, 1920: 170}   # its main plot's data area is at least this tall (at 1920 the
                                                   # gradient panel also shows its heatmap and ||dL/dtheta|| plot)
LESSONS = ("negation", "names", "pos", "delayed-recall", "exploding", "chars")


def _settle(ms: int = 60) -> None:
    app = QApplication.instance()
    for _ in range(4):
        app.processEvents()


def _window(qtbot, name: str, steps: int = 40):
    from rnnviz.gui.main_window import MainWindow

    preset = load_preset(name)
    config = preset.config.replace(n_examples=min(preset.config.n_examples, 400))
    trainer = train_headless(config, steps)
    win = MainWindow(trainer.config, dataset=trainer.dataset, preset=preset, start=False)
    qtbot.addWidget(win)
    win.presentation.fullscreen = False
    win.show()
    qtbot.waitExposed(win)
    win.controller.latest = snap = build_snapshot(trainer)
    return win, snap


def _draw(win, snap, size, presentation: bool) -> None:
    win.resize(*size)
    _settle()
    if presentation != win.presentation.on:
        win.presentation.toggle()
    for _ in range(2):                         # twice: the second time every plot has its final size
        win.show_snapshot(snap, everything=True)
        win.presentation.refresh()
        win.status_labels["state"].setText("Paused")
        _settle()


def _hero_plot(win):
    """The lesson's panel's main plot (its largest data area)."""
    hero = win.panels[win.order[0]]
    plots = [p for p in sm.plots_of(hero) if p.vb.width() > 40]
    return max(plots, key=lambda p: p.vb.width() * p.vb.height()) if plots else None


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_every_lesson_fits_and_reads_at_each_size(qtbot, name):
    """At every size and mode: the window's minimum size fits 1024x768; the lesson's panel has >= 40 % of the
    panel area and a tall main plot; no status text, plot title or axis title is cut; every numeric axis of the
    lesson's panel shows at least three tick labels, the other panels' axes at least two; no text is drawn over a
    curve of the lesson's panel; negation's token axis shows "not"."""
    win, snap = _window(qtbot, name)
    hint = win.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768, (hint.width(), hint.height())
    problems = []
    for size in SIZES:
        for presentation in (False, True):
            _draw(win, snap, size, presentation)
            where = f"{name} {size[0]}x{size[1]}{' presentation' if presentation else ''}"
            shares = win.hero.area_shares()
            if shares[0] < HERO_SHARE - 0.005:
                problems.append(f"{where}: the lesson's panel has {shares[0]:.0%} of the area")
            plot = _hero_plot(win)          # None: a lesson's panel without plots (the predictions' table)
            if plot is not None and plot.vb.height() < HERO_PLOT_PX[size[0]]:
                problems.append(f"{where}: its main plot is {plot.vb.height():.0f} px tall")
            if not presentation:
                problems += [f"{where}: status {t!r} cut" for t in sm.status_clipped(win)]
            for key, panel in win.panels.items():
                if not panel.isVisible():
                    continue
                hero = key == win.order[0]
                for m in sm.measure_plots(panel, key):
                    if m.title_clipped:
                        problems.append(f"{where}: {key} title {m.title!r} cut")
                    if m.axis_titles_clipped:
                        problems.append(f"{where}: {key} axis title cut: {m.axis_titles_clipped}")
                    least = 3 if hero else 2
                    few = {a: n for a, (n, want) in sm.few_ticks(m).items() if n < min(least, want)}
                    if few and m.height > 0:
                        problems.append(f"{where}: {key} {m.title!r} tick labels {few}")
                    if hero and m.texts_over_curves:
                        problems.append(f"{where}: {key} text over a curve: {m.texts_over_curves}")
            if name == "negation":
                ticks = [t for _r, t in sm.drawn_ticks(win.panels["hidden"].plot.getAxis("bottom"))]
                if "not" in snap.probe.tokens and "not" not in ticks:
                    problems.append(f"{where}: 'not' missing from the token axis {ticks}")
    if win.presentation.on:
        win.presentation.leave()
    assert not problems, "\n".join(problems)


def test_status_fields_give_way_instead_of_overlapping(qtbot):
    """A long text is elided inside its field (whole in the tooltip), never drawn over the next field."""
    win, snap = _window(qtbot, "negation", steps=5)
    _draw(win, snap, (1024, 768), False)
    labels = list(win.status_labels.values())
    labels[-1].setText("Val loss 135.231 per sequence, perplexity 7.00 per token, and some more words")
    _settle()
    right = [lab.geometry() for lab in labels]
    for a, b in zip(right, right[1:]):
        assert a.right() < b.left()                              # fields side by side, never on top of each other
    shown = labels[-1].shown_text()
    assert labels[-1].clipped() and shown.endswith("\u2026")
    # whole words only: a number is never cut into a different-looking one ("0.01…" for 0.0123)
    kept = shown[:-1].split(" ")
    words = labels[-1].text().split(" ")[:len(kept)]
    assert kept[:-1] == words[:-1] and kept[-1] == words[-1].rstrip(",;:")
    assert "and some more words" in labels[-1].toolTip()


def test_replay_slider_keeps_its_length_when_replay_starts(qtbot):
    """Entering replay used to put a long red title beside the slider: the slider shrank under the cursor and a
    drag jumped. Now nothing beside it changes size."""
    win, _snap = _window(qtbot, "negation", steps=5)
    _draw(win, _snap, (1024, 768), False)
    ctl, bar = win.controller, win.replay_bar
    ctl.replay.min_gap = 0.0
    for step in range(1, 8):
        ctl.replay.add(make_snapshot(step=step * 10, seed=step))
    bar._sync()
    _settle()
    width = bar.slider.width()
    assert bar.slider.isEnabled() and width > 100
    for i in (2, 0, 5, 3):
        bar.slider.setValue(i)
        _settle()
        assert bar.replaying is ctl.replay[i]
        assert bar.slider.width() == width and "Replaying step" in bar.label.text()
    bar.go_live()
    _settle()
    assert bar.slider.width() == width


def test_empty_plots_forget_the_old_ranges_on_a_new_model(qtbot):
    from rnnviz.gui.panels.gradients import GradientFlowPanel
    from rnnviz.gui.panels.loss import LossPanel

    loss, grads = LossPanel(), GradientFlowPanel()
    for panel in (loss, grads):
        qtbot.addWidget(panel)
        panel.resize(700, 600)
        panel.show()
    old = make_snapshot(step=2000)
    for panel in (loss, grads):
        panel.render(old)
    _settle()
    assert grads.param_plot.vb.viewRange()[0][1] > 1000
    for panel in (loss, grads):
        panel.reset()
    _settle()
    assert loss.loss_plot.vb.viewRange()[0][1] < 200                         # no longer the 2000 steps
    assert loss.loss_plot.vb.viewRange()[1] == pytest.approx([0.0, 1.0])     # 0 .. 1 on its linear axis
    assert grads.param_plot.vb.viewRange()[0] == pytest.approx([0.0, 10.0])
    loss.set_log_y(True)
    loss.render(old)
    loss.reset()
    _settle()
    assert loss.loss_plot.vb.viewRange()[1] == pytest.approx([-2.0, 0.0])    # 0.01 .. 1 on a log axis
    loss.set_log_y(False)
    new = make_snapshot(step=30, seed=4)
    for panel in (loss, grads):
        panel.render(new)
    _settle()
    lo, hi = grads.param_plot.vb.viewRange()[0]
    assert lo <= float(new.param_grad_steps[0]) and float(new.param_grad_steps[-1]) <= hi < 100


def test_sweep_small_multiples_are_not_flattened_by_one_spike():
    from rnnviz.gui.windows.sweep_window import MINI_QUANTILE, MINIS_CAPTION, shared_range

    rng = np.random.default_rng(0)
    calm = list(0.3 + 0.5 * rng.random(400))
    lo, hi = shared_range(calm + [12.0])
    assert lo == pytest.approx(min(calm)) and hi < 1.0                       # the spike runs off the top
    assert hi == pytest.approx(float(np.quantile(calm + [12.0], MINI_QUANTILE)))
    assert shared_range([]) == (0.0, 1.0) and shared_range([2.0, math.nan]) == (2.0, 2.2)
    assert "98th percentile" in MINIS_CAPTION and "spike" in MINIS_CAPTION


def test_the_race_window_has_presentation_mode_and_fits_1024x768(qtbot):
    from PySide6.QtGui import QKeySequence

    from rnnviz.core.explore import race
    from rnnviz.gui import style
    from rnnviz.gui.windows.race import RaceWindow

    a = load_preset("delayed-recall").config.replace(delay=10, n_examples=200)
    b = race.b_config(a, ["cell=lstm"])
    ta, tb, _ = race.make_pair(a, b)
    for t in (ta, tb):
        for _ in range(12):
            t.step()
    win = RaceWindow(ta.config, tb.config, dataset=ta.dataset, dataset_b=tb.dataset, start=False)
    qtbot.addWidget(win)
    win.presentation.fullscreen = False
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    hint = win.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768, (hint.width(), hint.height())
    for side, t in (("A", ta), ("B", tb)):
        win.show_snapshot(side, build_snapshot(t))
    _settle()
    keys = {s.toString() for s in win.presentation.action.shortcuts()}
    assert keys == {QKeySequence("F11").toString(), QKeySequence("Ctrl+P").toString()}
    grads = win.panels[("gradients", "A")]
    before_pt = grads.norm_plot.getAxis("left").style["tickFont"].pointSizeF()
    before_pen = grads.norm_curve.opts["pen"].widthF()
    win.presentation.action.trigger()
    _settle()
    assert win.presentation.on and style.FONT_PT > style.BASE_POINT_SIZE
    assert grads.norm_plot.getAxis("left").style["tickFont"].pointSizeF() > before_pt
    assert grads.norm_curve.opts["pen"].widthF() > before_pen
    for side in ("A", "B"):                         # the gradient flow, the race's point, keeps a readable plot
        assert win.panels[("gradients", side)].norm_plot.vb.height() >= 60
        for m in sm.measure_plots(win.panels[("gradients", side)]):
            assert not m.title_clipped, m.title
    assert not [m.title for m in sm.measure_plots(win.view) if m.title_clipped]
    win.presentation.action.trigger()
    _settle()
    assert not win.presentation.on and style.FONT_PT == style.BASE_POINT_SIZE
    assert grads.norm_plot.getAxis("left").style["tickFont"].pointSizeF() == pytest.approx(before_pt)


def _overlapping(rects: list) -> list[tuple[int, int]]:
    """Index pairs of rectangles (QRect / QRectF) that overlap by more than a pixel each way."""
    pairs = []
    for i, a in enumerate(rects):
        for j in range(i + 1, len(rects)):
            both = a.intersected(rects[j])
            if both.width() > 1 and both.height() > 1:
                pairs.append((i, j))
    return pairs


@pytest.mark.slow
def test_a_tag_file_opened_after_a_lesson_reads_at_1024x768(qtbot, real_data):
    """The lecturer's path: a lesson, then File ▸ Open data file with a 7-tag NER file, on a 1024x768 projector.
    The Data panel in the narrow side place stacks its parts (nothing overlaps, no text runs past its right
    edge); the confusion matrix keeps rows a line of text high, with row names and counts that do not overlap."""
    from rnnviz.core.data.suggest import suggest
    from qt_helpers import open_window, wait_snapshot

    path = str(real_data / "uner_ewt/en_ewt-ud-dev.subset.ner.tsv")
    win = open_window(qtbot, size=(1024, 768))
    win.presentation.fullscreen = False
    win.confirm = lambda q: True
    win.lessons.open("pos")
    wait_snapshot(qtbot, win.controller, lambda s: s.config["dataset"] == "pos")
    win.ask_open_file = lambda: path
    win.ask_task = lambda p: suggest(p).task
    win.lessons.actions["your-own-data"].trigger()
    assert win.controller.config.task == "labelling"
    wait_snapshot(qtbot, win.controller, lambda s: s.config["dataset"] == path, timeout=30)
    win.controller.step_epoch()
    snap = wait_snapshot(qtbot, win.controller, lambda s: s.config["dataset"] == path and len(s.val_steps) > 0,
                         timeout=60)
    assert len(snap.classes) == 7
    win.resize(1024, 768)
    for _ in range(2):
        win.show_snapshot(snap, everything=True)
        _settle()

    data = win.panels["data"]
    assert data.isVisible() and data.width() < 400        # the narrow side place of this layout
    assert data.narrow and data.splitter.orientation().name == "Vertical"
    content = data._content
    parts = [data.heading, data.explain, data.batch_title, data.next_button, data.token_table]
    rects = [w.geometry().translated(w.parentWidget().mapTo(content, w.parentWidget().rect().topLeft()))
             if w.parentWidget() is not content else w.geometry() for w in parts]
    assert not _overlapping(rects), [(parts[i].objectName() or type(parts[i]).__name__, rects[i]) for i in
                                     sum(_overlapping(rects), ())]
    viewport = content.parentWidget().width()
    assert all(r.right() <= viewport for r in rects), ([r.right() for r in rects], viewport)

    confusion = win.panels["confusion"]
    assert confusion.isVisible()
    left = confusion.plot.getAxis("left")
    ticks = sm.drawn_ticks(left)
    assert len(ticks) >= 3, ticks
    assert not _overlapping([r for r, _t in ticks]), [t for _r, t in ticks]
    vb = confusion.plot.vb
    cell_w, cell_h = vb.width() / 7, vb.height() / 7
    assert cell_h >= 14, cell_h                               # a row is at least a line of small text high
    for row in confusion.cell_text:                           # every count fits its cell
        for item in row:
            text = item.toPlainText()
            if text:
                width = QFontMetricsF(item.textItem.font()).horizontalAdvance(text)
                assert width <= cell_w, (text, width, cell_w)
    win.close()
