"""The fast path (``cells.py`` through ``RNNModel``) against the textbook passes of ``reference.py``.

Every cell and activation, every task, one or two layers, one or two directions, full BPTT and truncated BPTT with
k = 1, 2, 3, on a batch with variable lengths, extra padding columns full of garbage ids, and IGNORE targets:
the loss, the output probabilities, the states of every layer, the top layer's gates, every gradient and the
per-step gradient norms ||dL/ds_t|| of every layer must equal the reference's to float64 round-off.
``reference.py`` itself is held to the complex-step derivative in ``test_reference_numpy.py``.

Truncation is where a fast BPTT goes wrong quietly (the LSTM's dL/dc carried across a boundary, the GRU's direct
z * dL/ds_t path dropped): k = 2 and 3 leave steps inside each chunk for such a bug to show, k = 1 cuts every step.
"""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.config import GATES
from rnnviz.core.data.batch import IGNORE
from rnnviz.core.nn import cells, reference

from test_model import make_batch, make_model, padded, rel_err

TOL = 1e-12            # float64 round-off; measured worst over these cases: about 3e-15
LENGTHS = np.array([7, 3, 1, 6])
CELLS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
SHAPES = [(task, bi, layers) for task in ("classification", "labelling", "generation") for bi in (False, True)
          for layers in (1, 2) if not (bi and task == "generation")]
CASES = [(c, a, t, bi, nl, k) for c, a in CELLS for t, bi, nl in SHAPES for k in (0, 1, 2, 3)]
IDS = [f"{c}-{a}-{t}-{'bi' if bi else 'uni'}-{nl}L-{'full' if k == 0 else f'k{k}'}" for c, a, t, bi, nl, k in CASES]


def case(cell, activation, task, bidirectional, layers, bptt):
    # seed 1: under seed 0 the relu cell's backward direction has every unit dead at the one step that gets
    # gradient in bidirectional classification, so dW_rev is exactly 0 there and the check below would be vacuous
    model = make_model(cell, activation, task, bidirectional, layers, bptt=bptt, seed=1)
    batch = padded(make_batch(task, lengths=LENGTHS, seed=2), 2, fill=None, seed=4)   # garbage in the padding
    return model, batch


def textbook(model, batch, **changes):
    cfg = model.cfg.replace(**changes) if changes else model.cfg
    return reference.loss_and_grads(cfg, {n: model.get(n) for n in model.param_names}, batch.ids, batch.lengths,
                                    batch.targets)


@pytest.mark.parametrize("cell,activation,task,bidirectional,layers,bptt", CASES, ids=IDS)
def test_fast_equals_textbook(cell, activation, task, bidirectional, layers, bptt):
    model, batch = case(cell, activation, task, bidirectional, layers, bptt)
    res = model.loss_and_grads(batch)
    ref = textbook(model, batch)
    mask = batch.mask                                                   # (B, T) real positions
    assert abs(res.loss - ref.loss) <= TOL * abs(ref.loss)
    assert abs(res.loss_sum - ref.loss_sum) <= TOL * abs(ref.loss_sum) and res.n_targets == ref.n_targets
    if task == "classification":
        assert rel_err(res.probs, ref.probs) <= TOL
    else:
        assert rel_err(res.probs[mask], ref.probs[mask]) <= TOL
    for layer in range(layers):                                         # forward states of every layer
        states = model.hidden_states(batch.ids, batch.lengths, layer=layer)
        assert rel_err(states[mask], ref.states[layer][mask]) <= TOL, layer
    gates = model.preactivations(batch.ids, batch.lengths)
    assert rel_err(gates[mask], ref.gates[mask]) <= TOL
    assert set(model.grads) == set(ref.grads)
    bad = {name: rel_err(model.grads[name], ref.grads[name]) for name in ref.grads
           if not rel_err(model.grads[name], ref.grads[name]) <= TOL}
    assert not bad, f"bptt={bptt}: gradients differ from the textbook passes: {bad}"
    assert rel_err(res.layer_grad_norms, ref.layer_grad_norms) <= TOL
    np.testing.assert_array_equal(res.grad_norms, res.layer_grad_norms[-1])
    # not a comparison of zeros: every parameter gets gradient, and truncation changes it
    for name, g in ref.grads.items():
        assert np.linalg.norm(g) > 1e-8, name
    if bptt and activation != "relu":     # (relu units that are off stop the gradient before any boundary)
        full = textbook(model, batch, bptt=0)
        assert rel_err(ref.grads["W"], full.grads["W"]) > 1e-6


def test_the_comparison_catches_a_small_error():
    """A 1e-9 relative error in one entry of one gradient is far above the tolerance."""
    model, batch = case("gru", "tanh", "labelling", True, 2, 2)
    model.loss_and_grads(batch)
    ref = textbook(model, batch)
    g = model.grads["W2_rev"].copy()
    j = np.unravel_index(np.argmax(np.abs(g)), g.shape)
    g[j] *= 1 + 1e-9
    assert rel_err(g, ref.grads["W2_rev"]) > TOL


# ------------------------------------------------------------------------------ the cells and their callers' arrays
def _cell_inputs(cell, seed=0):
    rng = np.random.default_rng(seed)
    T, B, d = 5, 3, 4
    G = len(GATES[cell]) * d
    X = rng.normal(0.0, 0.8, size=(T, B, G))
    W = rng.normal(0.0, 0.5, size=(G, d))
    b_hn = rng.normal(0.0, 0.5, size=d)
    dS = rng.normal(0.0, 1.0, size=(T, B, d))
    return X, W, b_hn, dS


def _run(cell, X, W, b_hn, dS, work, overwrite):
    """Forward then backward; also checks that the backward pass leaves the forward cache as it found it."""
    if cell == "rnn":
        cache = cells.rnn_forward(X, W, "tanh", work=work, overwrite_X=overwrite)
    elif cell == "lstm":
        cache = cells.lstm_forward(X, W, work=work, overwrite_X=overwrite)
    else:
        cache = cells.gru_forward(X, W, b_hn, work=work, overwrite_X=overwrite)
    kept = {k: np.array(v) for k, v in vars(cache).items() if v is not None}
    if cell == "rnn":
        back = cells.rnn_backward(dS, cache, W, "tanh", bptt=2, work=work)
    elif cell == "lstm":
        back = cells.lstm_backward(dS, cache, W, bptt=2, work=work)
    else:
        back = cells.gru_backward(dS, cache, W, bptt=2, work=work)
    for k, v in kept.items():
        np.testing.assert_array_equal(getattr(cache, k), v, err_msg=f"backward changed the cache's {k}")
    return cache, back


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("work", [None, "workspace"])
def test_cells_leave_the_callers_arrays_alone(cell, work):
    """Forward reads X, W, b_hn and backward reads dS and the cache without writing them; only ``overwrite_X=True``
    hands X over, and then every number is the same (the same arithmetic, in X instead of a buffer of its own)."""
    X, W, b_hn, dS = _cell_inputs(cell)
    before = [a.copy() for a in (X, W, b_hn, dS)]
    cache, (dX, dW, extra, dS_total) = _run(cell, X, W, b_hn, dS, {} if work else None, overwrite=False)
    for a, b in zip((X, W, b_hn, dS), before):
        np.testing.assert_array_equal(a, b)
    kept = [np.array(a) for a in (cache.S, cache.A, dX, dW, dS_total)]
    X2 = X.copy()
    cache2, (dX2, dW2, _, dS_total2) = _run(cell, X2, W, b_hn, dS, {} if work else None, overwrite=True)
    for a, b in zip(kept, (cache2.S, cache2.A, dX2, dW2, dS_total2)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(X2, X)                       # handed over: it was used as the cell's scratch
    np.testing.assert_array_equal(W, before[1])
    np.testing.assert_array_equal(dS, before[3])


def test_the_model_forward_leaves_parameters_and_inputs_alone():
    """A forward pass (no reuse) and a training pass change no parameter and none of the batch's arrays."""
    for cell in ("rnn", "lstm", "gru"):
        model, batch = case(cell, "tanh", "labelling", True, 2, 0)
        flat, ids, lengths, targets = model.flat.copy(), batch.ids.copy(), batch.lengths.copy(), batch.targets.copy()
        model.forward(batch.ids, batch.lengths)
        model.loss_and_grads(batch)
        np.testing.assert_array_equal(model.flat, flat)
        for a, b in ((batch.ids, ids), (batch.lengths, lengths), (batch.targets, targets)):
            np.testing.assert_array_equal(a, b)


def test_ignore_everywhere_gives_zero_loss_and_gradient():
    """A batch whose targets are all IGNORE: both sides count nothing and pass back nothing."""
    model, batch = case("lstm", "tanh", "labelling", True, 2, 2)
    batch.targets[...] = IGNORE
    res = model.loss_and_grads(batch)
    ref = textbook(model, batch)
    assert res.loss == ref.loss == 0.0 and res.n_targets == ref.n_targets == 0
    assert not model.grad.any() and not any(g.any() for g in ref.grads.values())
