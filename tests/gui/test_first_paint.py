"""The first paint: callbacks that wait for it run once each, in order, after it (or after their fallback), and the
window's training process starts only after the first frame is painted."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("PySide6")


@pytest.fixture
def fresh_watcher(qapp):
    from rnnviz.gui.first_paint import FirstPaint

    w = FirstPaint(qapp)
    w.setObjectName("testWatcher")          # not the application's own watcher
    yield w
    qapp.removeEventFilter(w)
    w.deleteLater()


def test_callbacks_run_once_in_order_after_the_first_paint(qtbot, fresh_watcher):
    from PySide6.QtWidgets import QLabel

    calls = []
    fresh_watcher.call_after(lambda: calls.append("a"))
    fresh_watcher.call_after(lambda: calls.append("b"), fallback_ms=60_000)
    label = QLabel("first frame")
    qtbot.addWidget(label)
    qtbot.wait(50)
    assert calls == [] and not fresh_watcher.painted          # nothing shown, nothing painted: nothing run
    label.show()
    qtbot.waitUntil(lambda: calls == ["a", "b"], timeout=5000)
    assert fresh_watcher.painted
    label.update()
    qtbot.wait(50)
    assert calls == ["a", "b"]                                  # once each
    fresh_watcher.call_after(lambda: calls.append("c"))         # asked for after the paint: the next turn
    qtbot.waitUntil(lambda: calls == ["a", "b", "c"], timeout=5000)


def test_the_fallback_calls_a_callback_when_no_paint_comes(qtbot, fresh_watcher):
    from PySide6.QtWidgets import QLabel

    calls = []
    fresh_watcher.call_after(lambda: calls.append("late"), fallback_ms=30)
    fresh_watcher.call_after(lambda: calls.append("waits"))
    qtbot.waitUntil(lambda: calls == ["late"], timeout=5000)
    label = QLabel("painted after the fallback")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitUntil(lambda: calls == ["late", "waits"], timeout=5000)   # the fallback's callback is not run again


def test_the_window_starts_training_after_its_first_frame_is_painted(tmp_path):
    """``rnnviz`` in a fresh process: the training thread and process start after the first paint, not before."""
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent("""
        import sys
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication
        from rnnviz.gui.training.controller import Controller
        from rnnviz.cli import main

        seen = {"paint": False}

        class Paints(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint:
                    seen["paint"] = True
                return False

        start = Controller.start
        def recorded(self):
            print(f"start after paint: {seen['paint']}", flush=True)
            start(self)
            print(f"thread running: {self.thread.isRunning()}", flush=True)
            QTimer.singleShot(0, QApplication.instance().quit)
        Controller.start = recorded

        init = QApplication.__init__
        def app_init(self, *args):
            init(self, *args)
            self._paints = Paints()
            self.installEventFilter(self._paints)
        QApplication.__init__ = app_init
        sys.exit(main(["--preset", "negation"]))
    """))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("RNNVIZ_EXIT_AFTER_FIRST_PAINT", None)
    proc = subprocess.run([sys.executable, str(driver)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines() == ["start after paint: True", "thread running: True"]
