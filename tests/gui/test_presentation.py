"""Presentation mode at 1920x1080 after real training: larger fonts and ticks, thicker lines, no dock, stronger
colour maps, and the same key restoring everything; the light and dark themes."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QKeySequence

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.gui import style
from rnnviz.gui.features import presentation as pres
from rnnviz.gui.main_window import MainWindow
from rnnviz.gui.windows.render import train_headless

from helpers import small_config
from qt_helpers import no_leaks  # noqa: F401  (no_leaks is a fixture)


@pytest.fixture(scope="module")
def shared_window(qapp):
    """One window for the tests below (no training thread: it draws a Snapshot of 40 real training steps)."""
    trainer = train_headless(small_config(), 40)
    win = MainWindow(trainer.config, dataset=trainer.dataset, backend="thread", start=False)
    win.resize(1920, 1080)
    win.show()
    snap = build_snapshot(trainer)
    win.controller.latest = snap
    win.show_snapshot(snap, everything=True)
    win.presentation.fullscreen = False       # offscreen: keep 1920x1080
    yield win
    win.close()
    win.deleteLater()
    qapp.processEvents()


@pytest.fixture
def window(shared_window, no_leaks):
    yield shared_window
    shared_window.presentation.leave()
    shared_window.presentation.set_theme("light")


def _looks(win) -> dict:
    """What presentation mode changes, read from the items themselves."""
    loss = win.panels["loss"]
    axis = loss.loss_plot.getAxis("bottom")
    hidden = win.panels["hidden"]
    return {
        "tick_pt": axis.style["tickFont"].pointSizeF(),
        "tick_len": axis.style["tickLength"],
        "label_pt": float(loss.metric_plot.getAxis("bottom").labelStyle["font-size"][:-2]),
        "smooth_width": loss.smooth_curve.opts["pen"].widthF(),
        "raw_width": pg_width(loss.raw_curve),
        "readout_pt": loss.readout.font().pointSizeF(),
        "dock": not win.dock.isHidden(),
        "bars": (not win.menuBar().isHidden(), not win.statusBar().isHidden()),
        "readout": not loss.readout.isHidden(),
        "font_pt": style.FONT_PT,
        "status_width": win.status_labels["epoch"].sizeHint().width(),
        "hidden_mid": hidden.cmap.map(0.55, mode="qcolor").name(),
        "lesson_style": "lessonText",
    }


def pg_width(item) -> float:
    import pyqtgraph as pg

    return pg.mkPen(item.opts["pen"]).widthF()


def test_presentation_mode_at_1920x1080_and_back(qtbot, window, tmp_path):
    win = window
    act = win.actions_by_name["presentation"]
    keys = {s.toString() for s in act.shortcuts()}
    assert keys == {QKeySequence("F11").toString(), QKeySequence("Ctrl+P").toString()}
    before = _looks(win)
    act.trigger()
    qtbot.wait(50)
    on = _looks(win)
    k = pres.FONT_SCALE
    assert on["tick_pt"] == pytest.approx(before["tick_pt"] * k)
    assert on["tick_pt"] >= 14 and on["label_pt"] >= 14 and on["readout_pt"] >= 14
    assert abs(on["tick_len"]) > abs(before["tick_len"])
    assert on["smooth_width"] == pytest.approx(before["smooth_width"] * pres.LINE_SCALE)
    assert on["raw_width"] >= 2
    assert not on["dock"] and before["dock"]
    assert on["bars"] == (False, False) and before["bars"] == (True, True)
    assert on["status_width"] > before["status_width"]
    # the diverging map: a state of +0.1 is a clear colour, not near-white
    assert QColor(on["hidden_mid"]).lightness() < QColor(before["hidden_mid"]).lightness() - 25
    # the new items of a redraw are large too, and titles get their height
    win.show_snapshot(win.controller.latest, everything=True)
    win.presentation.refresh()
    title = win.panels["loss"].loss_plot.titleLabel
    assert title.item.boundingRect().height() <= win.panels["loss"].loss_plot.layout.rowMinimumHeight(0) + 1
    path = tmp_path / "presentation.png"
    image = win.grab()
    assert image.save(str(path)) and (image.width(), image.height()) == (1920, 1080)
    assert not QImage(str(path)).isNull()

    act.trigger()                                      # the same key goes back
    qtbot.wait(50)
    after = _looks(win)
    assert after == before


def test_titles_and_ticks_fit_in_presentation_mode(qtbot, window):
    """No title clipped by pyqtgraph's fixed 30 px title row."""
    import pyqtgraph as pg

    win = window
    win.presentation.enter()
    for key, panel in win.panels.items():
        for view in panel.findChildren(pg.GraphicsView):
            for item in view.scene().items():
                if isinstance(item, pg.PlotItem) and item.titleLabel.isVisible() and item.titleLabel.text:
                    need = item.titleLabel.item.boundingRect().height()
                    assert item.layout.rowMinimumHeight(0) >= need, (key, item.titleLabel.text[:40])


def test_dark_and_light_theme_reach_every_panel_and_the_widgets(qtbot, window):
    from PySide6.QtWidgets import QApplication

    win = window
    win.presentation.theme_actions["dark"].trigger()
    assert win.presentation.theme == "dark"
    for key, panel in win.panels.items():
        assert panel.theme.name == "dark", key
        for view in panel._views:
            assert view.backgroundBrush().color().name() == style.DARK.background, key
    axis = win.panels["loss"].loss_plot.getAxis("left")
    assert axis.pen().color().name() == style.DARK.foreground
    assert "#0f1115" in win.styleSheet()
    assert QApplication.instance().palette().window().color().name() == "#0f1115"
    win.presentation.theme_actions["light"].trigger()
    for key, panel in win.panels.items():
        assert panel.theme.name == "light", key
    assert "#0f1115" not in win.styleSheet()
    assert QApplication.instance().palette().window().color().name() != "#0f1115"
    assert style.theme().name == "light"


def test_render_in_presentation_mode_dark_writes_1920x1080_and_restores(tmp_path):
    from rnnviz.gui.windows.render import render

    before = (style.FONT_PT, style.TITLE_PT, style.SMALL_PT)
    out = render(small_config(), 30, tmp_path / "p.png", size=(1920, 1080), presentation=True, theme="dark")
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1920, 1080)
    # dark: the top-left corner pixel of the central area is the dark window colour, not white
    pixels = np.array([QColor(image.pixel(x, 1060)).lightness() for x in range(100, 1800, 50)])
    assert np.median(pixels) < 80
    assert (style.FONT_PT, style.TITLE_PT, style.SMALL_PT) == before
    assert style.theme().name == "light"


def test_f11_and_ctrl_p_both_toggle(qtbot, window):
    from PySide6.QtCore import Qt

    win = window
    win.raise_()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    qtbot.keyClick(win, Qt.Key.Key_F11)
    assert win.presentation.on and win.dock.isHidden()
    qtbot.keyClick(win, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert not win.presentation.on and not win.dock.isHidden()
