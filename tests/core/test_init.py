"""Where each initialiser puts what (``core.nn.init`` through ``RNNModel.initialise``), checked directly.

Gate blocks are read by name (``GATES``: LSTM i, f, g, o; GRU r, z, n), so a value in the wrong block fails. The
random families are checked by what they must look like (bounds reached, spread, orthogonality, eigenvalues),
not by re-drawing the same numbers.
"""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.config import GATES, Config, validate
from rnnviz.core.nn.init import spectral_radius
from rnnviz.core.nn.model import RNNModel

N_VOCAB, N_CLASSES = 300, 5


def build(cell="lstm", init="uniform", hidden=8, layers=2, bidirectional=True, n_vocab=N_VOCAB, **kw) -> RNNModel:
    cfg = validate(Config(cell=cell, init=init, hidden=hidden, layers=layers, bidirectional=bidirectional,
                          task="labelling", dtype="float64", **kw))
    return RNNModel(cfg, n_vocab, N_CLASSES)


def names(model, base):
    """Every parameter of kind ``base`` ("U", "W", "b", "b_hn"): one per layer and direction."""
    return [n for n in model.param_names if n.removesuffix("_rev").rstrip("0123456789") == base]


def blocks(model, name):
    """The gate blocks of a stacked parameter (rows of U, W; entries of b), by gate name."""
    value = model.get(name)
    return dict(zip(GATES[model.cfg.cell], np.split(value, len(GATES[model.cfg.cell]))))


# ------------------------------------------------------------------------------------------------------ biases
@pytest.mark.parametrize("forget_bias", [1.0, 2.5, -3.0])
def test_lstm_forget_bias_is_in_the_f_block_of_every_b_and_nowhere_else(forget_bias):
    model = build("lstm", forget_bias=forget_bias)
    bs = names(model, "b")
    assert bs == ["b", "b_rev", "b2", "b2_rev"]
    for name in bs:
        gate = blocks(model, name)
        np.testing.assert_array_equal(gate["f"], np.full(model.d, forget_bias), err_msg=name)
        for other in ("i", "g", "o"):
            np.testing.assert_array_equal(gate[other], 0.0, err_msg=f"{name} {other}")
    np.testing.assert_array_equal(model.get("c"), 0.0)
    # nowhere else in the whole parameter buffer either (the random matrices stay well inside +-1)
    assert np.count_nonzero(model.flat == forget_bias) == len(bs) * model.d


def test_the_forget_bias_is_where_the_cell_reads_its_forget_gate():
    """With no input and no recurrence (U = W = 0) and a candidate g = tanh(1) > 0, a forget bias of 30 gives
    f = 1 and i = 1/2: the cell state adds i g at every step, c_t = (t + 1) tanh(1) / 2. Had the bias landed in
    the input gate, c_t would settle at tanh(1) instead (f = 1/2, i = 1)."""
    model = build("lstm", layers=1, bidirectional=False, forget_bias=30.0)
    d = model.d
    model.set("U", np.zeros_like(model.get("U")))
    model.set("W", np.zeros_like(model.get("W")))
    b = model.get("b")
    b[2 * d:3 * d] = 1.0                                          # the candidate g's block
    model.set("b", b)
    T = 6
    fw = model.forward(np.ones((1, T), dtype=np.int64), np.array([T]))
    c = fw.caches[0][0].cell.C[:, 0, :]                           # (T, d) cell states
    expected = (np.arange(T) + 1)[:, None] * np.tanh(1.0) / 2 * np.ones(d)
    np.testing.assert_allclose(c, expected, rtol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_other_cells_start_with_every_bias_zero(cell):
    """forget_bias belongs to the LSTM only: b, the GRU's b_hn and c start at 0."""
    model = build(cell, forget_bias=2.5)
    for name in names(model, "b") + names(model, "b_hn") + ["c"]:
        np.testing.assert_array_equal(model.get(name), 0.0, err_msg=name)
    assert not np.any(model.flat == 2.5)
    if cell == "gru":
        assert names(model, "b_hn") == ["b_hn", "b_hn_rev", "b_hn2", "b_hn2_rev"]
        assert all(model.get(n).shape == (model.d,) for n in names(model, "b_hn"))


# ------------------------------------------------------------------------------------------------ recurrent W
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_orthogonal_W_is_orthogonal_in_every_gate_block(cell):
    model = build(cell, init="orthogonal", hidden=12)
    d = model.d
    seen = []
    for name in names(model, "W"):
        for gate, Q in blocks(model, name).items():
            assert Q.shape == (d, d)
            np.testing.assert_allclose(Q @ Q.T, np.eye(d), atol=1e-12, err_msg=f"{name} {gate}")
            np.testing.assert_allclose(Q.T @ Q, np.eye(d), atol=1e-12, err_msg=f"{name} {gate}")
            assert not any(np.allclose(Q, other) for other in seen), f"{name} {gate} repeats a block"
            seen.append(Q)
    if cell != "rnn":     # the stacked W as a whole is not orthogonal (it is G*d x d): W^T W = G I
        W = model.get("W")
        np.testing.assert_allclose(W.T @ W, len(GATES[cell]) * np.eye(d), atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_identity_W_is_the_identity_in_every_gate_block(cell):
    model = build(cell, init="identity")
    for name in names(model, "W"):
        for gate, block in blocks(model, name).items():
            np.testing.assert_array_equal(block, np.eye(model.d), err_msg=f"{name} {gate}")
    scaled = build(cell, init="identity", spectral_radius=0.8)
    for name in names(scaled, "W"):
        for gate, block in blocks(scaled, name).items():
            np.testing.assert_allclose(block, 0.8 * np.eye(scaled.d), rtol=1e-15, err_msg=f"{name} {gate}")


@pytest.mark.parametrize("family", ["uniform", "normal", "xavier", "orthogonal", "identity"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("radius", [0.5, 1.7])
def test_spectral_radius_rescales_each_gate_block_to_that_radius(family, cell, radius):
    model = build(cell, init=family, spectral_radius=radius, hidden=10)
    plain = build(cell, init=family, hidden=10)                    # the same seed without the rescaling
    for name in names(model, "W"):
        for gate, block in blocks(model, name).items():
            rho = float(np.max(np.abs(np.linalg.eigvals(block))))
            assert rho == pytest.approx(radius, rel=1e-9), f"{family} {name} {gate}: {rho}"
            assert spectral_radius(block) == pytest.approx(radius, rel=1e-9)
            before = blocks(plain, name)[gate]                   # a rescaling: the same block times one number
            factor = radius / float(np.max(np.abs(np.linalg.eigvals(before))))
            np.testing.assert_allclose(block, factor * before, rtol=1e-12, err_msg=f"{name} {gate}")


# ------------------------------------------------------------------------------------------ the random families
def _check_uniform(a, bound, what):
    """Entries of U(-bound, bound): inside the bound, reaching close to it, variance bound^2 / 3."""
    assert np.abs(a).max() <= bound, what
    assert np.abs(a).max() >= 0.95 * bound, what
    assert np.var(a) == pytest.approx(bound ** 2 / 3, rel=0.1), what
    assert abs(np.mean(a)) <= 0.1 * bound, what


def _check_normal(a, std, what):
    """Entries of N(0, std^2): their spread, and tails beyond 2 std (a uniform of that spread has none)."""
    assert np.std(a) == pytest.approx(std, rel=0.1), what
    assert abs(np.mean(a)) <= 0.1 * std, what
    assert np.mean(np.abs(a) > 2 * std) == pytest.approx(0.0455, abs=0.015), what


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("family", ["uniform", "normal", "xavier", "orthogonal", "identity"])
def test_U_and_V_families(cell, family):
    """U and V by family (d the hidden size, G*d the rows of U, D = d or 2d the width of V, k the classes):
        uniform     U(-1/sqrt(d), 1/sqrt(d)) for U and W; V: U(-1/sqrt(D), 1/sqrt(D))
        normal      N(0, 1/d) for U and W; V: N(0, 1/D)
        xavier      U(-a, a), a = sqrt(6 / (fan_in + fan_out)): U (n_in, G*d), W blocks (d, d), V (D, k)
        orthogonal  U: the xavier bound with fan_in = d, sqrt(6 / (d + G*d)); V: xavier
        identity    the same as orthogonal for U and V."""
    d = 24
    model = build(cell, init=family, hidden=d, layers=2, bidirectional=True)
    G = len(GATES[cell]) * d
    D, k = 2 * d, N_CLASSES
    V = model.get("V")
    for name in names(model, "U"):
        U = model.get(name)
        n_in = U.shape[1]
        assert U.shape == (G, N_VOCAB if name in ("U", "U_rev") else D)
        if family == "uniform":
            _check_uniform(U, 1 / np.sqrt(d), name)
        elif family == "normal":
            _check_normal(U, 1 / np.sqrt(d), name)
        elif family == "xavier":
            _check_uniform(U, np.sqrt(6 / (n_in + G)), name)
        else:
            _check_uniform(U, np.sqrt(6 / (d + G)), name)
    if family in ("uniform", "normal", "xavier"):
        W_all = np.concatenate([model.get(n) for n in names(model, "W")])
        if family == "uniform":
            _check_uniform(W_all, 1 / np.sqrt(d), "W")
        elif family == "normal":
            _check_normal(W_all, 1 / np.sqrt(d), "W")
        else:
            _check_uniform(W_all, np.sqrt(6 / (2 * d)), "W")
    assert V.shape == (k, D)
    V_big = build(cell, init=family, hidden=d, layers=1, bidirectional=True).get("V")   # same rule, own draw
    samples = np.concatenate([V.ravel(), V_big.ravel()])
    if family == "uniform":
        assert np.abs(samples).max() <= 1 / np.sqrt(D)
    elif family == "normal":
        assert np.std(samples) == pytest.approx(1 / np.sqrt(D), rel=0.25)
    else:
        assert np.abs(samples).max() <= np.sqrt(6 / (D + k))
        assert np.abs(samples).max() > 1 / np.sqrt(D)          # the xavier bound, wider than the uniform one


def test_V_families_on_a_wide_head():
    """V's families where it has enough entries to see their shape (many classes)."""
    d, k = 16, 400
    for family, check in (("uniform", lambda a: _check_uniform(a, 1 / np.sqrt(2 * d), "V")),
                          ("normal", lambda a: _check_normal(a, 1 / np.sqrt(2 * d), "V")),
                          ("xavier", lambda a: _check_uniform(a, np.sqrt(6 / (2 * d + k)), "V")),
                          ("orthogonal", lambda a: _check_uniform(a, np.sqrt(6 / (2 * d + k)), "V"))):
        cfg = validate(Config(cell="gru", init=family, hidden=d, bidirectional=True, task="labelling",
                              dtype="float64"))
        check(RNNModel(cfg, 50, k).get("V"))


def test_every_layer_and_direction_gets_its_own_draw():
    model = build("gru", init="orthogonal")
    for base in ("U", "W"):
        values = [model.get(n) for n in names(model, base) if model.get(n).shape == model.get(base + "2").shape]
        for i in range(len(values)):
            for j in range(i):
                assert not np.allclose(values[i], values[j]), base
