"""The sweep window while cells train (the small multiples grow live) and on a real Dask cluster (the "Cluster
address" field): the same numbers as the local run, a worker killed mid-run (grey cell with the reason),
cancelling, and the errors before anything starts."""
from __future__ import annotations

import os
import signal
import socket
import time

import numpy as np
import pytest

from rnnviz.core.explore import sweep
from rnnviz.core.presets import load_preset

from dask_helpers import local_cluster, worker_pid
from helpers import sweep_base_config, sweep_children


@pytest.fixture(scope="module")
def cluster():
    with local_cluster() as c:
        yield c


def _window(qtbot, base, processes=2):
    from rnnviz.gui.windows.sweep_window import SweepWindow

    win = SweepWindow(base, processes=processes)
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    win.shown_errors = []
    win.show_error = lambda title, message: win.shown_errors.append(message)
    return win


def _finish(qtbot, win, timeout=120):
    qtbot.waitUntil(lambda: win.runner.finished and not win.timer.isActive(), timeout=timeout * 1000)


def test_small_multiples_grow_while_the_cells_train(qtbot):
    """Local processes: a cell still training already shows its loss curve so far (the runner's live curves)."""
    win = _window(qtbot, load_preset("negation").config.replace(hidden=16, n_examples=2000))
    win.epochs.setValue(1000)
    win.set_grid("lr", "0.01, 0.02")
    assert win.start()
    qtbot.waitUntil(lambda: any(win.minis[i][1].getData()[0] is not None and len(win.minis[i][1].getData()[0])
                                for i in win.runner.curves), timeout=60000)
    index = next(i for i in win.runner.curves if win.minis[i][1].getData()[0] is not None)
    assert index not in win.runner.rows                         # still training
    x, y = win.minis[index][1].getData()
    live = win.runner.curves[index]
    assert len(x) and x[-1] <= live["train_steps"][-1]          # the drawing is of these curves (or older ones)
    by_step = dict(zip(live["train_steps"], live["train_losses"]))
    assert all(by_step[s] == v for s, v in zip(x, y) if s in by_step)
    win.close()
    assert not sweep_children()


def test_window_on_a_cluster_gives_the_local_numbers(qtbot, cluster):
    from rnnviz.gui.windows.sweep_window import FAILED_RGB, metric_text

    win = _window(qtbot, sweep_base_config())
    assert win.cluster.text() == "" and "tcp://HOST:8786" in win.cluster.toolTip()
    win.set_grid("spectral_radius", "1, 100", "lr", "0.01, 0.1")
    win.cluster.setText("tcp://127.0.0.1:port")
    assert not win.start() and win.runner is None
    assert "expected a Dask scheduler address like tcp://HOST:8786" in win.shown_errors[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    win.cluster.setText(f"127.0.0.1:{port}")
    assert not win.start() and win.runner is None
    assert win.shown_errors[-1].startswith(f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    win.cluster.setText(cluster.scheduler_address)
    assert win.start()
    assert f"on the cluster at {cluster.scheduler_address} (2 workers" in win.status.text()
    _finish(qtbot, win)
    assert "2 failed" in win.status.text() and win.progress.value() == 1000
    local = sweep.run_sweep(win.cells, processes=2)
    for cell, row in zip(win.cells, local):
        i, j = divmod(cell.index, 2)
        text = win.texts[cell.index].toPlainText()
        if row["status"] == "ok":
            assert text.split(" ")[0] == metric_text("val_loss", row["val_loss"])
            x, y = win.minis[cell.index][1].getData()
            assert list(x) == row["train_steps"] and np.array_equal(y, row["train_losses"])
        else:
            assert text.startswith("failed\nNaN/Inf") and tuple(win.image.image[i, j]) == FAILED_RGB
    win.close()


@pytest.mark.slow
def test_window_worker_killed_then_cancel_on_a_cluster(qtbot, cluster):
    """Kill the worker training the long cell: its cell turns grey with the reason, the other is ok. Then a sweep
    cancelled with the button frees the cluster: the next one runs to its end."""
    from PySide6.QtCore import Qt

    from rnnviz.gui.windows.sweep_window import FAILED_RGB

    win = _window(qtbot, load_preset("negation").config.replace(hidden=16, n_examples=1000))
    win.cluster.setText(cluster.scheduler_address)
    win.set_grid("epochs", "500, 3")            # the first trains for minutes: it is the victim
    assert win.start()
    qtbot.waitUntil(lambda: 0 in win.runner.curves and 0 in win.runner.where, timeout=60000)
    victim = win.runner.where[0]
    os.kill(worker_pid(cluster.scheduler_address, victim), signal.SIGKILL)
    _finish(qtbot, win)
    assert win.texts[0].toPlainText() == "failed\nworker died" and tuple(win.image.image[0, 0]) == FAILED_RGB
    assert f"epochs=500: worker died: {victim} stopped while training this cell, after step" in win.errors.text()
    assert win.runner.rows[1]["status"] == "ok" and win.texts[1].toPlainText().endswith("★")
    x, _ = win.minis[0][1].getData()
    assert len(x) and x[-1] <= win.runner.rows[0]["steps"]          # its curve until the worker died
    assert win.minis[0][0]._failure_note.toPlainText() == f"failed after {win.runner.rows[0]['steps']} steps"

    win.set_grid("lr", "0.01, 0.02, 0.03")
    win.epochs.setValue(1000)
    assert win.start()
    qtbot.waitUntil(lambda: len(win.runner.fractions) >= 2, timeout=60000)
    start = time.perf_counter()
    qtbot.mouseClick(win.cancel_button, Qt.MouseButton.LeftButton)
    print(f"cluster sweep Cancel button took {(time.perf_counter() - start) * 1000:.0f} ms")
    assert win.runner.cancelled and "Cancelled" in win.status.text()
    assert {win.texts[i].toPlainText() for i in range(3)} == {"cancelled"}
    win.epochs.setValue(2)
    win.base = sweep_base_config()
    win.set_grid("lr", "0.01, 0.1")
    assert win.start()
    _finish(qtbot, win)                          # the cancelled runs (1000 epochs) would hold both workers
    assert [win.runner.rows[i]["status"] for i in range(2)] == ["ok", "ok"]
    win.close()
