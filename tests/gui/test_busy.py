"""Loading a large file keeps the window live: the event loop turns while the file loads, and the loader's
result or its clear error comes back as if it had run in place."""
from __future__ import annotations

import random
import time

import pytest
from PySide6.QtCore import QTimer

from rnnviz.core.errors import DataError
from rnnviz.gui.training.busy import SLOW_FILE_BYTES, is_large_file, run_keeping_window_live

from qt_helpers import no_leaks, open_window  # noqa: F401 (fixture)


class Heartbeat:
    """Counts the beats of a 10 ms timer: beats during a call mean the event loop kept turning."""

    def __init__(self):
        self.beats = 0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._beat)
        self.timer.start()

    def _beat(self):
        self.beats += 1


def big_reviews(path, rows: int = 30000, bad_last_line: bool = False):
    rng = random.Random(0)
    words = "good bad movie film not very plot actor great boring the a was is".split()
    with open(path, "w") as f:
        for _ in range(rows):
            f.write(" ".join(rng.choice(words) for _ in range(12)) + "\t" + rng.choice(["pos", "neg"]) + "\n")
        if bad_last_line:
            f.write("this line has no label at all\n")
    assert is_large_file(path) and path.stat().st_size > SLOW_FILE_BYTES
    return path


def test_the_event_loop_turns_while_the_work_runs(qtbot):
    beat = Heartbeat()
    assert run_keeping_window_live(lambda x: (time.sleep(0.3), x * 2)[1], 21) == 42
    assert beat.beats >= 5, beat.beats
    beat.timer.stop()


def test_the_error_comes_back_unchanged(qtbot):
    def fail():
        raise DataError("data.tsv:3: no separator")

    with pytest.raises(DataError, match="data.tsv:3: no separator"):
        run_keeping_window_live(fail)


def test_small_and_missing_files_are_not_large(tmp_path):
    small = tmp_path / "small.tsv"
    small.write_text("good film\tpos\n")
    assert not is_large_file(small) and not is_large_file(tmp_path / "missing.tsv") and not is_large_file(None)


def test_opening_a_large_file_keeps_the_window_live(qtbot, tmp_path, no_leaks):
    win = open_window(qtbot)
    errors = []
    win.show_error = lambda title, text: errors.append(text)
    try:
        bad = big_reviews(tmp_path / "bad.tsv", bad_last_line=True)
        before = win.controller.config
        beat = Heartbeat()
        assert not win._apply({"dataset": str(bad), "task": "classification"}, "Could not use this file")
        assert len(errors) == 1 and "bad.tsv:30001: no separator" in errors[0]
        assert win.controller.config == before                 # nothing changed

        good = big_reviews(tmp_path / "good.tsv")
        beat.beats = 0
        assert win._apply({"dataset": str(good), "task": "classification"}, "Could not use this file")
        # in place (the old way) the timer cannot beat at all; in a thread it beats whenever the loader lets go of
        # the GIL (a parse of a few hundred ms: between 1 and ~20 beats here, depending on the machine's load)
        assert beat.beats >= 1, f"the event loop turned {beat.beats} times while 30,000 rows loaded"
        assert list(win.controller.dataset.classes) == ["neg", "pos"] and win.windowTitle() == "rnnviz — good.tsv"
        beat.timer.stop()
    finally:
        win.close()


def test_a_large_file_opened_while_the_child_trains_reaches_it(qtbot, tmp_path, no_leaks):
    """The process backend: a new dataset of a few MB is written to the training child while the child keeps
    writing snapshots back. With one thread doing both, the two writes blocked each other for ever (training
    hung at its last step); the commands now have their own writer thread."""
    from rnnviz.gui.training.controller import Controller

    from helpers import small_config
    from qt_helpers import wait_snapshot

    ctl = Controller(small_config(epochs=1000), backend="process", interval=0.0)
    ctl.start()
    try:
        wait_snapshot(qtbot, ctl)
        ctl.start_training()
        wait_snapshot(qtbot, ctl, lambda s: s.step > 50)
        path = big_reviews(tmp_path / "big.tsv", rows=60000)
        assert ctl.apply_config(ctl.config.replace(dataset=str(path), task="classification"))
        snap = wait_snapshot(qtbot, ctl, lambda s: s.config.get("dataset") == str(path), timeout=30)
        ctl.start_training()
        wait_snapshot(qtbot, ctl, lambda s: s.config.get("dataset") == str(path) and s.step > snap.step + 5,
                      timeout=30)
    finally:
        assert ctl.shutdown(timeout=2.0)
