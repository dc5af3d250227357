"""How fast a sweep runs: runs per minute and the engine's overhead per run, local processes against a Dask cluster.

    python -m rnnviz.bench.sweep_bench [--modes plain,local1,local2,cluster2] [--epochs N] [--rounds R] [--json]

The grid is the negation preset's 4 x 4 (lr 0.003, 0.01, 0.03, 0.1 x hidden 8, 16, 32, 64; 2,000 examples, 10
epochs: runs of about 1-4 s here). Modes:
- ``plain``: each cell trained by ``train_cell`` in this process (one BLAS thread, like the others), one after the
  other, with no engine around it (no process, no progress messages, no stop flag). Its time per cell,
  ``t_plain``, is the work itself;
- ``local1`` / ``local2``: ``rnnviz sweep``'s local pool with 1 or 2 processes;
- ``cluster2``: the real commands a lab types, ``dask scheduler`` and two ``dask worker --nthreads 1
  --nworkers 1`` on 127.0.0.1 (random ports), then the sweep on them. Starting the cluster and connecting to it
  are timed apart from the sweep.

The engine's overhead per run, for a mode that trains ``slots`` cells at once in ``wall`` seconds (from
``start()`` to the last row):

    overhead per run = (slots * wall - sum(t_plain)) / cells          reported also as % of mean(t_plain)

that is, every second of the slots that did not go into the work itself: starting processes, sending cells,
rows, progress and curves, asking the stop flag, data loading, waiting for the next cell, the slot left idle
while the last cell finishes, and the runs slowing each other when they share the machine with the scheduler
and the client. It is split into the part around the runs (``slots * wall - sum(row seconds)``, row seconds
being the run's own clock inside its worker) and the part inside them (``sum(row seconds) - sum(t_plain)``).

On a busy machine the wall-clock figures measure the other users as much as the engine. The engine's CPU
overhead per run does not depend on them (much): the CPU seconds of every process involved during the sweep (this
process, the local pool's processes; the scheduler, nanny and worker processes of the cluster) less the CPU
seconds of the plain runs, per cell, also as % of the mean plain run's CPU seconds.

The modes run in turn, ``--rounds`` times (interleaved, so a busy moment of the machine hits them alike); each
mode's figures are from its fastest round, and t_plain of a cell is its fastest plain run.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from rnnviz.core.explore import sweep
from rnnviz.core.files import open_log
from rnnviz.core.presets import load_preset

GRID = [("lr", [0.003, 0.01, 0.03, 0.1]), ("hidden", [8, 16, 32, 64])]
MODES = ("plain", "local1", "local2", "cluster2")


def cells(epochs: int | None = None) -> list[sweep.Cell]:
    cfg = load_preset("negation").config
    return sweep.expand_grid(cfg.replace(epochs=epochs) if epochs else cfg, GRID)


def dask_command() -> str:
    """The ``dask`` command beside this Python (the cluster extra installs it)."""
    path = Path(sys.executable).with_name("dask")
    return str(path) if path.exists() else "dask"


@contextlib.contextmanager
def command_cluster(folder: Path, workers: int = 2, timeout: float = 60.0) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` times ``dask worker ADDRESS --nthreads 1 --nworkers 1`` on 127.0.0.1
    with random ports (logs in ``folder``); yields the scheduler's address once every worker has joined, and
    stops them all on the way out (SIGTERM, then SIGKILL for any process of theirs left after 15 s).

    They stay in this process's session: with Linux's autogroup scheduling a new session would be a new group
    with its own share of the CPU, and on a busy machine the cluster would then get more CPU than the local
    processes it is compared with."""
    import distributed
    import psutil

    dask = dask_command()
    info = folder / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> None:
        with open_log(folder / log) as out:
            procs.append(subprocess.Popen([dask, *args], stdout=out, stderr=subprocess.STDOUT))

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
              "scheduler.log")
        deadline = time.monotonic() + timeout
        while not (info.exists() and info.stat().st_size):
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: {(folder / 'scheduler.log').read_text()}")
            time.sleep(0.05)
        address = json.loads(info.read_text())["address"]
        for i in range(workers):
            start(["worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                   "--no-dashboard"], f"worker{i}.log")
        with distributed.Client(address, timeout=timeout) as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield address
    finally:
        family = []
        for proc in reversed(procs):
            with contextlib.suppress(psutil.NoSuchProcess):
                family += psutil.Process(proc.pid).children(recursive=True)
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for child in family:          # a worker process its nanny could not stop
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def _cpu(processes: list) -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process, its waited-for children (the local pool), and
    ``processes`` (psutil.Process objects of the cluster: the scheduler, and the workers with their nannies)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    parts = {"this process": own.ru_utime + own.ru_stime, "local pool": kids.ru_utime + kids.ru_stime,
             "scheduler": 0.0, "workers and nannies": 0.0}
    for proc in processes:
        with contextlib.suppress(Exception):
            t = proc.cpu_times()
            name = "scheduler" if "scheduler" in " ".join(proc.cmdline()) else "workers and nannies"
            parts[name] += t.user + t.system
    return parts


def _run(runner, grid: list[sweep.Cell], processes: list | None = None) -> tuple[float, dict, list[dict]]:
    """(wall seconds, CPU seconds of every process involved by part, rows) of one sweep."""
    cpu, start = _cpu(processes or []), time.perf_counter()
    rows = sweep.run_sweep(grid, runner=runner)
    wall, after = time.perf_counter() - start, _cpu(processes or [])
    return wall, {k: after[k] - cpu[k] for k in cpu}, rows


def _cluster_processes() -> list:
    """This process's children that are Dask scheduler or worker processes, with theirs."""
    import psutil

    return psutil.Process().children(recursive=True)


def measure(mode: str, grid: list[sweep.Cell]) -> dict:
    """One mode's figures: wall seconds, runs per minute, the rows' own seconds; and for the cluster the time to
    start it and to connect."""
    from rnnviz.core.explore import sweep_dask

    result: dict = {"mode": mode, "cells": len(grid)}
    if mode == "plain":
        start = time.perf_counter()
        seconds, cpu = [], []
        for cell in grid:
            t, c = time.perf_counter(), time.process_time()
            row = sweep.train_cell(cell)
            seconds.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            assert row["status"] == "ok", row["error"]
        result.update(slots=1, wall=time.perf_counter() - start, row_seconds=seconds, cpu_seconds=cpu)
    elif mode.startswith("local"):
        slots = int(mode[len("local"):])
        wall, cpu, rows = _run(sweep.SweepRunner(grid, processes=slots), grid)
        result.update(slots=slots, wall=wall, cpu=sum(cpu.values()), cpu_parts=cpu, row_seconds=[r["seconds"] for r in rows], rows=rows)
    else:
        slots = int(mode[len("cluster"):])
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter()
            with command_cluster(Path(folder), workers=slots) as address:
                result["cluster_start"] = time.perf_counter() - t
                t = time.perf_counter()
                runner = sweep_dask.make_runner(grid, scheduler=address)
                result["connect"] = time.perf_counter() - t
                wall, cpu, rows = _run(runner, grid, _cluster_processes())
        result.update(slots=slots, wall=wall, cpu=sum(cpu.values()), cpu_parts=cpu, row_seconds=[r["seconds"] for r in rows], rows=rows)
    result["runs_per_minute"] = 60.0 * len(grid) / result["wall"]
    return result


def same_rows(a: list[dict], b: list[dict]) -> bool:
    """Rows equal in every field but the seconds (NaN equal to NaN, as the CSV writes both empty)."""
    def clean(row: dict) -> str:
        return repr({k: v for k, v in sorted(row.items()) if k != "seconds"})    # repr: nan == nan

    return len(a) == len(b) and all(clean(x) == clean(y) for x, y in zip(a, b))


def overhead(result: dict, plain: list[float], plain_cpu: list[float]) -> dict:
    """The engine's overhead per run (module docstring), in seconds and as % of the mean plain run; and in CPU
    seconds."""
    slots, wall, n = result["slots"], result["wall"], result["cells"]
    total = (slots * wall - sum(plain)) / n
    around = (slots * wall - sum(result["row_seconds"])) / n
    mean = float(np.mean(plain))
    out = {"overhead_s": total, "overhead_pct": 100 * total / mean, "around_runs_s": around,
           "inside_runs_s": total - around}
    if "cpu" in result:
        cpu = (result["cpu"] - sum(plain_cpu)) / n
        out.update(overhead_cpu_s=cpu, overhead_cpu_pct=100 * cpu / float(np.mean(plain_cpu)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench.sweep_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--epochs", type=int, help="epochs per cell (the preset's 10 by default)")
    parser.add_argument("--rounds", type=int, default=1, help="times each mode runs, interleaved (1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    modes = ["plain"] + [m.strip() for m in args.modes.split(",") if m.strip() and m.strip() != "plain"]
    grid = cells(args.epochs)
    rounds: dict[str, list[dict]] = {m: [] for m in modes}
    for _ in range(max(1, args.rounds)):
        for m in modes:
            rounds[m].append(measure(m, grid))
    results = {m: dict(min(rs, key=lambda r: r["wall"]), walls=[r["wall"] for r in rs]) for m, rs in rounds.items()}
    plain = [min(r["row_seconds"][i] for r in rounds["plain"]) for i in range(len(grid))]
    plain_cpu = [min(r["cpu_seconds"][i] for r in rounds["plain"]) for i in range(len(grid))]
    results["plain"].update(row_seconds=plain, cpu_seconds=plain_cpu, wall=sum(plain),
                            runs_per_minute=60.0 * len(grid) / sum(plain))
    local = next((m for m in results if m.startswith("local")), None)     # the rows the others must equal
    reference = results[local]["rows"] if local else None
    for m, r in results.items():
        r.update(overhead(r, plain, plain_cpu))
        rows = r.pop("rows", None)
        if rows is not None and reference is not None and m != local:
            r["same_rows_as_local"] = same_rows(rows, reference)
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
               "load_average": os.getloadavg()}
    with contextlib.suppress(ImportError):
        import distributed

        machine["distributed"] = distributed.__version__
    if args.json:
        print(json.dumps({"machine": machine, "plain_run_seconds": [min(plain), float(np.mean(plain)), max(plain)],
                          "results": results}, indent=1))
        return 0
    print(f"4x4 negation grid, runs of {min(plain):.2f}-{max(plain):.2f} s (mean {np.mean(plain):.2f} s) "
          f"trained alone; {machine}")
    print(f"{'mode':<9} {'slots':>5} {'wall s':>7} {'runs/min':>8} {'overhead/run':>13} {'around':>7} {'inside':>7}"
          f" {'CPU overhead/run':>16}  extra")
    for m, r in results.items():
        extra = []
        if "cluster_start" in r:
            extra.append(f"cluster start {r['cluster_start']:.1f} s, connect {r['connect']:.2f} s")
        if "same_rows_as_local" in r:
            extra.append("rows = local" if r["same_rows_as_local"] else "ROWS DIFFER")
        if len(r["walls"]) > 1:
            extra.append("walls " + " ".join(f"{w:.1f}" for w in r["walls"]))
        print(f"{m:<9} {r['slots']:>5} {r['wall']:>7.1f} {r['runs_per_minute']:>8.1f} "
              f"{r['overhead_s']:>6.3f} s {r['overhead_pct']:>4.1f}% {r['around_runs_s']:>6.3f} "
              f"{r['inside_runs_s']:>7.3f} {r.get('overhead_cpu_s', 0.0):>8.3f} s {r.get('overhead_cpu_pct', 0.0):>5.1f}%"
              f"  {'; '.join(extra)}")
    return 0


if __name__ == "__main__":
    from rnnviz.core.train.spawn import ONE_THREAD_ENV

    if any(os.environ.get(k) != v for k, v in ONE_THREAD_ENV.items()):
        # "plain" trains in this process: one BLAS thread, as the sweep's processes and Dask's workers have; numpy
        # is already loaded, so start again with the variables set
        os.execve(sys.executable, [sys.executable, "-m", "rnnviz.bench.sweep_bench", *sys.argv[1:]],
                  {**os.environ, **ONE_THREAD_ENV})
    sys.exit(main())
