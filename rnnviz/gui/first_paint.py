"""The application's first paint: what waits for it (``after_first_paint``) and its measurement.

``after_first_paint(app, fn)`` calls ``fn`` once, in the event-loop turn after Qt has painted the first frame (every
widget of that first paint pass), or after ``fallback_ms`` when no paint has come (a window that is not exposed).
``app.run`` starts the training process that way, so the process does not compete with the window for the CPU
before the first frame is on screen.

With ``RNNVIZ_EXIT_AFTER_FIRST_PAINT`` set, the application prints when its first paint pass has finished, and quits.
It prints one line, ``first-paint {"imports": t1, "built": t2, "shown": t3, "painted": t4, "cpu": c}``: moments of
``time.perf_counter()`` (CLOCK_MONOTONIC on Linux, comparable across processes), so the process that started this
one (``rnnviz.bench.startup``) subtracts its own clock taken just before it started it. "imports": the window's
modules are imported; "built": the MainWindow is made; "shown": ``show()`` returned; "painted": the event-loop turn
after the first paint event, i.e. after Qt painted every widget of that first pass; "cpu": the CPU seconds this
process used until then (``time.process_time()``: less moved by other processes on a busy machine). The watcher
(``FirstPaint``) is an application-wide event filter only until that first paint event.
"""
from __future__ import annotations

import json
import os
import time
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

ENV = "RNNVIZ_EXIT_AFTER_FIRST_PAINT"
_marks: dict[str, float] = {}


def requested() -> bool:
    return bool(os.environ.get(ENV))


def mark(name: str) -> None:
    """Note the moment ``name`` of start-up (kept only when start-up is being measured)."""
    if requested():
        _marks[name] = time.perf_counter()


class FirstPaint(QObject):
    """Runs callbacks, in the order they were asked for, in the event-loop turn after ``app``'s first paint event
    (one per application: ``watcher(app)``)."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.setObjectName("firstPaintWatcher")
        self.app = app
        self.painted = False
        self.pending: list[_Once] = []
        app.installEventFilter(self)

    def call_after(self, fn: Callable[[], None], fallback_ms: int | None = None) -> None:
        """Call ``fn`` once, in the turn after the first paint pass (in the next turn when that has been), after
        the callbacks asked for before it; or ``fallback_ms`` milliseconds from now if no paint has come by then."""
        once = _Once(fn)
        self.pending.append(once)
        if self.painted:
            QTimer.singleShot(0, self, self.run_pending)
        if fallback_ms is not None:
            QTimer.singleShot(int(fallback_ms), self, lambda: self.run_now(once))

    def eventFilter(self, obj, event):                  # noqa: N802 (Qt name)
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            self.app.removeEventFilter(self)
            QTimer.singleShot(0, self, self.run_pending)  # after this whole paint pass
        return False

    def run_pending(self) -> None:
        pending, self.pending = self.pending, []
        for fn in pending:
            fn()

    def run_now(self, once: "_Once") -> None:
        """Call ``once`` now if it is still waiting (a fallback)."""
        if once in self.pending:
            self.pending.remove(once)
            once()


class _Once:
    """A waiting callback; compared by identity, so a fallback takes out exactly its own."""

    def __init__(self, fn: Callable[[], None]):
        self.fn = fn

    def __call__(self) -> None:
        self.fn()


def watcher(app: QApplication) -> FirstPaint:
    """The application's ``FirstPaint`` (made on first use)."""
    found = app.findChild(FirstPaint, "firstPaintWatcher")
    return found if found is not None else FirstPaint(app)


def after_first_paint(app: QApplication, fn: Callable[[], None], fallback_ms: int | None = None) -> None:
    """``watcher(app).call_after(fn, fallback_ms)``."""
    watcher(app).call_after(fn, fallback_ms)


def exit_after_first_paint(app) -> None:
    """Print the start-up moments after the first paint pass of ``app``, then quit it."""

    def report() -> None:
        _marks["painted"] = time.perf_counter()
        _marks["cpu"] = time.process_time()          # CPU seconds of this process until then (all its threads)
        print("first-paint " + json.dumps(_marks), flush=True)
        app.quit()

    after_first_paint(app, report)
