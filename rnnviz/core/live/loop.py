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

from rnnviz.core.explore.amortize import LiveParts
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.live import messages as m
from rnnviz.core.live.defaults import DEFAULT_FACTORY, DEFAULT_INTERVAL, SNAPSHOT_BUDGET  # noqa: F401 (defined there)

CHECKPOINT_INTERVAL = 2.0          # seconds between two in-memory checkpoints while training runs, at least
CHECKPOINT_BUDGET = 0.02           # ...and at most this share of the training time goes into them


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
    in the process backend. ``checkpoints``: follow snapshots with a ``Checkpoint`` (the Trainer's state) on the
    checkpoint clock (``_checkpoint``), so the window can go on in a new process should this one be lost.
    """

    def __init__(self, send: Callable[[m.Event], None], factory: str = DEFAULT_FACTORY,
                 interval: float = DEFAULT_INTERVAL, budget: float = SNAPSHOT_BUDGET, checkpoints: bool = False):
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
        self.snapshot_cost = 0.0        # moving average of the seconds a snapshot takes (built and sent), without
                                        # its costly parts, which keep clocks of their own (``parts``, state space)
        self.parts = LiveParts()        # the eigenvalues and the gradient flow of running snapshots (amortize)
        self.last_emit = 0.0
        self.dirty = False              # trained (or a setting changed) since the last snapshot
        self.stopped = False
        self.faulted = False
        self.trace_bptt = False         # snapshots carry the probe's slow-motion BPTT trace (a view option)
        self.state_space: Any = None    # explore.state_space.StateSpaceView while snapshots carry its frames
        self.trace_reach = False        # snapshots carry the probe's who-reaches-whom matrix (a view option)
        self.grad_flow = True           # running snapshots measure the gradient flow of their step (a view option)
        self.max_rate = 0.0             # training steps per second; 0 = as fast as the machine goes
        self._next_step = 0.0           # perf_counter time before which no step is taken (speed limit)
        self.checkpoints = bool(checkpoints)
        self.checkpoint_cost = 0.0      # seconds the last checkpoint took (state_dict and sending it)
        self.last_checkpoint = -float("inf")
        self._checkpointed: tuple | None = None   # (model number, step, fault) of the last checkpoint sent
        self._models = 0                # Trainers put in place so far (a checkpoint belongs to one of them)

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
        self._install(trainer, config, dataset)

    def _install(self, trainer: Any, config: Any, dataset: Any) -> None:
        """Put a new Trainer in place, paused, and tell the window (``Configured``, state, snapshot)."""
        self._adopt(trainer, config, dataset)
        self.send(m.Configured(config, int(getattr(getattr(trainer, "model", None), "n_params", 0) or 0),
                               int(getattr(trainer, "steps_per_epoch", 0) or 0)))
        self._send_state()
        self.emit_snapshot()

    def _restore(self, cmd: m.Restore) -> None:
        """A Trainer that goes on from ``cmd.state`` (a lost process's last checkpoint), paused; the live settings
        of ``cmd.config`` are put in force after it. A state that does not fit: an ``Error`` and a fresh model."""
        from rnnviz.core.config import LIVE_FIELDS, from_dict

        if self._factory is None:
            self._factory = load_factory(self.factory_path)
        try:
            saved = from_dict(cmd.state["config"])
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trainer = self._factory(saved, dataset=cmd.dataset)
                trainer.load_state_dict(cmd.state)
                for key in sorted(LIVE_FIELDS):
                    if getattr(cmd.config, key) != getattr(trainer.config, key):
                        trainer.apply_live(key, getattr(cmd.config, key))
        except Exception as exc:
            self.send(m.Error(f"could not go on from the last checkpoint ({type(exc).__name__}: {exc}); "
                              f"a new model was built instead"))
            self._configure(m.Configure(cmd.config, cmd.dataset))
            return
        self._adopt(trainer, trainer.config, cmd.dataset)
        self._send_state()
        self.emit_snapshot()

    def _adopt(self, trainer: Any, config: Any, dataset: Any) -> None:
        """Put ``trainer`` in place, paused (faulted if it carries a fault): checkpoints count from it, the
        state-space axes owe nothing to the old model."""
        self.trainer, self.config, self.dataset = trainer, config, dataset
        self._models += 1
        self.parts.forget()
        if self.state_space is not None:
            self.state_space.forget()
        self.running = False
        self.pending = 0
        self.faulted = bool(getattr(trainer, "fault", None))

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
        self.parts.forget()
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

    def _set_state_space(self, cmd: m.SetStateSpace) -> None:
        """Carry the state-space frame in every snapshot (``on``) or not (a snapshot follows)."""
        if cmd.on and self.state_space is None:
            from rnnviz.core.explore.state_space import StateSpaceView

            self.state_space = StateSpaceView()
        elif not cmd.on:
            self.state_space = None
        self.emit_snapshot()

    def _set_reach_trace(self, cmd: m.SetReachTrace) -> None:
        """Carry the probe's who-reaches-whom matrix in every snapshot (``on``) or not."""
        self.trace_reach = bool(cmd.on)
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
            from rnnviz.core.errors import RnnvizError

            text = str(exc) if isinstance(exc, RnnvizError) else f"{path}: could not be saved ({exc})"
            self.send(m.SessionResult("save", False, path, message=text))
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
        self._adopt(trainer, trainer.config, trainer.dataset)
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
        self.parts.forget()
        self.send(m.Shared(tuple(plan.shared), tuple(plan.own), plan.reason))
        self.emit_snapshot()

    def _restore_best(self, cmd: m.RestoreBest) -> None:
        """The weights of the best validation loss (training stays paused or running as it was)."""
        if self.trainer is not None:
            self.trainer.restore_best()          # ValueError before any evaluation: reported as an Error
            self.parts.forget()
            self.faulted = False
            self._send_state()
            self.emit_snapshot()

    HANDLERS: dict[type, Callable[[Any, Any], None]] = {
        m.Start: _start, m.Pause: _pause, m.Toggle: _toggle, m.Step: _step, m.Epoch: _epoch, m.Reset: _reset,
        m.Configure: _configure, m.SetLive: _set_live, m.SetProbe: _set_probe, m.SetProbeText: _set_probe_text,
        m.SetBpttTrace: _set_bptt_trace, m.SetStateSpace: _set_state_space, m.SetReachTrace: _set_reach_trace,
        m.SetGradFlow: _set_grad_flow, m.SetSpeed: _set_speed, m.SetInterval: _set_interval,
        m.RequestSnapshot: _request_snapshot, m.SaveSession: _save_session, m.OpenSession: _open_session,
        m.ShareWeights: _share_weights, m.Restore: _restore, m.RestoreBest: _restore_best, m.Stop: _stop,
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
        own_clocks = self._spent_on_parts()
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self.parts.live = self.busy                 # the costly parts' own clocks only while training runs
                if self.state_space is not None:
                    self.state_space.live = self.busy
                snap = build_snapshot(self.trainer, bptt=self.trace_bptt, reach=self.trace_reach,
                                      state_space=self.state_space, flow=self.grad_flow or not self.busy,
                                      parts=self.parts)
        except Exception as exc:
            self.send(m.Error(f"snapshot: {exc}\n{traceback.format_exc(limit=3)}"))
            return
        self.dirty = False
        self.send(m.SnapshotReady(snap))
        now = time.perf_counter()
        # building it and sending it (pickling and the pipe, in the process backend), without its costly parts
        cost = max(0.0, now - start - (self._spent_on_parts() - own_clocks))
        self.snapshot_cost = cost if self.snapshot_cost == 0.0 else 0.8 * self.snapshot_cost + 0.2 * cost
        self.last_emit = now
        if self.checkpoints:
            self._checkpoint()

    def _spent_on_parts(self) -> float:
        """Seconds spent so far on the snapshots' parts that keep clocks of their own."""
        return self.parts.spent + (self.state_space.clock.spent if self.state_space is not None else 0.0)

    def _checkpoint(self) -> None:
        """Follow the snapshot just sent with the Trainer's state at the same step (``Checkpoint``): always when
        training has stopped (paused, faulted, asked-for steps done, a new model) and this state was not sent yet;
        while it runs, at most every CHECKPOINT_INTERVAL seconds and within CHECKPOINT_BUDGET of the time (the
        cost measured includes sending it). The window keeps only the newest."""
        trainer = self.trainer
        key = (self._models, int(trainer.step_count), trainer.fault)
        if key == self._checkpointed:
            return
        start = time.perf_counter()
        if self.busy and start - self.last_checkpoint < max(CHECKPOINT_INTERVAL,
                                                             self.checkpoint_cost / CHECKPOINT_BUDGET):
            return
        self.send(m.Checkpoint(int(trainer.step_count), trainer.state_dict()))
        now = time.perf_counter()
        self.checkpoint_cost, self.last_checkpoint, self._checkpointed = now - start, now, key

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
    """Runs in the training subprocess: the same loop, commands and events (``messages``) over a pipe. The window
    starts it through ``rnnviz.child_entry`` (Ctrl+C ignored: the window decides when the child ends)."""
    def send(event: m.Event) -> None:
        try:
            conn.send(event)
        except (BrokenPipeError, EOFError, OSError):
            loop.stopped = True

    loop = TrainingLoop(send, factory=factory, interval=interval, budget=budget, checkpoints=True)
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
