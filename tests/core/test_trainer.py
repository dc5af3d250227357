"""The headless trainer: determinism, snapshots, faults, the vanishing-gradient lesson, presets that learn."""
import math

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.errors import TrainingFault
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import list_presets
from rnnviz.core.train.trainer import Trainer

from helpers import batch_at

SMALL = dict(n_examples=300, hidden=16, epochs=2)


def small(dataset="negation", **kw):
    return Config(dataset=dataset, **{**SMALL, **kw})


def test_same_seed_same_numbers():
    a, b = Trainer(small(seed=3)), Trainer(small(seed=3))
    la = [a.step() for _ in range(15)]
    lb = [b.step() for _ in range(15)]
    assert la == lb
    np.testing.assert_array_equal(a.model.flat, b.model.flat)
    c = Trainer(small(seed=4))
    assert not np.array_equal(c.model.flat, Trainer(small(seed=3)).model.flat)


def test_epoch_evaluates_and_counts():
    t = Trainer(small())
    t.run_epoch()
    assert t.epoch == 1 and t.step_count == t.steps_per_epoch
    ev = t.last_eval
    assert ev["confusion"].sum() == len(t.dataset.val)
    assert ev["val_accuracy"] == pytest.approx(np.trace(ev["confusion"]) / ev["confusion"].sum())


def test_validation_loss_is_the_models_own():
    t = Trainer(small())
    ev = t.evaluate()
    from rnnviz.core.data.batch import make_batch

    batch = make_batch(t.dataset.val, np.arange(len(t.dataset.val)), t.pad_id, t.dataset.task)
    assert ev["val_loss"] == pytest.approx(t.model.loss(batch), rel=1e-5)


@pytest.mark.parametrize("dataset", ["negation", "names", "chars"])
def test_snapshot_shapes_and_read_only(dataset):
    t = Trainer(small(dataset))
    for _ in range(12):
        t.step()
    t.evaluate()
    s = build_snapshot(t)
    k = t.dataset.n_classes
    assert s.step == 12 and len(s.train_loss) == 12 and s.train_loss[-1] == pytest.approx(t.last_loss)
    assert s.grad_flow.shape[1] == s.grad_norms.shape[0] == t.monitor_batch.ids.shape[1]
    assert s.W.shape == (t.model.G * 16, 16)
    assert set(s.param_grad_norms) == set(t.model.param_names)
    assert s.probe is not None and s.probe.states.shape == (len(s.probe.tokens), t.model.D)
    if s.task != "generation":
        assert s.confusion.shape == (k, k)
    else:
        assert s.sample_text and math.isfinite(s.val_perplexity[-1])
    for name, arr in s.arrays().items():
        assert not arr.flags.writeable, name
    s_before = s.train_loss.copy()
    t.step()
    np.testing.assert_array_equal(s.train_loss, s_before)   # a snapshot never changes after it is taken


def test_probe_states_are_the_models():
    t = Trainer(small())
    t.set_probe(3)
    s = build_snapshot(t)
    ids = np.asarray(t.dataset.val.ids[3])[None, :]
    states = t.model.hidden_states(ids, np.array([ids.shape[1]]))[0]
    np.testing.assert_allclose(s.probe.states, states, rtol=1e-6)
    assert s.probe.source == "validation #3"


def test_param_grad_norms_match_gradients():
    t = Trainer(small(clip=0.0))
    t.step()
    s = build_snapshot(t)
    # recompute the step's gradient independently on a fresh trainer with the same seed
    u = Trainer(small(clip=0.0))
    batch = batch_at(u, 0)
    u.model.loss_and_grads(batch)
    for name in u.model.param_names:
        assert s.param_grad_norms[name][0] == pytest.approx(np.linalg.norm(u.model.grads[name]), rel=1e-4)


def test_nan_pauses_with_explanation_and_keeps_good_weights():
    t = Trainer(small(lr=100.0, clip=0.0, spectral_radius=30.0, optimizer="sgd", activation="relu"))
    with pytest.raises(TrainingFault) as info:
        for _ in range(200):
            t.step()
    assert "clipping" in str(info.value) and "learning rate" in str(info.value)
    assert t.fault and np.isfinite(t.model.flat).all()
    assert build_snapshot(t).fault == t.fault
    with pytest.raises(TrainingFault):
        t.step()


def test_set_lr_between_steps():
    t = Trainer(small())
    t.step()
    t.apply_live("lr", 0.001)
    assert t.optimizer.lr == 0.001 and t.config.lr == 0.001


def test_vanishing_gradient_lesson_at_delay_50():
    """The issue's check: tanh RNN ratio ||dL/ds_1|| / ||dL/ds_T|| < 1e-3, LSTM's at least 100x larger."""
    ratios = {}
    for cell in ("rnn", "lstm"):
        t = Trainer(Config(dataset="delayed-recall", delay=50, cell=cell, n_examples=400))
        ratios[cell] = t.monitor_norms[0] / t.monitor_norms[-1]
    assert ratios["rnn"] < 1e-3
    assert ratios["lstm"] >= 100 * ratios["rnn"]


def test_every_preset_loads():
    names = [p.name for p in list_presets()]
    for required in ("negation", "names", "pos", "delayed-recall", "chars"):
        assert required in names
    for p in list_presets():
        assert p.title and p.description and p.text


def test_sampled_text_has_no_special_tokens():
    t = Trainer(Config(dataset="chars", task="generation", tokenize="char", hidden=8, window=16, n_examples=300))
    t.apply_live("temperature", 2.0)   # a flat distribution would pick specials if they were allowed
    assert t.sample_text
    for special in ("<pad>", "<unk>", "<sos>", "<eos>"):
        assert special not in t.sample_text
