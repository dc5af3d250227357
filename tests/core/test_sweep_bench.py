"""The sweep bench (python -m rnnviz.bench.sweep_bench): its overhead arithmetic against hand-computed figures, the
split of a cluster's CPU seconds by part, and a smoke run of the local modes (no timing assertions)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rnnviz.bench import sweep_bench


def test_overhead_is_the_slots_seconds_not_spent_on_the_plain_work_per_run():
    plain = {"row_seconds": [4.0, 4.0, 2.0, 2.0], "cpu_seconds": [3.0, 3.0, 1.0, 1.0]}
    result = {"slots": 2, "wall": 7.0, "cpu": 10.0, "row_seconds": [4.1, 4.2, 2.1, 2.2]}
    got = sweep_bench.overhead(result, plain)
    # (2 slots x 7 s - 12 s of plain work) / 4 runs = 0.5 s, against a mean plain run of 3 s
    assert got["overhead_s"] == pytest.approx(0.5) and got["overhead_pct"] == pytest.approx(100 * 0.5 / 3)
    # (10 CPU-s - 8 CPU-s of plain work) / 4 runs = 0.5 CPU-s, against a mean of 2 CPU-s
    assert got["overhead_cpu_s"] == pytest.approx(0.5) and got["overhead_cpu_pct"] == pytest.approx(25.0)


def test_cluster_cpu_parts_and_the_share_outside_the_training_threads():
    def proc(pid, line):
        return SimpleNamespace(pid=pid, cmdline=lambda: line.split())

    processes = [proc(1, "python dask scheduler --port 0"), proc(2, "python dask worker tcp://x --nthreads 1"),
                 proc(3, "python -c from multiprocessing.spawn import spawn_main"),
                 proc(4, "python -c from multiprocessing.resource_tracker import main")]
    before = {(1, 10): 1.0, (2, 20): 0.5, (3, 30): 0.2, (3, 31): 0.0, (4, 40): 0.0}
    after = {(1, 10): 1.3, (2, 20): 0.6, (3, 30): 0.5, (3, 31): 4.0, (3, 32): 0.1, (4, 40): 0.01}
    parts = sweep_bench.cluster_parts(processes, before, after)
    assert parts == pytest.approx({"training threads": 4.0, "workers' other threads": 0.4, "scheduler": 0.3,
                                   "nannies": 0.1})
    parts["this process"] = 0.2
    result = {"slots": 1, "wall": 5.0, "cpu": 5.0, "row_seconds": [2.0, 2.0], "cpu_parts": parts,
              "idle_cpu_per_second": 0.02}
    got = sweep_bench.overhead(result, {"row_seconds": [2.0, 2.0], "cpu_seconds": [1.9, 1.9]})
    assert got["outside_training_cpu_s"] == pytest.approx((0.4 + 0.3 + 0.1 + 0.2) / 2)
    assert got["training_minus_plain_cpu_s"] == pytest.approx((4.0 - 3.8) / 2)
    assert got["idle_share_cpu_s"] == pytest.approx(0.02 * 5.0 / 2)
    assert sweep_bench.mode_slots("cluster2-warm") == 2 and sweep_bench.mode_slots("local1") == 1


def test_smoke_run_of_the_local_modes(capsys, monkeypatch):
    """Two plain modes (this process, two bare processes) and the local pool of 2, 1 epoch each: every mode's rows
    are the plain rows, and every figure is there."""
    monkeypatch.setattr(sweep_bench, "GRID", [("lr", [0.01, 0.1]), ("hidden", [8])])
    monkeypatch.setattr(sweep_bench, "load_preset", lambda name: _small_preset(name))
    assert sweep_bench.main(["--epochs", "1", "--modes", "local2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["results"]) == {"plain1", "plain2", "local2"}
    assert all(r["same_rows"] for r in out["results"].values())
    local = out["results"]["local2"]
    for key in ("wall", "runs_per_minute", "overhead_s", "overhead_cpu_s", "overhead_cpu_pct_range"):
        assert key in local
    assert out["local_startup_cpu_per_process"] > 0


def _small_preset(name):
    from rnnviz.core.presets import load_preset

    preset = load_preset(name)
    return SimpleNamespace(config=preset.config.replace(n_examples=200))
