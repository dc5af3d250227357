"""The articles' worked example as rnnviz shows it (Help ▸ Worked example, the README): the core model's numbers
against the articles' and against a hand loop written here."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.nn import worked_example as we


def hand_loop(word):
    """a_t = W_X x_t + W_H h_{t-1}, h_t = tanh(a_t), y_t = softmax(W_Y h_t), written out with plain NumPy."""
    vocab = "dogs"
    W_X, W_H, W_Y = we.matrices()
    h = np.zeros(3)
    out = []
    for ch, nxt in zip(word[:-1], word[1:]):
        x = np.zeros(4)
        x[vocab.index(ch)] = 1.0
        a = W_X @ x + W_H @ h
        h = np.tanh(a)
        z = W_Y @ h
        y = np.exp(z) / np.exp(z).sum()
        out.append((x, a, h, z, y, -np.log(y[vocab.index(nxt)])))
    return out


def test_the_first_step_is_the_articles():
    first = we.worked_example().steps[0]
    assert (first.t, first.char, first.target) == (1, "d", "o")
    np.testing.assert_allclose(first.a, [0.6, 0.2, 0.9], atol=1e-12)
    np.testing.assert_allclose(first.h, [0.54, 0.20, 0.72], atol=0.005)
    np.testing.assert_allclose(first.y, [0.32, 0.21, 0.24, 0.22], atol=0.01)


@pytest.mark.parametrize("word", ["dogs", "god", "sod", "dd"])
def test_every_number_equals_a_hand_loop(word):
    ex = we.worked_example(word)
    expected = hand_loop(word)
    assert [s.char for s in ex.steps] == list(word[:-1]) and [s.target for s in ex.steps] == list(word[1:])
    for step, (x, a, h, z, y, loss) in zip(ex.steps, expected, strict=True):
        np.testing.assert_array_equal(step.x, x)
        for got, want in ((step.a, a), (step.h, h), (step.z, z), (step.y, y)):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
        assert step.loss == pytest.approx(loss, rel=1e-13)
    assert ex.loss == pytest.approx(sum(e[-1] for e in expected), rel=1e-13)


@pytest.mark.parametrize("word", ["d", "", "cats", "DOGS"])
def test_words_outside_the_vocabulary_are_refused(word):
    with pytest.raises(ValueError, match="d, o, g, s"):
        we.worked_example(word)
