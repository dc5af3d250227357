"""The application's own exit: a window opened as ``rnnviz`` opens it, trained, and closed by its user while it
trains, ends its process with exit status 0 and nothing on stderr about a crash, on both training backends. (The
test suite itself ends without the interpreter's teardown of its hundreds of windows: tests/conftest.py.)"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("PySide6")

DRIVER = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from rnnviz.gui.app import run
    from rnnviz.gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    frames = []

    def window():
        return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

    def train():
        w = window()
        w.controller.frameReady.connect(lambda *_: frames.append(1))
        w.controller.start_training()
        QTimer.singleShot(2500, close)

    def close():
        print(f"frames {len(frames)} running {window().controller.running}", flush=True)
        window().close()

    QTimer.singleShot(1500, train)
    sys.exit(run(preset="negation", backend=sys.argv[1]))
""")


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_closing_the_window_while_it_trains_exits_cleanly(tmp_path, backend):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("RNNVIZ_EXIT_AFTER_FIRST_PAINT", None)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    for attempt in range(3):
        proc = subprocess.run([sys.executable, str(driver), backend], env=env, capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
        assert proc.returncode == 0, (attempt, proc.returncode, proc.stderr[-2000:])
        assert "Fatal Python error" not in proc.stderr and "Segmentation" not in proc.stderr, proc.stderr[-2000:]
        frames = int(proc.stdout.split("frames ")[1].split()[0])
        assert frames >= 1 and "running True" in proc.stdout, proc.stdout       # it was training when closed
