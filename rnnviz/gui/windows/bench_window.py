"""The window's share of ``rnnviz bench``: what drawing costs training.

  refresh_ms      one full refresh of each panel: ``panel.render(snapshot)``, the event pass that delivers the
                  scenes' queued updates and paints them, and a synchronous ``repaint()``; median
                  of N, alternating two real snapshots from real training 20 steps apart (so no panel can skip an
                  unchanged frame, and the axis ranges hold both, as on most live frames); "window" is
                  ``show_snapshot`` of the whole window + ``repaint()`` (every visible panel at once).
  refresh_cpu_ms  the same refreshes' CPU time in the GUI thread (``time.thread_time``), median: on a loaded
                  machine the wall time adds the waits for a core.
  refresh_rescale_ms  the same with snapshots far apart, so every axis range moves on every refresh (the few live
                  frames where the data leaves a range, see ``panels/ranges.py``).
  speed           ``measure_speed``: headless Trainer.step() steps/s (the mean of a run before and one after)
                  against steps/s with the window shown and every visible panel live at the default redraw rate
                  (process backend), from the steps and making times of the live run's first and last snapshot.
  step_to_pixel   during that live run: from a Snapshot's ``made_at`` (stamped when the trainer built it, right
                  after its step) to the first event-loop turn after the first paint event of a fixed panel's plot
                  that follows the frame (Qt paints every dirty widget in one pass, so that turn comes after it).
  step_to_window  the same to the event-loop turn after the last visible panel drew that frame (the window draws
                  a live frame one panel per turn, ``MainWindow.show_live_frame``) and was painted.
  stall           during that live run: a 10 ms heartbeat QTimer; stall = gap between beats minus 10 ms.
Needs Qt (offscreen when there is no display).
"""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

from rnnviz.core.config import Config
from rnnviz.gui.training.controller import load_dataset

HEARTBEAT_MS = 10



# --- speed measurement -----------------------------------------------------------------------------------
@dataclass
class SpeedReport:
    headless: float          # steps per second, Trainer.step() in a loop
    live: float              # steps per second while the whole window trains and repaints
    frames: int              # window redraws during the live run
    snapshots: int           # snapshots received during the live run
    seconds: float
    backend: str
    gui_cpu: float = 0.0     # CPU seconds of the window's process per wall second (all its threads)

    @property
    def ratio(self) -> float:
        return self.live / self.headless if self.headless else 0.0

    def __str__(self) -> str:
        return (f"{self.backend}: headless {self.headless:.1f} steps/s, live {self.live:.1f} steps/s "
                f"({self.frames / self.seconds:.1f} redraws/s, {self.snapshots / self.seconds:.1f} snapshots/s, "
                f"window process CPU {self.gui_cpu:.0%}), "
                f"ratio {self.ratio:.2f}")


def headless_speed(config: Config, seconds: float = 3.0, dataset: Any = None, warmup: int = 5) -> float:
    """Steps per second of Trainer.step() alone."""
    from rnnviz.core.train.trainer import Trainer

    trainer = Trainer(config, dataset=dataset)
    for _ in range(warmup):
        trainer.step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.step()
        n += 1
    return n / (time.perf_counter() - start)


def measure_speed(config: Config | None = None, seconds: float = 5.0, backend: str = "process",
                  size: tuple[int, int] = (1600, 1000), headless: float | None = None,
                  warm_steps: int = 20, min_snapshots: int = 0, max_seconds: float | None = None) -> SpeedReport:
    """Headless steps/s against steps/s with the window shown and every visible panel redrawing (counted from
    ``warm_steps`` steps on). The live run lasts ``seconds``, and longer until ``min_snapshots`` snapshots have
    arrived (at most ``max_seconds``); live steps/s = the steps between its first and last snapshot / the time
    between their making (``Snapshot.made_at``, stamped right after their step in the training process).

    Needs a QApplication (one is made when there is none; offscreen when there is no display).
    """
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.style import apply_theme
    from rnnviz.gui.windows.render import delete_closed

    apply_theme(app)
    config = (config or Config()).replace(epochs=100000)   # never stop on `epochs` while measuring
    dataset = load_dataset(config)
    if headless is None:
        headless = headless_speed(config, seconds=seconds, dataset=dataset)
    window = MainWindow(config, dataset=dataset, backend=backend)
    window.resize(*size)
    window.show()
    ctl = window.controller

    def run_until(predicate: Callable[[], bool], limit: float) -> None:
        # a real event loop (as in the application), not a busy processEvents() loop
        loop = QEventLoop()
        poll = QTimer()
        poll.timeout.connect(lambda: predicate() and loop.quit())
        poll.start(20)
        QTimer.singleShot(int(limit * 1000), loop.quit)
        loop.exec()
        poll.stop()

    run_until(lambda: ctl.latest is not None, 20)            # the model is built
    ctl.start_training()
    run_until(lambda: ctl.latest is not None and ctl.latest.step >= warm_steps, 20 + 2 * warm_steps)
    first, frames0, snaps0, t0 = ctl.latest, ctl.frames, ctl.snapshots, time.perf_counter()
    cpu0 = time.process_time()
    run_until(lambda: False, seconds)
    limit = max(seconds, max_seconds or 0.0) - (time.perf_counter() - t0)
    if ctl.snapshots - snaps0 < min_snapshots and limit > 0:
        run_until(lambda: ctl.snapshots - snaps0 >= min_snapshots, limit)
    elapsed = time.perf_counter() - t0
    last = ctl.latest
    span = last.made_at - first.made_at
    report = SpeedReport(headless=headless, live=(last.step - first.step) / span if span > 0 else 0.0,
                         frames=ctl.frames - frames0, snapshots=ctl.snapshots - snaps0, seconds=elapsed,
                         backend=backend, gui_cpu=(time.process_time() - cpu0) / elapsed)
    window.close()
    window.deleteLater()
    app.processEvents()
    delete_closed(app)
    return report


def _app():
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QApplication.instance() or QApplication([])


def real_snapshots(config, steps: int = 200, later: tuple[int, ...] = (20,), bptt: bool = False) -> tuple[Any, ...]:
    """Snapshots of real training on ``config``: after ``steps``, then after each of ``later`` more steps
    (counted from ``steps``); ``bptt``: with the slow-motion BPTT trace, as when that panel is shown."""
    from rnnviz.core.explore.capture import build_snapshot
    from rnnviz.core.explore.state_space import StateSpaceView
    from rnnviz.core.train.trainer import Trainer

    trainer = Trainer(config)
    view = StateSpaceView()       # the state-space panel is timed on real frames too
    for _ in range(steps):
        trainer.step()
    out = [build_snapshot(trainer, bptt, state_space=view)]
    for extra in later:
        while trainer.step_count < steps + extra:
            trainer.step()
        out.append(build_snapshot(trainer, bptt, state_space=view))
    return tuple(out)


def _time_panels(app, window, pair, repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median ms per visible panel and for the whole window, alternating the two snapshots of ``pair``: wall time,
    and the GUI thread's CPU time (``time.thread_time``: what the refresh itself costs, without the waits for a
    core that other processes on a loaded machine add to the wall time)."""
    out, cpu = {}, {}

    def timed(key, draw) -> None:
        times, cpus = [], []
        for r in range(repeats + 1):
            start, c0 = time.perf_counter(), time.thread_time()
            draw(pair[r % 2])
            app.processEvents()                     # the scenes' queued updates and their paint pass
            if r:                                   # the first call warms caches up
                times.append(time.perf_counter() - start)
                cpus.append(time.thread_time() - c0)
        out[key], cpu[key] = statistics.median(times) * 1e3, statistics.median(cpus) * 1e3

    for key, panel in window.panels.items():
        if window.tabs.indexOf(panel) >= 0:
            window.tabs.setCurrentWidget(panel)
            app.processEvents()
        timed(key, lambda snap, panel=panel: (panel.render(snap), app.processEvents(), panel.repaint()))
    window.tabs.setCurrentIndex(0)
    app.processEvents()
    timed("window", lambda snap: (window.show_snapshot(snap), app.processEvents(), window.repaint()))
    return out, cpu


def refresh_costs(config, repeats: int = 10, size: tuple[int, int] = (1600, 1000),
                  train_steps: int = 200, near: int = 20,
                  bptt: bool = False) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Median ms of one full refresh per panel and of the whole window ("window"), twice: for a typical live
    frame (snapshots 20 steps apart: the axis ranges hold both, as on most frames), and for a frame whose axis
    ranges must all move (snapshots 2x the steps apart, as on the few frames where the data leaves a range);
    and the typical frame's CPU ms in the GUI thread. ``near``: the steps between the two snapshots of a typical
    frame."""
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.style import apply_theme

    app = _app()
    apply_theme(app)
    first, close, far = real_snapshots(config, train_steps, later=(near, 2 * train_steps), bptt=bptt)
    window = MainWindow(config, start=False)
    window.resize(*size)
    window.show()
    app.processEvents()
    try:
        typical, typical_cpu = _time_panels(app, window, (first, close), repeats)
        rescale, _ = _time_panels(app, window, (first, far), repeats)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    return typical, rescale, typical_cpu


class LiveProbe:
    """Heartbeat and paint watcher, attached to whichever MainWindow is training (found among top-level
    widgets, since ``measure_speed`` builds its own window)."""

    def __init__(self, app, min_step: int = 20):
        from PySide6.QtCore import QEvent, QObject, QTimer

        self.app = app
        self.min_step = min_step        # figures are taken from this training step on (after the start-up)
        self.beats: list[float] = []
        self.delays: list[float] = []
        self.window_delays: list[float] = []
        self.window = None
        self._pending = None          # made_at of a frame handed to the window, not yet painted
        self._paint_seen = False
        self._watched: list = []
        probe = self

        class PaintFilter(QObject):
            def eventFilter(self, obj, event):              # noqa: N802 (Qt name)
                if event.type() == QEvent.Type.Paint and probe._pending is not None and not probe._paint_seen:
                    probe._paint_seen = True
                    QTimer.singleShot(0, probe._painted)    # runs once this paint pass has finished
                return False

        self._filter = PaintFilter()
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._beat)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        for w in self._watched:
            try:
                w.removeEventFilter(self._filter)
            except RuntimeError:         # already deleted with the window
                pass

    def _watch(self, window) -> None:
        """Watch the paint events of the plot viewports of the window's fixed panels (not of every widget: a
        Python filter on every event of the application would slow the window it measures)."""
        from PySide6.QtWidgets import QGraphicsView

        self._watched = []
        for key in window.order[:3]:
            panel = window.panels[key]
            views = panel.findChildren(QGraphicsView) or ([panel] if not isinstance(panel, QGraphicsView) else [])
            if isinstance(panel, QGraphicsView):
                views.append(panel)
            for v in views:
                target = v.viewport() if isinstance(v, QGraphicsView) else v
                target.installEventFilter(self._filter)
                self._watched.append(target)

    def _training(self) -> bool:
        ctl = getattr(self.window, "controller", None)
        return bool(ctl is not None and ctl.running and ctl.latest is not None and ctl.latest.step >= self.min_step)

    def _beat(self) -> None:
        if self.window is None:
            from rnnviz.gui.main_window import MainWindow

            found = [w for w in self.app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
            if found:
                self.window = found[0]
                self.window.controller.frameReady.connect(self._frame)
                self.window.frameDrawn.connect(self._frame_drawn)
                self._watch(self.window)
            return
        if self._training():
            self.beats.append(time.perf_counter())

    def _frame(self, snap) -> None:
        if self._training() and self._pending is None:
            self._pending = getattr(snap, "made_at", None)
            self._paint_seen = False

    def _frame_drawn(self, snap) -> None:
        from PySide6.QtCore import QTimer

        made = getattr(snap, "made_at", None)
        if self._training() and made is not None:
            QTimer.singleShot(0, lambda: self.window_delays.append(time.perf_counter() - made))   # after its paint

    def _painted(self) -> None:
        if self._pending is not None:
            self.delays.append(time.perf_counter() - self._pending)
        self._pending = None

    def stalls_ms(self) -> list[float]:
        gaps = [(b - a) * 1e3 - HEARTBEAT_MS for a, b in zip(self.beats, self.beats[1:])]
        return [max(0.0, g) for g in gaps]


def run_window_bench(config=None, seconds: float = 5.0, repeats: int = 10, train_steps: int = 200,
                     near: int = 20, warm_steps: int = 20, bptt: bool = False, min_snapshots: int = 0,
                     max_seconds: float | None = None) -> dict:
    """Every window figure as one dict (see the module docstring). ``near``, ``bptt``: see ``refresh_costs``;
    ``warm_steps``: the live figures are taken from this training step on; ``min_snapshots``, ``max_seconds``:
    see ``measure_speed``. Headless speed is measured before and after the live run (``seconds`` / 2 each, as the
    load of a shared machine drifts) and their mean is the ratio's denominator."""
    import numpy as np

    from rnnviz.core.config import Config


    app = _app()
    config = config or Config()
    refresh, rescale, refresh_cpu = refresh_costs(config, repeats=repeats, train_steps=train_steps, near=near,
                                                  bptt=bptt)
    live_config = config.replace(epochs=100000)
    dataset = load_dataset(live_config)
    before = headless_speed(live_config, seconds=seconds / 2, dataset=dataset)
    probe = LiveProbe(app, min_step=warm_steps)
    probe.start()
    try:
        report = measure_speed(config, seconds=seconds, headless=before, warm_steps=warm_steps,
                               min_snapshots=min_snapshots, max_seconds=max_seconds)
    finally:
        probe.stop()
    after = headless_speed(live_config, seconds=seconds / 2, dataset=dataset)
    report.headless = (before + after) / 2
    stalls = probe.stalls_ms()
    delays = [d * 1e3 for d in probe.delays]
    whole = [d * 1e3 for d in probe.window_delays]
    panels = {k: v for k, v in refresh.items() if k != "window"}
    return {
        "preset_config": {"dataset": config.dataset, "cell": config.cell, "hidden": config.hidden,
                          "batch_size": config.batch_size, "task": config.task, "window": config.window},
        "refresh_ms": refresh,
        "refresh_worst_panel_ms": max(panels.values()) if panels else None,
        "refresh_cpu_ms": refresh_cpu,
        "refresh_rescale_ms": rescale,
        "headless_steps_per_s": report.headless, "live_steps_per_s": report.live,
        "headless_before_after": [before, after],
        "live_over_headless": report.live / report.headless if report.headless else None,
        "frames": report.frames, "snapshots": report.snapshots, "seconds": report.seconds,
        "step_to_pixel_ms": {"n": len(delays), "median": float(np.median(delays)) if delays else None,
                             "p99": float(np.percentile(delays, 99)) if delays else None,
                             "max": max(delays) if delays else None},
        "step_to_window_ms": {"n": len(whole), "median": float(np.median(whole)) if whole else None,
                              "p99": float(np.percentile(whole, 99)) if whole else None,
                              "max": max(whole) if whole else None},
        "stall_ms": {"n": len(stalls), "p99": float(np.percentile(stalls, 99)) if stalls else None,
                     "max": max(stalls) if stalls else None},
    }
