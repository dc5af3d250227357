"""Slow-motion BPTT: every number of the trace against the model's own gradients, finite differences and an
independent step-by-step forward pass."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.data.batch import Batch
from rnnviz.core.explore import bptt_trace
from rnnviz.core.explore.capture import build_probe

from helpers import trainer_for


def one_batch(ids, target):
    T = len(ids)
    return Batch(ids=ids[None], lengths=np.array([T]), index=np.array([0]),
                 targets=(np.asarray(target)[None] if np.ndim(target) else np.array([int(target)])))


CASES = [("negation", {}), ("negation", {"cell": "lstm"}), ("negation", {"cell": "gru"}),
         ("negation", {"activation": "relu"}), ("pos", {"cell": "gru", "bidirectional": True}),
         ("pos", {"layers": 2, "cell": "lstm"}), ("chars", {"bptt": 3}), ("negation", {"bptt": 2, "cell": "lstm"})]


@pytest.mark.parametrize("preset,changes", CASES)
def test_norms_equal_the_models_grad_norms(preset, changes):
    t = trainer_for(preset, **changes)
    probe = build_probe(t, bptt=True)
    tr = probe.bptt
    ids, target = np.asarray(probe.ids), np.asarray(probe.target)
    res = t.model.loss_and_grads(one_batch(ids, target))
    np.testing.assert_allclose(tr.norms, res.grad_norms, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(tr.norms, probe.grad_norms, rtol=1e-9, atol=1e-14)
    assert tr.loss == pytest.approx(res.loss, rel=1e-12)
    assert tr.dS.shape == probe.states.shape
    np.testing.assert_allclose(probe.states, t.model.hidden_states(ids[None], np.array([len(ids)]))[0], rtol=0,
                               atol=0)
    np.testing.assert_array_equal(tr.cut, [i > 0 and t.config.bptt > 0 and i % t.config.bptt == 0
                                           for i in range(len(ids))])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_dL_da_equals_the_U_gradient_and_finite_differences(cell):
    """For a token read once, dL/da_t (the trace's dA) is the gradient of U's column for that token."""
    t = trainer_for("negation", cell=cell)
    probe = build_probe(t, bptt=True)
    ids, target = np.asarray(probe.ids), np.asarray(probe.target)
    model = t.model
    batch = one_batch(ids, target)
    model.loss_and_grads(batch)
    gU = model.get("U") * 0 + model.grads["U"]                      # (G*d, n)
    values, counts = np.unique(ids, return_counts=True)
    once = [i for i, tok in enumerate(ids) if counts[values == tok][0] == 1]
    assert once
    for pos in once:
        np.testing.assert_allclose(probe.bptt.dA[pos], gU[:, ids[pos]], rtol=1e-9, atol=1e-13)
    pos = once[len(once) // 2]
    U = model.get("U")
    for row in range(0, U.shape[0], max(1, U.shape[0] // 5)):
        eps = 1e-6
        for sign in (1, -1):
            V = U.copy()
            V[row, ids[pos]] += sign * eps
            model.set("U", V)
            if sign == 1:
                up = model.loss(batch)
            else:
                down = model.loss(batch)
        model.set("U", U)
        assert probe.bptt.dA[pos, row] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-9)


def _step(cell, p, x_col, s, c):
    """One cell step written out from the equations (s, c: previous state; returns the new (s, c))."""
    W, d = p["W"], len(s)
    a = x_col + p["b"] + W @ s
    if cell == "rnn":
        return np.tanh(a), c
    if cell == "lstm":
        sig = lambda v: 1 / (1 + np.exp(-v))
        i, f, g, o = sig(a[:d]), sig(a[d:2 * d]), np.tanh(a[2 * d:3 * d]), sig(a[3 * d:])
        c2 = f * c + i * g
        return o * np.tanh(c2), c2
    sig = lambda v: 1 / (1 + np.exp(-v))
    xr = x_col + p["b"]
    h = W @ s
    r, z = sig(xr[:d] + h[:d]), sig(xr[d:2 * d] + h[d:2 * d])
    n = np.tanh(xr[2 * d:] + r * (h[2 * d:] + p["b_hn"]))
    return (1 - z) * n + z * s, c


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_factors_are_the_norms_of_finite_difference_jacobians(cell):
    t = trainer_for("negation", cell=cell, steps=30)
    probe = build_probe(t, bptt=True)
    ids = np.asarray(probe.ids)
    p = {k: t.model.get(k) for k in t.model.param_names}
    d = t.model.d
    s, c = np.zeros(d), np.zeros(d)
    S, C = [], []
    for tok in ids:
        s, c = _step(cell, p, p["U"][:, tok], s, c)
        S.append(s)
        C.append(c)
    np.testing.assert_allclose(np.array(S), probe.states, atol=1e-12)   # the step function is the model's
    assert np.isnan(probe.bptt.factors[0])
    for k in range(1, len(ids)):
        eps = 1e-6
        if cell == "lstm":      # the full state (s, c)
            x0 = np.concatenate([S[k - 1], C[k - 1]])
            f = lambda x: np.concatenate(_step(cell, p, p["U"][:, ids[k]], x[:d], x[d:]))
        else:
            x0 = S[k - 1]
            f = lambda x: _step(cell, p, p["U"][:, ids[k]], x, np.zeros(d))[0]
        J = np.stack([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in np.eye(len(x0))], axis=1)
        assert probe.bptt.factors[k] == pytest.approx(np.linalg.norm(J, 2), rel=1e-6)


def test_typed_probe_without_label_traces_the_predicted_class():
    t = trainer_for("negation")
    t.set_probe_text(["not", "good", "zzzz"])
    probe = build_probe(t, bptt=True)
    assert probe.target_from == "predicted"
    assert int(probe.bptt.targets) == int(probe.predicted)
    res = t.model.loss_and_grads(one_batch(np.asarray(probe.ids), probe.predicted))
    np.testing.assert_allclose(probe.bptt.norms, res.grad_norms, rtol=1e-9)


def test_no_trace_unless_asked():
    t = trainer_for("negation", steps=1)
    assert build_probe(t).bptt is None
    assert bptt_trace.trace(t.model, np.asarray(build_probe(t).ids), np.array(0)).value_label.startswith("pre-activation")


