"""Hyperparameter sweep: a grid of settings, each cell trained by the ordinary Trainer in a worker process.

``--grid lr=0.01,0.1 --grid hidden=16,32`` expands to the 2 x 2 = 4 configs ``base.replace(lr=.., hidden=..)``;
every cell trains for ``epochs`` epochs from the same seed, so a cell's numbers are exactly those of
``Trainer(cell.config).train()`` run by hand. Cells run in min(cores, cells) spawned processes with one BLAS
thread each (small matrices are fastest that way and the processes do not fight over cores).

A cell whose training fails (NaN/Inf, or any exception inside the run) becomes a row with ``status = "failed"``
and its error; the others go on. ``cancel()`` stops everything within a fraction of a second and leaves no
process behind. Qt-free: the window polls ``SweepRunner.poll()`` on a timer, the CLI calls ``run_sweep``.
While a cell trains, its progress events carry its loss curves so far (every ``CURVE_EVERY`` seconds), so the small
multiples grow live. ``rnnviz.core.explore.sweep_dask`` runs the same cells on a Dask cluster behind the same
interface (``start``, ``poll``, ``cancel``, ``rows``, ``fractions``, ``curves``).
"""
from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import queue
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rnnviz.core.config import FIELD_TYPES, Config, parse_value, unknown_setting
from rnnviz.core.errors import ConfigError
from rnnviz.core.train.spawn import child_environment

PROCESS_NAME = "rnnviz-sweep"
MAX_CELLS = 400
CURVE_POINTS = 300          # training-loss points kept per cell for the small multiples
PROGRESS_EVERY = 0.1        # seconds between progress messages of one worker
CURVE_EVERY = 0.5           # seconds between the loss curves a training cell sends (the live small multiples)
CSV_METRICS = ("val_loss", "val_accuracy", "val_perplexity", "train_loss", "epochs", "steps", "seconds",
               "status", "error")


# --- the grid -------------------------------------------------------------------------------------------
def parse_grid(text: str) -> tuple[str, list[Any]]:
    """``"lr=0.01,0.1"`` -> ("lr", [0.01, 0.1]); a ConfigError naming the problem otherwise."""
    if "=" not in text:
        raise ConfigError("grid", f"expected key=value1,value2,… (e.g. lr=0.01,0.1), got {text!r}")
    key, _, rest = text.partition("=")
    key = key.strip().replace("-", "_")
    if not key:
        raise ConfigError("grid", f"no setting name before '=' in {text!r}")
    if key not in FIELD_TYPES:
        raise unknown_setting(key, " in --grid")
    items = [v.strip() for v in rest.split(",")]
    if not rest.strip() or any(not v for v in items):
        raise ConfigError(key, f"--grid needs comma-separated values with none empty, got {rest!r}")
    values = [parse_value(key, v) for v in items]
    if len(set(map(repr, values))) != len(values):
        raise ConfigError(key, f"--grid lists a value twice: {rest!r}")
    return key, values


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its index, the settings that vary (key -> value) and the full config."""

    index: int
    settings: dict
    config: Config

    def label(self) -> str:
        return ", ".join(f"{k}={format_value(v)}" for k, v in self.settings.items())


def format_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def expand_grid(base: Config, grid: list[tuple[str, list[Any]]]) -> list[Cell]:
    """Every combination of the grid's values (the first key varies slowest), each validated against ``base``.

    A value the config rejects raises ConfigError here, before anything is trained."""
    if not grid:
        raise ConfigError("grid", "give at least one --grid key=value1,value2")
    keys = [k for k, _ in grid]
    for k in keys:
        if keys.count(k) > 1:
            raise ConfigError(k, "appears in more than one --grid")
    n = math.prod(len(v) for _, v in grid)
    if n > MAX_CELLS:
        raise ConfigError("grid", f"{n} cells is too many (at most {MAX_CELLS})")
    cells = []
    for i, combo in enumerate(itertools.product(*[v for _, v in grid])):
        settings = dict(zip(keys, combo))
        cells.append(Cell(i, settings, base.replace(**settings)))
    return cells


# --- one cell (runs in the worker process) --------------------------------------------------------------
def _decimate(steps: np.ndarray, values: np.ndarray, n: int = CURVE_POINTS) -> tuple[list, list]:
    if len(steps) > n:
        idx = np.unique(np.linspace(0, len(steps) - 1, n).round().astype(int))
        steps, values = steps[idx], values[idx]
    return [int(s) for s in steps], [float(v) for v in values]


def curves(trainer: Any) -> dict:
    """A run's loss curves so far: train_steps / train_losses (every batch's loss, decimated to CURVE_POINTS)
    and val_steps / val_losses (every evaluation)."""
    steps, losses = trainer.loss_history.view()
    train_steps, train_losses = _decimate(steps, losses[:, 0])
    return {"train_steps": train_steps, "train_losses": train_losses,
            "val_steps": [int(e["step"]) for e in trainer.eval_history],
            "val_losses": [float(e["val_loss"]) for e in trainer.eval_history]}


def train_cell(cell: Cell, progress: Callable[[dict], None] = lambda info: None,
               should_stop: Callable[[], bool] = lambda: False, dataset: Any = None,
               progress_every: float = PROGRESS_EVERY) -> dict:
    """Train one cell to its epochs; the result row (never raises for a failing run: status says what happened).

    Row: the cell's settings, val_loss / val_accuracy / val_perplexity of the last evaluation, train_loss of
    the last batch, epochs and steps done, seconds, status ("ok", "failed", "cancelled"), error, and the
    curves (train_steps, train_loss decimated to CURVE_POINTS, val_steps, val_loss) for the small multiples.
    ``progress`` gets {index, fraction, step, epoch} every ``progress_every`` seconds, and also the curves so
    far every CURVE_EVERY seconds; ``should_stop`` is asked before every step.
    """
    from rnnviz.core.train.trainer import Trainer

    nan = float("nan")
    row: dict[str, Any] = {"index": cell.index, "settings": dict(cell.settings), "val_loss": nan,
                           "val_accuracy": nan, "val_perplexity": nan, "train_loss": nan, "epochs": 0, "steps": 0,
                           "seconds": 0.0, "status": "ok", "error": "", "train_steps": [], "train_losses": [],
                           "val_steps": [], "val_losses": []}
    start = time.perf_counter()
    trainer = None
    try:
        with np.errstate(all="ignore"):
            trainer = Trainer(cell.config, dataset=dataset)
            total = trainer.steps_per_epoch * trainer.config.epochs
            last, last_curve = 0.0, -float("inf")        # the first progress message carries a curve
            while not trainer.done:
                if should_stop():
                    row["status"], row["error"] = "cancelled", "cancelled"
                    break
                trainer.step()
                now = time.perf_counter()
                if now - last >= progress_every or trainer.done:
                    last = now
                    info = {"index": cell.index, "fraction": trainer.step_count / max(total, 1),
                            "step": trainer.step_count, "epoch": trainer.epoch}
                    if now - last_curve >= CURVE_EVERY and not trainer.done:   # the row brings the last curves
                        last_curve = now
                        info.update(curves(trainer))
                    progress(info)
    except Exception as exc:
        row["status"] = "failed"
        row["error"] = " ".join((str(exc) or type(exc).__name__).split())
    row["seconds"] = time.perf_counter() - start
    if trainer is not None:
        ev = trainer.last_eval
        if ev is not None:
            row["val_loss"] = float(ev["val_loss"])
            row["val_accuracy"] = nan if ev["val_accuracy"] is None else float(ev["val_accuracy"])
            row["val_perplexity"] = nan if ev["val_perplexity"] is None else float(ev["val_perplexity"])
        row["train_loss"] = float(trainer.last_loss)
        row["epochs"], row["steps"] = int(trainer.epoch), int(trainer.step_count)
        row.update(curves(trainer))
    return row


def _data_key(config: Config) -> tuple:
    """The settings that decide the Dataset: cells that agree on them share one loaded Dataset."""
    names = ("dataset task tokenize lowercase min_freq max_vocab sos eos val_fraction n_examples delay window "
             "column max_len seed").split()
    return tuple(getattr(config, n) for n in names)


def _worker_main(tasks: Any, results: Any, cancel: Any, cells: list[Cell]) -> None:
    """A sweep worker process: take cell indices until None, train each, send progress and the row."""
    datasets: dict[tuple, Any] = {}
    try:
        while not cancel.is_set():
            index = tasks.get()
            if index is None:
                break
            cell = cells[index]
            results.put(("started", {"index": index}))
            dataset = None
            try:
                from rnnviz.core.data.load import load_dataset

                key = _data_key(cell.config)
                if key not in datasets:
                    datasets[key] = load_dataset(cell.config)
                dataset = datasets[key]
            except Exception:
                dataset = None        # train_cell loads it again and reports the error in the row
            row = train_cell(cell, progress=lambda info: results.put(("progress", info)),
                             should_stop=cancel.is_set, dataset=dataset)
            results.put(("done", row))
    except (KeyboardInterrupt, EOFError, OSError):
        pass
    except Exception:
        results.put(("crash", traceback.format_exc(limit=4)))


# --- the runner (parent side) ---------------------------------------------------------------------------
CURVE_KEYS = ("train_steps", "train_losses", "val_steps", "val_losses")


class RunnerBookkeeping:
    """What every sweep runner keeps and how it reads events: this module's process pool and the Dask runner of
    ``sweep_dask`` share it, so the CLI and the window drive both the same way.

    ``rows``: the finished rows by cell index; ``fractions``: each cell's progress in [0, 1]; ``curves``: the loss
    curves so far of each cell that is training (a finished cell's are in its row)."""

    cells: list[Cell]
    rows: dict
    fractions: dict
    curves: dict
    _stopped: bool

    @property
    def progress(self) -> float:
        """Overall fraction done, in [0, 1]."""
        if not self.cells:
            return 1.0
        return sum(1.0 if i in self.rows else self.fractions.get(i, 0.0) for i in range(len(self.cells))) \
            / len(self.cells)

    @property
    def finished(self) -> bool:
        return self._stopped or len(self.rows) == len(self.cells)

    def _take(self, item: tuple[str, Any]) -> tuple[str, Any]:
        kind, payload = item
        if kind == "progress" and payload["index"] not in self.rows:
            self.fractions[payload["index"]] = float(payload["fraction"])
            if "train_steps" in payload:
                self.curves[payload["index"]] = {k: payload[k] for k in CURVE_KEYS}
        elif kind == "done":
            self.rows[payload["index"]] = payload
            self.curves.pop(payload["index"], None)
        return kind, payload


@dataclass
class SweepRunner(RunnerBookkeeping):
    """Runs ``cells`` in ``processes`` worker processes. ``start()``, then ``poll()`` until ``finished``.

    poll() returns the events that arrived: ("started", {index}), ("progress", {index, fraction, step, epoch} and
    every CURVE_EVERY seconds the curves so far), ("done", row). ``rows``, ``fractions`` and ``curves`` as in
    RunnerBookkeeping.
    """

    cells: list[Cell]
    processes: int = 0                    # 0: min(cores, cells)
    rows: dict = field(default_factory=dict)
    fractions: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    cancelled: bool = False
    started_at: float = 0.0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.processes <= 0:
            self.processes = min(os.cpu_count() or 1, len(self.cells))
        self.processes = max(1, min(self.processes, len(self.cells)))
        self._procs: list[Any] = []
        self._stopped = False

    def describe(self) -> str:
        """Where the cells train, for a status line."""
        return f"{self.processes} processes"

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._tasks, self._results, self._cancel = ctx.Queue(), ctx.Queue(), ctx.Event()
        for cell in self.cells:
            self._tasks.put(cell.index)
        for _ in range(self.processes):
            self._tasks.put(None)
        self.started_at = time.perf_counter()
        with child_environment():   # the children get one BLAS thread and do not re-run the caller's __main__
            for _ in range(self.processes):
                proc = ctx.Process(target=_worker_main, name=PROCESS_NAME, daemon=True,
                                   args=(self._tasks, self._results, self._cancel, self.cells))
                proc.start()
                self._procs.append(proc)

    def poll(self, timeout: float = 0.0) -> list[tuple[str, Any]]:
        """Events that have arrived (waiting up to ``timeout`` seconds for the first)."""
        events: list[tuple[str, Any]] = []
        if self._stopped:
            return events
        try:
            item = self._results.get(timeout=timeout) if timeout > 0 else self._results.get_nowait()
            while True:
                events.append(self._take(item))
                item = self._results.get_nowait()
        except queue.Empty:
            pass
        if len(self.rows) < len(self.cells) and not any(p.is_alive() for p in self._procs):
            # every worker has ended but some cells have no row (a worker died): mark them, never hang
            try:
                while True:
                    events.append(self._take(self._results.get(timeout=0.2)))
            except queue.Empty:
                pass
            for cell in self.cells:
                if cell.index not in self.rows:
                    row = failed_row(cell, "the worker process ended unexpectedly")
                    self.rows[cell.index] = row
                    events.append(("done", row))
        if len(self.rows) == len(self.cells):
            self._finish()
        return events

    def cancel(self) -> float:
        """Stop every worker now; cells not finished become "cancelled" rows. Returns the seconds it took."""
        start = time.perf_counter()
        if self._stopped:
            return 0.0
        self.cancelled = True
        if hasattr(self, "_cancel"):
            self._cancel.set()
        # a clean exit takes 0.2-0.3 s here (interpreter teardown); nothing of a cancelled run is kept and the
        # children write no files, so after a short grace they are terminated
        self._finish(grace=0.05)
        for cell in self.cells:
            if cell.index not in self.rows:
                self.rows[cell.index] = failed_row(cell, "cancelled", status="cancelled")
        return time.perf_counter() - start

    def _finish(self, grace: float = 2.0) -> None:
        """Join the workers (terminate any that do not end within ``grace`` seconds) and close the queues."""
        if self._stopped:
            return
        self._stopped = True
        deadline = time.perf_counter() + grace
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.perf_counter()))
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(0.5)
            if proc.is_alive():
                proc.kill()
                proc.join(0.5)
        for q in (getattr(self, "_tasks", None), getattr(self, "_results", None)):
            if q is not None:
                q.cancel_join_thread()
                q.close()
        self.seconds = time.perf_counter() - self.started_at

    def alive(self) -> list[Any]:
        return [p for p in self._procs if p.is_alive()]


def failed_row(cell: Cell, error: str, status: str = "failed") -> dict:
    nan = float("nan")
    return {"index": cell.index, "settings": dict(cell.settings), "val_loss": nan, "val_accuracy": nan,
            "val_perplexity": nan, "train_loss": nan, "epochs": 0, "steps": 0, "seconds": 0.0, "status": status,
            "error": error, "train_steps": [], "train_losses": [], "val_steps": [], "val_losses": []}


def run_sweep(cells: list[Cell], processes: int = 0,
              on_event: Callable[[str, Any, Any], None] = lambda kind, payload, runner: None,
              runner: Any = None) -> list[dict]:
    """Run every cell (blocking) and return the rows in cell order. Ctrl+C cancels cleanly.

    ``runner``: a runner made for these cells (e.g. ``sweep_dask.make_runner``); by default a SweepRunner with
    ``processes`` processes."""
    if runner is None:
        runner = SweepRunner(cells, processes=processes)
    runner.start()
    try:
        while not runner.finished:
            for kind, payload in runner.poll(timeout=0.05):
                on_event(kind, payload, runner)
    finally:
        if not runner.finished:
            runner.cancel()
    return [runner.rows[c.index] for c in cells]


# --- output ---------------------------------------------------------------------------------------------
def csv_rows(rows: list[dict], keys: list[str]) -> list[dict]:
    """The CSV's rows: one per cell, the grid settings then CSV_METRICS (NaN written as empty)."""
    out = []
    for row in rows:
        line = {k: row["settings"][k] for k in keys}
        for m in CSV_METRICS:
            v = row[m]
            line[m] = "" if isinstance(v, float) and math.isnan(v) else v
        out.append(line)
    return out


def csv_text(rows: list[dict], keys: list[str]) -> str:
    """The CSV file of the rows (``csv_rows``), header first."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(keys) + list(CSV_METRICS))
    writer.writeheader()
    writer.writerows(csv_rows(rows, keys))
    return out.getvalue()


def write_csv(path: Any, rows: list[dict], keys: list[str]) -> None:
    """Write the CSV to ``path`` atomically (``files.atomic_write_text``: the old file or the new one, never half)."""
    from rnnviz.core.files import atomic_write_text

    atomic_write_text(path, csv_text(rows, keys))


def table(rows: list[dict], keys: list[str]) -> str:
    """A plain-text table of the rows, for the terminal."""
    head = list(keys) + ["val_loss", "val_acc", "perplexity", "train_loss", "steps", "seconds", "status"]

    def num(v: float, fmt: str = ".4f") -> str:
        return "-" if v != v else format(v, fmt)

    lines = [head]
    for r in rows:
        lines.append([format_value(r["settings"][k]) for k in keys]
                     + [num(r["val_loss"]), num(r["val_accuracy"], ".1%"), num(r["val_perplexity"], ".3f"),
                        num(r["train_loss"]), str(r["steps"]), f"{r['seconds']:.2f}",
                        r["status"] + (f": {r['error'][:60]}" if r["status"] != "ok" else "")])
    widths = [max(len(line[i]) for line in lines[:]) if i < len(head) - 1 else 0 for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)
