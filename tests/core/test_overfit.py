"""Memorising: the rule of core.train.overfit on hand-made histories (each condition at its boundary), on a real run
that memorises (labels at random), the best weights kept and restored, and evaluations every K steps."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train import overfit
from rnnviz.core.train.trainer import Trainer

TRAIN_STEPS = np.arange(1, 101)
FALLING = 2.0 - TRAIN_STEPS / 100.0               # training loss 1.99 -> 1.0


def test_three_evaluations_above_the_best_by_more_than_five_percent_while_training_falls():
    vs = np.array([20, 40, 60, 80, 100])
    vl = np.array([0.9, 0.7, 0.74, 0.75, 0.76])          # best 0.7 at step 40; then +5.7 %, +7.1 %, +8.6 %
    found = overfit.detect(vs, vl, TRAIN_STEPS, FALLING)
    assert found is not None
    assert (found.since_step, found.best_loss, found.latest_step, found.latest_loss, found.evaluations) == \
        (40, 0.7, 100, 0.76, 3)
    assert found.train_then == pytest.approx(FALLING[20:40].mean())      # steps 21..40: one interval up to 40
    assert found.train_now == pytest.approx(FALLING[80:100].mean())      # steps 81..100
    assert found.message == ("validation loss rising since step 40: the model is memorising the training set")
    assert "0.7 at step 40, 0.76 at step 100 (+9 %, 3 evaluations later)" in found.detail


@pytest.mark.parametrize("vl, why", [
    ([0.9, 0.7, 0.74, 0.75], "only two evaluations after the best"),
    ([0.9, 0.7, 0.735, 0.75, 0.76], "one of the last three is exactly 5 % above (not more)"),
    ([0.9, 0.7, 0.8, 0.72, 0.76], "one of the last three is within 5 %"),
    ([0.9, 0.8, 0.75, 0.7, 0.69], "still falling"),
    ([np.nan, np.nan, np.nan, np.nan], "no finite validation loss"),
])
def test_no_memorising_when_a_condition_fails(vl, why):
    vs = np.arange(1, len(vl) + 1) * 20
    assert overfit.detect(vs, np.array(vl), TRAIN_STEPS, FALLING) is None, why


def test_a_best_younger_than_min_steps_is_not_yet_a_trend():
    vs = np.array([20, 40, 60, 80, 100])
    vl = np.array([0.9, 0.7, 0.74, 0.75, 0.76])
    assert overfit.detect(vs, vl, TRAIN_STEPS, FALLING, min_steps=60) is not None      # 100 - 40 = 60 steps
    assert overfit.detect(vs, vl, TRAIN_STEPS, FALLING, min_steps=61) is None


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_a_lesson_at_its_plateau_is_never_called_memorising(seed):
    """Part of speech, evaluated every 5 steps: at 99 % its validation loss wobbles by more than 5 % within an
    epoch; no snapshot of the whole run may say "memorising"."""
    from rnnviz.core.presets import load_preset

    t = Trainer(load_preset("pos").config.replace(seed=seed))
    seen = 0
    while not t.done:
        t.step()
        if len(t.eval_history) > seen:
            seen = len(t.eval_history)
            assert build_snapshot(t).overfitting is None, t.step_count
    assert seen == 80 and t.last_eval["val_accuracy"] > 0.98


def test_both_losses_rising_is_not_memorising():
    vs = np.array([20, 40, 60, 80, 100])
    vl = np.array([0.9, 0.7, 0.8, 0.9, 1.0])
    rising = 1.0 + TRAIN_STEPS / 100.0
    assert overfit.detect(vs, vl, TRAIN_STEPS, rising) is None
    assert overfit.detect(vs, vl, TRAIN_STEPS, FALLING) is not None


def random_labels(tmp_path, n=160, seed=0):
    """Sentences with labels at random: there is nothing to learn but the training set itself."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    rows = [" ".join(rng.choice(words, 8)) + f"\t{'ab'[rng.integers(2)]}\n" for _ in range(n)]
    path = tmp_path / "random.tsv"
    path.write_text("".join(rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def memorised(tmp_path):
    t = Trainer(Config(dataset=random_labels(tmp_path), task="classification", hidden=32, epochs=25, lr=0.01))
    t.train()
    return t


def test_a_run_that_memorises_is_found_and_the_snapshot_carries_it(memorised):
    t = memorised
    snap = build_snapshot(t)
    found = snap.overfitting
    assert found is not None
    losses = [e["val_loss"] for e in t.eval_history]
    best = int(np.argmin(losses))
    assert found.since_step == t.eval_history[best]["step"] == snap.best_step
    assert found.best_loss == losses[best] and found.latest_loss == losses[-1] > 1.05 * losses[best]
    train_steps, train = t.loss_history.view()
    assert train[-t.steps_per_epoch:, 0].mean() < 0.2 * losses[best]      # the training set is learnt by heart


def test_restore_best_brings_back_the_weights_of_the_lowest_validation_loss(memorised):
    t = memorised
    best_step = t.best["step"]
    kept = t.best["params"].copy()
    lowest = min(e["val_loss"] for e in t.eval_history)
    step = t.step_count
    assert t.restore_best() == best_step
    assert np.array_equal(t.model.flat, kept)
    assert t.last_eval["val_loss"] == lowest and t.last_eval["step"] == step        # evaluated again, same number
    assert t.markers[-1] == (step, f"weights of step {best_step}")
    t.step()                                                                          # and training goes on
    assert t.step_count == step + 1


def test_restore_best_before_any_evaluation_is_a_clear_error():
    t = Trainer(Config(hidden=4, n_examples=60))
    with pytest.raises(ValueError, match="no evaluation yet: there are no best weights to go back to"):
        t.restore_best()


def test_best_weights_survive_state_dict():
    cfg = Config(hidden=4, n_examples=80, epochs=3)
    a = Trainer(cfg)
    a.train()
    b = Trainer(cfg)
    b.load_state_dict(a.state_dict())
    assert b.best["step"] == a.best["step"] and np.array_equal(b.best["params"], a.best["params"])
    state = a.state_dict()
    del state["best"]                               # a state from before best weights were kept
    c = Trainer(cfg)
    c.load_state_dict(state)
    assert c.best is None


def test_evaluating_every_k_steps_adds_evaluations_and_changes_no_training_number():
    cfg = Config(dataset="names", task="labelling", hidden=6, n_examples=200, epochs=2)
    plain, often = Trainer(cfg), Trainer(cfg.replace(eval_every=2))
    a = [plain.step() for _ in range(2 * plain.steps_per_epoch)]
    b = [often.step() for _ in range(2 * often.steps_per_epoch)]
    assert a == b and np.array_equal(plain.model.flat, often.model.flat)
    spe = plain.steps_per_epoch
    want = sorted(set(range(2, 2 * spe + 1, 2)) | {spe, 2 * spe})
    assert [e["step"] for e in often.eval_history] == want
    assert [e["step"] for e in plain.eval_history] == [spe, 2 * spe]
    assert often.eval_history[-1]["val_loss"] == plain.eval_history[-1]["val_loss"]
