"""rnnviz bench: the FLOP count and the fraction of peak for known shapes, the timing helpers' arithmetic, and a"""
from __future__ import annotations

import json

import pytest

from rnnviz.cli import main

from helpers import check_bench_rows


def test_stalls_from_heartbeats():
    pytest.importorskip("PySide6")
    from rnnviz.gui.windows.bench_window import HEARTBEAT_MS, LiveProbe, _app

    probe = LiveProbe(_app())
    probe.beats = [0.0, HEARTBEAT_MS / 1e3, HEARTBEAT_MS / 1e3 + 0.030, HEARTBEAT_MS / 1e3 + 0.031]
    assert probe.stalls_ms() == pytest.approx([0.0, 30.0 - HEARTBEAT_MS, 0.0])   # a beat early is no stall


def test_bench_quick_json_runs(capsys):
    pytest.importorskip("PySide6")
    assert main(["bench", "--quick", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    try:
        import torch  # noqa: F401
        with_torch = True
    except ImportError:
        with_torch = False
    check_bench_rows(res["rows"], with_torch)
    peak = res["peak_gflops"]["float32"]
    for r in res["rows"]:     # fraction of peak = FLOPs / time / peak
        assert r["numpy_f32_peak"] == pytest.approx(r["flops"] / (r["numpy_f32_ms"] / 1e3) / (peak * 1e9))
    w = res["window"]
    assert set(w["refresh_ms"]) >= {"loss", "hidden", "window"} and all(v > 0 for v in w["refresh_ms"].values())
    assert set(w["refresh_rescale_ms"]) == set(w["refresh_ms"]) and all(v > 0 for v in w["refresh_rescale_ms"].values())
    delays = w["step_to_window_ms"]
    assert set(delays) == {"n", "median", "p99", "max"} and isinstance(delays["n"], int)
    assert (delays["n"] == 0) == (delays["median"] is None)                  # no frame seen: no figures made up
    assert delays["n"] == 0 or 0 < delays["median"] <= delays["p99"] <= delays["max"]
    assert w["live_over_headless"] == pytest.approx(w["live_steps_per_s"] / w["headless_steps_per_s"])
    assert {t["target"] for t in res["targets"]} >= {"rnn numpy/torch worst <= 0.5", "stall p99 < 50 ms"}
