"""Truncated BPTT without PyTorch: a plain loop written from the equations, state detached every k steps."""
import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.data.batch import IGNORE, Batch
from rnnviz.core.nn.model import RNNModel


def reference_grads(U, W, b, V, c, ids, targets, k):
    """Vanilla tanh RNN, labelling loss summed over steps, one sequence; gradient cut at every multiple of k."""
    T, d = len(ids), W.shape[0]
    s = np.zeros((T + 1, d))                       # s[t + 1] = s_t, s[0] = s_{-1} = 0
    for t in range(T):
        s[t + 1] = np.tanh(U[:, ids[t]] + W @ s[t] + b)
    grads = {name: np.zeros_like(p) for name, p in dict(U=U, W=W, b=b, V=V, c=c).items()}
    carry = np.zeros(d)
    for t in reversed(range(T)):
        ds = carry.copy()
        if targets[t] != IGNORE:
            z = V @ s[t + 1] + c
            y = np.exp(z - z.max())
            y /= y.sum()
            y[targets[t]] -= 1.0
            grads["V"] += np.outer(y, s[t + 1])
            grads["c"] += y
            ds += V.T @ y
        dpre = ds * (1 - s[t + 1] ** 2)
        grads["W"] += np.outer(dpre, s[t])
        grads["b"] += dpre
        grads["U"][:, ids[t]] += dpre
        carry = np.zeros(d) if (k and t % k == 0) else W.T @ dpre
    return grads


@pytest.mark.parametrize("k", [0, 1, 3, 4, 50])
def test_truncated_bptt_matches_loop_reference(k):
    rng = np.random.default_rng(7)
    cfg = Config(cell="rnn", task="labelling", hidden=4, dtype="float64", bptt=k, init="normal")
    model = RNNModel(cfg, n_vocab=9, n_classes=3)
    model.flat[:] += rng.normal(0, 0.4, model.n_params)
    ids = rng.integers(4, 9, size=10)
    targets = rng.integers(0, 3, size=10)
    targets[2] = IGNORE
    model.loss_and_grads(Batch(ids[None], np.array([10]), targets[None], np.array([0])))
    ref = reference_grads(*(model.get(n) for n in "UWbVc"), ids, targets, k)
    for name, g in ref.items():
        np.testing.assert_allclose(model.grads[name], g, rtol=1e-10, atol=1e-13, err_msg=name)


def test_truncation_changes_the_gradient():
    rng = np.random.default_rng(3)
    ids = rng.integers(4, 9, size=(1, 12))
    batch = Batch(ids, np.array([12]), rng.integers(0, 3, size=(1, 12)), np.array([0]))
    grads = {}
    for k in (0, 2):
        model = RNNModel(Config(cell="rnn", task="labelling", hidden=4, dtype="float64", bptt=k), 9, 3)
        model.loss_and_grads(batch)
        grads[k] = model.grads["W"].copy()
    assert not np.allclose(grads[0], grads[2])
