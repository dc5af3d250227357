"""The worker and the controller: snapshots on the worker's clock, commands between steps, clean stops."""
from __future__ import annotations

from rnnviz.core.live import messages as m
from rnnviz.core.live.loop import TrainingLoop

from helpers import small_config


def test_loop_runs_without_qt():
    events = []
    loop = TrainingLoop(events.append, interval=0.0)
    loop.handle(m.Configure(small_config(), None))
    assert [type(e) for e in events][:3] == [m.Configured, m.TrainingState, m.SnapshotReady]
    loop.handle(m.Step(3))
    while loop.tick():
        pass
    assert loop.trainer.step_count == 3
    snaps = [e.snapshot for e in events if isinstance(e, m.SnapshotReady)]
    assert snaps[-1].step == 3


def test_speed_limit_paces_training_without_spinning():
    """The Speed box: a limit of 20 steps/s gives about 20 steps a second, and the loop sleeps between steps."""
    import time as _time

    events = []
    loop = TrainingLoop(lambda event: events.append(type(event)))
    loop.handle(m.Configure(small_config().replace(epochs=1000), None))
    loop.handle(m.SetSpeed(20.0))
    loop.handle(m.Start())
    start = _time.perf_counter()
    ticks = 0
    while _time.perf_counter() - start < 1.0:
        _time.sleep(loop.wait_time())
        loop.tick()
        ticks += 1
    steps = loop.trainer.step_count
    assert 15 <= steps <= 25, steps
    assert ticks < 200, ticks           # waited instead of spinning
    loop.handle(m.SetSpeed(0.0))
    assert loop.wait_time() == 0.0
