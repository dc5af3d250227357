"""The sweep: grid parsing and its errors, parallel runs checked against direct Trainer runs, a failing cell,
cancellation, the CSV and the CLI; and the sweep window (heatmap numbers, small multiples, click, close)."""
from __future__ import annotations

import csv
import math
import multiprocessing
import time

import pytest

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
        assert float(row["train_loss"]) == pytest.approx(trainer.last_loss, rel=1e-12)
        if status == "ok":
            ev = trainer.last_eval
            assert float(row["val_loss"]) == pytest.approx(ev["val_loss"], rel=1e-12)
            assert float(row["val_accuracy"]) == pytest.approx(ev["val_accuracy"], rel=1e-12)
            assert row["error"] == "" and row["val_perplexity"] == ""
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
])
def test_cli_errors_one_line_exit_2(tmp_path, capsys, argv, words):
    rc = main(["sweep", "--preset", "negation", "--out", str(tmp_path / "o"), *argv])
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
