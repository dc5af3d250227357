"""The status bar at 1024x768 once training finished (the user's path: a lesson trained to the end): the loss and
the other numbers stay readable; the long state message ("Finished: raise Epochs") gives way first."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (a fixture)

NUMBERS = ("epoch", "step", "speed", "loss", "val")


@pytest.mark.usefixtures("no_leaks")
def test_numbers_stay_whole_when_training_finished_at_1024x768(qtbot):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(epochs=10), backend="thread")
    qtbot.addWidget(win)
    win.resize(1022, 742)                   # a 1024x768 screen's free area
    win.show()
    qtbot.waitExposed(win)
    ctl = win.controller
    wait_snapshot(qtbot, ctl)
    ctl.start_training()
    qtbot.waitUntil(lambda: ctl.done and not ctl.running, timeout=20000)
    labels = win.status_labels
    qtbot.waitUntil(lambda: labels["state"].text() == "Finished: raise Epochs", timeout=5000)
    count = -1
    while count != ctl.snapshots:           # the last frames of the finished run drawn (none arrive after ours)
        count = ctl.snapshots
        qtbot.wait(300)
    # the user's numbers at the end of the negation lesson: loss 0.003375/seq, validation 0.003/seq at 100.0 %
    last = ctl.latest
    snap = dataclasses.replace(last, train_loss=np.append(last.train_loss[:-1], 0.003375),
                               val_loss=np.append(last.val_loss[:-1], 0.003),
                               val_accuracy=np.append(last.val_accuracy[:-1], 1.0))
    win.show_snapshot(snap, everything=True)
    qtbot.wait(100)
    for key in NUMBERS:
        label = labels[key]
        assert not label.clipped(), (key, label.text(), label.width())
        assert not label.shown_text().endswith("\u2026"), (key, label.shown_text())
    assert labels["loss"].shown_text() in ("Loss 0.003375/seq", "Loss 0.00338/seq", "Loss 0.0034/seq")
    assert labels["state"].shown_text() in ("Finished: raise Epochs", "Finished")       # it gave way, not the loss
    geometry = [labels[k].geometry() for k in labels]
    assert all(a.right() < b.left() for a, b in zip(geometry, geometry[1:]))
    assert win.width() <= 1024
    win.close()
