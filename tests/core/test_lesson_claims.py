"""Lessons: each preset reaches what its text promises (headless, through the Trainer), the Lessons menu opens"""
from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.core.errors import ConfigError
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset, parse_preset
from rnnviz.core.train.trainer import Trainer


def test_vanishing_lesson_has_the_delay_slider_and_tells_to_switch_to_lstm():
    p = load_preset("delayed-recall")
    assert p.title == "Vanishing gradients" and p.controls == ("delay",)
    assert "LSTM" in p.text and "Delay slider" in p.text
    assert p.config.cell == "rnn" and p.config.activation == "tanh" and p.config.delay == 50


def test_exploding_lesson_without_clipping_explodes_and_thrashes():
    """The text: rho(W) = 1.5, ||dL/ds_t|| grows towards the first step before training, ||dL/dtheta|| jumps up to
    about 10, the loss thrashes around ln 4 and the accuracy ends at chance (25%)."""
    cfg = load_preset("exploding").config
    assert cfg.clip == 0 and cfg.spectral_radius == 1.5
    t = Trainer(cfg)
    first = build_snapshot(t)
    assert first.spectral_radius["s"] == pytest.approx(1.5, rel=1e-4)
    norms = np.asarray(first.grad_norms)
    assert norms[0] / norms[-1] > 5                        # grows towards the first timestep
    assert norms[:5].mean() > 3 * norms[-5:].mean()        # the first steps get the largest gradients
    t.train()
    snap = build_snapshot(t)
    peak = max(float(np.max(v)) for v in snap.param_grad_norms.values())
    assert 5 < peak < 20, peak                             # "up to about 10"
    late = np.asarray(snap.train_loss[-50:])
    assert abs(late.mean() - math.log(4)) < 0.3            # thrashing around ln 4
    assert snap.val_accuracy[-1] <= 0.3                    # chance, 4 classes
    assert len(snap.classes) == 4


def test_exploding_lesson_with_clipping_learns_in_the_first_epoch():
    """The text: set Clip gradients to 1 and press R (same seed, same initial weights): 100% in the first epoch."""
    cfg = load_preset("exploding").config.replace(clip=1.0)
    t = Trainer(cfg)
    t.run_epoch()
    assert t.last_eval["val_accuracy"] >= 0.99


def test_vanishing_lesson_short_delay_lets_the_rnn_learn():
    """The text: drag the Delay slider down to 20 and even the tanh RNN learns (delay 50 fails: test_trainer)."""
    t = Trainer(load_preset("delayed-recall").config.replace(delay=20))
    t.train(epochs=3)
    assert t.last_eval["val_accuracy"] > 0.95


def test_your_own_data_has_no_dataset_and_opens_a_file():
    p = load_preset("your-own-data")
    assert p.action == "open-file"
    for fmt in (".tsv", ".conllu", ".txt", "label", "tag"):
        assert fmt in p.text


@pytest.mark.parametrize("lesson, message", [
    ('action = "dance"', "action must be one of"),
    ('controls = ["hidden"]', "controls: unknown hidden; allowed: delay"),
])
def test_bad_lesson_fields_are_clear_errors(lesson, message):
    with pytest.raises(ConfigError) as err:
        parse_preset("bad", f"[lesson]\ntitle = 'x'\n{lesson}\n", "bad.toml")
    assert "bad.toml" in str(err.value) and message in str(err.value)
