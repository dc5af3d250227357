"""The sweep on a Dask cluster: the same cells, trained by ``train_cell`` on Dask workers, the same rows.

``make_runner(cells, scheduler="tcp://HOST:8786")`` connects to a running ``dask scheduler`` (one clear
ClusterError within CONNECT_TIMEOUT seconds if it cannot) and returns a DaskSweepRunner with the interface of the
local ``sweep.SweepRunner``: ``start()``, ``poll()`` until ``finished``, ``cancel()``, ``rows``, ``fractions``,
``curves``. With no address it returns the local SweepRunner. ``distributed`` is imported only here and only when
an address is given: the core does not need it (``pip install "rnnviz[cluster]"`` brings it).

How the pieces travel:
- one task per cell (sent in one ``client.map``, a unique key per sweep and cell); the worker calls ``train_cell``
  with the cell's config, so with the same seed a row is the row the local pool gives (workers started by ``dask
  worker`` have one BLAS thread, as the local processes do). At connection every worker imports the training code
  (``worker_versions``), so no run waits for imports;
- progress and the curves so far, every PROGRESS_EVERY seconds (each message costs about 2-3 ms of CPU between
  the worker, the scheduler and this machine, measured on the 2-core Xeon): ``Worker.log_event(topic, msg)`` from
  the training thread, received by
  ``Client.subscribe_topic``. Chosen because it is fire-and-forget on the worker's existing batched stream to the
  scheduler (the training loop never waits for the network, unlike ``Queue.put`` or ``Variable.set`` which are
  round trips), it needs no client inside the task, it keeps each worker's messages in order, and it is what
  distributed itself uses to forward ``print`` from workers. Pub/Sub was not used: it drops messages published
  before the publisher has learnt of its subscribers;
- the results: the futures' own done-callbacks put them in the same queue as the events (so ``poll`` waits on
  one queue; ``concurrent.futures.as_completed`` does not accept Dask futures);
- data files: a cell whose dataset is a file gets its bytes, scattered once per sweep and file (no shared
  filesystem is assumed); each worker writes them once into its local directory and loads them there. At most
  ``MAX_DATA_BYTES`` (the loader's own limit, 64 MB) per file;
- cancelling: a ``distributed.Event`` the training loop asks every STOP_CHECK_EVERY seconds between steps, and
  ``client.cancel`` for the runs not started; the cluster is free again within about a second;
- a worker that dies mid-run: the scheduler would run the task again elsewhere; each attempt first checks a
  per-cell ``distributed.Event`` set by the attempt before it, so the second attempt returns at once with the
  error "worker died: ..." and the cell is failed (grey in the window) with the steps it had done, instead of
  training again from scratch. The other cells go on. A scheduler set to give up at once
  (``distributed.scheduler.allowed-failures: 0``) errs with ``KilledWorker`` instead: a run that had begun is
  failed the same way, a cell that was only waiting on that worker is sent again (at most RESUBMITS times).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import queue
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rnnviz.core.config import GENERATED
from rnnviz.core.data.textfile import MAX_FILE_BYTES
from rnnviz.core.files import atomic_write_bytes
from rnnviz.core.errors import ConfigError, DataError, RnnvizError
from rnnviz.core.explore import sweep

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"   # the address Dask's own tools read too
DEFAULT_PORT = 8786
CONNECT_TIMEOUT = 5.0          # seconds to reach the scheduler before giving up (one line, exit 2)
CONNECT_GRACE = 1.0            # and this much more for the client to be made (see _connect)
PROGRESS_EVERY = sweep.CURVE_EVERY   # seconds between a cluster run's progress messages, each with the curves
STOP_CHECK_EVERY = 0.5         # seconds between a cluster run's looks at the sweep's stop flag
MAX_DATA_BYTES = MAX_FILE_BYTES
WORKER_DIED = "worker died"
RESUBMITS = 3                  # a cell whose worker died before the run began is sent again at most this often
INSTALL = 'pip install "rnnviz[cluster]"'


class ClusterError(RnnvizError):
    """The Dask scheduler cannot be reached or used (one line: the address and what went wrong)."""


def scheduler_address(given: str | None) -> str:
    """The address to use: ``given`` (--scheduler, the window's field), else $DASK_SCHEDULER_ADDRESS, else ""."""
    text = (given if given is not None else os.environ.get(SCHEDULER_ENV, "")).strip()
    return text


def parse_address(text: str) -> tuple[str, str, int]:
    """``"tcp://HOST:8786"`` (or ``tls://``, or ``HOST:PORT``, or ``HOST``) -> (address, host, port)."""
    raw = text.strip()
    url = urlsplit(raw if "://" in raw else f"tcp://{raw}")
    bad = ConfigError("scheduler", f"expected a Dask scheduler address like tcp://HOST:{DEFAULT_PORT}, got {text!r}")
    if url.scheme not in ("tcp", "tls") or not url.hostname or url.path or url.query:
        raise bad
    try:
        port = url.port or DEFAULT_PORT
    except ValueError:
        raise bad from None
    host = url.hostname
    shown = f"[{host}]" if ":" in host else host
    return f"{url.scheme}://{shown}:{port}", host, port


def make_runner(cells: list[sweep.Cell], processes: int = 0, scheduler: str = "") -> Any:
    """The runner for ``cells``: the local SweepRunner without an address, else a DaskSweepRunner connected to it
    (raises ClusterError when the scheduler cannot be reached)."""
    if not scheduler:
        return sweep.SweepRunner(cells, processes=processes)
    return DaskSweepRunner(cells, scheduler)


def _have_distributed() -> bool:
    """Whether ``distributed`` can be imported, without importing it (that takes a second)."""
    try:
        return importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):     # ValueError: hidden as sys.modules["distributed"] = None
        return False


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())


def _probe(address: str, host: str, port: int, timeout: float) -> None:
    """A plain TCP connection first: "connection refused" comes back at once, where Dask would retry until its
    timeout."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.timeout:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: no answer within {timeout:g} s") from None
    except OSError as exc:
        reason = exc.strerror or _one_line(exc)
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {reason.lower()} (is `dask scheduler` "
                           f"running there, on that port?)") from None


def _connect(distributed: Any, address: str, timeout: float) -> Any:
    """A Client of the scheduler at ``address``, or ClusterError within ``timeout`` + CONNECT_GRACE seconds. The
    Client is made in a thread: when something other than a Dask scheduler listens on the port (an HTTP server,
    say), making it hangs past its own timeout."""
    if address.startswith("tls://") and not distributed.Security().tls_ca_file:
        raise ClusterError(f"{address} uses TLS: set DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
                           "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY "
                           "(see docs/cluster.md)")
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, name="rnnviz-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout + CONNECT_GRACE)
    if "client" in box:
        return box["client"]
    if "error" in box:
        raise ClusterError(f"cannot connect to the Dask scheduler at {address}: {_one_line(box['error'])}")
    raise ClusterError(f"no Dask scheduler answered at {address} within {timeout + CONNECT_GRACE:g} s (is "
                       "something else listening on that port?)")


def worker_versions() -> dict:
    """Run on each worker at connection: what it would train with. It also imports the training code there, once
    per worker process, so that the first run on a worker does not wait for it."""
    import platform

    import numpy

    import rnnviz
    from rnnviz.core.data.load import load_dataset  # noqa: F401  (imported for the runs to come)
    from rnnviz.core.train.trainer import Trainer  # noqa: F401

    return {"rnnviz": rnnviz.__version__, "numpy": numpy.__version__, "python": platform.python_version()}


# --- the worker side ------------------------------------------------------------------------------------
_DATASETS: dict[tuple, Any] = {}     # in each worker process: datasets loaded, by data settings and file digest
_KEEP_DATASETS = 8


class _StopFlag:
    """``should_stop`` for train_cell: the sweep's stop Event, asked at most every STOP_CHECK_EVERY seconds."""

    def __init__(self, event: Any) -> None:
        self.event, self.last, self.value = event, time.perf_counter(), False

    def __call__(self) -> bool:
        now = time.perf_counter()
        if not self.value and now - self.last >= STOP_CHECK_EVERY:
            self.last = now
            try:
                self.value = bool(self.event.is_set())
            except Exception:   # the scheduler is away for a moment: train on, ask again later
                self.value = False
        return self.value


def _local_copy(folder: str, path: str, data: bytes) -> tuple[str, str]:
    """Write a data file's bytes once into this worker's folder; (local path, digest)."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = Path(folder) / "rnnviz-data" / digest / Path(path).name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)      # two tasks on one worker may write it at once: each renames a whole file
    return str(target), digest


def _dataset_for(cell: sweep.Cell, files: dict, folder: str) -> Any:
    """The cell's Dataset on this worker: built-in data are generated here, a file is read from its local copy.
    Raises the loader's error with the file's own name in it."""
    from rnnviz.core.data.load import load_dataset

    config, digest = cell.config, ""
    if config.dataset not in GENERATED:
        local, digest = _local_copy(folder, config.dataset, files[config.dataset])
        config = config.replace(dataset=local)
    key = (sweep._data_key(config), digest)
    if key not in _DATASETS:
        try:
            dataset = load_dataset(config)
        except Exception as exc:      # the message names the user's file, not this worker's copy
            raise DataError(str(exc).replace(config.dataset, cell.config.dataset)) from None
        while len(_DATASETS) >= _KEEP_DATASETS:
            _DATASETS.pop(next(iter(_DATASETS)))
        _DATASETS[key] = dataset
    return _DATASETS[key]


def run_cell(cell: sweep.Cell, sweep_id: str, files: dict, version: str) -> dict:
    """One Dask task: train ``cell`` on this worker and return its row (see the module docstring)."""
    from distributed import Event, get_worker

    import rnnviz

    worker = get_worker()
    if rnnviz.__version__ != version:
        return sweep.failed_row(cell, f"the worker {worker.address} has rnnviz {rnnviz.__version__}, the sweep "
                                      f"was started with {version}: install the same version everywhere")
    started = Event(f"{sweep_id}-started-{cell.index}")
    if started.is_set():            # an attempt before this one was running when its worker died
        started.clear()
        return sweep.failed_row(cell, WORKER_DIED)
    started.set()
    try:
        worker.log_event(sweep_id, {"kind": "started", "index": cell.index})
        try:
            dataset = _dataset_for(cell, files, worker.local_directory)
        except Exception as exc:
            return sweep.failed_row(cell, _one_line(exc))
        return sweep.train_cell(cell, progress=lambda info: worker.log_event(sweep_id, dict(info, kind="progress")),
                                should_stop=_StopFlag(Event(f"{sweep_id}-stop")), dataset=dataset,
                                progress_every=PROGRESS_EVERY)
    finally:
        started.clear()


# --- the runner (this machine's side) -------------------------------------------------------------------
class DaskSweepRunner(sweep.RunnerBookkeeping):
    """Runs ``cells`` on the Dask cluster at ``scheduler``. Connects in the constructor (ClusterError if it cannot);
    ``start()``, then ``poll()`` until ``finished``, as the local SweepRunner.

    ``processes``: the cluster's worker threads at connection (how many cells train at once); ``workers``: their
    addresses; ``versions``: what each worker runs (rnnviz, numpy, python); ``where``: cell index -> the address
    of the worker that last reported on it."""

    def __init__(self, cells: list[sweep.Cell], scheduler: str, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.cells = cells
        self.rows: dict = {}
        self.fractions: dict = {}
        self.curves: dict = {}
        self.cancelled = False
        self.started_at = 0.0
        self.seconds = 0.0
        self._stopped = False
        self._inbox: queue.Queue = queue.Queue()
        self._futures: dict[int, Any] = {}
        self._attempts: dict[int, int] = {}    # cell index -> times submitted again (its worker died before it began)
        self.where: dict[int, str] = {}
        self._steps: dict[int, tuple[int, int]] = {}   # cell index -> (step, epoch) last reported
        self.sweep_id = f"rnnviz-sweep-{uuid.uuid4().hex[:12]}"
        self.files = self._read_files(cells)
        self.address, host, port = parse_address(scheduler)
        if not _have_distributed():
            raise ClusterError(f"a sweep on a cluster needs the 'distributed' package: {INSTALL}")
        _probe(self.address, host, port, connect_timeout)
        import distributed

        self._distributed = distributed
        self.client = _connect(distributed, self.address, connect_timeout)
        try:
            self._check_workers()
        except BaseException:
            self.client.close()
            raise

    @staticmethod
    def _read_files(cells: list[sweep.Cell]) -> dict[str, bytes]:
        """The bytes of every data file the cells use (sent to the workers), at most MAX_DATA_BYTES each."""
        files: dict[str, bytes] = {}
        for path in sorted({c.config.dataset for c in cells if c.config.dataset not in GENERATED}):
            try:
                size = os.stat(path).st_size
                if size > MAX_DATA_BYTES:
                    raise DataError(f"the file is {size / 2**20:,.1f} MB; a sweep on a cluster sends at most "
                                    f"{MAX_DATA_BYTES / 2**20:,.0f} MB to the workers", path)
                with open(path, "rb") as fh:
                    files[path] = fh.read(MAX_DATA_BYTES + 1)
            except OSError as exc:
                raise DataError(f"cannot read the file: {exc.strerror or exc}", path) from None
        return files

    def _check_workers(self) -> None:
        import rnnviz

        nthreads = self.client.nthreads()       # worker address -> its threads
        self.workers = sorted(nthreads)
        self.processes = sum(nthreads.values())
        self.versions = self.client.run(worker_versions, on_error="return") if self.workers else {}
        broken = {a: v for a, v in self.versions.items() if isinstance(v, BaseException)}
        if broken:
            addr, exc = next(iter(broken.items()))
            raise ClusterError(f"the worker {addr} cannot run rnnviz ({_one_line(exc)}): {INSTALL} on every worker")
        other = {a: v["rnnviz"] for a, v in self.versions.items() if v["rnnviz"] != rnnviz.__version__}
        if other:
            addr, version = next(iter(other.items()))
            raise ClusterError(f"the worker {addr} has rnnviz {version}, this machine {rnnviz.__version__}: "
                               "install the same version on every worker")

    def describe(self) -> str:
        return (f"the cluster at {self.address} ({len(self.workers)} workers, {self.processes} threads)"
                if self.workers else f"the cluster at {self.address} (no workers yet: the cells wait for one)")

    # --- running ----------------------------------------------------------------------------------------
    def start(self) -> None:
        import rnnviz

        self.client.subscribe_topic(self.sweep_id, lambda event: self._inbox.put(("event", event[1])))
        self._scattered = {path: self.client.scatter(data, hash=False) for path, data in self.files.items()}
        self._stop_flag = self._distributed.Event(f"{self.sweep_id}-stop", client=self.client)
        self._version = rnnviz.__version__
        self.started_at = time.perf_counter()
        futures = self.client.map(run_cell, self.cells, [self.sweep_id] * len(self.cells),
                                  [self._needed(cell) for cell in self.cells], [self._version] * len(self.cells),
                                  key=[self._key(cell, 0) for cell in self.cells], pure=False)
        for cell, future in zip(self.cells, futures):    # one message to the scheduler for the whole grid
            self._track(cell, future, 0)

    def _needed(self, cell: sweep.Cell) -> dict:
        """The data file a cell trains on, as the scattered future (empty for built-in data)."""
        path = cell.config.dataset
        return {path: self._scattered[path]} if path in self._scattered else {}

    def _key(self, cell: sweep.Cell, attempt: int) -> str:
        return f"{self.sweep_id}-{cell.index}" + (f"-{attempt}" if attempt else "")

    def _submit(self, cell: sweep.Cell, attempt: int) -> None:
        """Send one cell again (its worker died before the run began)."""
        future = self.client.submit(run_cell, cell, self.sweep_id, self._needed(cell), self._version,
                                    key=self._key(cell, attempt), pure=False)
        self._track(cell, future, attempt)

    def _track(self, cell: sweep.Cell, future: Any, attempt: int) -> None:
        self._futures[cell.index] = future
        self._attempts[cell.index] = attempt
        future.add_done_callback(lambda fut, i=cell.index: self._inbox.put(("result", (i, fut))))

    def poll(self, timeout: float = 0.0) -> list[tuple[str, Any]]:
        """Events that have arrived (waiting up to ``timeout`` seconds for the first)."""
        events: list[tuple[str, Any]] = []
        if self._stopped:
            return events
        try:
            item = self._inbox.get(timeout=timeout) if timeout > 0 else self._inbox.get_nowait()
            while True:
                event = self._event(*item)
                if event is not None:
                    events.append(self._take(event))
                item = self._inbox.get_nowait()
        except queue.Empty:
            pass
        if len(self.rows) == len(self.cells):
            self._finish()
        return events

    def _event(self, source: str, payload: Any) -> tuple[str, Any] | None:
        if source == "event":
            index = payload.get("index")
            if index in self.rows or not isinstance(index, int):
                return None
            self.where[index] = payload.get("worker", "")
            kind = payload.pop("kind", "")
            if kind == "progress":
                self._steps[index] = (int(payload["step"]), int(payload["epoch"]))
                for key in sweep.CURVE_KEYS:        # msgpack brings lists back as tuples
                    if key in payload:
                        payload[key] = list(payload[key])
            return (kind, payload) if kind in ("started", "progress") else None
        index, future = payload
        if index in self.rows or future is not self._futures.get(index):
            return None
        row = self._row(index, future)
        return None if row is None else ("done", row)

    def _row(self, index: int, future: Any) -> dict | None:
        """The row a finished future brings; None when the cell was sent again (its worker died before the run
        began: nothing of it was trained, so it runs once, in full, elsewhere)."""
        cell = self.cells[index]
        if future.status == "finished":
            row = future.result()
            if row["status"] == "failed" and row["error"] == WORKER_DIED:
                row = self._died(cell)
            return row
        if future.status == "error":
            exc = future.exception()
            if type(exc).__name__ == "KilledWorker":
                if index not in self.where and self._attempts.get(index, 0) < RESUBMITS and not self.cancelled:
                    self._submit(cell, self._attempts.get(index, 0) + 1)
                    return None
                return self._died(cell)
            return sweep.failed_row(cell, f"{type(exc).__name__}: {_one_line(exc)}")
        return sweep.failed_row(cell, "the scheduler dropped this run (was it restarted?)")

    def _died(self, cell: sweep.Cell) -> dict:
        """The row of a cell whose worker died mid-run: failed, with how far it got and its curves until then."""
        where = self.where.get(cell.index) or "a worker"
        step, epoch = self._steps.get(cell.index, (0, 0))
        row = sweep.failed_row(cell, f"{WORKER_DIED}: {where} stopped while training this cell, after step {step} "
                                     "(killed, out of memory or shut down); not retried")
        row["steps"], row["epochs"] = step, epoch
        row.update(self.curves.get(cell.index, {}))
        return row

    def cancel(self) -> float:
        """Stop every run on the cluster: the stop flag for those training, ``client.cancel`` for the others.
        Unfinished cells become "cancelled" rows. Returns the seconds it took (the workers are free within about
        STOP_CHECK_EVERY seconds more)."""
        start = time.perf_counter()
        if self._stopped:
            return 0.0
        self.cancelled = True
        if self._futures:
            try:
                self._stop_flag.set()
                self.client.cancel(list(self._futures.values()), reason="the sweep was cancelled")
            except Exception:   # the scheduler is gone: nothing runs there any more
                pass
        for cell in self.cells:
            if cell.index not in self.rows:
                self.rows[cell.index] = sweep.failed_row(cell, "cancelled", status="cancelled")
        self._finish()
        return time.perf_counter() - start

    def _finish(self) -> None:
        """Unsubscribe and close the connection (the stop flag of a cancelled sweep stays set on the scheduler:
        runs still between two looks at it must see it)."""
        if self._stopped:
            return
        self._stopped = True
        self.seconds = time.perf_counter() - self.started_at
        try:
            if self.sweep_id in getattr(self.client, "_event_handlers", {}):
                self.client.unsubscribe_topic(self.sweep_id)
            if not self.cancelled and self._futures:
                self._stop_flag.clear()
        except Exception:
            pass
        self.client.close()

    def alive(self) -> list[Any]:
        """The cells' futures that have not ended (none once cancelled or finished)."""
        return [] if self._stopped else [f for f in self._futures.values() if not f.done()]
