"""The sweep: grid parsing and its errors, parallel runs checked against direct_run Trainer runs, a failing cell,"""
from __future__ import annotations

import csv

import pytest

from rnnviz.cli import main

from helpers import direct_run, sweep_base_config, sweep_children
from qt_helpers import no_leaks  # noqa: F401  (a fixture)

# the 3x3 of the issue: spectral radius 100 with relu, plain SGD and no clipping overflows float32 at step 2
FAIL_SETS = ["--set", "hidden=8", "--set", "n_examples=200", "--set", "activation=relu", "--set", "optimizer=sgd",
             "--set", "clip=0"]


GRID = ["--grid", "spectral_radius=0.5,1,100", "--grid", "lr=0.01,0.1,1"]


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
    base = sweep_base_config()
    for row in rows:
        cfg = base.replace(spectral_radius=float(row["spectral_radius"]), lr=float(row["lr"]))
        status, error, trainer = direct_run(cfg)
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
