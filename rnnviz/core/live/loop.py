"""The Qt-free training loop behind the window's worker: it owns a Trainer, obeys commands between steps,
paces training (the Speed box) and emits Snapshots on its own clock. The same loop runs in the worker's QThread
(thread backend) or in a training subprocess (process backend, ``_child_main``). Commands and events are the
dataclasses of ``messages``; each command type has one handler (``TrainingLoop.HANDLERS``).
"""
from __future__ import annotations

import importlib
import time
import traceback
import warnings
from typing import Any, Callable

import numpy as np

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.live import messages as m

DEFAULT_INTERVAL = 1 / 30          # seconds between snapshots, at most ~30 per second
DEFAULT_FACTORY = "rnnviz.core.train.trainer:Trainer"
SNAPSHOT_BUDGET = 0.06             # at most this share of the training time goes into making snapshots


def load_factory(path: str) -> Callable[..., Any]:
    """``"package.module:Name"`` -> the object (the Trainer class, or a test's stand-in)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _is_fault(exc: BaseException) -> bool:
    """NaN/Inf trouble: the Trainer's own fault, or a floating-point error / overflow warning raised as an
    exception (np.seterr(all="raise"), ``-W error``) by a trainer that does not catch it itself."""
    from rnnviz.core.errors import TrainingFault

    return isinstance(exc, (TrainingFault, FloatingPointError, OverflowError, RuntimeWarning))


def fault_message(trainer: Any, exc: BaseException) -> str:
    """The explanation shown in the banner: the Trainer's own when it has one, else one built from ``exc``."""
    own = getattr(trainer, "fault", None)
    if own:
        return str(own)
    from rnnviz.core.train.trainer import FAULT_ADVICE

    step = int(getattr(trainer, "step_count", 0) or 0) + 1
    return (f"Training paused at step {step}: a numeric error inside the step "
            f"({type(exc).__name__}: {exc}). {FAULT_ADVICE}")


class TrainingLoop:
    """The Qt-free loop that owns a Trainer: run it by calling ``handle`` for each command and ``tick`` often.

    ``send(event)`` reports events (``messages.Event``); it is a Qt signal emit in the thread backend and a pipe
    in the process backend.
    """

    def __init__(self, send: Callable[[m.Event], None], factory: str = DEFAULT_FACTORY,
                 interval: float = DEFAULT_INTERVAL, budget: float = SNAPSHOT_BUDGET):
        self.send = send
        self.factory_path = factory
        self._factory: Callable[..., Any] | None = None
        self.trainer: Any = None
        self.config: Any = None
        self.dataset: Any = None
        self.running = False
        self.pending = 0                # batches still to run for Step / Epoch
        self.interval = float(interval)
        self.budget = float(budget)
        self.snapshot_cost = 0.0        # moving average of build_snapshot time
        self.last_emit = 0.0
        self.dirty = False              # trained (or a setting changed) since the last snapshot
        self.stopped = False
        self.faulted = False
        self.trace_bptt = False         # snapshots carry the probe's slow-motion BPTT trace (a view option)
        self.grad_flow = True           # running snapshots measure the gradient flow of their step (a view option)
        self.max_rate = 0.0             # training steps per second; 0 = as fast as the machine goes
        self._next_step = 0.0           # perf_counter time before which no step is taken (speed limit)

    # --- commands -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.trainer is not None and (self.running or self.pending > 0)

    def handle(self, cmd: m.Command) -> None:
        """Carry out one command; a failure (or a command of no known type) is reported as an ``Error`` event
        and never ends the loop."""
        handler = self.HANDLERS.get(type(cmd))
        if handler is None:
            self.send(m.Error(f"the training loop got an unknown command {cmd!r}: commands are the dataclasses of "
                              f"rnnviz.core.live.messages"))
            return
        try:
            handler(self, cmd)
        except Exception as exc:  # a command must never kill the loop
            self.send(m.Error(f"{type(cmd).__name__}: {exc}"))

    def _stop(self, cmd: m.Stop) -> None:
        self.stopped = True
        self.running = False
        self.pending = 0

    def _configure(self, cmd: m.Configure) -> None:
        """Build a new Trainer; on failure keep the old one and report ``Rejected``."""
        config, dataset = cmd.config, cmd.dataset
        if self._factory is None:
            self._factory = load_factory(self.factory_path)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trainer = self._factory(config) if dataset is None else self._factory(config, dataset=dataset)
        except Exception as exc:
            self.send(m.Rejected(config, str(exc) or type(exc).__name__))
            return
        self.trainer, self.config, self.dataset = trainer, config, dataset
        self.running = False
        self.pending = 0
        self.faulted = False
        self.send(m.Configured(config, int(getattr(getattr(trainer, "model", None), "n_params", 0) or 0),
                               int(getattr(trainer, "steps_per_epoch", 0) or 0)))
        self._send_state()
        self.emit_snapshot()

    def _reset(self, cmd: m.Reset) -> None:
        """A fresh Trainer with the same settings: the same seed gives the same initial weights."""
        if self.config is not None:
            self._configure(m.Configure(self.config, self.dataset))

    def _run(self, on: bool) -> None:
        if self.trainer is None:
            return
        if on and self.faulted:
            self._clear_fault()
        on = bool(on) and not self.faulted and not self.trainer.done
        if on == self.running:
            self._send_state()
            return
        self.running = on
        self.pending = 0
        self._send_state()
        if not on:
            self.emit_snapshot()

    def _start(self, cmd: m.Start) -> None:
        self._run(True)

    def _pause(self, cmd: m.Pause) -> None:
        self._run(False)

    def _toggle(self, cmd: m.Toggle) -> None:
        self._run(not self.running)

    def _clear_fault(self) -> None:
        """Try again from the last good weights (after the user lowered the learning rate, say)."""
        self.trainer.restore_last_good()
        self.faulted = False

    def _steps(self, n: int) -> None:
        if self.trainer is None:
            return
        if self.faulted:
            self._clear_fault()
        self.running = False
        self.pending = max(0, int(n))
        self._send_state()

    def _step(self, cmd: m.Step) -> None:
        self._steps(cmd.n)

    def _epoch(self, cmd: m.Epoch) -> None:
        """Run to the end of the current epoch (a whole epoch when at a boundary)."""
        if self.trainer is None:
            return
        spe = max(1, int(self.trainer.steps_per_epoch))
        self._steps(spe - int(self.trainer.step_count) % spe)

    def _set_live(self, cmd: m.SetLive) -> None:
        """A live setting reaches the Trainer between two steps; the next snapshot shows it."""
        if self.trainer is None:
            return
        self.trainer.apply_live(cmd.key, cmd.value)
        if self.config is not None:
            self.config = self.config.replace(**{cmd.key: cmd.value})
        self._send_state()
        self.dirty = True

    def _set_probe(self, cmd: m.SetProbe) -> None:
        if self.trainer is not None:
            self.trainer.set_probe(int(cmd.index))
            self.emit_snapshot()

    def _set_probe_text(self, cmd: m.SetProbeText) -> None:
        """Probe with typed tokens (empty: back to the validation probe); a snapshot shows it at once."""
        if self.trainer is not None:
            if cmd.tokens:
                self.trainer.set_probe_text(list(cmd.tokens))
            else:
                self.trainer.set_probe(int(self.trainer.probe_index))
            self.emit_snapshot()

    def _set_bptt_trace(self, cmd: m.SetBpttTrace) -> None:
        """Carry the probe's slow-motion BPTT trace in every snapshot (``on``) or not."""
        self.trace_bptt = bool(cmd.on)
        self.emit_snapshot()

    def _set_grad_flow(self, cmd: m.SetGradFlow) -> None:
        self.grad_flow = bool(cmd.on)

    def _set_speed(self, cmd: m.SetSpeed) -> None:
        """Limit training to ``steps_per_second`` (0 = no limit), so a lecture can follow it step by step."""
        self.max_rate = max(0.0, float(cmd.steps_per_second))
        self._next_step = 0.0

    def _set_interval(self, cmd: m.SetInterval) -> None:
        self.interval = max(0.0, float(cmd.seconds))

    def _request_snapshot(self, cmd: m.RequestSnapshot) -> None:
        self.emit_snapshot()

    def _save_session(self, cmd: m.SaveSession) -> None:
        """Save the session between two steps, here where the Trainer lives; report a ``SessionResult``."""
        path = str(cmd.path)
        if self.trainer is None:
            self.send(m.SessionResult("save", False, path, message="no model yet"))
            return
        from rnnviz.core.io.session import save_session

        try:
            save_session(path, self.trainer)
        except Exception as exc:
            self.send(m.SessionResult("save", False, path, message=f"{path}: could not be saved ({exc})"))
            return
        self.send(m.SessionResult("save", True, path, step=int(self.trainer.step_count)))

    def _open_session(self, cmd: m.OpenSession) -> None:
        """A Trainer rebuilt from a session file (training paused). On any error the old Trainer stays and a
        ``SessionResult`` with ``ok=False`` says why."""
        from rnnviz.core.io.session import load_session, restore_trainer

        path = str(cmd.path)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trainer = restore_trainer(load_session(path), cmd.dataset)
        except Exception as exc:
            self.send(m.SessionResult("open", False, path, message=str(exc) or type(exc).__name__))
            return
        self.trainer, self.config, self.dataset = trainer, trainer.config, trainer.dataset
        self.running = False
        self.pending = 0
        self.faulted = bool(trainer.fault)
        self.send(m.Configured(trainer.config, int(trainer.model.n_params), int(trainer.steps_per_epoch),
                               session=path))
        self.send(m.SessionResult("open", True, path, step=int(trainer.step_count)))
        self._send_state()
        self.emit_snapshot()

    def _share_weights(self, cmd: m.ShareWeights) -> None:
        """A/B race: before the first step, take the initial weights the Config ``donor`` (A) would start from,
        wherever a parameter's shape matches (``rnnviz.core.explore.race``); a ``Shared`` event names them."""
        if self.trainer is None or int(self.trainer.step_count) != 0:
            return
        from rnnviz.core.explore.race import share_initial_weights

        plan = share_initial_weights(self.trainer, cmd.donor)
        self.send(m.Shared(tuple(plan.shared), tuple(plan.own), plan.reason))
        self.emit_snapshot()

    HANDLERS: dict[type, Callable[[Any, Any], None]] = {
        m.Start: _start, m.Pause: _pause, m.Toggle: _toggle, m.Step: _step, m.Epoch: _epoch, m.Reset: _reset,
        m.Configure: _configure, m.SetLive: _set_live, m.SetProbe: _set_probe, m.SetProbeText: _set_probe_text,
        m.SetBpttTrace: _set_bptt_trace, m.SetGradFlow: _set_grad_flow, m.SetSpeed: _set_speed, m.SetInterval: _set_interval,
        m.RequestSnapshot: _request_snapshot, m.SaveSession: _save_session, m.OpenSession: _open_session,
        m.ShareWeights: _share_weights, m.Stop: _stop,
    }

    def wait_time(self) -> float:
        """How long the caller may wait for commands before the next ``tick`` has work (0 = now)."""
        if not self.busy:
            return 0.1
        if self.max_rate <= 0:
            return 0.0
        return min(0.1, max(0.0, self._next_step - time.perf_counter()))

    # --- work ---------------------------------------------------------------------------------------
    def _send_state(self) -> None:
        t = self.trainer
        self.send(m.TrainingState(running=self.running or self.pending > 0, done=bool(t is not None and t.done),
                                  step=int(t.step_count) if t is not None else 0,
                                  epoch=int(t.epoch) if t is not None else 0, faulted=self.faulted))

    def emit_snapshot(self) -> None:
        if self.trainer is None:
            return
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                snap = build_snapshot(self.trainer, bptt=self.trace_bptt, flow=self.grad_flow or not self.busy)
        except Exception as exc:
            self.send(m.Error(f"snapshot: {exc}\n{traceback.format_exc(limit=3)}"))
            return
        now = time.perf_counter()
        cost = now - start
        self.snapshot_cost = cost if self.snapshot_cost == 0.0 else 0.8 * self.snapshot_cost + 0.2 * cost
        self.last_emit = now
        self.dirty = False
        self.send(m.SnapshotReady(snap))

    def _due(self, now: float) -> bool:
        # the snapshot clock: never faster than `interval`, and slower when snapshots cost a big share of the time
        wait = max(self.interval, self.snapshot_cost / self.budget if self.budget > 0 else 0.0)
        return now - self.last_emit >= wait

    def tick(self) -> bool:
        """Train one batch when running or stepping; emit a snapshot when due. True when it did some work."""
        if not self.busy:
            if self.dirty:
                self.emit_snapshot()
            return False
        if self.max_rate > 0:
            now = time.perf_counter()
            if now < self._next_step:
                if self.dirty and self._due(now):
                    self.emit_snapshot()
                return False
            self._next_step = now + 1.0 / self.max_rate
        trainer = self.trainer
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trainer.step()
        except Exception as exc:
            self.running = False
            self.pending = 0
            if _is_fault(exc):
                self.faulted = True
                self.send(m.Fault(fault_message(trainer, exc)))
            else:
                self.send(m.Error(f"training step failed: {exc}\n{traceback.format_exc(limit=4)}"))
            self._send_state()
            self.emit_snapshot()
            return False
        self.dirty = True
        finished = False
        if self.pending > 0:
            self.pending -= 1
            finished = self.pending == 0
        if trainer.done and self.running:    # free running stops at `epochs`; asked-for steps still run
            self.running = False
            self.pending = 0
            finished = True
        if finished:
            self._send_state()
            self.emit_snapshot()
        elif self._due(time.perf_counter()):
            self.emit_snapshot()
        return True


# --- the process backend's child ------------------------------------------------------------------------
def _child_main(conn: Any, factory: str, interval: float, budget: float) -> None:
    """Runs in the training subprocess: the same loop, commands and events (``messages``) over a pipe."""
    def send(event: m.Event) -> None:
        try:
            conn.send(event)
        except (BrokenPipeError, EOFError, OSError):
            loop.stopped = True

    loop = TrainingLoop(send, factory=factory, interval=interval, budget=budget)
    try:
        while not loop.stopped:
            timeout = loop.wait_time()
            while not loop.stopped and conn.poll(timeout):
                loop.handle(conn.recv())
                timeout = 0.0
            if not loop.stopped:
                loop.tick()
    except (EOFError, BrokenPipeError, OSError, KeyboardInterrupt):
        pass  # the window went away: just end
    finally:
        try:
            conn.send(m.Stopped())
        except Exception:
            pass
        conn.close()
