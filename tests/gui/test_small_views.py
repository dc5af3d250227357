"""Small projectors (1024x768), normal and presentation mode: the views a lecturer brings up by key, menu or tab
(slow-motion BPTT with Ctrl+B, the State space and Who-reaches-whom tabs) take the big place and keep readable
plots; the lesson bar's whole text can be read. Measured on real windows after real (short) training."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.state_space import StateSpaceView
from rnnviz.core.presets import load_preset
from rnnviz.gui.windows.render import train_headless

MIN_PLOT_PX = 45            # the least height (px) of a plot's data area a room can read


def _settle() -> None:
    # bounded: at 0 px plot heights (before the views got their room) the titles' layout never settled, and an
    # unbounded processEvents never returned
    for _ in range(6):
        QApplication.instance().processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def _window(qtbot, name: str, steps: int = 30):
    from rnnviz.gui.main_window import MainWindow

    preset = load_preset(name)
    trainer = train_headless(preset.config.replace(n_examples=min(preset.config.n_examples, 300)), steps)
    win = MainWindow(trainer.config, dataset=trainer.dataset, preset=preset, start=False)
    qtbot.addWidget(win)
    win.presentation.fullscreen = False
    win.show()
    qtbot.waitExposed(win)
    win.resize(1024, 768)
    snap = build_snapshot(trainer, bptt=True, reach=True, state_space=StateSpaceView())
    win.controller.latest = snap
    _settle()
    return win, snap


def _draw(win, snap) -> None:
    for _ in range(2):                      # twice: the second time every plot has its final size
        win.show_snapshot(snap, everything=True)
        win.presentation.refresh()
        _settle()


@pytest.mark.parametrize("presentation", [False, True])
def test_ctrl_b_and_the_view_tabs_are_readable_at_1024x768(qtbot, presentation):
    """Ctrl+B (Explore ▸ Slow-motion BPTT) shows both heatmaps and the norm curve at a readable height; clicking
    the State space or Who-reaches-whom tab gives that view the big place with a readable plot; a tab that needs no
    room (the confusion matrix) gives the lesson's panel its place back."""
    win, snap = _window(qtbot, "delayed-recall")
    if presentation:
        win.presentation.toggle()
        _settle()
    win.explore_tools.actions["Slow-motion BPTT"].trigger()
    bptt = win.panels["bptt"]
    bptt.play(False)
    bptt.set_position(bptt.T + 10)                   # in the backward pass: both heatmaps filled
    _draw(win, snap)
    assert win.hero.place == 3
    heights = {name: getattr(bptt, name).vb.height() for name in ("state_plot", "grad_plot", "norm_plot")}
    assert min(heights.values()) >= MIN_PLOT_PX, heights
    assert bptt.grad_image.isVisible() and bptt.state_image.isVisible()
    win.explore_tools.actions["Slow-motion BPTT"].trigger()        # again: the lesson's panel is big again
    bptt.play(False)
    assert win.hero.place == 0

    for key, plot in (("statespace", "plot"), ("reach", "plot")):
        win.tabs.setCurrentIndex(win._tab_index(key))                # what a click on its tab does
        _draw(win, snap)
        assert win.hero.place == 3, key
        height = getattr(win.panels[key], plot).vb.height()
        assert height >= 2 * MIN_PLOT_PX, (key, height)
    win.tabs.setCurrentIndex(win._tab_index("confusion"))
    _settle()
    assert win.hero.place == 0                        # the place that was big before the view took it
    if win.presentation.on:
        win.presentation.leave()


def test_the_gates_tab_of_an_lstm_takes_the_big_place_at_1024x768(qtbot):
    """Four gate heatmaps (i, f, o, c) and the saturation plot do not fit the tabs place of a small window: its tab
    gives the Gates view the big place, every gate heatmap at a readable height."""
    from rnnviz.gui.main_window import MainWindow

    preset = load_preset("negation")
    trainer = train_headless(preset.config.replace(n_examples=300, cell="lstm"), 20)
    win = MainWindow(trainer.config, dataset=trainer.dataset, preset=preset, start=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.resize(1024, 768)
    snap = build_snapshot(trainer)
    win.controller.latest = snap
    _settle()
    win.tabs.setCurrentIndex(win._tab_index("gates"))
    _draw(win, snap)
    assert win.hero.place == 3
    gates = win.panels["gates"]
    heights = {name: plot.vb.height() for name, plot in gates.plots.items()}
    assert len(heights) == 4 and min(heights.values()) >= MIN_PLOT_PX, heights


def test_a_dragged_layout_is_kept_when_a_view_tab_is_left(qtbot):
    """The user's own sizes win: after a dragged handle, leaving the view's tab does not move the places."""
    win, snap = _window(qtbot, "negation", steps=5)
    win.tabs.setCurrentIndex(win._tab_index("statespace"))
    _settle()
    assert win.hero.place == 3
    win.hero._on_dragged()
    sizes = win.grid.sizes()
    win.tabs.setCurrentIndex(win._tab_index("confusion"))
    _settle()
    assert win.hero.place == 3 and win.grid.sizes() == sizes


@pytest.mark.parametrize("presentation", [False, True])
def test_the_whole_lesson_text_is_one_click_or_key_away(qtbot, presentation):
    """Exploding at 1024x768: the bar shows a few lines and a visible "more" beside them; clicking it (or View ▸
    "Whole lesson text", Ctrl+Shift+L, which also works in presentation mode) shows the whole text
    without a scroll bar, with the action "Now set Clip gradients to 1 and press R"; "less" gives the room back."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    win, snap = _window(qtbot, "exploding", steps=5)
    if presentation:
        win.presentation.toggle()
    _draw(win, snap)
    box, label = win.lessons.text_box, win.lesson
    assert "Now set Clip gradients to 1 and press R" in label.text()
    few = box.height()
    assert box.needs_more() and box.more_button.isVisible() and "more" in box.more_button.text()
    assert label.heightForWidth(box.viewport().width()) > box.viewport().height()    # the action is hidden
    QTest.mouseClick(box.more_button, Qt.MouseButton.LeftButton)
    _draw(win, snap)
    assert box.expanded and "less" in box.more_button.text() and win.lessons.whole_action.isChecked()
    assert not box.verticalScrollBar().isVisible()
    assert label.height() <= box.viewport().height() + 1                    # every line in view
    assert box.height() <= 0.45 * win.height() + 1
    QTest.mouseClick(box.more_button, Qt.MouseButton.LeftButton)
    _draw(win, snap)
    assert not box.expanded and box.height() == few
    win.setFocus()
    QTest.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    _draw(win, snap)
    assert box.expanded
    if win.presentation.on:
        win.presentation.leave()


@pytest.mark.parametrize("presentation", [False, True])
def test_the_unit_circle_stays_visible_when_eigenvalues_explode(qtbot, presentation):
    """Exploding at 1024x768 once W's eigenvalues reach far outside the unit circle (axes over ±3): the circle is
    drawn over the dots and labelled, and a zoom plot shows the same eigenvalues around it with the circle at a
    readable size; the zoom's dots are exactly the eigenvalues. Back to small eigenvalues (a new model): no zoom."""
    import dataclasses

    import numpy as np

    from rnnviz.gui.panels.weights import ZOOM_EXTENT

    win, snap = _window(qtbot, "exploding", steps=5)
    if presentation:
        win.presentation.toggle()
    _draw(win, snap)
    panel = win.panels["weights"]
    assert not panel.zoom_plot.isVisible()                          # rho 1.5: the circle is big enough
    dots = max(s.zValue() for s in panel.eig_scatter.values())
    assert panel.unit_circle.zValue() > dots and panel.circle_label.toPlainText() == "|\u03bb| = 1"
    far = {g: ev * 6.0 for g, ev in snap.eigenvalues.items()}           # rho 9: the explosion's spread
    big = dataclasses.replace(snap, eigenvalues=far,
                              spectral_radius={g: float(np.abs(ev).max()) for g, ev in far.items()})
    _draw(win, big)
    assert panel.zoom_plot.isVisible() and panel.eig_plot.isVisible()
    assert "|\u03bb| = 1" in panel.zoom_plot.titleLabel.text
    (x0, x1), (y0, y1) = panel.zoom_plot.vb.viewRange()
    assert min(x1 - x0, y1 - y0) == pytest.approx(2 * ZOOM_EXTENT, rel=0.05)
    radius_px = panel.zoom_plot.vb.height() / (y1 - y0)                 # the unit circle's radius on screen
    assert radius_px >= 20, radius_px
    for g, ev in far.items():
        x, y = panel.zoom_scatter[g].getData()
        assert np.array_equal(x, ev.real) and np.array_equal(y, ev.imag)
    assert panel.zoom_circle.zValue() > max(s.zValue() for s in panel.zoom_scatter.values())
    panel.reset()
    _draw(win, snap)
    assert not panel.zoom_plot.isVisible()
    if win.presentation.on:
        win.presentation.leave()


def _token_axis(qtbot, tokens, task, key_tokens=(), width=300):
    """The texts the hidden-state panel's token axis draws for a probe of ``tokens`` in a panel ``width`` wide."""
    import dataclasses

    import screen_measures as sm
    from snapshot_factory import make_snapshot

    from rnnviz.gui.panels.hidden import HiddenStatesPanel

    snap = make_snapshot(task=task, T=len(tokens), d=16, k=3 if task == "classification" else None)
    snap = dataclasses.replace(snap, probe=dataclasses.replace(snap.probe, tokens=tuple(tokens)))
    panel = HiddenStatesPanel()
    qtbot.addWidget(panel)
    panel.set_key_tokens(key_tokens)
    panel.resize(width, 300)
    panel.show()
    qtbot.waitExposed(panel)
    for _ in range(2):
        panel.render(snap)
        _settle()
    return [t for _r, t in sm.drawn_ticks(panel.plot.getAxis("bottom"))]


def test_the_token_axis_labels_where_the_answer_is_read_and_the_lessons_words(qtbot):
    """Negation's probe #0 on a narrow panel: "wonderful" (the true last token: the class is read there) and "not"
    (the lesson's word) are both labelled, though "not" sits right before it ("wonderful" shortened with "…" if
    need be: the hover shows it whole)."""
    words = "the film was weak and not wonderful".split()
    ticks = _token_axis(qtbot, words, "classification", key_tokens=("not",), width=420)
    assert len(ticks) < len(words)                                    # thinned: not everything fits
    assert "not" in ticks and any(t.rstrip("\u2026") and "wonderful".startswith(t.rstrip("\u2026")) for t in ticks[-1:]), ticks


def test_thinned_characters_carry_their_timestep(qtbot):
    """A character probe whose labels are thinned shows "t:c" (its timestep and character), so the letters of every
    k-th step do not read as another string; labels that all fit stay plain characters."""
    text = "ROMEO: Wherefore art thou"
    ticks = _token_axis(qtbot, list(text), "generation", width=260)
    assert 1 < len(ticks) < len(text)
    for tick in ticks:
        t, _, char = tick.partition(":") if not tick.startswith(":") else ("", "", "")
        assert t.isdigit(), ticks
        shown = text[int(t) - 1]
        assert char == ("\u2423" if shown == " " else shown), (tick, shown)
    wide = _token_axis(qtbot, list("ROMEO"), "generation", width=600)
    assert wide == list("ROMEO")
