"""Ctrl+C in the terminal that started a window closes it cleanly (training stopped, its process ended).

Python runs a signal handler only when the interpreter gets control, and Qt's event loop may sit in C++ for long
stretches, so a plain handler (or the default KeyboardInterrupt) is seen late or lands as a traceback inside some
slot. Here the C-level handler writes a byte to a socket (``signal.set_wakeup_fd``); a ``QSocketNotifier`` on the
other end wakes the event loop at once, the interpreter gets control and runs the Python handler, which asks the
window to close on the next turn of the loop. A second Ctrl+C while it closes leaves at once. SIGTERM keeps its
default (the process ends; the training child follows when its pipe closes).

``INTERRUPTED`` (130 = 128 + SIGINT) is the exit status after Ctrl+C, as the command-line tools return it.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Slot

INTERRUPTED = 130


class CloseOnInterrupt(QObject):
    """While installed (``with CloseOnInterrupt() as guard``), SIGINT closes ``guard.window`` on the next turn of
    the event loop (or quits the application when there is no window yet); a second SIGINT ends the process.
    Install it before the window starts its training process; ``run_event_loop(app)`` runs the event loop."""

    def __init__(self, window: Any = None):
        super().__init__()
        self.window = window
        self.count = 0
        self._installed = False

    def __enter__(self) -> "CloseOnInterrupt":
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._old_handler = signal.signal(signal.SIGINT, self._on_signal)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self._notifier.setEnabled(False)
        signal.signal(signal.SIGINT, self._old_handler)
        signal.set_wakeup_fd(self._old_fd)
        self._read.close()
        self._write.close()
        self._installed = False

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.count > 1:          # the first one did not get the window closed: do not make the user wait
            print("rnnviz: interrupted", file=sys.stderr)
            sys.stderr.flush()
            os._exit(INTERRUPTED)
        QTimer.singleShot(0, self._close)           # on the next turn of the event loop, not inside a slot

    @Slot()
    def _close(self) -> None:
        from PySide6.QtWidgets import QApplication

        if self.window is not None:
            self.window.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    @Slot()
    def _drain(self) -> None:
        """The wake-up bytes: read them (the Python handler has run by the time this slot runs)."""
        try:
            while self._read.recv(512):
                pass
        except (BlockingIOError, InterruptedError, OSError):
            pass

    def run_event_loop(self, app: Any) -> int:
        """Run ``app``'s event loop (not at all after a Ctrl+C while the window was being built: quitting does
        nothing before the loop runs) and return the exit status: INTERRUPTED with a line on stderr after Ctrl+C,
        else the loop's."""
        code = 0 if self.count else int(app.exec())
        if not self.count:
            return code
        self._close()               # the window is closed (again: a no-op) and its training ended
        print("rnnviz: interrupted (Ctrl+C): the window was closed", file=sys.stderr)
        return INTERRUPTED
