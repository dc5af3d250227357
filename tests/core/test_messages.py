"""The messages between the window and the training loop: every type crosses a real process pipe intact, every
command has exactly one handler that runs, and what the loop cannot take is answered with a clear error."""
from __future__ import annotations

import dataclasses
import inspect
import multiprocessing

import pytest

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.state_space import StateSpaceView
from rnnviz.core.live import messages as m
from rnnviz.core.live.loop import TrainingLoop
from rnnviz.core.train.trainer import Trainer

from helpers import same, small_config


def declared(base: type) -> set[type]:
    """Every dataclass in ``messages`` derived from ``base`` (found by walking the module, not by COMMANDS)."""
    return {obj for obj in vars(m).values()
            if inspect.isclass(obj) and issubclass(obj, base) and obj is not base and dataclasses.is_dataclass(obj)}


@pytest.fixture(scope="module")
def trainer():
    t = Trainer(small_config(hidden=6, n_examples=120))
    for _ in range(3):
        t.step()
    return t


def examples(trainer) -> dict[type, object]:
    """One realistic instance of every message type (the real Config, Dataset and Snapshot included)."""
    cfg, ds = trainer.config, trainer.dataset
    return {
        m.Start: m.Start(), m.Pause: m.Pause(), m.Toggle: m.Toggle(), m.Step: m.Step(3), m.Epoch: m.Epoch(),
        m.Reset: m.Reset(), m.Configure: m.Configure(cfg, ds), m.SetLive: m.SetLive("lr", 0.002),
        m.SetProbe: m.SetProbe(2), m.SetProbeText: m.SetProbeText(("not", "good")),
        m.SetBpttTrace: m.SetBpttTrace(True), m.SetStateSpace: m.SetStateSpace(True), m.SetReachTrace: m.SetReachTrace(True), m.SetGradFlow: m.SetGradFlow(False), m.SetSpeed: m.SetSpeed(5.0), m.SetInterval: m.SetInterval(0.05),
        m.RequestSnapshot: m.RequestSnapshot(), m.SaveSession: m.SaveSession("/tmp/run.rnnviz.npz"),
        m.OpenSession: m.OpenSession("/tmp/run.rnnviz.npz", ds), m.ShareWeights: m.ShareWeights(cfg),
        m.RestoreBest: m.RestoreBest(), m.Stop: m.Stop(), m.Restore: m.Restore(cfg, ds, trainer.state_dict()),
        m.SnapshotReady: m.SnapshotReady(build_snapshot(trainer, bptt=True, state_space=StateSpaceView())),
        m.TrainingState: m.TrainingState(running=True, done=False, step=3, epoch=0, faulted=False),
        m.Configured: m.Configured(cfg, trainer.model.n_params, trainer.steps_per_epoch, session="/tmp/x.npz"),
        m.Fault: m.Fault("Training paused at step 4: the loss became NaN"), m.Rejected: m.Rejected(cfg, "hidden"),
        m.Error: m.Error("SetProbe: probe index 9 outside 0..3"),
        m.SessionResult: m.SessionResult("save", True, "/tmp/run.rnnviz.npz", step=3),
        m.Shared: m.Shared(("V", "c"), ("U", "W", "b"), ""), m.Stopped: m.Stopped(),
        m.Checkpoint: m.Checkpoint(3, trainer.state_dict()),
        m.ProcessLost: m.ProcessLost("was killed by signal 9 (SIGKILL)", -9),
    }


def _echo(conn) -> None:
    """The child's side: send back every message received, until None."""
    while True:
        msg = conn.recv()
        if msg is None:
            return
        conn.send(msg)


def test_every_message_type_is_declared_and_has_an_example(trainer):
    assert set(m.COMMANDS) == declared(m.Command)
    assert set(m.EVENTS) == declared(m.Event)
    assert not set(m.COMMANDS) & set(m.EVENTS)
    assert set(examples(trainer)) == set(m.COMMANDS) | set(m.EVENTS)
    for cls in m.COMMANDS + m.EVENTS:
        assert cls.__dataclass_params__.frozen, f"{cls.__name__} must be frozen"
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} needs a docstring saying what it means"


def test_every_message_crosses_a_process_pipe_intact(trainer):
    """Through a spawned child (as the training process is started): pickled out, unpickled there, sent back."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=_echo, args=(child,), daemon=True)
    proc.start()
    child.close()
    try:
        for cls, msg in examples(trainer).items():
            parent.send(msg)
            assert parent.poll(60), f"{cls.__name__} did not come back"
            back = parent.recv()
            same(msg, back, cls.__name__)
            with pytest.raises(dataclasses.FrozenInstanceError):
                back.__setattr__("x", 1)
    finally:
        parent.send(None)
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(1)
        parent.close()
    assert proc.exitcode == 0


def test_every_command_type_has_exactly_one_handler():
    assert set(TrainingLoop.HANDLERS) == set(m.COMMANDS) == declared(m.Command)
    assert len(set(TrainingLoop.HANDLERS.values())) == len(TrainingLoop.HANDLERS)
    for cls, handler in TrainingLoop.HANDLERS.items():
        assert callable(handler), cls.__name__


def test_every_handler_runs_without_an_error(trainer, tmp_path):
    """A loop with a real Trainer takes one instance of every command type; none is answered with an Error."""
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0)
    cfg, ds = trainer.config, trainer.dataset
    session = tmp_path / "run.rnnviz.npz"
    order = [m.Configure(cfg, ds), m.ShareWeights(cfg.replace(cell="gru")), m.SetProbe(1),
             m.SetProbeText(("not", "good")), m.SetProbeText(()), m.SetBpttTrace(True), m.SetStateSpace(True), m.SetReachTrace(True), m.SetGradFlow(False),
             m.SetSpeed(0.0),
             m.SetInterval(0.0), m.RequestSnapshot(), m.Step(2), m.Epoch(), m.RestoreBest(), m.SetLive("lr", 0.003),
             m.SetLive("clip", 1.0), m.SetLive("epochs", 7), m.SetLive("temperature", 0.5), m.Start(), m.Pause(),
             m.Toggle(), m.Toggle(), m.SaveSession(str(session)),
             m.Restore(cfg.replace(lr=0.003, clip=1.0, epochs=7, temperature=0.5), ds, trainer.state_dict()),
             m.OpenSession(str(session), ds), m.Reset(), m.Stop()]
    assert {type(c) for c in order} == set(m.COMMANDS)
    seen = []
    for cmd in order:
        loop.handle(cmd)
        while loop.tick():
            pass
        seen.append(type(cmd))
    errors = [e for e in events if isinstance(e, m.Error)]
    assert errors == []
    assert loop.stopped and loop.trace_bptt and not loop.grad_flow
    assert loop.config.lr == 0.003 and loop.config.epochs == 7
    kinds = {type(e) for e in events}
    assert {m.Configured, m.TrainingState, m.SnapshotReady, m.Shared, m.SessionResult} <= kinds
    saved, opened = [e for e in events if isinstance(e, m.SessionResult)]
    assert (saved.action, saved.ok, opened.action, opened.ok) == ("save", True, "open", True)
    assert opened.step == saved.step > 0
    assert [e.session for e in events if isinstance(e, m.Configured)] == [None, str(session), None]


def test_live_settings_reach_the_trainer_and_the_next_snapshot():
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0)
    loop.handle(m.Configure(small_config(hidden=6, n_examples=120)))
    loop.handle(m.Step(2))
    while loop.tick():
        pass
    loop.handle(m.SetLive("lr", 0.004))
    loop.handle(m.SetLive("clip", 0.5))
    loop.tick()
    snap = [e for e in events if isinstance(e, m.SnapshotReady)][-1].snapshot
    assert loop.trainer.optimizer.lr == 0.004 and loop.trainer.config.clip == 0.5
    assert snap.lr == 0.004 and snap.clip == 0.5
    assert snap.markers == ((2, "lr 0.01\u21920.004"), (2, "clip 5\u21920.5"))


@pytest.mark.parametrize("bad, words", [
    (("lr", 0.1), "unknown command ('lr', 0.1)"),
    ("pause", "unknown command 'pause'"),
    (None, "unknown command None"),
])
def test_an_unknown_command_is_a_clear_error_and_the_loop_goes_on(bad, words):
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0)
    loop.handle(m.Configure(small_config(hidden=6, n_examples=120)))
    events.clear()
    loop.handle(bad)
    assert len(events) == 1 and isinstance(events[0], m.Error)
    message = events[0].message
    assert words in message and "rnnviz.core.live.messages" in message and "\n" not in message
    loop.handle(m.Step(1))
    while loop.tick():
        pass
    assert loop.trainer.step_count == 1 and not loop.stopped


def test_a_command_of_an_unregistered_type_is_refused_too():
    @dataclasses.dataclass(frozen=True)
    class Sideways(m.Command):
        """Not a command the loop knows."""

    events: list = []
    loop = TrainingLoop(events.append)
    loop.handle(Sideways())
    assert [type(e) for e in events] == [m.Error]
    assert "unknown command" in events[0].message and "Sideways" in events[0].message


@pytest.mark.parametrize("cmd, words", [
    (m.SetLive("hidden", 64), "SetLive: hidden is not a live setting (live: clip, epochs, eval_every, lr, temperature)"),
    (m.SetProbe(10**6), "SetProbe: probe index 1000000 outside 0.."),
])
def test_a_failing_command_is_an_error_event_naming_it(cmd, words):
    events: list = []
    loop = TrainingLoop(events.append, interval=0.0)
    loop.handle(m.Configure(small_config(hidden=6, n_examples=120)))
    events.clear()
    loop.handle(cmd)
    assert [type(e) for e in events] == [m.Error]
    assert events[0].message.startswith(words)
    assert loop.trainer.config.hidden == 6
