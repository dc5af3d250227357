"""Slow work the user waits for (loading a large data file) without freezing the window.

``run_keeping_window_live(fn, *args)`` runs ``fn`` in a Python thread while the Qt event loop keeps turning: the
window repaints, timers fire, training snapshots keep arriving. A modal "Loading…" dialog (shown after 0.3 s)
keeps the user from changing settings meanwhile. The result, or the exception ``fn`` raised, comes back to the
caller as if ``fn`` had run in place. (A 2.4 MB file of 40,000 reviews takes about 0.85 s to load here.)
"""
from __future__ import annotations

import gc
import os
import threading
from typing import Any, Callable

SLOW_FILE_BYTES = 256 * 1024     # files larger than this are loaded off the GUI thread (~0.1 s and more)


def is_large_file(path: Any) -> bool:
    try:
        return isinstance(path, (str, os.PathLike)) and os.path.isfile(path) and os.path.getsize(path) > SLOW_FILE_BYTES
    except OSError:
        return False


def run_keeping_window_live(fn: Callable[..., Any], *args: Any, label: str = "Loading…", parent: Any = None) -> Any:
    """``fn(*args)``, run in a thread while the event loop turns (see the module docstring). Without a running
    QApplication, or off the GUI thread, it simply calls ``fn``."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QThread, QTimer
    from PySide6.QtWidgets import QApplication, QProgressDialog

    app = QCoreApplication.instance()
    if not isinstance(app, QApplication) or QThread.currentThread() is not app.thread():
        return fn(*args)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below, unchanged
            outcome["error"] = exc

    # 0..0: a busy bar, no percentage. No guessed parent (QApplication.activeWindow() may be a closed window that
    # the garbage collector deletes during the load, and the dialog with it: a crash seen in the tests)
    dialog = QProgressDialog(label, "", 0, 0, parent)
    dialog.setMinimumWidth(360)
    dialog.setCancelButton(None)                           # the load cannot be interrupted half-way
    dialog.setWindowTitle("rnnviz")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(300)
    dialog.setValue(0)            # starts the dialog's own clock: it shows itself once 0.3 s have passed
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(15)
    thread = threading.Thread(target=work, name="rnnviz-load", daemon=True)
    poll.timeout.connect(lambda: None if thread.is_alive() else loop.quit())
    # No cyclic garbage collection inside the nested event loop: collecting a dead Qt object (a closed window's
    # widgets) while Qt is dispatching in a nested loop crashed (seen in the tests); collect before, pause it
    # during the load (plain reference counting still frees memory), and restore it after.
    gc.collect()
    collecting = gc.isenabled()
    gc.disable()
    thread.start()
    poll.start()
    try:
        if thread.is_alive():
            loop.exec()
        thread.join()
    finally:
        if collecting:
            gc.enable()
        poll.stop()
        dialog.reset()
        dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
