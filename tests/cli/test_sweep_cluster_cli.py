"""``rnnviz sweep --scheduler``: the real commands a lab types (``dask scheduler``, two ``dask worker``, then the
sweep) on loopback, compared row by row with the local run; an unreachable scheduler is one line and exit 2."""
from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rnnviz.cli import main

from dask_helpers import command_cluster, need_distributed

SETS = ["--set", "hidden=8", "--set", "n_examples=300"]


def rnnviz(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("rnnviz")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rnnviz"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("grid", [
    pytest.param(["--grid", "lr=0.01,0.1", "--grid", "spectral_radius=1,100"], marks=pytest.mark.slow, id="2x2"),
    pytest.param(["--grid", "lr=0.003,0.01,0.03,0.1", "--grid", "hidden=8,16,32,64"], marks=pytest.mark.ondemand,
                 id="4x4"),
])
def test_dask_scheduler_and_two_workers_give_the_local_rows(tmp_path, grid):
    need_distributed()
    local = rnnviz("sweep", "--preset", "negation", *SETS, *grid, "--epochs", "2", "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    with command_cluster(tmp_path) as address:
        # the address from the environment, as Dask's own tools read it
        out = rnnviz("sweep", "--preset", "negation", *SETS, *grid, "--epochs", "2", "--out", str(tmp_path / "dask"),
                     env={"DASK_SCHEDULER_ADDRESS": address})
    assert out.returncode == 0, out.stderr
    assert f"on the cluster at {address} (2 workers, 2 threads)" in out.stdout.splitlines()[0]
    rows, expected = read_rows(tmp_path / "dask" / "sweep.csv"), read_rows(tmp_path / "local" / "sweep.csv")
    assert len(rows) == len(grid[1].split(",")) * len(grid[3].split(","))
    assert rows == expected
    failed = sum(r["status"] != "ok" for r in expected)
    assert f"({len(rows)} rows, {failed} failed," in out.stdout


def test_unreachable_scheduler_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    need_distributed()
    port = closed_port()
    rc = main(["sweep", "--preset", "negation", "--grid", "lr=0.01,0.1", "--out", str(tmp_path / "o"),
               "--scheduler", f"tcp://127.0.0.1:{port}"])
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == ""
    assert captured.err == (f"rnnviz: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: connection "
                            "refused (is `dask scheduler` running there, on that port?)\n")
    assert not (tmp_path / "o" / "sweep.csv").exists()
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", f"127.0.0.1:{port}")      # the environment's address is used
    assert main(["sweep", "--preset", "negation", "--grid", "lr=0.01,0.1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnviz: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    rc = main(["sweep", "--preset", "negation", "--grid", "lr=0.01,0.1", "--out", str(tmp_path / "o"),
               "--scheduler", "tcp://127.0.0.1:port"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "setting 'scheduler': expected a Dask scheduler address like tcp://HOST:8786" in err
