"""The Qt-free training loop behind the window's worker: it owns a Trainer, obeys commands between steps,
paces training (the Speed box) and emits Snapshots on its own clock. The same loop runs in the worker's QThread
(thread backend) or in a training subprocess (process backend, ``child_main``); see ``worker`` for the commands
and events.
"""
from __future__ import annotations

import importlib
import time
import traceback
import warnings
from typing import Any, Callable

import numpy as np

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

    ``send(kind, payload)`` reports events; it is a Qt signal emit in the thread backend and a pipe in the
    process backend.
    """

    def __init__(self, send: Callable[[str, Any], None], factory: str = DEFAULT_FACTORY,
                 interval: float = DEFAULT_INTERVAL, budget: float = SNAPSHOT_BUDGET):
        self.send = send
        self.factory_path = factory
        self._factory: Callable[..., Any] | None = None
        self.trainer: Any = None
        self.config: Any = None
        self.dataset: Any = None
        self.running = False
        self.pending = 0                # batches still to run for "step" / "epoch"
        self.interval = float(interval)
        self.budget = float(budget)
        self.snapshot_cost = 0.0        # moving average of Trainer.snapshot() time
        self.last_emit = 0.0
        self.dirty = False              # trained since the last snapshot
        self.stopped = False
        self.faulted = False
        self.max_rate = 0.0             # training steps per second; 0 = as fast as the machine goes
        self._next_step = 0.0           # perf_counter time before which no step is taken (speed limit)

    # --- commands -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.trainer is not None and (self.running or self.pending > 0)

    def handle(self, cmd: tuple) -> None:
        kind, args = cmd[0], cmd[1:]
        try:
            getattr(self, "_cmd_" + kind)(*args)
        except Exception as exc:  # a command must never kill the loop
            self.send("error", f"{kind}: {exc}")

    def _cmd_stop(self) -> None:
        self.stopped = True
        self.running = False
        self.pending = 0

    def _cmd_configure(self, config: Any, dataset: Any = None) -> None:
        """Build a new Trainer; on failure keep the old one and report the error."""
        if self._factory is None:
            self._factory = load_factory(self.factory_path)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trainer = self._factory(config) if dataset is None else self._factory(config, dataset=dataset)
        except Exception as exc:
            self.send("rejected", {"config": config, "message": str(exc) or type(exc).__name__})
            return
        self.trainer, self.config, self.dataset = trainer, config, dataset
        self.running = False
        self.pending = 0
        self.faulted = False
        self.send("configured", {
            "config": config, "n_params": int(getattr(getattr(trainer, "model", None), "n_params", 0) or 0),
            "steps_per_epoch": int(getattr(trainer, "steps_per_epoch", 0) or 0),
        })
        self._send_state()
        self.emit_snapshot()

    def _cmd_reset(self) -> None:
        """A fresh Trainer with the same settings: the same seed gives the same initial weights."""
        if self.config is not None:
            self._cmd_configure(self.config, self.dataset)

    def _cmd_run(self, on: bool) -> None:
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

    def _cmd_toggle(self) -> None:
        self._cmd_run(not self.running)

    def _clear_fault(self) -> None:
        """Try again from the last good weights (after the user lowered the learning rate, say)."""
        restore = getattr(self.trainer, "restore_last_good", None)
        if restore is not None:
            restore()
            self.faulted = False

    def _cmd_step(self, n: int = 1) -> None:
        if self.trainer is None:
            return
        if self.faulted:
            self._clear_fault()
            if self.faulted:
                return
        self.running = False
        self.pending = max(0, int(n))
        self._send_state()

    def _cmd_epoch(self) -> None:
        """Run to the end of the current epoch (a whole epoch when at a boundary)."""
        if self.trainer is None:
            return
        spe = max(1, int(self.trainer.steps_per_epoch))
        self._cmd_step(spe - int(self.trainer.step_count) % spe)

    def _cmd_lr(self, lr: float) -> None:
        if self.trainer is not None:
            self.trainer.set_lr(float(lr))
            self.config = self.config.replace(lr=float(lr)) if self.config is not None else None
            self.dirty = True

    def _cmd_set(self, key: str, value: Any) -> None:
        """A live setting other than lr/temperature (clip, epochs)."""
        if self.trainer is None:
            return
        if key == "clip" and hasattr(self.trainer, "set_clip"):
            self.trainer.set_clip(float(value))
        else:
            self.trainer.config = self.trainer.config.replace(**{key: value})
        self.config = self.config.replace(**{key: value}) if self.config is not None else None
        self._send_state()
        self.dirty = True

    def _cmd_temperature(self, t: float) -> None:
        if self.trainer is not None:
            self.trainer.set_temperature(float(t))
            self.config = self.config.replace(temperature=float(t)) if self.config is not None else None
            self.emit_snapshot()

    def _cmd_probe(self, index: int) -> None:
        if self.trainer is not None:
            self.trainer.set_probe(int(index))
            self.emit_snapshot()

    def _cmd_speed(self, steps_per_second: float) -> None:
        """Limit training to ``steps_per_second`` (0 = no limit), so a lecture can follow it step by step."""
        self.max_rate = max(0.0, float(steps_per_second))
        self._next_step = 0.0

    def wait_time(self) -> float:
        """How long the caller may wait for commands before the next ``tick`` has work (0 = now)."""
        if not self.busy:
            return 0.1
        if self.max_rate <= 0:
            return 0.0
        return min(0.1, max(0.0, self._next_step - time.perf_counter()))

    def _cmd_interval(self, seconds: float) -> None:
        self.interval = max(0.0, float(seconds))

    def _cmd_snapshot(self) -> None:
        self.emit_snapshot()

    # --- work ---------------------------------------------------------------------------------------
    def _send_state(self) -> None:
        t = self.trainer
        self.send("state", {
            "running": self.running or self.pending > 0, "done": bool(t is not None and t.done),
            "step": int(t.step_count) if t is not None else 0, "epoch": int(t.epoch) if t is not None else 0,
            "faulted": self.faulted,
        })

    def emit_snapshot(self) -> None:
        if self.trainer is None:
            return
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                snap = self.trainer.snapshot()
        except Exception as exc:
            self.send("error", f"snapshot: {exc}\n{traceback.format_exc(limit=3)}")
            return
        now = time.perf_counter()
        cost = now - start
        self.snapshot_cost = cost if self.snapshot_cost == 0.0 else 0.8 * self.snapshot_cost + 0.2 * cost
        self.last_emit = now
        self.dirty = False
        self.send("snapshot", snap)

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
                self.send("fault", fault_message(trainer, exc))
            else:
                self.send("error", f"training step failed: {exc}\n{traceback.format_exc(limit=4)}")
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


    # --- exploring: typed probe, slow-motion BPTT (issue 5) -------------------------------------------
    def _cmd_probe_text(self, tokens: list) -> None:
        """Probe with typed tokens (empty: back to the validation probe); a snapshot shows it at once."""
        if self.trainer is not None:
            if tokens:
                self.trainer.set_probe_text(list(tokens))
            else:
                self.trainer.set_probe(int(getattr(self.trainer, "probe_index", 0)))
            self.emit_snapshot()

    def _cmd_bptt_trace(self, on: bool) -> None:
        """Carry the probe's slow-motion BPTT trace in every snapshot (``on``) or not."""
        if self.trainer is not None:
            self.trainer.trace_bptt = bool(on)
            self.emit_snapshot()

    # --- sessions (appended) --------------------------------------------------------------------------
    def _cmd_save_session(self, path: str) -> None:
        """Save the session between two steps, here where the Trainer lives; report a ``session`` event."""
        if self.trainer is None:
            self.send("session", {"action": "save", "ok": False, "path": str(path), "message": "no model yet"})
            return
        from rnnviz.core.io.session import save_session

        try:
            save_session(path, self.trainer)
        except Exception as exc:
            self.send("session", {"action": "save", "ok": False, "path": str(path),
                                  "message": f"{path}: could not be saved ({exc})"})
            return
        self.send("session", {"action": "save", "ok": True, "path": str(path),
                              "step": int(self.trainer.step_count)})

    def _cmd_open_session(self, path: str, dataset: Any = None) -> None:
        """A Trainer rebuilt from a session file (training paused). On any error the old Trainer stays and a
        ``session`` event with ``ok=False`` says why."""
        from rnnviz.core.io.session import load_session, restore_trainer

        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trainer = restore_trainer(load_session(path), dataset)
        except Exception as exc:
            self.send("session", {"action": "open", "ok": False, "path": str(path),
                                  "message": str(exc) or type(exc).__name__})
            return
        if self.trainer is not None and hasattr(self.trainer, "trace_bptt"):
            trainer.trace_bptt = self.trainer.trace_bptt        # a view option of the window, not of the run
        self.trainer, self.config, self.dataset = trainer, trainer.config, trainer.dataset
        self.running = False
        self.pending = 0
        self.faulted = bool(trainer.fault)
        self.send("configured", {"config": trainer.config, "n_params": int(trainer.model.n_params),
                                 "steps_per_epoch": int(trainer.steps_per_epoch), "session": str(path)})
        self.send("session", {"action": "open", "ok": True, "path": str(path), "step": int(trainer.step_count)})
        self._send_state()
        self.emit_snapshot()

    # --- A/B race (appended) --------------------------------------------------------------------------
    def _cmd_share_weights(self, donor: Any) -> None:
        """A/B race: before the first step, take the initial weights the Config ``donor`` (A) would start from,
        wherever a parameter's shape matches (``rnnviz.core.explore.race``); a ``shared`` event names them."""
        if self.trainer is None or int(getattr(self.trainer, "step_count", 0)) != 0:
            return
        from rnnviz.core.explore.race import share_initial_weights

        plan = share_initial_weights(self.trainer, donor)
        self.send("shared", {"shared": plan.shared, "own": plan.own, "reason": plan.reason})
        self.emit_snapshot()


# --- the process backend's child ------------------------------------------------------------------------
def _child_main(conn: Any, factory: str, interval: float, budget: float) -> None:
    """Runs in the training subprocess: the same loop, commands and events over a pipe."""
    def send(kind: str, payload: Any) -> None:
        try:
            conn.send((kind, payload))
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
            conn.send(("stopped", None))
        except Exception:
            pass
        conn.close()
