"""The articles' worked example: a vanilla RNN with three hidden units reading the word "dogs" one character at
a time and predicting the next character, computed by the core's own model (``RNNModel``), so what a student sees
is what rnnviz computes.

The articles name the matrices W_X, W_H and W_Y; in rnnviz's notation they are U, W and V, with b = 0 and c = 0:

    a_t = W_X x_t + W_H h_{t-1}       (U x_t + W s_{t-1} + b)
    h_t = tanh(a_t)                   (s_t = g(a_t))
    z_t = W_Y h_t,  y_t = softmax(z_t)  (y_t = softmax(V s_t + c))
    loss_t = -log y_t[next character]

The vocabulary is d, o, g, s (ids 0..3, x_t the one-hot vector e_id), h_0 = 0. Reading "d" gives
a_1 = [0.6, 0.2, 0.9] (the first column of W_X) and h_1 ≈ [0.54, 0.20, 0.72]. The matrices are the ``[weights]``
of the "Worked example: dogs" lesson (``resources/presets/worked-example.toml``), which trains from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnviz.core.config import Config, validate
from rnnviz.core.data.batch import Batch
from rnnviz.core.nn import fixed_weights

if TYPE_CHECKING:
    from rnnviz.core.nn.model import RNNModel

WORD = "dogs"
VOCAB = ("d", "o", "g", "s")                 # ids 0..3
PRESET = "worked-example"                    # its [weights] table holds the articles' matrices (one definition)


@dataclass(frozen=True)
class Step:
    """One timestep t (1-based, as in the articles): the character read, the one predicted, and every number."""

    t: int
    char: str
    target: str
    x: np.ndarray        # (4,) one-hot of char
    a: np.ndarray        # (3,) W_X x_t + W_H h_{t-1}
    h: np.ndarray        # (3,) tanh(a_t)
    z: np.ndarray        # (4,) W_Y h_t
    y: np.ndarray        # (4,) softmax(z_t)
    loss: float          # -log y_t[target]


@dataclass(frozen=True)
class WorkedExample:
    steps: tuple[Step, ...]
    loss: float          # sum over t of loss_t (the model's loss of the one sequence)


def model() -> RNNModel:
    """The core's vanilla tanh RNN (float64, three hidden units) holding the articles' matrices, b = 0, c = 0: the
    ``[weights]`` of the worked-example lesson, put in as the lesson's training starts (``nn.fixed_weights``)."""
    from rnnviz.core.nn.model import RNNModel

    cfg = validate(Config(cell="rnn", activation="tanh", hidden=3, task="generation", dtype="float64"))
    net = RNNModel(cfg, len(VOCAB), len(VOCAB))
    fixed_weights.apply(net, PRESET, VOCAB, VOCAB)
    return net


def matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W_X, W_H, W_Y): U (3, 4) with a column per character, W (3, 3), V (4, 3) with a row per character."""
    net = model()
    return net.get("U"), net.get("W"), net.get("V")


def worked_example(word: str = WORD) -> WorkedExample:
    """Read ``word`` but its last character (d, o, g) and predict each next one (o, g, s), with the core's model."""
    if len(word) < 2 or any(ch not in VOCAB for ch in word):
        raise ValueError(f"the worked example's words use the characters {', '.join(VOCAB)}, got {word!r}")
    net = model()
    ids = np.array([[VOCAB.index(ch) for ch in word[:-1]]])        # (1, T)
    targets = np.array([[VOCAB.index(ch) for ch in word[1:]]])     # (1, T)
    lengths = np.array([ids.shape[1]])
    a = net.preactivations(ids, lengths)[0]          # (T, 3)
    h = net.hidden_states(ids, lengths)[0]           # (T, 3)
    y = net.predict(ids, lengths)[0]                 # (T, 4)
    V = net.get("V")
    steps = []
    for t in range(ids.shape[1]):
        k = int(targets[0, t])
        steps.append(Step(t=t + 1, char=word[t], target=word[t + 1], x=np.eye(len(VOCAB))[ids[0, t]],
                          a=a[t], h=h[t], z=V @ h[t], y=y[t], loss=float(-np.log(y[t, k]))))
    total = net.loss(Batch(ids=ids, lengths=lengths, targets=targets, index=np.array([0])))
    return WorkedExample(steps=tuple(steps), loss=float(total))
