"""The GUI side of training: owns the QThread and its Worker, keeps only the newest Snapshot, redraws on a timer.

The worker emits Snapshots on its own clock; ``Controller`` stores the newest and hands it to the window
(``frameReady``) at once when the last frame is at least ~one redraw interval old (so a step reaches the screen
without waiting for a timer tick), else on the next tick of a GUI-thread QTimer. The redraw rate adapts: when the GUI thread's CPU
use (drawing plus the paint events that follow) passes ``paint_budget`` of a core, the timer slows down (to 1 Hz
at worst) and the worker's snapshot clock follows, so painting never starves training.

What the window costs training is measured by ``rnnviz.gui.windows.bench_window.measure_speed``.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from rnnviz.core.config import DATA_FIELDS, LIVE_FIELDS, STRUCTURAL, Config
from rnnviz.core.explore.replay import ReplayBuffer
from rnnviz.core.live import messages as m
from rnnviz.gui.training.worker import DEFAULT_FACTORY, DEFAULT_INTERVAL, LIVE_THREADS, Worker, keep_until_finished


def load_dataset(config: Config) -> Any:
    """The Dataset of ``config`` (raises DataError / ConfigError with a message for the user)."""
    from rnnviz.core.data.load import load_dataset as _load

    return _load(config)


def load_dataset_live(config: Config) -> Any:
    """``load_dataset``, off the GUI thread for a large file so that the window keeps repainting (busy.py)."""
    from rnnviz.gui.training.busy import is_large_file, run_keeping_window_live

    if is_large_file(config.dataset):
        return run_keeping_window_live(load_dataset, config, label=f"Loading {os.path.basename(config.dataset)}…")
    return load_dataset(config)


def count_params(config: Config, dataset: Any) -> int | None:
    """Parameter count of the model ``config`` would build on ``dataset`` (None when unknown)."""
    try:
        from rnnviz.core.nn.params import count_params as _count

        return int(_count(config, len(dataset.vocab), dataset.n_classes))
    except Exception:
        return None


class Controller(QObject):
    """Starts the worker thread, relays commands, keeps the newest Snapshot and paces redraws.

    backend: "process" (training in a subprocess, the default) or "thread" (training in the QThread).
    fps:     the highest redraw rate; interval: the worker's snapshot clock in seconds.
    """

    frameReady = Signal(object)        # the newest Snapshot, at most `fps` times a second, GUI thread
    stateChanged = Signal(object)      # messages.TrainingState
    runningChanged = Signal(bool)
    modelReset = Signal(object)        # messages.Configured: a new model was built
    datasetChanged = Signal(object)    # Dataset
    configChanged = Signal(object)     # the Config now in force
    faultRaised = Signal(str)          # NaN/Inf: the Trainer's explanation
    errorRaised = Signal(str)          # settings the worker could not use, or a crash
    processLost = Signal(object)       # messages.ProcessLost, once the screen shows the last checkpoint's snapshot

    def __init__(self, config: Config, dataset: Any = None, backend: str = "process", fps: float = 30.0,
                 interval: float = DEFAULT_INTERVAL, factory: str = DEFAULT_FACTORY,
                 paint_budget: float | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.config = config
        self.dataset = dataset if dataset is not None else load_dataset(config)
        if getattr(self.dataset, "task", config.task) != config.task:
            self.config = config = config.replace(task=self.dataset.task)
        self.backend = backend
        self.factory = factory
        self.latest: Any = None            # the newest Snapshot
        self.replay = ReplayBuffer()       # recent Snapshots for the replay slider (bounded: see core.replay)
        self.frames = 0                    # redraws done
        self.snapshots = 0                 # snapshots received
        self.running = False
        self.done = False
        self.faulted = False
        self.steps_per_epoch = 0
        self.n_params = count_params(config, self.dataset) or 0
        self._new = False
        self._closed = False
        self.min_interval_ms = max(1, int(round(1000.0 / fps)))
        self.max_interval_ms = 1000
        # share of one core the GUI thread may use before the redraw rate drops; lower for the thread backend,
        # where painting holds the GIL that training needs
        self.paint_budget = paint_budget if paint_budget is not None else (0.25 if backend == "process" else 0.15)
        self._last_frame = 0.0              # perf_counter of the last frameReady
        self.gui_share = 0.0                # GUI-thread CPU seconds per wall second, last measured
        self.interval = interval
        self.speed = 0.0                  # training steps per second, 0 = full speed (see set_speed)
        self._tick: tuple[float, float] | None = None
        # the newest messages.Checkpoint's state with the Snapshot of the same step (process backend): what a new
        # training process goes on from when this one is lost. One Trainer state_dict: 3x the parameters, the
        # bounded histories and this epoch's data order
        self.checkpoint: tuple[Any, dict] | None = None
        self.lost: m.ProcessLost | None = None      # the training process ended unasked and none runs yet

        self.thread = QThread()
        self.thread.setObjectName("rnnviz-worker")
        self.worker = Worker(config, self.dataset, backend=backend, interval=interval, factory=factory)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)
        self.worker.snapshotReady.connect(self._on_snapshot)
        self.worker.stateChanged.connect(self._on_state)
        self.worker.configured.connect(self._on_configured)
        self.worker.faulted.connect(self._on_fault)
        self.worker.failed.connect(self._on_error)
        self.worker.rejected.connect(self._on_rejected)
        self.worker.checkpointed.connect(self._on_checkpoint)
        self.worker.processLost.connect(self._on_lost)
        self._good = (self.config, self.dataset)   # the last settings a model was built from

        self.timer = QTimer(self)
        self.timer.setInterval(self.min_interval_ms)
        self.timer.timeout.connect(self._redraw)

    # --- life -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (the model is built there) and the redraw timer; nothing once shut down or
        started (commands sent before are queued and go to the model in order)."""
        if self._closed or self.thread.isRunning() or self.thread.isFinished():
            return
        LIVE_THREADS.add(self.thread)
        self.worker.launch()          # the training subprocess (process backend) starts from this thread
        self.thread.start()
        self.timer.start()

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop training and the thread: stop flag, quit(), wait(). True when the thread has finished.

        Never blocks much longer than ``timeout``, even in the middle of a long step: the process backend's child
        is killed when it cannot answer within half a second; the thread backend cannot interrupt its step, so
        the thread is kept alive (``keep_until_finished``) and ends on its own when the step is over.
        """
        if self._closed:
            return self.thread.isFinished() or not self.thread.isRunning()
        self._closed = True
        self.timer.stop()
        self.worker.stop()
        self.thread.quit()
        first = min(float(timeout), 0.5)
        ok = self.thread.wait(max(1, int(first * 1000)))
        if not ok and self.backend == "process":
            self.worker.kill_process()
            ok = self.thread.wait(max(50, int((float(timeout) - first) * 1000)))
        if not ok:
            keep_until_finished(self.thread, self.worker)
        return bool(ok)

    # --- commands (GUI thread) ------------------------------------------------------------------------
    def send(self, command: m.Command) -> None:
        """Send a command to the training loop. After the training process was lost, a command that trains
        (Space, S, E) first asks for a new process that goes on from the last checkpoint (``Restore``; a fresh
        model when there is none), and Reset asks for a fresh model (``Configure``)."""
        if self.lost is not None:
            if isinstance(command, (m.Start, m.Toggle, m.Step, m.Epoch)):
                state = self.checkpoint[1] if self.checkpoint is not None else None
                self.send(m.Configure(self.config, self.dataset) if state is None
                          else m.Restore(self.config, self.dataset, state))
            elif isinstance(command, m.Reset):
                command = m.Configure(self.config, self.dataset)
        if isinstance(command, Worker.BUILDERS):
            self.lost = None
        self.worker.send(command)

    def toggle(self) -> None:
        self.send(m.Toggle())

    def start_training(self) -> None:
        self.send(m.Start())

    def pause(self) -> None:
        self.send(m.Pause())

    def step_batch(self, n: int = 1) -> None:
        self.send(m.Step(int(n)))

    def step_epoch(self) -> None:
        self.send(m.Epoch())

    def reset(self) -> None:
        """A fresh model with the same settings (same seed => same initial weights)."""
        self.send(m.Reset())

    @Slot(float)
    def set_speed(self, steps_per_second: float) -> None:
        """Limit training to this many steps per second (0 = as fast as possible)."""
        self.speed = float(steps_per_second)
        self.send(m.SetSpeed(self.speed))

    @Slot(float)
    def set_lr(self, lr: float) -> None:
        self.config = self.config.replace(lr=float(lr))
        self.send(m.SetLive("lr", float(lr)))

    @Slot(float)
    def set_temperature(self, t: float) -> None:
        self.config = self.config.replace(temperature=float(t))
        self.send(m.SetLive("temperature", float(t)))

    @Slot(int)
    def set_probe(self, index: int) -> None:
        self.send(m.SetProbe(int(index)))

    def set_probe_text(self, text: str) -> list[str]:
        """Probe with a typed sentence, cut into tokens as the dataset's were (core.typed_probe); empty text
        goes back to the validation probe. Returns the tokens sent."""
        from rnnviz.core.explore.typed_probe import probe_tokens

        tokens = probe_tokens(text, self.dataset, self.config)
        self.send(m.SetProbeText(tuple(tokens)))
        return tokens

    def set_bptt_trace(self, on: bool) -> None:
        """Ask for the slow-motion BPTT trace of the probe in every snapshot (costly: only when shown)."""
        self.send(m.SetBpttTrace(bool(on)))

    def set_state_space(self, on: bool) -> None:
        """Ask for the state-space frame (validation states projected by PCA) in every snapshot (only when shown)."""
        self.worker.send(m.SetStateSpace(bool(on)))

    def set_reach_trace(self, on: bool) -> None:
        """Ask for the probe's who-reaches-whom matrix in every snapshot (costly: only when shown)."""
        self.worker.send(m.SetReachTrace(bool(on)))

    def set_grad_flow(self, on: bool) -> None:
        """Measure the gradient flow for every running snapshot (``on``: its panel is shown; costs about one
        batch's forward and backward pass per snapshot) or only for still ones."""
        self.worker.send(m.SetGradFlow(bool(on)))

    def restore_best(self) -> None:
        """Back to the weights of the lowest validation loss so far (the loss panel's button)."""
        self.worker.send(m.RestoreBest())

    def request_snapshot(self) -> None:
        self.send(m.RequestSnapshot())

    @property
    def trained(self) -> bool:
        """The model has taken at least one step (so a new model would throw work away)."""
        return self.latest is not None and int(self.latest.step) > 0

    def needs_reset(self, new: Config) -> bool:
        """Would applying ``new`` build a new model?"""
        changed = {k for k, v in new.to_dict().items() if getattr(self.config, k) != v}
        return bool(changed - LIVE_FIELDS)

    def apply_config(self, new: Config, confirm: Callable[[str], bool] | None = None,
                     dataset: Any = None) -> bool:
        """Put ``new`` in force. Live settings go to the running model; others build a new one.

        Data settings load the new Dataset first, here, so a bad file raises (DataError/ConfigError) before
        anything changes; so does a model over the memory budget (``nn.memory``: ConfigError naming the setting). A new model over a trained one needs ``confirm(question)`` to say yes.
        Returns True when the change was applied.
        """
        old = self.config
        changed = {k for k, v in new.to_dict().items() if getattr(old, k) != v}
        if not changed and dataset is None:
            return True
        rebuild = bool(changed - LIVE_FIELDS) or dataset is not None
        if rebuild and self.trained and confirm is not None:
            names = ", ".join(sorted(changed - LIVE_FIELDS)) or "dataset"
            structural = bool((changed - LIVE_FIELDS) & STRUCTURAL)
            what = "the model's shape or data" if structural else "how the model trains"
            if not confirm(f"Changing {names} changes {what}: training starts again from new weights "
                           f"(step {self.latest.step} will be lost). Continue?"):
                return False
        if rebuild:
            if dataset is None and (changed & DATA_FIELDS):
                dataset = load_dataset_live(new)     # raises for a bad file: nothing has changed yet
            if dataset is not None and getattr(dataset, "task", new.task) != new.task:
                new = new.replace(task=dataset.task)
            from rnnviz.core.train.trainer import check_memory

            check_memory(new, dataset if dataset is not None else self.dataset)   # ConfigError: nothing changed
            if dataset is not None:
                self.dataset = dataset
                self.datasetChanged.emit(dataset)
            self.config = new
            self.n_params = count_params(new, self.dataset) or self.n_params
            self.send(m.Configure(new, self.dataset))
        else:
            self.config = new
            for key in sorted(changed):
                self.send(m.SetLive(key, getattr(new, key)))
        self.configChanged.emit(self.config)
        return True

    # --- from the worker (queued, GUI thread) ---------------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snap: Any) -> None:
        self.latest = snap                 # keep only the newest; older ones are simply dropped
        self.replay.add(snap)              # ...except the few the bounded replay buffer keeps
        self.snapshots += 1
        self._new = True
        # draw at once when the last frame is old enough (0.8: snapshots come on the worker's clock, which follows
        # the redraw interval, and may arrive a little early); otherwise the timer's next tick draws it
        if self.timer.isActive() and time.perf_counter() - self._last_frame >= 0.8e-3 * self.timer.interval():
            self._redraw()

    @Slot(object)
    def _on_state(self, state: m.TrainingState) -> None:
        running = bool(state.running)
        self.done = bool(state.done)
        self.faulted = bool(state.faulted)
        if running != self.running:
            self.running = running
            self.runningChanged.emit(running)
        self.stateChanged.emit(state)

    @Slot(object)
    def _on_configured(self, info: m.Configured) -> None:
        self.steps_per_epoch = int(info.steps_per_epoch)
        if info.n_params:
            self.n_params = int(info.n_params)
        self.latest = None
        self.replay.clear()                # a new model: the old moments belong to another run
        self.checkpoint = None
        self._new = False
        self.faulted = False
        if info.config is not None:
            self._good = (info.config, self.dataset)
        self.modelReset.emit(info)

    @Slot(object)
    def _on_rejected(self, info: m.Rejected) -> None:
        """The worker could not build a model from the new settings: go back to the last good ones."""
        config, dataset = self._good
        if dataset is not self.dataset:
            self.dataset = dataset
            self.datasetChanged.emit(dataset)
        self.config = config
        self.n_params = count_params(config, dataset) or self.n_params
        self.configChanged.emit(config)
        self.errorRaised.emit(f"These settings cannot be used: {info.message}")

    @Slot(str)
    def _on_fault(self, message: str) -> None:
        self.faulted = True
        self.faultRaised.emit(message)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.errorRaised.emit(message)

    @Slot(object)
    def _on_checkpoint(self, event: m.Checkpoint) -> None:
        """Keep the newest checkpoint with its snapshot (it follows the snapshot of its step)."""
        snap = self.latest
        if snap is not None and int(snap.step) == int(event.step):
            self.checkpoint = (snap, event.state)

    @Slot(object)
    def _on_lost(self, event: m.ProcessLost) -> None:
        """The training process ended unasked: training has stopped, and the screen goes back to the snapshot
        of the last checkpoint (the state a new process will go on from; training is deterministic, so the steps
        after it come again the same). ``processLost`` tells the window."""
        self.lost = event
        if self.checkpoint is not None:
            snap = self.checkpoint[0]
            self.latest = snap
            self.replay.drop_after(int(snap.step))
            self.replay.add(snap)
            self.faulted = bool(snap.fault)
            self._new = False
            self.frameReady.emit(snap)
        if self.running:
            self.running = False
            self.runningChanged.emit(False)
        self.processLost.emit(event)

    # --- redraw ---------------------------------------------------------------------------------------
    @Slot()
    def _redraw(self) -> None:
        self._adapt()
        if not self._new or self.latest is None:
            return
        self._new = False
        self._last_frame = time.perf_counter()
        self.frameReady.emit(self.latest)
        self.frames += 1

    def _adapt(self) -> None:
        """Adaptive redraw rate: keep the GUI thread's CPU use (drawing *and* the paint events that follow)
        within ``paint_budget`` of one core, so painting never starves training. Measured every ~0.5 s."""
        now, cpu = time.perf_counter(), time.thread_time()
        if self._tick is None:
            self._tick = (now, cpu)
            return
        wall = now - self._tick[0]
        if wall < 0.5:
            return
        share = (cpu - self._tick[1]) / wall
        self._tick = (now, cpu)
        self.gui_share = share
        if not self.running:
            want = self.min_interval_ms            # paused: redraw briskly, nothing to protect
        else:
            current = self.timer.interval()
            want = current * share / self.paint_budget if self.paint_budget > 0 else current
            want = min(2.0 * current, max(0.6 * current, want))   # change gently
        interval = int(min(self.max_interval_ms, max(self.min_interval_ms, want)))
        if abs(interval - self.timer.interval()) >= 2:
            self.timer.setInterval(interval)
            # no snapshots nobody will draw: the worker's clock follows the redraw rate
            self.send(m.SetInterval(max(self.interval, interval / 1000.0)))

    def redraw_now(self) -> None:
        """Hand the newest Snapshot to the window at once (after a reset or a tab change)."""
        if self.latest is not None:
            self._new = False
            self.frameReady.emit(self.latest)
