"""Markers: a live setting change during training leaves a labelled line at that step on the loss and gradient plots."""
from __future__ import annotations

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import MARKER_CAP, Trainer

from helpers import small_config


def test_trainer_records_changes_after_the_first_step_only():
    t = Trainer(small_config(n_examples=120))
    t.apply_live("lr", 0.05)                        # before training: a new starting value, no marker
    t.step()
    t.step()
    t.apply_live("lr", 0.02)
    t.apply_live("lr", 0.001)                       # dragged twice between two steps: one marker, first→last
    t.apply_live("clip", 0.0)
    t.apply_live("epochs", 80)                      # the loop's SetLive("epochs", 80)
    t.apply_live("temperature", 0.5)
    t.step()
    t.apply_live("lr", 0.003)
    t.apply_live("lr", 0.001)                       # and back: no marker
    assert build_snapshot(t).markers == ((2, "lr 0.05\u21920.001"), (2, "clip 5\u21920"),
                                         (2, "epochs 50\u219280"), (2, "temperature 1\u21920.5"))
    for i in range(MARKER_CAP + 5):
        t.step_count += 1
        t.apply_live("clip", float(i % 2))
    assert len(t.markers) == MARKER_CAP and t.markers[-1][0] == t.step_count


