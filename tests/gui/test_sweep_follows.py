"""The sweep window shows its base settings and follows the main window (a running sweep keeps its own and says
so); clicking a cell leaves the keyboard focus in the main window, where Space trains."""
from __future__ import annotations

import pytest

from rnnviz.core.presets import load_preset

from helpers import sweep_children
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (a fixture)

pytest.importorskip("pytestqt")


def test_base_text_names_the_key_settings_and_every_changed_one():
    from rnnviz.gui.windows.sweep_base import base_text, settings_text

    cfg = load_preset("delayed-recall").config
    text = settings_text(cfg)
    assert text.startswith("delayed-recall · classification · cell rnn · hidden 32 · optimizer adam · lr 0.01")
    assert "delay 50" in text and "clip 1" in text and "activation" not in text      # tanh is the default
    assert "they follow it" in base_text(cfg, True)
    assert "fixed: this sweep window has no main window" in base_text(cfg, False)
    other = cfg.replace(delay=20)
    both = base_text(other, True, running=cfg)
    assert "Running on</b>: " + text in both and "delay 20" in both.split("Next Run uses")[1]


def test_sweep_follows_the_main_window_and_a_click_hands_the_keys_back(qtbot, no_leaks):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QApplication

    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.windows.sweep_window import open_sweep

    main = MainWindow(load_preset("negation").config.replace(hidden=8, n_examples=120, epochs=1),
                      backend="thread")
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    ctl = main.controller
    wait_snapshot(qtbot, ctl)
    main.confirm = lambda q: True
    sweep = open_sweep(main)
    qtbot.addWidget(sweep)
    header = sweep.base_label
    assert "they follow it" in header.text() and "negation" in header.text() and "hidden 8" in header.text()

    main.lessons.open("names")                                  # another lesson in the main window
    assert sweep.base == ctl.config and "names" in header.text() and "negation" not in header.text()
    assert sweep.epochs.value() == ctl.config.epochs == 8        # the box followed (it was the old base's)

    main._apply({"n_examples": 100, "hidden": 4, "epochs": 1}, "x")   # small, for a quick sweep
    assert sweep.base == ctl.config and sweep.epochs.value() == 1
    sweep.set_grid("lr", "0.01, 0.1")
    assert sweep.start()
    assert all(c.config.dataset == "names" and c.config.hidden == 4 for c in sweep.cells)
    main._apply({"seed": 5}, "x")                               # changed while the sweep runs
    if not sweep.runner.finished:
        assert "Running on" in header.text() and "seed 5" in header.text().split("Next Run uses")[1]
    qtbot.waitUntil(lambda: sweep.runner.finished and not sweep.timer.isActive(), timeout=60000)
    assert "they follow it" in header.text() and "seed 5" in header.text()

    # a real click on the second cell: its settings in the main window, the keys there
    sweep.activateWindow()
    scene = sweep.heat.vb.mapViewToScene(QPointF(0.5, 1.5))
    with qtbot.waitSignal(sweep.cellOpened, timeout=5000):
        qtbot.mouseClick(sweep.heat_view.viewport(), Qt.MouseButton.LeftButton,
                         pos=sweep.heat_view.mapFromScene(scene))
    assert ctl.config == sweep.cells[1].config
    qtbot.waitUntil(main.isActiveWindow, timeout=5000)
    assert QApplication.focusWidget() is main.centralWidget()
    with qtbot.waitSignal(ctl.runningChanged, timeout=10000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)     # Space trains the cell's settings
    sweep.close()
    main.close()
    assert not sweep_children()
