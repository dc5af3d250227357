"""Numeric faults: NaN/Inf or exploding values are caught in the very step they happen, training pauses with the"""
from __future__ import annotations

import numpy as np

from rnnviz.core.train.trainer import Trainer

from helpers import EXPLODING, small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def test_training_on_huge_loaded_weights_faults_at_once_and_draws(qtbot):
    """Weights as a crafted checkpoint could hold them (1e30, finite): the first step pauses, nothing crashes,
    and every panel draws the snapshot."""
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(activation="relu"), backend="thread")
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    try:
        ctl = win.controller
        wait_snapshot(qtbot, ctl)
        trainer = ctl.worker.loop.trainer
        trainer.model.flat[...] = 1e30            # between steps: the worker is idle (not running)
        kept = trainer.model.flat.copy()
        with qtbot.waitSignal(ctl.faultRaised, timeout=10000) as blocker:
            ctl.step_batch(1)
        assert "at step 1:" in blocker.args[0]
        snap = wait_snapshot(qtbot, ctl, lambda s: s.fault is not None)
        np.testing.assert_array_equal(trainer.model.flat, kept)
        assert snap.step == 0 and len(snap.train_loss) == 0
        win.show_snapshot(snap, everything=True)
        assert win.panel_errors == []
        qtbot.waitUntil(win.banner.isVisible, timeout=5000)
    finally:
        win.close()
    assert ctl.thread.isFinished()


def test_window_goes_on_after_lowering_the_learning_rate(qtbot):
    """The banner's advice works: lower lr + clipping, Space, training continues from the kept weights."""
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(**EXPLODING), backend="thread")
    qtbot.addWidget(win)
    win.show()
    try:
        ctl = win.controller
        wait_snapshot(qtbot, ctl)
        with qtbot.waitSignal(ctl.faultRaised, timeout=15000):
            ctl.start_training()
        snap = wait_snapshot(qtbot, ctl, lambda s: s.fault is not None)
        trainer = ctl.worker.loop.trainer
        np.testing.assert_array_equal(snap.W, trainer.model.params["W"])
        fault_step = snap.step
        twin = Trainer(trainer.config, dataset=trainer.dataset)      # the same run, headless, to the last good step
        for _ in range(fault_step):
            twin.step()
        np.testing.assert_array_equal(trainer.model.flat, twin.model.flat)
        assert ctl.apply_config(ctl.config.replace(lr=0.01, clip=1.0))
        ctl.start_training()
        snap = wait_snapshot(qtbot, ctl, lambda s: s.fault is None and s.step >= fault_step + 20, timeout=20)
        assert np.isfinite(snap.train_loss).all() and np.isfinite(snap.W).all()
        qtbot.waitUntil(lambda: not win.banner.isVisible(), timeout=5000)
    finally:
        win.close()


def test_a_late_frame_of_the_faulted_step_does_not_bring_the_banner_back(qtbot):
    """A live frame is drawn over several event-loop turns, so the frame of the faulted step can be shown after
    training has gone on: the banner follows the snapshot drawn (hidden by a frame without a fault)."""
    import dataclasses

    from rnnviz.gui.main_window import MainWindow
    from snapshot_factory import make_snapshot

    win = MainWindow(small_config(), backend="thread", start=False)
    qtbot.addWidget(win)
    ok = make_snapshot("classification", step=40)
    faulted = dataclasses.replace(ok, step=41, fault="Training paused at step 41: the loss became NaN")
    win.show_snapshot(faulted)
    assert win.banner.isVisibleTo(win) and "step 41" in win.banner_label.text()
    win.show_snapshot(dataclasses.replace(ok, step=60))
    assert not win.banner.isVisibleTo(win)
    win.show_snapshot(faulted)                       # replaying the faulted moment shows it again
    assert win.banner.isVisibleTo(win)
