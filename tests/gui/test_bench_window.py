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


def test_the_big_model_case_explains_a_missing_text(capsys, tmp_path):
    pytest.importorskip("PySide6")
    missing = tmp_path / "no-such-shakespeare.txt"
    assert main(["bench", "--only", "big", "--json", "--shakespeare", str(missing)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["big_window"] is None and res["rows"] == [] and res["window"] is None and res["startup"] is None
    assert any("big-model window case skipped" in n and "--shakespeare" in n for n in res["notes"])
    met = {t["target"]: t["met"] for t in res["targets"]}
    assert met["big: slowest panel refresh <= 12 ms"] is None and met["big: stall p99 < 50 ms"] is None


def test_bench_only_refuses_an_unknown_part(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--only", "core,gpu"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rnnviz bench: error:") and "unknown part gpu" in err[-1]


def test_the_big_model_text_is_found_beside_the_checkouts_or_named(tmp_path, monkeypatch):
    from rnnviz.bench.big_window import RELATIVE, big_config, find_text

    text = tmp_path / RELATIVE
    text.parent.mkdir(parents=True)
    text.write_text("To be, or not to be, that is the question.\n" * 40, encoding="utf-8")
    work = tmp_path / "wt" / "branch"
    work.mkdir(parents=True)
    monkeypatch.delenv("RNNVIZ_SHAKESPEARE", raising=False)
    monkeypatch.chdir(work)
    assert find_text() == text
    assert find_text(str(tmp_path / "nothing.txt")) is None
    monkeypatch.setenv("RNNVIZ_SHAKESPEARE", str(text))
    assert find_text() == text
    c = big_config(text)
    assert (c.cell, c.hidden, c.window, c.task, c.tokenize, c.dataset) == ("lstm", 256, 200, "generation", "char",
                                                                            str(text))


def test_start_up_is_measured_in_a_fresh_process():
    pytest.importorskip("PySide6")
    from rnnviz.bench.startup import measure_startup

    res = measure_startup(runs=1, warmup=0)
    assert res["errors"] == [] and res["runs"] == 1
    s = res["samples"][0]
    assert 0 < s["imports"] < s["built"] < s["shown"] <= s["painted"] == res["painted_s"]
    assert 0 < res["cpu_s"] and isinstance(res["bytecode_cache"], bool)
