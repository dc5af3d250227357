"""Start-up measurement: with ``RNNVIZ_EXIT_AFTER_FIRST_PAINT`` set, the application prints when its first paint
pass has finished, and quits.

It prints one line, ``first-paint {"imports": t1, "built": t2, "shown": t3, "painted": t4, "cpu": c}``: moments of
``time.perf_counter()`` (CLOCK_MONOTONIC on Linux, comparable across processes), so the process that started this
one (``rnnviz.bench.startup``) subtracts its own clock taken just before it started it. "imports": the window's
modules are imported; "built": the MainWindow is made; "shown": ``show()`` returned; "painted": the event-loop turn
after the first paint event, i.e. after Qt painted every widget of that first pass; "cpu": the CPU seconds this
process used until then (``time.process_time()``: less moved by other processes on a busy machine). The watcher is an
application-wide event filter only until that first paint event.
"""
from __future__ import annotations

import json
import os
import time

ENV = "RNNVIZ_EXIT_AFTER_FIRST_PAINT"
_marks: dict[str, float] = {}


def requested() -> bool:
    return bool(os.environ.get(ENV))


def mark(name: str) -> None:
    """Note the moment ``name`` of start-up (kept only when start-up is being measured)."""
    if requested():
        _marks[name] = time.perf_counter()


def exit_after_first_paint(app) -> None:
    """Print the start-up moments after the first paint pass of ``app``, then quit it."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    def report() -> None:
        _marks["painted"] = time.perf_counter()
        _marks["cpu"] = time.process_time()          # CPU seconds of this process until then (all its threads)
        print("first-paint " + json.dumps(_marks), flush=True)
        app.quit()

    class Watcher(QObject):
        seen = False

        def eventFilter(self, obj, event):              # noqa: N802 (Qt name)
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                app.removeEventFilter(self)
                QTimer.singleShot(0, report)            # after this whole paint pass
            return False

    watcher = Watcher(app)
    app.installEventFilter(watcher)
