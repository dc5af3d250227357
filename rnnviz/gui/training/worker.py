"""Training off the GUI thread: a worker on a QThread owns the training and talks to the window only by signals.

Two backends share one command set and one training loop (``TrainingLoop``, Qt-free):

``"process"`` (the default)
    The QThread drives a training *subprocess* (multiprocessing, spawn, one BLAS thread). The Trainer lives in the
    child, so training and painting run on different cores and do not fight over the GIL: with every panel live the
    window keeps most of the headless speed. The QThread only relays commands to the child and snapshots back.
``"thread"``
    The Trainer lives in the QThread itself. Simpler, and the tests use it to compare the screen with the
    Trainer's own arrays, but Python's GIL makes training and painting take turns.

Commands reach the loop through a thread-safe queue (``Worker.send``), drained between steps; nothing ever blocks
the GUI. The loop emits a Snapshot on its own clock (at most every ``interval`` seconds, and right after a pause,
a single step or a reset), so the event queue never floods however fast training is.

Commands and events are the dataclasses of ``rnnviz.core.live.messages`` (``Worker.send(messages.Step(3))``).
Each event type becomes one Qt signal (``Worker.SIGNALS``); ``Stopped`` ends the process backend's relay.
"""
from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
import traceback
import weakref
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from rnnviz import child_entry
from rnnviz.core.live import messages as m
from rnnviz.core.live.defaults import DEFAULT_FACTORY, DEFAULT_INTERVAL, SNAPSHOT_BUDGET
from rnnviz.core.train.spawn import child_environment, describe_exit

if TYPE_CHECKING:
    import multiprocessing.process

    from rnnviz.core.live.loop import TrainingLoop

BACKENDS = ("process", "thread")
CHILD_MAIN = "rnnviz.core.live.loop:_child_main"      # the training process's loop (started by rnnviz.child_entry)

# every QThread this module starts, so tests can prove none is left running
LIVE_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()


# QThreads whose close timed out (the thread backend in the middle of a long step cannot be interrupted): kept
# referenced with their worker until they finish, because destroying a running QThread aborts the program
_ORPHANS: "set[tuple[QThread, QObject]]" = set()
ORPHAN_EXIT_WAIT = 10.0      # seconds the interpreter waits at exit for such a thread before leaving anyway


def reap_orphans() -> int:
    """Forget the kept threads that have finished; return how many are still running."""
    for pair in [p for p in _ORPHANS if p[0].isFinished() or not p[0].isRunning()]:
        _ORPHANS.discard(pair)
    return len(_ORPHANS)


def keep_until_finished(thread: QThread, worker: QObject) -> None:
    """Hold a still-running thread (and its worker) until it ends instead of letting it be destroyed."""
    reap_orphans()
    _ORPHANS.add((thread, worker))


@atexit.register
def _wait_for_orphans() -> None:
    """At interpreter exit: let a thread still in its last step finish; past the limit leave without the abort
    ("QThread: Destroyed while thread is still running") that destroying it would cause."""
    if not reap_orphans():
        return
    for thread, _ in list(_ORPHANS):
        thread.wait(int(ORPHAN_EXIT_WAIT * 1000))
    if reap_orphans():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _freeze_snapshot(snap: Any) -> Any:
    """Arrays that crossed a pipe come back writable: make them read-only again, as the contract says."""
    def freeze(value: Any) -> None:
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        elif isinstance(value, dict):
            for v in value.values():
                freeze(v)
    for value in vars(snap).values():
        freeze(value)
    probe = getattr(snap, "probe", None)
    if probe is not None:
        for value in vars(probe).values():
            freeze(value)
    return snap


class Worker(QObject):
    """Owns the training (in this thread or in a child process). Lives on a QThread; only signals leave it.

    ``send(command)`` and ``stop()`` are thread-safe plain methods: call them from the GUI thread.
    """

    snapshotReady = Signal(object)     # Snapshot
    stateChanged = Signal(object)      # messages.TrainingState
    configured = Signal(object)        # messages.Configured
    faulted = Signal(str)              # NaN/Inf: the explanation
    rejected = Signal(object)          # messages.Rejected: settings no model could be built from
    failed = Signal(str)               # any other error (a crash in the child)
    finished = Signal()                # the loop has ended; the thread may quit
    sessionEvent = Signal(object)      # messages.SessionResult
    weightsShared = Signal(object)     # messages.Shared
    checkpointed = Signal(object)      # messages.Checkpoint: the Trainer's state at the snapshot just sent
    processLost = Signal(object)       # messages.ProcessLost: the training process ended unasked

    # event type -> (signal, the event's field the signal carries; None: the event itself)
    SIGNALS: dict[type, tuple[str, str | None]] = {
        m.SnapshotReady: ("snapshotReady", "snapshot"), m.TrainingState: ("stateChanged", None),
        m.Configured: ("configured", None), m.Fault: ("faulted", "message"), m.Rejected: ("rejected", None),
        m.Error: ("failed", "message"), m.SessionResult: ("sessionEvent", None), m.Shared: ("weightsShared", None),
        m.Checkpoint: ("checkpointed", None), m.ProcessLost: ("processLost", None),
    }

    def __init__(self, config: Any, dataset: Any = None, backend: str = "process",
                 interval: float = DEFAULT_INTERVAL, factory: str = DEFAULT_FACTORY,
                 budget: float = SNAPSHOT_BUDGET):
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.interval = interval
        self.factory = factory
        self.budget = budget
        self._queue: "queue.SimpleQueue[m.Command]" = queue.SimpleQueue()
        self._stop = threading.Event()
        self.process: multiprocessing.process.BaseProcess | None = None
        self._conn: Any = None
        self.loop: TrainingLoop | None = None   # thread backend: the loop (and its Trainer), for tests
        self.send(m.Configure(config, dataset))

    # --- called from the GUI thread -----------------------------------------------------------------
    def send(self, command: m.Command) -> None:
        """Queue a command; the loop takes it between two training steps."""
        self._queue.put(command)

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(m.Stop())

    def kill_process(self) -> None:
        """End the training subprocess now (it is busy in a long step and cannot answer); thread-safe."""
        proc = self.process
        if proc is not None and proc.is_alive():
            proc.kill()

    # --- runs in the worker thread ------------------------------------------------------------------
    def _emit(self, event: m.Event) -> None:
        """Turn a loop event into its Qt signal (``Stopped`` has none: the relay handles it)."""
        route = self.SIGNALS.get(type(event))
        if route is None:
            if not isinstance(event, m.Stopped):
                self.failed.emit(f"the training loop sent an unknown event {event!r}")
            return
        name, field = route
        getattr(self, name).emit(event if field is None else getattr(event, field))

    @Slot()
    def run(self) -> None:
        try:
            if self.backend == "thread":
                self._run_here()
            else:
                self._run_child()
        except Exception as exc:  # never let an exception escape into Qt
            self.failed.emit(f"worker stopped: {exc}\n{traceback.format_exc(limit=4)}")
        finally:
            self.finished.emit()

    def _drain(self, handle: Callable[[m.Command], None], timeout: float) -> None:
        try:
            cmd = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return
        while True:
            handle(cmd)
            try:
                cmd = self._queue.get_nowait()
            except queue.Empty:
                return

    def _run_here(self) -> None:
        from rnnviz.core.live.loop import TrainingLoop     # the thread backend trains here (process: the child)

        loop = self.loop = TrainingLoop(self._emit, factory=self.factory, interval=self.interval,
                                        budget=self.budget)
        while not (loop.stopped or self._stop.is_set()):
            self._drain(loop.handle, min(loop.wait_time(), 0.05))
            if not (loop.stopped or self._stop.is_set()):
                loop.tick()

    def launch(self) -> None:
        """Start the training subprocess (process backend) unless one runs. The first is started from the GUI
        thread before the QThread starts; one that replaces a lost process, from the worker thread.

        The child gets one BLAS thread (no oversubscription against the GUI) and does not re-import the
        caller's ``__main__`` (``python -m rnnviz`` would otherwise open a second window in the child).
        """
        if self.backend != "process" or (self.process is not None and self.process.exitcode is None):
            return
        import multiprocessing      # here: the window's first frame does not wait for it

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=child_entry.run, args=(CHILD_MAIN, child, self.factory, self.interval,
                                                          self.budget), name="rnnviz-training", daemon=True)
        with child_environment():
            proc.start()
        child.close()
        self.process, self._conn = proc, parent

    # commands the worker remembers and gives a new training process first (the loop's own settings)
    STICKY: tuple[type, ...] = (m.SetSpeed, m.SetInterval, m.SetBpttTrace)
    # commands that build a model: after the process was lost, the first of them starts a new one
    BUILDERS: tuple[type, ...] = (m.Configure, m.Restore, m.OpenSession)

    def _run_child(self) -> None:
        """Relay commands to the training child and its events back (``_relay``). When the child ends without
        being asked, say how (``ProcessLost``) and wait: the next command that builds a model (the window sends
        ``Restore`` for Space, ``Configure`` for R) starts a new child with the remembered loop settings."""
        self.launch()
        sticky: dict[type, m.Command] = {}
        first: list[m.Command] = []
        while True:
            exitcode = self._relay(first, sticky)
            if exitcode is False or self._stop.is_set():
                return
            self._emit(m.ProcessLost(describe_exit(exitcode), exitcode))
            builder = self._wait_for_builder(sticky)
            if builder is None:
                return
            self.launch()           # a new child (the lost one has ended)
            first = [*sticky.values(), builder]

    def _wait_for_builder(self, sticky: dict) -> m.Command | None:
        """No training process: take commands until one builds a model (returned) or ``stop`` (None). Loop
        settings are remembered; a session save is answered (nothing to save); anything else has no model to
        act on and is dropped."""
        while not self._stop.is_set():
            try:
                cmd = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(cmd, m.Stop):
                self._stop.set()
            elif isinstance(cmd, self.BUILDERS):
                return cmd
            elif isinstance(cmd, self.STICKY):
                sticky[type(cmd)] = cmd
            elif isinstance(cmd, m.SaveSession):
                self._emit(m.SessionResult("save", False, cmd.path, message=f"{cmd.path}: not saved: the training "
                                           f"process was lost; press Space to go on from the last checkpoint "
                                           f"first"))
        return None

    def _relay(self, first: list, sticky: dict) -> int | None | bool:
        """Relay commands (``first`` before the queue's) to the child and its messages back, until ``stop``
        (returns False) or the child ends unasked (returns its exit code, None when unknown). Commands go out
        through their own thread (``_send_loop``): a large command (a new dataset of a few MB) fills the pipe,
        and if this thread were the one writing it, it could not read the snapshot the child is writing at the
        same time, and both would wait for each other for ever (seen with a 2.2 MB file opened during training)."""
        proc, parent = self.process, self._conn
        outbox: "queue.SimpleQueue[m.Command | None]" = queue.SimpleQueue()
        for cmd in first:
            outbox.put(cmd)
        sender = threading.Thread(target=_send_loop, args=(parent, outbox), name="rnnviz-send", daemon=True)
        sender.start()
        lost = False
        try:
            while not lost and not self._stop.is_set():
                try:
                    while True:
                        cmd = self._queue.get_nowait()
                        if isinstance(cmd, m.Stop):
                            self._stop.set()
                            break
                        if isinstance(cmd, self.STICKY):
                            sticky[type(cmd)] = cmd
                        outbox.put(cmd)
                except queue.Empty:
                    pass
                if self._stop.is_set():
                    break
                # wait for the child's next message (or a short while, to look at the queue again)
                while parent.poll(0.01):
                    event = parent.recv()
                    if isinstance(event, m.SnapshotReady):
                        _freeze_snapshot(event.snapshot)
                    elif isinstance(event, m.Stopped):
                        lost = not self._stop.is_set()     # the child ended its loop by itself
                        break
                    self._emit(event)
                    if not self._queue.empty():
                        break
                if not proc.is_alive():
                    lost = True
        except (EOFError, BrokenPipeError, OSError):
            lost = not self._stop.is_set()
        finally:
            outbox.put(m.Stop())
            outbox.put(None)
            sender.join(0.2)        # the queued commands and "stop" are written (an idle child reads at once)
            proc.join(0.2)          # an idle child answers "stop" in milliseconds; a busy one cannot answer
            if proc.is_alive():
                proc.terminate()
                proc.join(0.3)
            if proc.is_alive():
                proc.kill()
                proc.join(0.2)
            sender.join(0.5)        # a write to a child that is gone fails at once
            parent.close()
        return proc.exitcode if lost else False


def _send_loop(conn: Any, outbox: "queue.SimpleQueue[m.Command | None]") -> None:
    """Write the commands of ``outbox`` to the child in order, until None (or the pipe is gone)."""
    while True:
        cmd = outbox.get()
        if cmd is None:
            return
        try:
            conn.send(cmd)
        except (OSError, EOFError, ValueError):     # the child has ended (or the pipe is closed): nothing to tell
            return
