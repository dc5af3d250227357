"""How fast a sweep runs: runs per minute and the engine's overhead per run, local processes against a Dask cluster.

    python -m rnnviz.bench.sweep_bench [--modes local1,local2,cluster2] [--epochs N] [--rounds R] [--json]
                                       [--cluster-env NAME=VALUE ...]

The grid is the negation preset's 4 x 4 (lr 0.003, 0.01, 0.03, 0.1 x hidden 8, 16, 32, 64; 2,000 examples, 10
epochs by default; ``--epochs 40`` gives runs of about 1 CPU-second). Modes:
- ``local1`` / ``local2``: ``rnnviz sweep``'s local pool with 1 or 2 processes;
- ``cluster2``: the real commands a lab types, ``dask scheduler`` and two ``dask worker --nthreads 1 --nworkers
  1`` on 127.0.0.1 (random ports), started afresh every round, then two sweeps on it: ``cold`` (the first sweep a
  new cluster sees) and ``warm`` (the next one: a lab's cluster runs for days, so this is its usual case).
  Starting the cluster and connecting to it are timed apart from the sweeps;
- ``cluster2quiet``: the same commands with the settings of QUIET_ENV.

What a mode is compared with: the same cells trained with no engine at all, as many at once as the mode has slots
(``plain1``: one after the other in this process; ``plain2``: two bare processes, each taking the next cell). In
both the training code is imported and the dataset loaded before the clock starts (a sweep's worker also loads
it once and keeps it), and each cell's seconds and CPU seconds are those of its own training thread. Two runs at
once on two cores are slower per run than one alone (they share caches, memory and the machine's other work);
comparing a two-slot mode with ``plain2`` keeps that out of the engine's overhead.

The engine's overhead per run, for a mode with ``slots`` slots that runs the ``cells`` in ``wall`` seconds (from
``start()`` to the last row), against its plain mode's per-cell seconds ``t`` and CPU seconds ``c``:

    overhead per run      = (slots * wall - sum(t)) / cells           also as % of mean(t)
    CPU overhead per run  = (CPU seconds of every process involved during the sweep - sum(c)) / cells
                                                                       also as % of mean(c)

The wall-clock figure counts every second of the slots that did not go into the work: starting processes,
sending cells, rows, progress and curves, asking the stop flag, loading data, the slot left idle while the last
cell finishes. The CPU figure counts this process, the local pool's processes, and the cluster's scheduler,
nannies and workers (all their threads: the Dask worker's event loop, profiler and monitors too). Both charge the
one-off start-up that happens inside the sweep to its runs: the local pool starts its processes for every sweep
(``startup`` states the CPU seconds of one such process: interpreter, imports, dataset); a cluster's processes are
started before (``cluster start``) and the connection, which makes every worker import the training code, is
timed apart (``connect``). Costs that run by the second (heartbeats, the workers' monitors and profiler, the
nannies) are charged by the wall-clock second: on a busy machine, where every run takes longer, they weigh more
per run than on an idle one.

The modes run in turn, ``--rounds`` times (interleaved, so a busy moment of the machine hits them alike); each
round's overhead is taken against that round's plain mode, and the figures shown are the medians over the rounds
(with the range for the CPU overhead).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from rnnviz.core.explore import sweep
from rnnviz.core.files import open_log
from rnnviz.core.presets import load_preset
from rnnviz.core.train.spawn import child_environment

GRID = [("lr", [0.003, 0.01, 0.03, 0.1]), ("hidden", [8, 16, 32, 64])]
MODES = ("local1", "local2", "cluster2", "cluster2quiet")
# Dask settings that make an idle cluster cost a fifth as much CPU per second (docs/cluster.md, "Quieter
# workers"): the event-loop watchdog every second instead of every 20 ms, the nanny's memory check every second
# instead of every 100 ms, and no statistical profiler in the workers
QUIET_ENV = {"DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",
             "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "1s",
             "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
IDLE_SECONDS = 5.0      # the cluster left idle after its sweeps, to measure what it costs by the second anyway


def cells(epochs: int | None = None) -> list[sweep.Cell]:
    cfg = load_preset("negation").config
    return sweep.expand_grid(cfg.replace(epochs=epochs) if epochs else cfg, GRID)


def dask_command() -> str:
    """The ``dask`` command beside this Python (the cluster extra installs it)."""
    path = Path(sys.executable).with_name("dask")
    return str(path) if path.exists() else "dask"


@contextlib.contextmanager
def command_cluster(folder: Path, workers: int = 2, timeout: float = 60.0,
                    env: dict[str, str] | None = None) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` times ``dask worker ADDRESS --nthreads 1 --nworkers 1`` on 127.0.0.1
    with random ports (logs in ``folder``; ``env``: variables added to their environment, e.g. Dask settings);
    yields the scheduler's address once every worker has joined, and stops them all on the way out (SIGTERM,
    then SIGKILL for any process of theirs left after 15 s).

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
            procs.append(subprocess.Popen([dask, *args], stdout=out, stderr=subprocess.STDOUT,
                                          env={**os.environ, **(env or {})}))

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


# --- training with no engine (in this process or in bare pool processes) ---------------------------------------
_DATASETS: dict[tuple, Any] = {}


def plain_cell(cell: sweep.Cell) -> tuple[dict, float, float]:
    """Train one cell with no engine around it: (row, seconds, CPU seconds of this thread). The dataset is loaded
    and the training code imported before the clock starts, once per process, as a sweep worker does."""
    from rnnviz.core.data.load import load_dataset
    from rnnviz.core.train.trainer import Trainer  # noqa: F401  (imported before the clock starts)

    key = sweep._data_key(cell.config)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(cell.config)
    start, cpu = time.perf_counter(), time.thread_time()
    row = sweep.train_cell(cell, dataset=_DATASETS[key])
    return row, time.perf_counter() - start, time.thread_time() - cpu


def _startup_probe(config: Any) -> None:
    """What a local pool process does before its first cell: the imports, and the dataset."""
    from rnnviz.core.data.load import load_dataset
    from rnnviz.core.train.trainer import Trainer  # noqa: F401

    load_dataset(config)


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def local_startup_cpu(grid: list[sweep.Cell]) -> float:
    """CPU seconds of one spawned process that starts, imports what a local pool process imports, loads the
    dataset and ends: the one-off cost of each of the local pool's processes."""
    ctx = multiprocessing.get_context("spawn")
    before = _children_cpu()
    with child_environment():
        proc = ctx.Process(target=_startup_probe, args=(grid[0].config,), name="rnnviz-bench-startup")
        proc.start()
    proc.join()
    return _children_cpu() - before


def measure_plain(grid: list[sweep.Cell], slots: int) -> dict:
    """The plain mode with ``slots`` at once: each cell's row, seconds and CPU seconds."""
    start = time.perf_counter()
    if slots == 1:
        out = [plain_cell(cell) for cell in grid]
    else:
        ctx = multiprocessing.get_context("spawn")
        with child_environment(), ctx.Pool(slots) as pool:      # one BLAS thread, as the sweeps' processes
            out = pool.map(plain_cell, grid, chunksize=1)
    for row, _, _ in out:
        assert row["status"] == "ok", row["error"]
    return {"mode": f"plain{slots}", "slots": slots, "wall": time.perf_counter() - start,
            "row_seconds": [o[1] for o in out], "cpu_seconds": [o[2] for o in out], "rows": [o[0] for o in out]}


# --- the engines ---------------------------------------------------------------------------------------------
def _cpu(processes: list) -> float:
    """CPU seconds (user + system) used so far by this process, its waited-for children (the local pool), and
    ``processes`` (psutil.Process objects of the cluster: the scheduler, and the workers with their nannies)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime + _children_cpu()
    for proc in processes:
        with contextlib.suppress(Exception):
            t = proc.cpu_times()
            total += t.user + t.system
    return total


def _run(runner: Any, grid: list[sweep.Cell], processes: list | None = None) -> dict:
    """Wall seconds, CPU seconds of every process involved, and the rows of one sweep."""
    cpu, start = _cpu(processes or []), time.perf_counter()
    rows = sweep.run_sweep(grid, runner=runner)
    wall, after = time.perf_counter() - start, _cpu(processes or [])
    return {"wall": wall, "cpu": after - cpu, "row_seconds": [r["seconds"] for r in rows], "rows": rows}


def measure_local(grid: list[sweep.Cell], slots: int) -> dict:
    return {"mode": f"local{slots}", "slots": slots, **_run(sweep.SweepRunner(grid, processes=slots), grid)}


def _kind(proc: Any) -> str:
    """What a process of the cluster is: scheduler, nanny (the ``dask worker`` command), worker (the process the
    nanny starts, which trains) or other (multiprocessing's resource tracker)."""
    line = " ".join(proc.cmdline())
    if "scheduler" in line:
        return "scheduler"
    if "spawn_main" in line:
        return "worker"
    return "other" if "resource_tracker" in line else "nanny"


def _threads(processes: list) -> dict[tuple[int, int], float]:
    """CPU seconds of every thread of ``processes``, by (pid, thread id)."""
    out = {}
    for proc in processes:
        with contextlib.suppress(Exception):
            for t in proc.threads():
                out[(proc.pid, t.id)] = t.user_time + t.system_time
    return out


def cluster_parts(processes: list, before: dict, after: dict) -> dict[str, float]:
    """Where the cluster's CPU seconds went between two ``_threads`` snapshots: the training threads (in each
    worker process the thread that used the most), the workers' other threads (event loop: messages, heartbeats,
    monitors, the statistical profiler), the scheduler, the nannies."""
    kinds = {proc.pid: _kind(proc) for proc in processes}
    parts = {"training threads": 0.0, "workers' other threads": 0.0, "scheduler": 0.0, "nannies": 0.0}
    by_process: dict[int, list[float]] = {}
    for key, value in after.items():
        by_process.setdefault(key[0], []).append(value - before.get(key, 0.0))
    for pid, deltas in by_process.items():
        kind = kinds.get(pid, "other")
        if kind == "worker":
            parts["training threads"] += max(deltas)
            parts["workers' other threads"] += sum(deltas) - max(deltas)
        elif kind in ("scheduler", "nanny"):
            parts["scheduler" if kind == "scheduler" else "nannies"] += sum(deltas)
    return parts


def measure_cluster(grid: list[sweep.Cell], mode: str, env: dict[str, str] | None = None) -> list[dict]:
    """A fresh cluster of ``slots`` one-thread workers, then a cold and a warm sweep on it; with each sweep's CPU
    seconds by part of the cluster (``cluster_parts``) and of this process."""
    import psutil

    from rnnviz.core.explore import sweep_dask

    out, slots = [], mode_slots(mode)
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        with command_cluster(Path(folder), workers=slots, env=env) as address:
            cluster_start = time.perf_counter() - t
            processes = psutil.Process().children(recursive=True)
            for name in ("cold", "warm"):
                cpu, t = _cpu(processes), time.perf_counter()
                runner = sweep_dask.make_runner(grid, scheduler=address)
                connect, connect_cpu = time.perf_counter() - t, _cpu(processes) - cpu
                own, threads = resource.getrusage(resource.RUSAGE_SELF), _threads(processes)
                result = _run(runner, grid, processes)
                own_after = resource.getrusage(resource.RUSAGE_SELF)
                parts = cluster_parts(processes, threads, _threads(processes))
                parts["this process"] = (own_after.ru_utime + own_after.ru_stime) - (own.ru_utime + own.ru_stime)
                out.append({"mode": f"{mode}-{name}", "slots": slots, "cluster_start": cluster_start,
                            "connect": connect, "connect_cpu": connect_cpu, "cpu_parts": parts, **result})
            threads, t = _threads(processes), time.perf_counter()
            time.sleep(IDLE_SECONDS)
            idle = cluster_parts(processes, threads, _threads(processes))
            for r in out:            # what the cluster costs by the second with nothing to do, over the sweep's wall
                r["idle_cpu_per_second"] = sum(idle.values()) / (time.perf_counter() - t)
    return out


# --- the figures ---------------------------------------------------------------------------------------------
def same_rows(a: list[dict], b: list[dict]) -> bool:
    """Rows equal in every field but the seconds (NaN equal to NaN, as the CSV writes both empty)."""
    def clean(row: dict) -> str:
        return repr({k: v for k, v in sorted(row.items()) if k != "seconds"})    # repr: nan == nan

    return len(a) == len(b) and all(clean(x) == clean(y) for x, y in zip(a, b))


def overhead(result: dict, plain: dict) -> dict:
    """One sweep's overhead per run against the plain mode of the same round with as many slots (module
    docstring): in seconds and CPU seconds, each also as % of the plain mean."""
    n, slots = len(result["row_seconds"]), result["slots"]
    t, c = plain["row_seconds"], plain["cpu_seconds"]
    wall = (slots * result["wall"] - sum(t)) / n
    cpu = (result["cpu"] - sum(c)) / n
    out = {"overhead_s": wall, "overhead_pct": 100 * wall / float(np.mean(t)),
           "overhead_cpu_s": cpu, "overhead_cpu_pct": 100 * cpu / float(np.mean(c))}
    if "cpu_parts" in result:     # the part outside the training threads: small numbers, little disturbed by load
        outside = sum(v for k, v in result["cpu_parts"].items() if k != "training threads") / n
        out.update(outside_training_cpu_s=outside, outside_training_cpu_pct=100 * outside / float(np.mean(c)),
                   training_minus_plain_cpu_s=(result["cpu_parts"]["training threads"] - sum(c)) / n)
    if "idle_cpu_per_second" in result:
        out["idle_share_cpu_s"] = result["idle_cpu_per_second"] * result["wall"] / n
    return out


def summarise(rounds: list[dict]) -> dict:
    """Medians over the rounds of one mode (and the CPU overhead's range)."""
    first = rounds[0]
    out: dict = {"mode": first["mode"], "slots": first["slots"], "rounds": len(rounds)}
    keys = ["wall", "runs_per_minute", "overhead_s", "overhead_pct", "overhead_cpu_s", "overhead_cpu_pct",
            "outside_training_cpu_s", "outside_training_cpu_pct", "training_minus_plain_cpu_s",
            "idle_cpu_per_second", "idle_share_cpu_s",
            "cluster_start", "connect", "connect_cpu"]
    for key in keys:
        values = [r[key] for r in rounds if key in r]
        if values:
            out[key] = statistics.median(values)
    if "overhead_cpu_pct" in first:
        out["overhead_cpu_pct_range"] = [min(r["overhead_cpu_pct"] for r in rounds),
                                         max(r["overhead_cpu_pct"] for r in rounds)]
        out["overhead_cpu_s_range"] = [min(r["overhead_cpu_s"] for r in rounds),
                                       max(r["overhead_cpu_s"] for r in rounds)]
    if "same_rows" in first:
        out["same_rows"] = all(r["same_rows"] for r in rounds)
    if "cpu_parts" in first:                    # per run
        out["cpu_parts_per_run"] = {k: statistics.median(r["cpu_parts"][k] for r in rounds) / len(first["row_seconds"])
                                    for k in first["cpu_parts"]}
    return out


def mode_slots(mode: str) -> int:
    """How many cells a mode trains at once: the number in its name ("local2" -> 2)."""
    return int("".join(ch for ch in mode if ch.isdigit()))


def run_rounds(grid: list[sweep.Cell], modes: list[str], rounds: int,
               cluster_env: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Every mode ``rounds`` times in turn, each round's figures against its own plain modes."""
    slots_needed = sorted({mode_slots(m) for m in modes} | {1})
    found: dict[str, list[dict]] = {}
    for _ in range(max(1, rounds)):
        plain = {k: measure_plain(grid, k) for k in slots_needed}
        results = list(plain.values())
        for mode in modes:
            if mode.startswith("local"):
                results.append(measure_local(grid, mode_slots(mode)))
            elif mode.startswith("cluster"):
                env = {**(QUIET_ENV if mode.endswith("quiet") else {}), **(cluster_env or {})}
                results.extend(measure_cluster(grid, mode, env))
        reference = plain[1]["rows"]
        for r in results:
            r["runs_per_minute"] = 60.0 * len(grid) / r["wall"]
            r["same_rows"] = same_rows(r.pop("rows"), reference)
            if not r["mode"].startswith("plain"):
                r.update(overhead(r, plain[r["slots"]]))
            found.setdefault(r["mode"], []).append(r)
        print(f"round {len(found['plain1'])}: load {os.getloadavg()[0]:.1f}; " + "; ".join(       # on stderr: a long run
            f"{r['mode']} {r['wall']:.1f} s" + (f" {r['overhead_cpu_pct']:+.1f}% CPU" if "overhead_cpu_pct" in r else "")
            for r in results), file=sys.stderr, flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench.sweep_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--epochs", type=int, help="epochs per cell (the preset's 10 by default)")
    parser.add_argument("--rounds", type=int, default=1, help="times each mode runs, interleaved (1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cluster-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable for the cluster's commands, e.g. "
                             "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False (repeatable)")
    args = parser.parse_args(argv)
    cluster_env = dict(item.split("=", 1) for item in args.cluster_env if "=" in item)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r} (choose from {', '.join(MODES)})")
    grid = cells(args.epochs)
    load_before = os.getloadavg()
    found = run_rounds(grid, modes, args.rounds, cluster_env)
    startup = local_startup_cpu(grid) if any(m.startswith("local") for m in modes) else None
    results = {m: summarise(rs) for m, rs in found.items()}
    plain1 = found["plain1"]
    seconds = [min(r["row_seconds"][i] for r in plain1) for i in range(len(grid))]
    cpu = [min(r["cpu_seconds"][i] for r in plain1) for i in range(len(grid))]
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
               "load_average_before": load_before, "load_average_after": os.getloadavg(),
               "cluster_env": cluster_env}
    with contextlib.suppress(ImportError):
        import distributed

        machine["distributed"] = distributed.__version__
    if args.json:
        print(json.dumps({"machine": machine, "plain_run_seconds": [min(seconds), float(np.mean(seconds)),
                                                                     max(seconds)],
                          "plain_run_cpu_seconds": [min(cpu), float(np.mean(cpu)), max(cpu)],
                          "local_startup_cpu_per_process": startup, "results": results,
                          "rounds": found}, indent=1))
        return 0
    print(f"4x4 negation grid, runs of {min(seconds):.2f}-{max(seconds):.2f} s (mean {np.mean(seconds):.2f} s, "
          f"{np.mean(cpu):.2f} CPU-s) trained alone; medians of {max(1, args.rounds)} rounds; {machine}")
    print(f"{'mode':<18} {'slots':>5} {'wall s':>7} {'runs/min':>8} {'overhead/run':>14} "
          f"{'CPU overhead/run (range)':>30}  extra")
    for m, r in results.items():
        extra = []
        if "cluster_start" in r:
            extra.append(f"cluster start {r['cluster_start']:.1f} s, connect {r['connect']:.2f} s "
                         f"({r['connect_cpu']:.2f} CPU-s)")
        if "outside_training_cpu_s" in r:
            extra.append(f"outside the training threads {r['outside_training_cpu_s']:.3f} CPU-s "
                         f"({r['outside_training_cpu_pct']:.1f}%): " + ", ".join(
                             f"{k} {v:.3f}" for k, v in r["cpu_parts_per_run"].items() if k != "training threads")
                         + f"; of it an idle cluster's by the second {r['idle_share_cpu_s']:.3f}")
        if m.startswith("local") and startup is not None:
            extra.append(f"start-up {startup:.2f} CPU-s per process")
        extra.append("rows = plain" if r["same_rows"] else "ROWS DIFFER")
        line = f"{m:<18} {r['slots']:>5} {r['wall']:>7.1f} {r['runs_per_minute']:>8.1f}"
        if "overhead_s" in r:
            lo, hi = r["overhead_cpu_pct_range"]
            line += (f" {r['overhead_s']:>6.3f} s {r['overhead_pct']:>4.1f}% {r['overhead_cpu_s']:>8.3f} s "
                     f"{r['overhead_cpu_pct']:>5.1f}% ({lo:.1f}..{hi:.1f}%)")
        else:
            line += " " * 47
        print(line + "  " + "; ".join(extra))
    return 0


if __name__ == "__main__":
    from rnnviz.core.train.spawn import ONE_THREAD_ENV

    if any(os.environ.get(k) != v for k, v in ONE_THREAD_ENV.items()):
        # plain1 trains in this process: one BLAS thread, as the sweep's processes and Dask's workers have; numpy
        # is already loaded, so start again with the variables set
        os.execve(sys.executable, [sys.executable, "-m", "rnnviz.bench.sweep_bench", *sys.argv[1:]],
                  {**os.environ, **ONE_THREAD_ENV})
    # the module by its own name, so that the plain pool's processes find plain_cell
    from rnnviz.bench import sweep_bench

    sys.exit(sweep_bench.main())
