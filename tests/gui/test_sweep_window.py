"""The sweep: grid parsing and its errors, parallel runs checked against direct_run Trainer runs, a failing cell,"""
from __future__ import annotations

import time

import numpy as np

from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import Trainer

from helpers import direct_run, sweep_base_config, sweep_children
from qt_helpers import no_leaks  # noqa: F401  (a fixture)


# --- the window ------------------------------------------------------------------------------------------
def _run_window(qtbot, win):
    assert win.start()
    qtbot.waitUntil(lambda: win.runner.finished and not win.timer.isActive(), timeout=60000)


def test_window_3x3_heatmap_minis_and_click(qtbot, no_leaks):
    from PySide6.QtCore import QPointF, Qt

    from rnnviz.gui.windows.sweep_window import FAILED_RGB, metric_text

    from qt_helpers import open_sweep_window, wait_snapshot

    main_win, win = open_sweep_window(qtbot, sweep_base_config())
    win.set_grid("spectral_radius", "0.5, 1, 100", "lr", "0.01, 0.1, 1")
    _run_window(qtbot, win)
    assert win.progress.value() == 1000 and "3 failed" in win.status.text()
    assert win.image.image.shape == (3, 3, 3)
    assert [t for t, _ in win.heat.getAxis("left")._tickLevels[0]] == [0.5, 1.5, 2.5]
    assert [s for _, s in win.heat.getAxis("bottom")._tickLevels[0]] == ["0.01", "0.1", "1"]
    direct_runs = {c.index: direct_run(c.config) for c in win.cells}
    losses = {i: t.last_eval["val_loss"] for i, (s, _, t) in direct_runs.items() if s == "ok"}
    best = min(losses.values())
    for cell in win.cells:
        status, error, trainer = direct_runs[cell.index]
        i, j = divmod(cell.index, 3)
        text = win.texts[cell.index].toPlainText()
        _plot, train, val = win.minis[cell.index]
        steps, hist = trainer.loss_history.view()
        x, y = train.getData()
        if len(steps):
            assert np.array_equal(x, steps) and np.allclose(y, hist[:, 0])
        else:                                    # a fault at the first step: nothing to draw
            assert x is None or len(x) == 0
        if status == "ok":
            expected = metric_text("val_loss", trainer.last_eval["val_loss"])
            assert text == expected + (" ★" if trainer.last_eval["val_loss"] == best else "")
            assert np.allclose(val.getData()[1], [e["val_loss"] for e in trainer.eval_history])
        else:
            assert cell.settings["spectral_radius"] == 100.0
            assert text.startswith("failed") and tuple(win.image.image[i, j]) == FAILED_RGB
            assert win.runner.rows[cell.index]["error"] == " ".join(error.split())
    assert win.errors.text().count("spectral_radius=100") == 3
    win.metric_box.setCurrentIndex(1)          # accuracy
    for cell in win.cells:
        status, _, trainer = direct_runs[cell.index]
        if status == "ok":
            assert win.texts[cell.index].toPlainText().split(" ")[0] == f"{trainer.last_eval['val_accuracy']:.1%}"

    # clicking a cell (a real mouse click on the heatmap) applies its settings to the trained main window,
    # after asking
    main_win.controller.step_batch()
    wait_snapshot(qtbot, main_win.controller, lambda s: s.step >= 1)
    asked = []
    main_win.confirm = lambda q: asked.append(q) or True
    target = win.cells[5]                                   # spectral_radius=1, lr=1
    scene = win.heat.vb.mapViewToScene(QPointF(2.5, 1.5))
    with qtbot.waitSignal(win.cellOpened, timeout=5000) as blocker:
        qtbot.mouseClick(win.heat_view.viewport(), Qt.MouseButton.LeftButton,
                         pos=win.heat_view.mapFromScene(scene))
    assert blocker.args == [5] and asked
    cfg = main_win.controller.config
    assert (cfg.spectral_radius, cfg.lr, cfg.hidden, cfg.activation) == (1.0, 1.0, 8, "relu")
    assert cfg == target.config
    main_win.confirm = lambda q: False                       # refusing keeps the main window as it is
    assert not win.open_cell(0) and main_win.controller.config == target.config
    win.close()
    main_win.close()
    assert not sweep_children()


def test_window_bad_values_cancel_one_setting_and_close_mid_sweep(qtbot):
    from PySide6.QtCore import Qt

    from rnnviz.gui.windows.sweep_window import SweepWindow

    win = SweepWindow(load_preset("negation").config.replace(hidden=16, epochs=1000), processes=2)
    qtbot.addWidget(win)
    win.show()
    shown = []
    win.show_error = lambda title, message: shown.append(message)
    win.set_grid("hidden", "0, 4")
    assert not win.start() and "'hidden'" in shown[-1] and win.runner is None
    win.set_grid("lr", "0.01, x")
    assert not win.start() and "'lr'" in shown[-1] and "'x'" in shown[-1]
    win.set_grid("lr", "0.01, 0.02", "batch_size", "16, 32")
    assert win.start()
    qtbot.waitUntil(lambda: bool(win.runner.fractions), timeout=30000)
    start = time.perf_counter()
    qtbot.mouseClick(win.cancel_button, Qt.MouseButton.LeftButton)        # the Cancel button
    print(f"sweep Cancel button took {(time.perf_counter() - start) * 1000:.0f} ms")
    # no clock: Cancel did not wait for the cells (1000 epochs each) to end, it stopped them, and left no process
    assert not sweep_children() and win.runner.cancelled and win.runner.finished
    assert "Cancelled" in win.status.text() and win.run_button.isEnabled()
    assert {win.texts[i].toPlainText() for i in range(4)} == {"cancelled"}
    # one setting: a single column, the values on the rows
    win.base = load_preset("negation").config.replace(hidden=8, n_examples=200)
    win.epochs.setValue(1)
    win.set_grid("lr", "0.01, 0.1")
    _run_window(qtbot, win)
    assert win.image.image.shape == (2, 1, 3)
    for cell in win.cells:
        trainer = Trainer(cell.config)
        trainer.train()
        assert win.texts[cell.index].toPlainText().split(" ")[0] == f"{trainer.last_eval['val_loss']:.3f}"
    win.epochs.setValue(1000)
    win.set_grid("lr", "0.01, 0.02", "batch_size", "16, 32")
    assert win.start()
    qtbot.waitUntil(lambda: bool(win.runner.fractions), timeout=30000)
    assert 0 < win.progress.value() < 1000 or win.runner.progress < 1
    win.close()
    print(f"sweep window closed mid-sweep in {win.close_seconds * 1000:.0f} ms")
    assert win.close_seconds < 3.0
    assert not sweep_children() and not win.runner.alive()


def test_window_lists_every_setting_with_its_tooltip_and_the_registrys_epochs_range(qtbot):
    from PySide6.QtCore import Qt

    from rnnviz.core.config import SETTINGS
    from rnnviz.gui.windows.sweep_window import SweepWindow

    win = SweepWindow(load_preset("negation").config, processes=1)
    qtbot.addWidget(win)
    first, second = win.keys
    assert [first.itemText(i) for i in range(first.count())] == sorted(SETTINGS)
    for box in (first, second):
        for i in range(box.count()):
            name = box.itemText(i)
            if name in SETTINGS:
                assert box.itemData(i, Qt.ItemDataRole.ToolTipRole) == SETTINGS[name].tip
    assert (win.epochs.minimum(), win.epochs.maximum()) == SETTINGS["epochs"].range[:2]
