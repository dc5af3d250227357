"""The sweep: grid parsing and its errors, parallel runs checked against direct Trainer runs, a failing cell,
cancellation, the CSV and the CLI; and the sweep window (heatmap numbers, small multiples, click, close)."""
from __future__ import annotations

import math
import time

import pytest

from rnnviz.core.errors import ConfigError
from rnnviz.core.explore import sweep
from rnnviz.core.presets import load_preset

from helpers import sweep_base_config, sweep_children


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
    cells = sweep.expand_grid(sweep_base_config(), [("lr", [0.1, 0.2]), ("hidden", [4, 8, 16])])
    assert [c.settings for c in cells][:4] == [{"lr": 0.1, "hidden": 4}, {"lr": 0.1, "hidden": 8},
                                               {"lr": 0.1, "hidden": 16}, {"lr": 0.2, "hidden": 4}]
    assert cells[5].config.lr == 0.2 and cells[5].config.hidden == 16 and cells[5].config.activation == "relu"
    with pytest.raises(ConfigError, match="'hidden'.*1 \\(inclusive\\)"):
        sweep.expand_grid(sweep_base_config(), [("hidden", [0, 4])])
    with pytest.raises(ConfigError, match="more than one"):
        sweep.expand_grid(sweep_base_config(), [("lr", [0.1]), ("lr", [0.2])])


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


def test_sweep_and_race_cores_do_not_import_qt():
    import subprocess
    import sys

    code = ("import sys, rnnviz.core.explore.sweep, rnnviz.core.explore.race; "
            "assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
