"""Helpers for the window tests: a fixture that fails any test leaving a training thread or process running,
and waiting for the worker."""
from __future__ import annotations

import gc
import multiprocessing
import time

import pytest

from helpers import small_config


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves a worker QThread or a training subprocess running (and clean up after it)."""
    from rnnviz.gui.training.worker import LIVE_THREADS

    yield
    time.sleep(0)  # let finished signals land
    running = [t for t in list(LIVE_THREADS) if t.isRunning()]
    children = [p for p in multiprocessing.active_children() if p.name == "rnnviz-training"]
    for t in running:
        t.quit()
        t.wait(2000)
    for p in children:
        p.terminate()
        p.join(1)
    if running or children:
        pytest.fail(f"test left {len(running)} QThread(s) and {len(children)} training process(es) running")


@pytest.fixture
def windows_deleted_here():
    """After the test, the widgets it closed are deleted and their Python wrappers collected, in the main thread.
    A window's wrapper left to a later garbage collection may be collected in a worker thread; shiboken then deletes
    the window in the main thread, which can wait for a Qt lock that the worker holds while it waits for the GIL:
    a deadlock (seen: a test of test_worker.py hung that way after a window test)."""
    yield
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def wait_for(qtbot, predicate, timeout: float = 10.0) -> None:
    qtbot.waitUntil(predicate, timeout=int(timeout * 1000))


def wait_snapshot(qtbot, controller, predicate=lambda s: True, timeout: float = 10.0):
    """Wait until the controller holds a Snapshot that satisfies ``predicate``; return it."""
    qtbot.waitUntil(lambda: controller.latest is not None and predicate(controller.latest),
                    timeout=int(timeout * 1000))
    return controller.latest


def open_window(qtbot, config=None, size=(1400, 900), backend: str = "thread", start: bool = True,
                timeout: float = 10.0):
    """A shown MainWindow on ``config`` (small_config() by default); with ``start``, its training side running and
    its first Snapshot received (within ``timeout`` s)."""
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(config or small_config(), backend=backend, start=start)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    if start:
        wait_snapshot(qtbot, win.controller, timeout=timeout)
    return win


@pytest.fixture
def confirming_window(qtbot, no_leaks):
    """``open_window`` whose questions are answered yes (``window.confirm``); closed after the test. A test module
    takes it as its ``window`` fixture with ``window = confirming_window``."""
    win = open_window(qtbot)
    win.confirm = lambda q: True
    yield win
    win.close()


@pytest.fixture
def idle_window(qtbot, no_leaks):
    """``open_window`` before anything trains (``start=False``); closed after the test. Taken as ``window`` with
    ``window = idle_window``."""
    win = open_window(qtbot, start=False)
    yield win
    win.close()


def open_sweep_window(qtbot, base, processes: int = 2, size=(1400, 860)):
    """(main window, SweepWindow on ``base`` beside it), both shown; the main window has its first Snapshot."""
    from rnnviz.gui.windows.sweep_window import SweepWindow

    main_win = open_window(qtbot)
    win = SweepWindow(base, main_window=main_win, processes=processes)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    return main_win, win


def enlarge(qtbot, win, key: str) -> None:
    """Put panel ``key`` of main window ``win`` in the big place (View ▸ Enlarge, Z) and on top of its tabs: a
    small place shows only part of some panels (the gradient panel's ||dL/dθ|| plot needs a tall one)."""
    place = min(win.order.index(key), 3)
    win.hero.focus(place)
    index = win.tabs.indexOf(win.panels[key])
    if index >= 0:
        win.tabs.setCurrentIndex(index)
    qtbot.wait(50)
