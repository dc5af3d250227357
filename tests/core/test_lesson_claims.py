"""Lessons: each preset reaches what its text promises, at the settings its text states, for its own seed and two
others (``SEEDS``), headless through the Trainer."""
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


SEEDS = (0, 1, 2)       # the lesson's own seed and two others: a claim must not hold for one seed only


@pytest.mark.parametrize("seed", SEEDS)
def test_exploding_lesson_without_clipping_explodes_and_thrashes(seed):
    """The text, at its stated settings (rho(W) = 1.5, no clipping, momentum SGD at lr 0.05): ||dL/ds_t|| grows
    towards the first step 5 to 20 times before training, ||dL/dtheta|| jumps to 10 or more, the loss thrashes around
    ln 4 and the accuracy stays between chance (25%) and 75%."""
    cfg = load_preset("exploding").config.replace(seed=seed)
    assert (cfg.clip, cfg.spectral_radius, cfg.optimizer, cfg.lr) == (0, 1.5, "momentum", 0.05)
    t = Trainer(cfg)
    first = build_snapshot(t)
    assert first.spectral_radius["s"] == pytest.approx(1.5, rel=1e-4)
    norms = np.asarray(first.grad_norms)
    assert 5 < norms[0] / norms[-1] < 20                   # grows towards the first timestep
    assert norms[:5].mean() > 3 * norms[-5:].mean()        # the first steps get the largest gradients
    accs = []
    while not t.done:
        t.run_epoch()
        accs.append(t.last_eval["val_accuracy"])
    snap = build_snapshot(t)
    peak = max(float(np.max(v)) for v in snap.param_grad_norms.values())
    assert peak > 10, peak                                 # "jumps to 10 or more"
    late = np.asarray(snap.train_loss[-50:])
    assert abs(late.mean() - math.log(4)) < 0.3            # thrashing around ln 4
    assert len(snap.classes) == 4 and max(accs) <= 0.75    # between chance and 75%, never there


@pytest.mark.parametrize("seed", SEEDS)
def test_exploding_lesson_with_clipping_learns_within_four_epochs(seed):
    """The text: set Clip gradients to 1 and press R (same seed, same initial weights): 100% within four epochs."""
    t = Trainer(load_preset("exploding").config.replace(clip=1.0, seed=seed))
    accs = []
    while t.epoch < 4:
        t.run_epoch()
        accs.append(t.last_eval["val_accuracy"])
    assert max(accs) >= 0.99, accs


def _accuracies(cfg, epochs: int) -> list[float]:
    t = Trainer(cfg)
    accs = []
    while t.epoch < epochs:
        t.run_epoch()
        accs.append(t.last_eval["val_accuracy"])
    return accs


VANISHING = load_preset("delayed-recall").config


def test_vanishing_lesson_states_its_conditions():
    cfg = VANISHING
    assert (cfg.delay, cfg.hidden, cfg.lr, cfg.clip, cfg.forget_bias, cfg.cell) == (50, 32, 0.01, 1.0, 3.0, "rnn")
    text = load_preset("delayed-recall").text
    for words in ("50 here, with hidden size 32, learning rate 0.01 and clipping at 1", "bias 3", "first epoch"):
        assert words in text


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_lesson_gradient_at_the_first_step_is_a_thousand_times_smaller(seed):
    """||dL/ds_1|| / ||dL/ds_T|| of the tanh RNN below 1e-3 before training; the LSTM's at least 100 times larger."""
    ratios = {}
    for cell in ("rnn", "lstm"):
        t = Trainer(VANISHING.replace(cell=cell, seed=seed))
        ratios[cell] = t.monitor_norms[0] / t.monitor_norms[-1]
    assert ratios["rnn"] < 1e-3 and ratios["lstm"] >= 100 * ratios["rnn"], ratios


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_lesson_tanh_rnn_stays_below_60_percent_in_its_first_epoch(seed):
    (first,) = _accuracies(VANISHING.replace(seed=seed), 1)
    assert first < 0.6


@pytest.mark.slow
def test_vanishing_lesson_whether_the_rnn_finds_it_later_depends_on_the_seed():
    """"Tiny, not zero": over 10 epochs some seeds find the answer and others do not (seeds 0-4 measured here)."""
    best = [max(_accuracies(VANISHING.replace(seed=seed), 10)) for seed in range(5)]
    assert min(best) < 0.6 and max(best) > 0.99, best


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_lesson_lstm_learns_in_the_first_epoch(seed):
    (first,) = _accuracies(VANISHING.replace(cell="lstm", seed=seed), 1)
    assert first >= 0.99


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_lesson_short_delay_lets_the_rnn_learn_in_one_epoch(seed):
    """The text: drag the Delay slider down to 20 and even the tanh RNN learns in one epoch."""
    (first,) = _accuracies(VANISHING.replace(delay=20, seed=seed), 1)
    assert first > 0.95


@pytest.mark.parametrize("seed", SEEDS)
def test_negation_lesson_turns_the_confusion_matrix_diagonal(seed):
    """At its settings (hidden 32, lr 0.01, 10 epochs of 1,600 reviews): above 95% validation accuracy."""
    cfg = load_preset("negation").config.replace(seed=seed)
    assert (cfg.hidden, cfg.lr, cfg.epochs, cfg.n_examples) == (32, 0.01, 10, 2000)
    assert max(_accuracies(cfg, cfg.epochs)) > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_chars_lesson_goes_from_noise_to_words_and_the_temperature_does_what_it_says(seed):
    """At its settings (hidden 64, windows of 32 characters, 60 epochs = 300 steps): the perplexity falls from about
    the vocabulary size to below 2.5, and the samples spell words; a low temperature repeats itself more (fewer
    distinct words per word) and a high one invents more words that are not in the text."""
    import re

    cfg = load_preset("chars").config.replace(seed=seed)
    assert (cfg.hidden, cfg.window, cfg.epochs) == (64, 32, 60)
    t = Trainer(cfg)
    first = t.evaluate()["val_perplexity"]
    t.train()
    assert first > 20 and t.last_eval["val_perplexity"] < 2.5
    known = set(re.findall(r"[a-z]+", " ".join("".join(x) for x in t.dataset.train.tokens)))

    def sample(temperature: float) -> list[str]:
        t.apply_live("temperature", temperature)
        return re.findall(r"[a-z]+", " ".join(t.sample_text for _ in range(1)))

    words = sample(1.0)
    assert len(set(words) & known) >= 5                                   # words, not noise
    low = [w for _ in range(4) for w in sample(0.2)]
    high = [w for _ in range(4) for w in sample(2.0)]
    assert len(set(low)) / len(low) < len(set(high)) / len(high)         # low: repetitive
    invented = lambda ws: sum(w not in known for w in ws) / len(ws)     # noqa: E731
    assert invented(high) > invented(low)                                 # high: creative and wrong


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


def test_exploding_lesson_with_clipping_usually_learns_in_the_first_epoch():
    first = []
    for seed in SEEDS:
        t = Trainer(load_preset("exploding").config.replace(clip=1.0, seed=seed))
        t.run_epoch()
        first.append(t.last_eval["val_accuracy"])
    assert sum(a >= 0.99 for a in first) >= 2, first


def _tag_accuracy(t: Trainer, words: set[str]) -> float:
    """Accuracy of the trained model on the validation tokens in ``words`` (counted here, from the predictions)."""
    from rnnviz.core.data.batch import make_batch

    ds = t.dataset
    batch = make_batch(ds.val, np.arange(len(ds.val)), ds.vocab.pad_id, ds.task)
    probs = t.model.predict(batch.ids, batch.lengths)                        # (N, T, k)
    hits = [int(probs[i, j].argmax() == ds.val.targets[i][j])
            for i in range(len(ds.val)) for j, tok in enumerate(ds.val.tokens[i]) if tok in words]
    assert len(hits) > 200
    return sum(hits) / len(hits)


@pytest.mark.parametrize("seed", SEEDS)
def test_names_lesson_learning_shows_within_the_first_epoch(seed):
    """The text, at its settings (hidden 32, lr 0.01, 2,000 sentences, evaluated every 5 steps): the accuracy
    starts near the share of O tags (about 75%), passes 95% within the first epoch of 50 steps; by step 50 more
    than 95% of the names that are also ordinary words are tagged right."""
    from rnnviz.core.data.generated import FIRST_NAMES, LAST_NAMES

    cfg = load_preset("names").config.replace(seed=seed)
    assert (cfg.hidden, cfg.lr, cfg.n_examples, cfg.eval_every) == (32, 0.01, 2000, 5)
    t = Trainer(cfg)
    assert t.steps_per_epoch == 50 and len(t.dataset.train) + len(t.dataset.val) == 2000
    for _ in range(50):
        t.step()
    o_share = np.mean([tag == "O" for tags in t.dataset.val.targets for tag in
                       (t.dataset.classes[int(k)] for k in tags)])
    first, last = t.eval_history[0], t.eval_history[-1]
    assert first["step"] == 5 and abs(first["val_accuracy"] - o_share) < 0.05 and 0.7 < o_share < 0.8
    assert last["step"] == 50 and last["val_accuracy"] > 0.95
    ordinary = set(FIRST_NAMES[FIRST_NAMES.index("rose"):]) | set(LAST_NAMES[LAST_NAMES.index("baker"):])
    assert {"rose", "will", "baker"} <= ordinary
    assert _tag_accuracy(t, ordinary) > 0.95


@pytest.mark.parametrize("seed", SEEDS)
def test_pos_lesson_learning_shows_within_the_first_epoch(seed):
    """The text, at its settings: starts near 60%, passes 95% within the first epoch of 50 steps, and by then more
    than 95% of the ambiguous words (run, fly, watch ... as nouns or verbs) are tagged right."""
    from rnnviz.core.data.generated import AMBIGUOUS_POS

    cfg = load_preset("pos").config.replace(seed=seed)
    assert (cfg.hidden, cfg.lr, cfg.n_examples, cfg.eval_every) == (32, 0.01, 2000, 5)
    t = Trainer(cfg)
    for _ in range(50):
        t.step()
    first, last = t.eval_history[0], t.eval_history[-1]
    assert first["step"] == 5 and 0.5 < first["val_accuracy"] < 0.7
    assert last["step"] == 50 == t.steps_per_epoch and last["val_accuracy"] > 0.95
    assert {"run", "fly", "watch"} <= set(AMBIGUOUS_POS)
    assert _tag_accuracy(t, set(AMBIGUOUS_POS)) > 0.95
