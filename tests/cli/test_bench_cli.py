"""rnnviz bench: the FLOP count and the fraction of peak for known shapes, the timing helpers' arithmetic, and a"""
from __future__ import annotations

import json

from rnnviz.bench import core
from rnnviz.cli import main

from helpers import check_bench_rows


def test_bench_without_torch_skips_its_rows(monkeypatch, capsys):
    monkeypatch.setattr(core, "torch_available", lambda: (False, "PyTorch not importable (test); torch rows skipped"))
    assert main(["bench", "--quick", "--json", "--no-window"]) == 0
    res = json.loads(capsys.readouterr().out)
    check_bench_rows(res["rows"], with_torch=False)
    assert res["machine"]["torch"] is None and res["window"] is None
    assert any("torch rows skipped" in n for n in res["notes"])
    met = {t["target"]: t["met"] for t in res["targets"]}
    assert met["rnn numpy/torch worst <= 0.5"] is None and met["lstm numpy/torch median <= 1.2"] is None


def test_bench_table_prints(capsys, monkeypatch):
    monkeypatch.setattr(core, "grid", lambda quick=False: [core.Shape("rnn", "classification", 8, 4, 2)])
    monkeypatch.setattr(core, "torch_available", lambda: (False, "no torch (test)"))
    assert main(["bench", "--quick", "--no-window"]) == 0
    out = capsys.readouterr().out
    assert "matmul peak" in out and "rnn  class" in out and "targets:" in out and "not measured" in out
