"""Clickable confusion matrix: each cell lists exactly the validation examples (and, for labelling, positions)
behind its count, checked against the model's own predictions; choosing one makes it the probe."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.snapshot import confusion_members

from helpers import small_config, trained_on
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def test_panel_click_lists_the_cell_and_choosing_emits_the_example(qtbot):
    from rnnviz.gui.panels.confusion import ConfusionPanel

    t = trained_on("pos")
    snap = build_snapshot(t)
    panel = ConfusionPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_examples(t.dataset.val.tokens)
    panel.render(snap)
    conf = snap.confusion
    i, j = np.unravel_index(np.argmax(conf), conf.shape)
    # a real mouse click on the centre of cell (i, j)
    scene_pos = panel.plot.vb.mapViewToScene(QPointF(float(j), float(i)))
    view_pos = panel.view.mapFromScene(scene_pos)
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    qtbot.waitUntil(lambda: panel.examples_box.isVisible(), timeout=3000)
    assert panel._open_cell == (i, j)
    assert panel.examples_list.count() == conf[i, j]
    assert f"count {conf[i, j]}" in panel.examples_title.text()
    first = panel.examples_list.item(0)
    ex, pos = first.data(Qt.ItemDataRole.UserRole)
    assert (ex, pos) == confusion_members(snap.confusion_examples, i, j)[0]
    assert first.text().startswith(f"#{ex}, token {pos + 1}")
    assert f"[{t.dataset.val.tokens[ex][pos]}]" in first.text()
    for a in range(conf.shape[0]):          # every cell, the list's length is the count
        for b in range(conf.shape[0]):
            panel.show_cell(a, b)
            assert panel.examples_list.count() == conf[a, b]
    panel.show_cell(i, j)
    with qtbot.waitSignal(panel.exampleChosen, timeout=2000) as sig:
        rect = panel.examples_list.visualItemRect(panel.examples_list.item(0))
        qtbot.mouseClick(panel.examples_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == [ex]


@pytest.mark.usefixtures("no_leaks")
def test_choosing_an_example_makes_it_the_probe_in_the_window(qtbot):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(n_examples=200), backend="thread")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    ctl = win.controller
    wait_snapshot(qtbot, ctl)
    ctl.step_epoch()
    snap = wait_snapshot(qtbot, ctl, lambda s: len(s.val_steps) > 0)
    panel = win.panels["confusion"]
    win.tabs.setCurrentWidget(panel)
    # the panel shows this snapshot's matrix (live frames reach the tabs a few event-loop turns after the first panel)
    qtbot.waitUntil(lambda: panel._conf.shape == snap.confusion.shape and panel._conf.sum() > 0, timeout=5000)
    conf = snap.confusion
    i, j = np.unravel_index(np.argmax(conf), conf.shape)
    panel.show_cell(int(i), int(j))
    item = panel.examples_list.item(panel.examples_list.count() - 1)
    ex = item.data(Qt.ItemDataRole.UserRole)[0]
    assert ex != 0
    panel.examples_list.itemClicked.emit(item)
    new = wait_snapshot(qtbot, ctl, lambda s: s.probe.source == f"validation #{ex}")
    val = ctl.dataset.val
    assert list(new.probe.tokens) == list(val.tokens[ex])
    assert int(new.probe.target) == int(val.targets[ex]) == int(i)
    qtbot.waitUntil(lambda: win.panels["hidden"].probe_spin.value() == ex, timeout=5000)
    win.close()
