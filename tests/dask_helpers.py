"""Real Dask clusters for the tests of the sweep on a cluster (Qt-free). Tests that use them are skipped when
``distributed`` is not installed (``pip install -e ".[test,cluster]"`` brings it).

- ``local_cluster()``: a ``distributed.LocalCluster`` with two worker processes of one thread each, on loopback;
- ``command_cluster()``: the real commands a lab types, ``dask scheduler`` and two ``dask worker`` processes, on
  loopback with random ports.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest


def need_distributed():
    return pytest.importorskip("distributed", reason='the cluster extra is not installed (pip install -e ".[cluster]")')


@contextlib.contextmanager
def local_cluster(n_workers: int = 2, **config) -> Iterator[object]:
    """A LocalCluster of ``n_workers`` processes with one thread each; ``config``: dask settings for its scheduler
    (e.g. ``{"distributed.scheduler.allowed-failures": 0}``)."""
    distributed = need_distributed()
    import dask

    with dask.config.set(config), distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0") as cluster:      # a free loopback port for its HTTP server
        yield cluster


def dask_command() -> str:
    """The ``dask`` command of this environment (skip when it is missing)."""
    need_distributed()
    path = Path(sys.executable).with_name("dask")
    if not path.exists():
        pytest.skip("no dask command beside this Python")
    return str(path)


@contextlib.contextmanager
def command_cluster(tmp_path: Path, workers: int = 2, timeout: float = 60.0) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` times ``dask worker ADDRESS --nthreads 1 --nworkers 1``, on 127.0.0.1
    with random ports; yields the scheduler's address once every worker has joined; stops them all after."""
    import distributed

    dask = dask_command()
    info = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> None:
        procs.append(subprocess.Popen([dask, *args], stdout=open(tmp_path / log, "wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True))

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
              "scheduler.log")
        deadline = time.monotonic() + timeout
        while not (info.exists() and info.stat().st_size):
            assert time.monotonic() < deadline and procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        for i in range(workers):
            start(["worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                   "--no-dashboard"], f"worker{i}.log")
        with distributed.Client(address, timeout=timeout) as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield address
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def worker_pid(address: str, worker: str) -> int:
    """The process id of the Dask worker at ``worker`` (asked through the scheduler at ``address``)."""
    import distributed

    with distributed.Client(address, timeout=30) as client:
        return client.run(os.getpid, workers=[worker])[worker]


def same_rows(a: dict, b: dict) -> bool:
    """Two sweep rows equal in every field but the seconds (NaN equal to NaN)."""
    def eq(x, y):
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            return True
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(eq(u, v) for u, v in zip(x, y))
        return x == y

    keys = set(a) | set(b)
    return all(eq(a.get(k), b.get(k)) for k in keys - {"seconds"})
