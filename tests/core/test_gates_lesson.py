"""The claims of the `gates` lesson, under the conditions its text states (the preset's settings: an LSTM of 32 units
on delayed recall, the model as it starts), over several seeds and both delays its slider reaches here; and the
start weights a preset can fix (the worked example)."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core import Trainer
from rnnviz.core.config import START_WEIGHTS
from rnnviz.core.errors import ConfigError
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import list_presets, load_preset

SEEDS = (0, 1, 2)


def start(seed: int, delay: int, **changes):
    cfg = load_preset("gates").config.replace(seed=seed, delay=delay, n_examples=400, **changes)
    return build_snapshot(Trainer(cfg))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("delay", (30, 50))
def test_at_the_start_the_gradient_rides_the_cell_state(seed, delay):
    snap = start(seed, delay)
    f = snap.probe.gates["f"]
    assert abs(f.mean() - 1 / (1 + np.exp(-1.0))) < 0.01          # "every forget gate near sigma(1) = 0.73"
    ds1, dc1 = snap.grad_norms[0], snap.grad_norms_c[0]
    assert 2 * ds1 <= dc1 <= 4 * ds1                                  # "2 to 4 times above ||dL/ds_t|| at t = 1"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("delay", (30, 50))
def test_a_forget_bias_of_3_opens_the_highway(seed, delay):
    closed, opened = start(seed, delay), start(seed, delay, forget_bias=3.0)
    assert abs(opened.probe.gates["f"].mean() - 0.95) < 0.01          # "f starts near 0.95"
    assert opened.grad_norms_c[0] >= 100 * closed.grad_norms_c[0]     # "grows more than a hundredfold"
    assert opened.grad_norms_c[0] >= opened.grad_norms[-1]            # "as large as the gradient at the last step"


@pytest.mark.parametrize("seed", SEEDS)
def test_the_tanh_rnn_gets_far_less_at_the_first_step(seed):
    """The contrast the lesson builds on (the vanishing-gradient lesson's RNN on the same data)."""
    lstm, rnn = start(seed, 30), start(seed, 30, cell="rnn")
    assert lstm.grad_norms[0] >= 100 * rnn.grad_norms[0]


# ------------------------------------------------------------------------------------------------ start weights
def test_every_start_weights_choice_is_a_preset_with_weights():
    with_weights = sorted(p.name for p in list_presets() if p.weights)
    assert sorted(c for c in START_WEIGHTS if c != "random") == with_weights


def test_the_worked_example_starts_from_the_articles_matrices():
    trainer = Trainer(load_preset("worked-example").config)
    model, vocab, classes = trainer.model, trainer.dataset.vocab, trainer.dataset.classes
    assert list(classes) == ["d", "o", "g", "s"]
    U = model.get("U")
    cols = {tok: U[:, vocab.encode([tok])[0]] for tok in "dogs"}
    np.testing.assert_array_equal(np.array([cols[t] for t in "dogs"]).T,
                                  [[0.6, 0.8, 0.4, 0.8], [0.2, 0.2, 0.8, 0.7], [0.9, 0.8, 0.1, 0.2]])
    np.testing.assert_array_equal(model.get("W"), [[0.1, 0.5, 0.1], [0.5, 0.9, 0.3], [0.3, 0.2, 0.1]])
    np.testing.assert_array_equal(model.get("V"), [[0.9, 0.8, 0.3], [0.2, 0.3, 0.4], [0.6, 0.9, 0.1],
                                                   [0.5, 0.0, 0.3]])
    assert not model.get("b").any() and not model.get("c").any()
    # the same numbers after a reset (a new Trainer from the same settings), and random ones without them
    again = Trainer(trainer.config)
    np.testing.assert_array_equal(again.model.flat, model.flat)
    other = Trainer(trainer.config.replace(start_weights="random"))
    assert not np.array_equal(other.model.get("W"), model.get("W"))


@pytest.mark.parametrize("change,words", [
    (dict(hidden=4), "worked-example: [weights] U[:, 'd'] has shape (3,), this model needs (4,); set Start weights "
                     "to random"),
    (dict(cell="lstm"), "[weights] U[:, 'd'] has shape (3,), this model needs (12,)"),
])
def test_start_weights_that_do_not_fit_are_one_line(change, words):
    cfg = load_preset("worked-example").config.replace(**change)
    with pytest.raises(ConfigError) as err:
        Trainer(cfg)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_start_weights_naming_a_token_the_data_lacks():
    cfg = load_preset("worked-example").config.replace(dataset="negation", task="classification")
    with pytest.raises(ConfigError, match="names the input token 'd', which this data does not have"):
        Trainer(cfg)
