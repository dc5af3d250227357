"""What goes into the probe of a snapshot belongs to the validation example it names: its tokens, ids and target, and
the hidden states, probabilities, predictions, pre-activations and gradient norms of that example alone, computed
again here by a textbook loop (s_t = g(U x_t + W s_{t-1} + b), y_t = softmax(V s_t + c), and BPTT by hand)."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import Trainer


def textbook(model, activation: str, ids: np.ndarray, target: np.ndarray, task: str) -> dict:
    """One vanilla RNN sequence, forward and backward, written from the equations.

    Returns a (T, d) pre-activations a_t = U x_t + W s_{t-1} + b, s (T, d) states, probs ((k,) at the last step for
    classification, else (T, k)), and grad_norms (T,) ||dL/ds_t|| of the example's own summed cross-entropy."""
    U, W, b, V, c = (np.asarray(model.get(n), dtype=np.float64) for n in "UWbVc")
    g = np.tanh if activation == "tanh" else (lambda x: np.maximum(x, 0.0))
    T, d = len(ids), W.shape[0]
    a, s = np.zeros((T, d)), np.zeros((T, d))
    prev = np.zeros(d)
    for t in range(T):
        a[t] = U[:, ids[t]] + W @ prev + b                     # U x_t as the column of the token's id
        s[t] = prev = g(a[t])
    z = s @ V.T + c                                           # (T, k)
    y = np.exp(z - z.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    dz = np.zeros_like(y)                                     # dL/dz_t of the cross-entropy
    if task == "classification":
        dz[T - 1] = y[T - 1]
        dz[T - 1, int(target)] -= 1.0
    else:
        for t in np.flatnonzero(target != IGNORE):
            dz[t] = y[t]
            dz[t, target[t]] -= 1.0
    gprime = 1.0 - s ** 2 if activation == "tanh" else (a > 0).astype(np.float64)
    ds, carry = np.zeros((T, d)), np.zeros(d)
    for t in reversed(range(T)):
        ds[t] = V.T @ dz[t] + carry                           # dL/ds_t: from the output now and from s_{t+1}
        carry = W.T @ (ds[t] * gprime[t])
    return {"preact": a, "states": s, "probs": y[T - 1] if task == "classification" else y,
            "grad_norms": np.linalg.norm(ds, axis=1)}


def trainer(preset: str) -> Trainer:
    cfg = load_preset(preset).config.replace(hidden=8, n_examples=400, dtype="float64", epochs=1000)
    t = Trainer(cfg)
    assert t.config.cell == "rnn" and t.config.layers == 1 and not t.config.bidirectional
    return t


def check_probe(t: Trainer, i: int) -> None:
    """The snapshot's probe is validation example ``i``, every field of it."""
    val, task = t.dataset.val, t.dataset.task
    assert not np.array_equal(val.ids[i], val.ids[i + 1]) and not np.array_equal(val.ids[i], val.ids[i - 1])
    probe = build_snapshot(t).probe
    assert probe.source == f"validation #{i}"
    assert probe.tokens == tuple(val.tokens[i])
    ids, target = np.asarray(val.ids[i]), np.asarray(val.targets[i])
    np.testing.assert_array_equal(probe.ids, ids)
    np.testing.assert_array_equal(probe.target, target)
    ref = textbook(t.model, t.config.activation, ids, target, task)
    for name in ("preact", "states", "probs", "grad_norms"):
        np.testing.assert_allclose(getattr(probe, name), ref[name], rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(probe.predicted, ref["probs"].argmax(axis=-1))
    assert probe.target_from == "label" and len(probe.grad_norms) == len(ids) and (ref["grad_norms"] > 0).all()


@pytest.mark.parametrize("preset", ["negation", "pos", "chars"])
def test_probe_is_the_example_it_names_after_set_probe(preset):
    t = trainer(preset)
    for _ in range(5):
        t.step()
    t.set_probe(3)
    check_probe(t, 3)
    for _ in range(7):                   # the probe follows the weights as training goes on
        t.step()
    check_probe(t, 3)
    last = len(t.dataset.val) - 2
    t.set_probe(last)                    # another example, far from the first
    check_probe(t, last)


@pytest.mark.parametrize("preset", ["negation", "pos"])
def test_probe_reads_the_example_from_the_validation_split_not_a_batch(preset):
    """The probe index counts in the validation split (as the confusion cells do), beyond the monitor batch."""
    t = trainer(preset)
    i = t.monitor_batch.ids.shape[0] + 5
    assert i < len(t.dataset.val) - 1
    t.step()
    t.set_probe(i)
    check_probe(t, i)
