"""Lessons in the window: the Lessons menu opens them, the delay slider, and "Your own data" runs the own-data flow.

What each lesson's text promises is tested headless, at the settings the text states and over three seeds, in
tests/core/test_lesson_claims.py.
"""
from __future__ import annotations

import pytest

from rnnviz.core.presets import list_presets, load_preset

from qt_helpers import no_leaks, open_window, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

REQUIRED = ("Vanishing gradients", "Exploding gradients and clipping", "Sentiment with negation", "Name tagging",
            "Part-of-speech tagging", "Generating characters", "Your own data")


def test_every_required_lesson_exists_with_text_and_panels():
    presets = list_presets()
    titles = [p.title for p in presets]
    for title in REQUIRED:
        assert title in titles
    from rnnviz.gui.panels.registry import PANELS

    for p in presets:
        sentences = [s for s in p.text.replace("?", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 6, (p.name, len(sentences))
        assert p.panels and set(p.panels) <= set(PANELS), p.name
    assert [p.order for p in presets] == sorted(p.order for p in presets)


# --- in the window -----------------------------------------------------------------------------------------
pytest.importorskip("pytestqt")


@pytest.fixture
def window(qtbot, no_leaks):
    win = open_window(qtbot)
    yield win
    win.close()


def test_lessons_menu_lists_every_preset_in_order(window):
    menu = window.menu("&Lessons")
    titles = [a.text().split("  ", 1)[1] for a in menu.actions() if a.text()]
    assert titles == [p.title for p in list_presets()]
    assert all(a.toolTip() for a in menu.actions())


def test_menu_opens_a_lesson_asking_first_when_trained(qtbot, window):
    ctl = window.controller
    ctl.step_batch(3)
    wait_snapshot(qtbot, ctl, lambda s: s.step >= 3)
    asked = []
    window.confirm = lambda q: asked.append(q) or False
    window.lessons.actions["exploding"].trigger()
    assert asked and "Exploding gradients" in asked[0]
    assert ctl.config.dataset == "negation"                         # said no: nothing changed

    window.confirm = lambda q: asked.append(q) or True
    window.lessons.actions["exploding"].trigger()
    preset = load_preset("exploding")
    assert ctl.config == preset.config
    snap = wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "delayed-recall")
    assert snap.step == 0 and snap.spectral_radius["s"] == pytest.approx(1.5, rel=1e-4)   # a new model
    assert window.lesson.text() == preset.text and window.lesson.isVisible()
    assert "Exploding" in window.windowTitle()
    assert window.order[:3] == list(preset.panels[:3])
    assert window.panels["gradients"].parentWidget().objectName() == "panelFrame"
    assert window.tabs.indexOf(window.panels["hidden"]) >= 0
    assert window.controls.widgets["clip"].value() == 0
    assert not window.lessons.sliders["delay"].isVisible()           # this lesson has no slider


def test_delay_slider_rebuilds_the_model_after_asking(qtbot, window):
    ctl = window.controller
    window.confirm = lambda q: True
    window.lessons.open("delayed-recall")
    slider = window.lessons.sliders["delay"]
    wait_snapshot(qtbot, ctl, lambda s: s.config["delay"] == 50)
    assert slider.isVisible() and slider.value() == 50
    assert window.lessons.slider_labels["delay"].text() == "Delay L = 50"
    ctl.step_batch(2)
    wait_snapshot(qtbot, ctl, lambda s: s.step >= 2 and s.config["delay"] == 50)
    asked = []
    window.confirm = lambda q: asked.append(q) or False
    slider.setValue(20)
    assert asked and ctl.config.delay == 50 and slider.value() == 50   # declined: the slider goes back
    window.confirm = lambda q: asked.append(q) or True
    slider.setValue(20)
    assert ctl.config.delay == 20 and window.controls.widgets["delay"].value() == 20
    snap = wait_snapshot(qtbot, ctl, lambda s: s.config["delay"] == 20)
    assert snap.grad_norms.shape[0] == 21                             # label token + 20 distractors


def test_your_own_data_opens_the_replaced_dialog(qtbot, window, tmp_path):
    data = tmp_path / "mine.tsv"
    data.write_text("".join(f"{'good' if i % 2 else 'bad'} film number {i}\t{'pos' if i % 2 else 'neg'}\n"
                            for i in range(60)), encoding="utf-8")
    calls = []
    window.ask_open_file = lambda: calls.append(1) or None            # cancelled: nothing changes
    title, text = window.windowTitle(), window.lesson.text()
    window.lessons.actions["your-own-data"].trigger()
    assert calls and window.controller.config.dataset == "negation"
    assert (window.windowTitle(), window.lesson.text()) == (title, text)   # still the lesson that is loaded
    window.ask_open_file = lambda: str(data)
    window.ask_task = lambda path: "classification"
    window.confirm = lambda q: True
    window.lessons.actions["your-own-data"].trigger()
    assert window.controller.config.dataset == str(data)
    snap = wait_snapshot(qtbot, window.controller, lambda s: set(s.classes) == {"neg", "pos"})
    assert snap.task == "classification"
    assert "mine.tsv" in window.lesson.text() and "mine.tsv" in window.windowTitle()


def test_your_own_data_preset_opens_the_dialog_when_the_window_shows(qtbot, no_leaks):
    """What ``rnnviz --preset your-own-data`` does: app.run calls lessons.on_shown() after show()."""
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(preset=load_preset("your-own-data"), backend="thread")
    qtbot.addWidget(win)
    calls = []
    win.ask_open_file = lambda: calls.append(1) or None
    win.show()
    win.lessons.on_shown()
    assert calls == [1]
    assert "Settings dock stays loaded" in win.lesson.text()       # true whatever is loaded until then
    win.close()


def test_file_dialog_filters_explain_each_format():
    from rnnviz.gui.features.own_data import FILE_FILTERS

    text = " ".join(FILE_FILTERS)
    for fmt in ("text<TAB>label", "CoNLL-U", "token<TAB>tag", "plain text", "*.tsv", "*.conllu", "*.txt",
                "classification", "labelling", "generation"):
        assert fmt in text


def test_exploding_lesson_in_the_window_clip_then_r_learns(qtbot, window):
    """The lesson's last sentence, done the way a student does it: Clip gradients 1 in the dock, then R."""
    from PySide6.QtCore import Qt

    ctl = window.controller
    window.confirm = lambda q: True
    window.lessons.open("exploding")
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "delayed-recall")
    ctl.step_epoch()                                          # first without clipping: stuck
    stuck = wait_snapshot(qtbot, ctl, lambda s: s.epoch >= 1 and len(s.val_accuracy) > 0, timeout=30)
    assert stuck.val_accuracy[-1] <= 0.3
    window.controls.widgets["clip"].setValue(1.0)            # a live change: no new model yet
    assert ctl.config.clip == 1.0
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_R)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 0, timeout=10)   # the same initial weights again
    ctl.step_epoch()
    snap = wait_snapshot(qtbot, ctl, lambda s: s.epoch >= 1 and len(s.val_accuracy) > 0, timeout=30)
    assert snap.clip == 1.0 and snap.val_accuracy[-1] >= 0.99


@pytest.mark.parametrize("lesson", ["names", "delayed-recall", "chars", "negation"])
def test_after_a_lesson_switch_only_the_current_tab_is_shown(qtbot, window, lesson):
    """Switching lessons moves panels between the fixed places and the tabs: every tab page but the current one
    must stay hidden (showing them all drew the Data and Confusion pages over the current tab)."""
    window.confirm = lambda q: True
    window.lessons.open("names" if lesson == "negation" else lesson)
    if lesson == "negation":
        window.lessons.open("negation")
    qtbot.wait(50)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        pages = [window.tabs.widget(i) for i in range(window.tabs.count())]
        assert [p.isVisible() for p in pages] == [i == index for i in range(len(pages))], lesson
    for key in window.order[:3]:
        assert window.panels[key].isVisible()


def test_the_exploding_lesson_shows_the_plot_its_text_names(qtbot, no_leaks):
    """Its text says "||dL/dθ|| jumps up to about 10": at the default 1600 x 1000 that plot must be on screen
    (the gradient panel's compact mode, which drops it, is for 1280 x 800)."""
    from rnnviz.gui.main_window import MainWindow

    preset = load_preset("exploding")
    assert "||dL/d\u03b8||" in preset.text
    win = MainWindow(preset=preset, backend="thread")
    qtbot.addWidget(win)
    try:
        win.resize(1600, 1000)
        win.show()
        qtbot.waitExposed(win)
        qtbot.wait(50)
        grad = win.panels["gradients"]
        assert grad.isVisible() and not grad.compact, grad.height()
        win.resize(1280, 800)
        qtbot.wait(50)
        assert grad.compact                                   # a short screen: the two per-timestep plots keep room
    finally:
        win.close()
