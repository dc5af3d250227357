"""The sweep: grid parsing and its errors, parallel runs checked against direct Trainer runs, a failing cell,
cancellation, the CSV and the CLI; and the sweep window (heatmap numbers, small multiples, click, close)."""
from __future__ import annotations

import csv
import math
import multiprocessing
import time

import numpy as np
import pytest

from qt_helpers import no_leaks  # noqa: F401  (a fixture)
from rnnviz.cli import main
from rnnviz.core import sweep
from rnnviz.core.errors import ConfigError, TrainingFault
from rnnviz.core.presets import load_preset
from rnnviz.core.trainer import Trainer

# the 3x3 of the issue: spectral radius 100 with relu, plain SGD and no clipping overflows float32 at step 2
FAIL_SETS = ["--set", "hidden=8", "--set", "n_examples=200", "--set", "activation=relu", "--set", "optimizer=sgd",
             "--set", "clip=0"]
GRID = ["--grid", "spectral_radius=0.5,1,100", "--grid", "lr=0.01,0.1,1"]


def base_config():
    return load_preset("negation").config.replace(hidden=8, n_examples=200, activation="relu", optimizer="sgd",
                                                  clip=0.0, epochs=2)


def sweep_children():
    return [p for p in multiprocessing.active_children() if p.name == sweep.PROCESS_NAME]


def direct(cfg):
    """The same cell trained by hand in this process: (val_loss, val_accuracy, train_loss, steps) or the fault."""
    trainer = Trainer(cfg)
    try:
        trainer.train()
    except TrainingFault as exc:
        return "failed", str(exc), trainer
    return "ok", "", trainer


def test_parse_grid_values_and_types():
    assert sweep.parse_grid("lr=0.01, 0.1") == ("lr", [0.01, 0.1])
    assert sweep.parse_grid("hidden=4,8") == ("hidden", [4, 8])
    assert sweep.parse_grid("cell=rnn,lstm,gru") == ("cell", ["rnn", "lstm", "gru"])
    assert sweep.parse_grid("batch-size=8,16") == ("batch_size", [8, 16])


@pytest.mark.parametrize("text, words", [
    ("lr", "expected key=value1,value2"), ("=1,2", "no setting name"), ("speed=1,2", "unknown setting"),
    ("lr=0.1,,0.2", "none empty"), ("lr=", "none empty"), ("hidden=4,eight", "whole number"),
    ("lr=0.1,0.1", "twice"),
])
def test_parse_grid_errors(text, words):
    with pytest.raises(ConfigError, match=words):
        sweep.parse_grid(text)


def test_expand_grid_order_validation():
    cells = sweep.expand_grid(base_config(), [("lr", [0.1, 0.2]), ("hidden", [4, 8, 16])])
    assert [c.settings for c in cells][:4] == [{"lr": 0.1, "hidden": 4}, {"lr": 0.1, "hidden": 8},
                                               {"lr": 0.1, "hidden": 16}, {"lr": 0.2, "hidden": 4}]
    assert cells[5].config.lr == 0.2 and cells[5].config.hidden == 16 and cells[5].config.activation == "relu"
    with pytest.raises(ConfigError, match="'hidden'.*1 \\(inclusive\\)"):
        sweep.expand_grid(base_config(), [("hidden", [0, 4])])
    with pytest.raises(ConfigError, match="more than one"):
        sweep.expand_grid(base_config(), [("lr", [0.1]), ("lr", [0.2])])


def test_cli_3x3_with_failing_row_matches_direct_runs(tmp_path, capsys):
    """The issue's check: 3x3 headless, one setting (spectral radius 100) failing on purpose."""
    rc = main(["sweep", "--preset", "negation", *FAIL_SETS, *GRID, "--epochs", "2", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "9 rows, 3 failed" in out
    table = out.split("\n")
    with open(tmp_path / "sweep.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9
    assert list(rows[0])[:2] == ["spectral_radius", "lr"]
    base = base_config()
    for row in rows:
        cfg = base.replace(spectral_radius=float(row["spectral_radius"]), lr=float(row["lr"]))
        status, error, trainer = direct(cfg)
        assert row["status"] == status
        assert int(row["steps"]) == trainer.step_count
        train_loss = float(row["train_loss"]) if row["train_loss"] else float("nan")   # empty = NaN
        assert train_loss == pytest.approx(trainer.last_loss, rel=1e-12, nan_ok=True)
        if status == "ok":
            ev = trainer.last_eval
            assert float(row["val_loss"]) == pytest.approx(ev["val_loss"], rel=1e-12)
            assert float(row["val_accuracy"]) == pytest.approx(ev["val_accuracy"], rel=1e-12)
            assert row["error"] == "" and row["val_perplexity"] == ""
            key = [f"{float(row['spectral_radius']):g}", f"{float(row['lr']):g}"]
            printed = [t for t in table if t.split()[:2] == key]
            assert len(printed) == 1
            assert printed[0].split()[2:4] == [f"{ev['val_loss']:.4f}", f"{ev['val_accuracy']:.1%}"]
        else:
            assert float(row["spectral_radius"]) == 100.0
            assert row["val_loss"] == "" and "NaN or infinite" in row["error"]
            assert row["error"] == " ".join(error.split())
    assert not sweep_children()


@pytest.mark.parametrize("argv, words", [
    (["--grid", "lr"], "expected key=value"),
    (["--grid", "colour=1,2"], "unknown setting"),
    (["--grid", "hidden=4,x"], "whole number"),
    (["--grid", "hidden=0,4"], "'hidden'"),
    (["--grid", "lr=0.1", "--grid", "lr=0.2"], "more than one"),
    ([], "at least one --grid"),
    (["--data", "missing.tsv", "--task", "classification", "--grid", "lr=0.1,0.2"], "missing.tsv"),
])
def test_cli_errors_one_line_exit_2(tmp_path, capsys, argv, words):
    if argv and argv[0] == "--data":
        argv = [argv[0], str(tmp_path / argv[1]), *argv[2:]]
    source = [] if argv and argv[0] == "--data" else ["--preset", "negation"]
    rc = main(["sweep", *source, "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("rnnviz: error:") and words in err
    assert not (tmp_path / "o" / "sweep.csv").exists()


def test_generation_reports_perplexity_and_parallel_equals_serial():
    cfg = load_preset("chars").config.replace(hidden=8, n_examples=60, window=16, epochs=1)
    cells = sweep.expand_grid(cfg, [("hidden", [4, 8])])
    rows = sweep.run_sweep(cells, processes=2)
    serial = [sweep.train_cell(c) for c in cells]
    for r, s in zip(rows, serial):
        assert r["status"] == "ok" and math.isnan(r["val_accuracy"])
        assert r["val_perplexity"] == pytest.approx(s["val_perplexity"], rel=1e-12)
        assert r["val_losses"] == pytest.approx(s["val_losses"], rel=1e-12)
        assert r["train_losses"][-1] == pytest.approx(r["train_loss"], rel=1e-12)


def test_cancel_is_quick_and_leaves_no_process():
    cfg = load_preset("negation").config.replace(hidden=16, n_examples=2000, epochs=1000)
    runner = sweep.SweepRunner(sweep.expand_grid(cfg, [("lr", [0.01, 0.02, 0.03])]), processes=2)
    runner.start()
    deadline = time.perf_counter() + 30
    while not runner.fractions and time.perf_counter() < deadline:   # training is under way
        runner.poll(timeout=0.05)
    assert runner.fractions
    seconds = runner.cancel()
    print(f"sweep cancel took {seconds * 1000:.0f} ms")
    assert seconds < 3.0
    assert not runner.alive() and not sweep_children()
    assert {r["status"] for r in runner.rows.values()} == {"cancelled"}
    assert len(runner.rows) == 3 and runner.finished


# --- the window ------------------------------------------------------------------------------------------
def _run_window(qtbot, win):
    assert win.start()
    qtbot.waitUntil(lambda: win.runner.finished and not win.timer.isActive(), timeout=60000)


def test_window_3x3_heatmap_minis_and_click(qtbot, no_leaks):
    from PySide6.QtCore import QPointF, Qt

    from qt_helpers import small_config, wait_snapshot
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.sweep_window import FAILED_RGB, SweepWindow, metric_text

    main_win = MainWindow(small_config(), backend="thread")
    qtbot.addWidget(main_win)
    wait_snapshot(qtbot, main_win.controller)
    win = SweepWindow(base_config(), main_window=main_win, processes=2)
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    win.set_grid("spectral_radius", "0.5, 1, 100", "lr", "0.01, 0.1, 1")
    _run_window(qtbot, win)
    assert win.progress.value() == 1000 and "3 failed" in win.status.text()
    assert win.image.image.shape == (3, 3, 3)
    assert [t for t, _ in win.heat.getAxis("left")._tickLevels[0]] == [0.5, 1.5, 2.5]
    assert [s for _, s in win.heat.getAxis("bottom")._tickLevels[0]] == ["0.01", "0.1", "1"]
    direct_runs = {c.index: direct(c.config) for c in win.cells}
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

    from rnnviz.gui.sweep_window import SweepWindow

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
    assert time.perf_counter() - start < 3.0 and not sweep_children()
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


def test_sweep_and_race_cores_do_not_import_qt():
    import subprocess
    import sys

    code = ("import sys, rnnviz.core.sweep, rnnviz.core.race; "
            "assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
