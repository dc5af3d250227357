"""The messages between the window and the training loop: one frozen dataclass per command and per event.

The window's side (``gui.training.controller`` and the features) sends **commands** through ``Worker.send``; the
``TrainingLoop`` (``live.loop``, in the worker's QThread or in the training subprocess) takes each between two
training steps, in order, with one handler per command type. The loop answers with **events**, which the worker
turns into its Qt signals. In the process backend both cross a ``multiprocessing`` pipe (pickled: our own child,
never user data), so every field is a plain picklable value: numbers, strings, tuples, a Config, a Dataset, a
Snapshot. A command the loop has no handler for is answered with an ``Error`` event naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    """Window -> training loop."""


@dataclass(frozen=True)
class Event:
    """Training loop -> window."""


# ----------------------------------------------------------------------------------------------- commands
@dataclass(frozen=True)
class Start(Command):
    """Train freely until paused, a fault or the configured epochs (a fault is cleared first: "try again")."""


@dataclass(frozen=True)
class Pause(Command):
    """Stop training after the current step (a snapshot follows)."""


@dataclass(frozen=True)
class Toggle(Command):
    """Start when paused, pause when running (the Space key)."""


@dataclass(frozen=True)
class Step(Command):
    """Train exactly ``n`` batches, then pause (also past the configured epochs)."""

    n: int = 1


@dataclass(frozen=True)
class Epoch(Command):
    """Train to the end of the current epoch (a whole epoch at a boundary)."""


@dataclass(frozen=True)
class Reset(Command):
    """A fresh model from the settings in force: the same seed gives the same initial weights."""


@dataclass(frozen=True)
class Configure(Command):
    """Build a new Trainer from ``config`` on ``dataset`` (None: loaded from the config). Answered by
    ``Configured``, or ``Rejected`` when no model can be built (the old one stays)."""

    config: Any
    dataset: Any = None


@dataclass(frozen=True)
class SetLive(Command):
    """Put the live setting ``key`` (lr, clip, epochs, temperature) in force between two steps
    (``Trainer.apply_live``); any other key is an ``Error``."""

    key: str
    value: Any


@dataclass(frozen=True)
class SetProbe(Command):
    """Make validation example ``index`` the probe sequence (a snapshot follows)."""

    index: int


@dataclass(frozen=True)
class SetProbeText(Command):
    """Probe with typed ``tokens`` (``typed_probe.probe_tokens``); empty: back to the validation probe."""

    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetBpttTrace(Command):
    """Carry the probe's slow-motion BPTT trace in every snapshot (``on``) or not: a view option, kept across
    new models."""

    on: bool


@dataclass(frozen=True)
class SetStateSpace(Command):
    """Carry the state-space frame (``explore.state_space``: validation states projected to 2-D) in every
    snapshot (``on``) or not: a view option, kept across new models."""
    on: bool


@dataclass(frozen=True)
class SetReachTrace(Command):
    """Carry the probe's who-reaches-whom matrix (``explore.reach``) in every snapshot (``on``) or not: a view
    option, kept across new models."""

    on: bool


@dataclass(frozen=True)
class SetGradFlow(Command):
    """Measure the gradient flow of the monitor batch for every snapshot while training runs (``on``: the
    gradient-flow panel is shown), or let running snapshots carry the last one recorded (each Snapshot says the
    step it is of). Still snapshots (paused, after Step) are always measured. A view option, kept across new
    models."""

    on: bool


@dataclass(frozen=True)
class SetSpeed(Command):
    """Train at most ``steps_per_second`` steps a second (0: as fast as the machine goes)."""

    steps_per_second: float


@dataclass(frozen=True)
class SetInterval(Command):
    """Emit snapshots at most every ``seconds`` (the controller slows it when painting is behind)."""

    seconds: float


@dataclass(frozen=True)
class RequestSnapshot(Command):
    """Emit a snapshot now."""


@dataclass(frozen=True)
class SaveSession(Command):
    """Save the session to ``path`` between two steps (training goes on); answered by ``SessionResult``."""

    path: str


@dataclass(frozen=True)
class OpenSession(Command):
    """Replace the Trainer by the one saved in ``path`` (on ``dataset``, already loaded and checked by the
    window; None: loaded here). Answered by ``Configured`` and ``SessionResult``, or ``SessionResult(ok=False)``
    and the old Trainer stays."""

    path: str
    dataset: Any = None


@dataclass(frozen=True)
class ShareWeights(Command):
    """A/B race, before the first step: take the initial weights Config ``donor`` (A) starts from wherever a
    parameter's shape matches (``explore.race``); answered by ``Shared``."""

    donor: Any


@dataclass(frozen=True)
class Restore(Command):
    """Build a Trainer from ``config`` on ``dataset`` and go on from ``state`` (a ``Trainer.state_dict()``: the
    newest ``Checkpoint`` the window kept), paused: how a new training process takes over from a lost one. Live
    settings of ``config`` that differ from the state's (changed while no process ran) are put in force after it,
    with their markers. Answered by a snapshot of the restored step; a state that cannot be taken is an ``Error``
    and a fresh model (``Configured``) instead."""

    config: Any
    dataset: Any
    state: Any


@dataclass(frozen=True)
class RestoreBest(Command):
    """Go back to the weights of the lowest validation loss so far (``Trainer.restore_best``; a snapshot follows,
    an ``Error`` when there is no evaluation yet)."""


@dataclass(frozen=True)
class Stop(Command):
    """End the loop; the process backend's child answers ``Stopped`` as it exits."""


# ------------------------------------------------------------------------------------------------- events
@dataclass(frozen=True)
class SnapshotReady(Event):
    """A new frozen Snapshot (on the loop's own clock, and after every pause, step, reset or setting)."""

    snapshot: Any


@dataclass(frozen=True)
class TrainingState(Event):
    """Where training is: ``running`` (free or asked-for steps), ``done`` (epochs reached), ``step``, ``epoch``,
    ``faulted`` (paused on NaN/Inf)."""

    running: bool
    done: bool
    step: int
    epoch: int
    faulted: bool


@dataclass(frozen=True)
class Configured(Event):
    """A new Trainer was built from ``config`` (``session``: the file it was opened from, else None)."""

    config: Any
    n_params: int
    steps_per_epoch: int
    session: str | None = None


@dataclass(frozen=True)
class Fault(Event):
    """Training paused on NaN/Inf: ``message`` explains what happened and what to try."""

    message: str


@dataclass(frozen=True)
class Rejected(Event):
    """No model could be built from ``config``: ``message`` says why; the previous Trainer stays."""

    config: Any
    message: str


@dataclass(frozen=True)
class Error(Event):
    """A command failed or the loop hit an unexpected error; ``message`` for the user."""

    message: str


@dataclass(frozen=True)
class SessionResult(Event):
    """The outcome of ``SaveSession`` / ``OpenSession``: ``action`` "save" or "open", ``ok``, ``path``, and
    ``step`` (the step saved or opened) when ok, ``message`` when not."""

    action: str
    ok: bool
    path: str
    step: int | None = None
    message: str = ""


@dataclass(frozen=True)
class Shared(Event):
    """The parameters B took from A (``shared``), those it keeps (``own``), and why nothing was shared."""

    shared: tuple[str, ...]
    own: tuple[str, ...]
    reason: str = ""


@dataclass(frozen=True)
class Checkpoint(Event):
    """The Trainer's ``state_dict()`` at ``step``, sent right after the snapshot of that same step: the window
    keeps the newest one (with that snapshot) to start a new training process from if this one is lost. The
    process backend's loop sends one whenever training stops (pause, fault, end of asked-for steps, a new model)
    and, while training runs, at most every ``loop.CHECKPOINT_INTERVAL`` seconds and within
    ``loop.CHECKPOINT_BUDGET`` of the training time."""

    step: int
    state: Any


@dataclass(frozen=True)
class ProcessLost(Event):
    """Sent by the worker, not the loop: the training process ended without being asked. ``how`` says how
    (``spawn.describe_exit``: "was killed by signal 9 (SIGKILL)", "exited with code 1"); ``exitcode`` is the
    process's (negative: the signal), None when unknown. The next command that builds a model starts a new
    process."""

    how: str
    exitcode: int | None = None


@dataclass(frozen=True)
class Stopped(Event):
    """The training child has ended its loop (the last message on the pipe)."""


COMMANDS: tuple[type[Command], ...] = tuple(Command.__subclasses__())
EVENTS: tuple[type[Event], ...] = tuple(Event.__subclasses__())
