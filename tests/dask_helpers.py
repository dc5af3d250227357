"""Real Dask clusters for the tests of the sweep on a cluster (Qt-free). Tests that use them are skipped when
``distributed`` is not installed (``pip install -e ".[test,cluster]"`` brings it).

- ``local_cluster()``: a ``distributed.LocalCluster`` with two worker processes of one thread each, on loopback;
- ``command_cluster()``: the real commands a lab types, ``dask scheduler`` and two ``dask worker`` processes, on
  loopback with random ports.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
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
def command_cluster(tmp_path: Path, workers: int = 2) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` times ``dask worker ADDRESS --nthreads 1 --nworkers 1``, on 127.0.0.1
    with random ports (rnnviz.bench.sweep_bench.command_cluster); yields the scheduler's address."""
    dask_command()             # skips the test when distributed is not installed
    from rnnviz.bench.sweep_bench import command_cluster as start

    with start(tmp_path, workers=workers) as address:
        yield address


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
