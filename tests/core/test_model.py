"""The NumPy model: finite differences, padding invariance, determinism, truncated BPTT, the per-step gradient
norms, the "dogs" worked example, parameter counts, no Qt in the core, and the vanishing-gradient lesson.

Truncated BPTT and the gradient-flow norms are checked against an independent PyTorch autograd reference written
below as plain loops (one example, one step at a time; the state is ``detach()``-ed every k steps and every state
keeps its ``.grad``); those tests are skipped when torch is absent.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rnnviz.core.config import Config, validate
from rnnviz.core.data.batch import IGNORE, Batch
from rnnviz.core.nn import cells
from rnnviz.core.nn.gradcheck import gradcheck
from rnnviz.core.nn.model import RNNModel, count_params, param_specs

from helpers import REPO

N_VOCAB, N_CLASSES, HIDDEN = 7, 3, 4
LENGTHS = np.array([6, 2, 1, 5])
CELLS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
TASKS = ("classification", "labelling", "generation")


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def make_model(cell="rnn", activation="tanh", task="labelling", bidirectional=False, layers=1, seed=0,
               hidden=HIDDEN, randomise=True, **kw):
    cfg = validate(Config(cell=cell, activation=activation, task=task, bidirectional=bidirectional, layers=layers,
                          hidden=hidden, dtype="float64", seed=seed, **kw))
    k = N_VOCAB if task == "generation" else N_CLASSES
    model = RNNModel(cfg, N_VOCAB, k)
    if randomise:                                            # non-zero biases too, so every term is exercised
        rng = np.random.default_rng(500 + seed)
        for name in model.param_names:
            model.set(name, rng.normal(0.0, 0.6, size=model.params[name].shape))
    return model


def make_batch(task, lengths=LENGTHS, seed=0, extra_pad=0, n_classes=None):
    rng = np.random.default_rng(seed)
    k = n_classes or (N_VOCAB if task == "generation" else N_CLASSES)
    B, T = len(lengths), int(lengths.max()) + extra_pad
    ids = np.zeros((B, T), dtype=np.int64)                  # 0 = <pad>
    for b, L in enumerate(lengths):
        ids[b, :L] = rng.integers(1, N_VOCAB, size=L)
    mask = np.arange(T)[None, :] < lengths[:, None]
    if task == "classification":
        targets = rng.integers(0, k, size=B)
    elif task == "labelling":
        targets = np.where(mask, rng.integers(0, k, size=(B, T)), IGNORE)
        targets[0, 1] = IGNORE
    else:
        targets = np.full((B, T), IGNORE)
        for b, L in enumerate(lengths):
            targets[b, : L - 1] = ids[b, 1:L]
    return Batch(ids=ids, lengths=np.asarray(lengths).copy(), targets=targets.astype(np.int64),
                 index=np.arange(B))


def padded(batch: Batch, extra: int, fill: int | None = 0, seed: int = 0) -> Batch:
    """The same examples with ``extra`` more padding columns (``fill`` ids, or random ids when None)."""
    B, T = batch.ids.shape
    ids = np.zeros((B, T + extra), dtype=np.int64)
    ids[:, :T] = batch.ids
    if fill is None:
        ids[:, T:] = np.random.default_rng(seed).integers(1, N_VOCAB, size=(B, extra))
    else:
        ids[:, T:] = fill
    targets = batch.targets
    if targets.ndim == 2:
        targets = np.full((B, T + extra), IGNORE, dtype=np.int64)
        targets[:, :T] = batch.targets
    return Batch(ids=ids, lengths=batch.lengths, targets=targets, index=batch.index)


# -------------------------------------------------------------------------------------- finite differences
GRADCHECK_CASES = [(c, a, t, False, 1) for c, a in CELLS for t in TASKS]
GRADCHECK_CASES += [(c, a, t, True, 2) for c, a in CELLS for t in ("classification", "labelling")]
GRADCHECK_CASES += [(c, a, "generation", False, 2) for c, a in CELLS]


@pytest.mark.parametrize("cell,activation,task,bidirectional,layers", GRADCHECK_CASES,
                         ids=[f"{c}-{a}-{t}-{'bi' if bi else 'uni'}-{nl}L" for c, a, t, bi, nl in GRADCHECK_CASES])
def test_gradcheck(cell, activation, task, bidirectional, layers):
    model = make_model(cell, activation, task, bidirectional, layers)
    batch = make_batch(task)
    report = gradcheck(model, batch, max_per_param=12)
    assert set(report.per_parameter) == set(model.param_names)
    assert report.passed(1e-6), report


def test_gradcheck_can_fail(monkeypatch):
    """A backward pass that is wrong by 0.1 % in dW is reported."""
    model = make_model("lstm", task="labelling")
    batch = make_batch("labelling")
    assert gradcheck(model, batch, max_per_param=12).passed(1e-6)
    real = cells.lstm_backward

    def broken(*args, **kw):
        dA, dW, extra, dS_total = real(*args, **kw)
        return dA, dW * 1.001, extra, dS_total

    monkeypatch.setattr(cells, "lstm_backward", broken)
    report = gradcheck(model, batch, max_per_param=12)
    assert not report.passed(1e-6) and report.worst_parameter == "W"


# -------------------------------------------------------------------------------------- padding invariance
PAD_CASES = [(c, a, t, bi) for c, a in CELLS for t in TASKS for bi in (False, True)
             if not (bi and t == "generation")]


@pytest.mark.parametrize("cell,activation,task,bidirectional", PAD_CASES,
                         ids=[f"{c}-{a}-{t}-{'bi' if bi else 'uni'}" for c, a, t, bi in PAD_CASES])
@pytest.mark.parametrize("fill", [0, None], ids=["pad", "garbage"])
def test_padding_changes_nothing(cell, activation, task, bidirectional, fill):
    model = make_model(cell, activation, task, bidirectional, layers=2)
    batch = make_batch(task)
    T = batch.ids.shape[1]
    r1 = model.loss_and_grads(batch)
    g1 = model.grad.copy()
    named1 = {name: model.grads[name].copy() for name in model.param_names}
    longer = padded(batch, 3, fill=fill)
    r2 = model.loss_and_grads(longer)
    assert abs(r1.loss - r2.loss) <= 1e-12 * abs(r1.loss)
    assert r1.n_targets == r2.n_targets
    assert rel_err(model.grad, g1) <= 1e-12
    for name in model.param_names:
        assert rel_err(model.grads[name], named1[name]) <= 1e-12, name
    if task == "classification":
        assert rel_err(r1.probs, r2.probs) <= 1e-12
    else:
        assert rel_err(r1.probs, r2.probs[:, :T]) <= 1e-12
    assert rel_err(r1.layer_grad_norms, r2.layer_grad_norms[:, :T]) <= 1e-12
    assert np.all(r2.layer_grad_norms[:, T:] == 0)           # no gradient "flows" through padding
    s1 = model.hidden_states(batch.ids, batch.lengths)
    s2 = model.hidden_states(longer.ids, longer.lengths)
    assert rel_err(s1[batch.mask], s2[:, :T][batch.mask]) <= 1e-12


# ------------------------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_same_seed_same_model_different_seed_different(cell):
    kw = dict(cell=cell, task="labelling", bidirectional=True, layers=2, randomise=False)
    a, b, c = make_model(seed=7, **kw), make_model(seed=7, **kw), make_model(seed=8, **kw)
    np.testing.assert_array_equal(a.flat, b.flat)
    batch = make_batch("labelling")
    ra, rb = a.loss_and_grads(batch), b.loss_and_grads(batch)
    assert ra.loss == rb.loss
    np.testing.assert_array_equal(a.grad, b.grad)
    np.testing.assert_array_equal(ra.probs, rb.probs)
    np.testing.assert_array_equal(ra.layer_grad_norms, rb.layer_grad_norms)
    # a second call on the same model gives the same again (no state kept between calls)
    again = a.loss_and_grads(batch)
    assert again.loss == ra.loss and np.array_equal(a.grad, b.grad)
    # a different seed: every weight matrix differs
    for name in a.param_names:
        if not name.startswith(("b", "c")):
            assert not np.array_equal(a.params[name], c.params[name]), name
    assert c.loss_and_grads(batch).loss != ra.loss
    # re-initialising with the first seed restores the first model exactly
    c.initialise(7)
    np.testing.assert_array_equal(c.flat, a.flat)


# ------------------------------------------------------------------------ independent autograd loop reference
def torch_loop_reference(model: RNNModel, batch: Batch, bptt: int = 0):
    """Loss, gradients and (layers, T) norms ||dL/ds_t|| by PyTorch autograd over explicit loops; also the
    states of every layer ({(layer, b, t): [fwd; bwd]}) and the top layer's forward gates / pre-activations.

    Each example is run alone over its true length; the backward direction reads it reversed. With ``bptt`` = k
    the state (and the LSTM cell) is detached before every k-th step of a direction's processing order, so no
    gradient crosses a chunk boundary; ``s.grad`` of each kept state is then the total derivative the model
    reports in ``layer_grad_norms`` (squared norms summed over the examples and the two directions).
    """
    torch = pytest.importorskip("torch")
    cfg, d = model.cfg, model.d
    f64 = torch.float64
    P = {n: torch.tensor(model.get(n), dtype=f64, requires_grad=True) for n in model.param_names}
    dirs = ["", "_rev"] if cfg.bidirectional else [""]
    act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[cfg.activation]
    B, T = batch.ids.shape
    kept = []                                                  # (layer, t, state tensor)
    states, gates = {}, {}
    total = torch.zeros((), dtype=f64)
    for b in range(B):
        L = int(batch.lengths[b])
        inputs = [torch.nn.functional.one_hot(torch.tensor(int(batch.ids[b, t])), model.n_vocab).to(f64)
                  for t in range(L)]
        finals = []
        for layer in range(cfg.layers):
            tag = "" if layer == 0 else str(layer + 1)
            outs = []
            for direction in dirs:
                U, W, bias = P["U" + tag + direction], P["W" + tag + direction], P["b" + tag + direction]
                seq = inputs if direction == "" else inputs[::-1]
                h = torch.zeros(d, dtype=f64)
                c = torch.zeros(d, dtype=f64)
                hs = []
                for step, x in enumerate(seq):
                    if bptt and step > 0 and step % bptt == 0:
                        h, c = h.detach(), c.detach()
                    if cfg.cell == "rnn":
                        a = U @ x + W @ h + bias
                        gate = a
                        h = act(a)
                    elif cfg.cell == "lstm":
                        a = U @ x + W @ h + bias
                        i, f, g, o = a[:d].sigmoid(), a[d:2 * d].sigmoid(), a[2 * d:3 * d].tanh(), a[3 * d:].sigmoid()
                        gate = torch.cat([i, f, g, o])
                        c = f * c + i * g
                        h = o * torch.tanh(c)
                    else:
                        gx, gh = U @ x + bias, W @ h
                        r = torch.sigmoid(gx[:d] + gh[:d])
                        z = torch.sigmoid(gx[d:2 * d] + gh[d:2 * d])
                        n = torch.tanh(gx[2 * d:] + r * (gh[2 * d:] + P["b_hn" + tag + direction]))
                        gate = torch.cat([r, z, n])
                        h = (1 - z) * n + z * h
                    if layer == cfg.layers - 1 and direction == "":
                        gates[(b, step)] = gate.detach().numpy().copy()
                    h.retain_grad()
                    hs.append(h)
                if direction:
                    hs = hs[::-1]
                for t, s in enumerate(hs):
                    kept.append((layer, t, s))
                outs.append(hs)
            finals = [outs[0][L - 1]] + ([outs[1][0]] if cfg.bidirectional else [])
            inputs = [torch.cat([o[t] for o in outs]) for t in range(L)]
            for t in range(L):
                states[(layer, b, t)] = inputs[t].detach().numpy().copy()
        if cfg.task == "classification":
            logits = P["V"] @ torch.cat(finals) + P["c"]
            total = total - torch.log_softmax(logits, 0)[int(batch.targets[b])]
        else:
            for t in range(L):
                if batch.targets[b, t] != IGNORE:
                    logits = P["V"] @ inputs[t] + P["c"]
                    total = total - torch.log_softmax(logits, 0)[int(batch.targets[b, t])]
    loss = total / B
    loss.backward()
    sq = np.zeros((cfg.layers, T))
    for layer, t, s in kept:
        if s.grad is not None:
            sq[layer, t] += float((s.grad ** 2).sum())
    return float(loss.detach()), {n: p.grad.numpy() for n, p in P.items()}, np.sqrt(sq), states, gates


TBPTT_CASES = [(c, a, t, bi, nl) for c, a in [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
               for t in ("classification", "labelling") for bi in (False, True) for nl in (1, 2)]
TBPTT_IDS = [f"{c}-{a}-{t}-{'bi' if bi else 'uni'}-{nl}L" for c, a, t, bi, nl in TBPTT_CASES]


def _compare_to_loop(model, batch, bptt, tol=1e-9):
    res = model.loss_and_grads(batch)
    loss, grads, norms, states, gates = torch_loop_reference(model, batch, bptt)
    assert abs(res.loss - loss) <= tol * abs(loss)
    # the numbers the hidden-state and slow-motion panels show: states of every layer, top forward gates
    for layer in range(model.cfg.layers):
        hs = model.hidden_states(batch.ids, batch.lengths, layer=layer)
        keys = [k for k in states if k[0] == layer]
        assert rel_err([hs[b, t] for _, b, t in keys], [states[k] for k in keys]) <= tol, layer
    pre = model.preactivations(batch.ids, batch.lengths)
    assert rel_err([pre[b, t] for b, t in gates], list(gates.values())) <= tol
    bad = {n: rel_err(model.grads[n], grads[n]) for n in grads if not rel_err(model.grads[n], grads[n]) <= tol}
    assert not bad, f"bptt={bptt}: gradients differ from the detached-state reference: {bad}"
    assert rel_err(res.layer_grad_norms, norms) <= tol, (res.layer_grad_norms, norms)
    np.testing.assert_array_equal(res.grad_norms, res.layer_grad_norms[-1])
    return res, grads


@pytest.mark.parametrize("cell,activation,task,bidirectional,layers", TBPTT_CASES, ids=TBPTT_IDS)
def test_truncated_bptt_matches_detached_reference(cell, activation, task, bidirectional, layers):
    batch = make_batch(task, lengths=np.array([7, 3, 1, 6]))
    full = None
    for k in (0, 3, 1):
        model = make_model(cell, activation, task, bidirectional, layers, bptt=k)
        res, grads = _compare_to_loop(model, batch, k)
        if k == 0:
            full = grads
        elif cell == "rnn" or k == 1:   # truncation really changed the gradient (not a vacuous comparison)
            assert rel_err(grads["W"], full["W"]) > 1e-6


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("task", ["classification", "labelling"])
def test_bptt_at_least_T_is_full_bptt(cell, task):
    batch = make_batch(task, lengths=np.array([7, 3, 1, 6]))
    T = batch.ids.shape[1]
    ref = make_model(cell, task=task, bidirectional=True, layers=2, bptt=0)
    r0 = ref.loss_and_grads(batch)
    for k in (T, T + 5):
        m = make_model(cell, task=task, bidirectional=True, layers=2, bptt=k)
        r = m.loss_and_grads(batch)
        assert r.loss == r0.loss
        assert rel_err(m.grad, ref.grad) <= 1e-15
        assert rel_err(r.layer_grad_norms, r0.layer_grad_norms) <= 1e-15
    m = make_model(cell, task=task, bidirectional=True, layers=2, bptt=T - 1)   # and T-1 is not
    m.loss_and_grads(batch)
    assert rel_err(m.grad, ref.grad) > 1e-9


def test_only_last_is_the_loss_of_each_last_target():
    """``only_last`` (the long-range gradient view) equals the loss with every other target ignored."""
    for cell in ("rnn", "lstm", "gru"):
        model = make_model(cell, task="labelling", bidirectional=True, layers=2)
        batch = make_batch("labelling")
        batch.targets[3, 4] = IGNORE                # example 3's last target is now at step 3
        r = model.loss_and_grads(batch, only_last=True)
        g = model.grad.copy()
        tg = np.full_like(batch.targets, IGNORE)
        for b in range(len(batch.lengths)):
            valid = np.flatnonzero(batch.targets[b] != IGNORE)
            if len(valid):
                tg[b, valid[-1]] = batch.targets[b, valid[-1]]
        r2 = model.loss_and_grads(Batch(batch.ids, batch.lengths, tg, batch.index))
        assert abs(r.loss - r2.loss) <= 1e-13 * r2.loss and r.n_targets == r2.n_targets == 4
        assert rel_err(g, model.grad) <= 1e-13


# ------------------------------------------------------------------------------------ the "dogs" example
DOG_U = np.array([[0.6, 0.8, 0.4, 0.8], [0.2, 0.2, 0.8, 0.7], [0.9, 0.8, 0.1, 0.2]])   # W_X
DOG_W = np.array([[0.1, 0.5, 0.1], [0.5, 0.9, 0.3], [0.3, 0.2, 0.1]])                  # W_H
DOG_V = np.array([[0.9, 0.8, 0.3], [0.2, 0.3, 0.4], [0.6, 0.9, 0.1], [0.5, 0.0, 0.3]])  # W_Y


@pytest.mark.parametrize("task", ["generation", "labelling"])
def test_dogs_worked_example(task):
    cfg = validate(Config(cell="rnn", activation="tanh", hidden=3, task=task, dtype="float64"))
    model = RNNModel(cfg, 4, 4)                     # vocabulary d, o, g, s = ids 0..3
    model.set("U", DOG_U)
    model.set("W", DOG_W)
    model.set("V", DOG_V)
    model.set("b", np.zeros(3))
    model.set("c", np.zeros(4))
    d_only = np.array([[0]])
    one = np.array([1])
    np.testing.assert_allclose(model.preactivations(d_only, one)[0, 0], [0.6, 0.2, 0.9], atol=1e-12)
    np.testing.assert_allclose(model.hidden_states(d_only, one)[0, 0], [0.54, 0.20, 0.72], atol=0.005)
    y1 = model.predict(d_only, one)[0, 0]
    np.testing.assert_allclose(y1, [0.32, 0.21, 0.24, 0.22], atol=0.01)
    assert abs(y1.sum() - 1) < 1e-12

    # continue with d, o, g: the model's numbers equal a hand loop
    seq = [0, 1, 2]
    ids, lengths = np.array([seq]), np.array([3])
    pre, states, probs = (model.preactivations(ids, lengths)[0], model.hidden_states(ids, lengths)[0],
                          model.predict(ids, lengths)[0])
    h = np.zeros(3)
    for t, tok in enumerate(seq):
        a = DOG_U @ np.eye(4)[tok] + DOG_W @ h
        h = np.tanh(a)
        logits = DOG_V @ h
        y = np.exp(logits) / np.exp(logits).sum()
        np.testing.assert_allclose(pre[t], a, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(states[t], h, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(probs[t], y, rtol=1e-14, atol=1e-15)
    # the loss of predicting o, g, s after d, o, g is -sum log y_t[next]
    batch = Batch(ids=ids, lengths=lengths, targets=np.array([[1, 2, 3]]), index=np.array([0]))
    expected = -sum(np.log(probs[t, nxt]) for t, nxt in enumerate([1, 2, 3]))
    assert model.loss(batch) == pytest.approx(expected, rel=1e-14)


# -------------------------------------------------------------------------------------- parameter counts
def test_vanilla_parameter_count_formula():
    for d, n, k in [(3, 4, 4), (32, 100, 5), (1, 5, 2)]:
        cfg = validate(Config(cell="rnn", hidden=d))
        assert count_params(cfg, n, k) == d * n + d * d + k * d + d + k
        assert RNNModel(cfg, n, k).n_params == d * n + d * d + k * d + d + k


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 3])
def test_parameter_count_all_options(cell, bidirectional, layers):
    d, n, k = 5, 11, 3
    cfg = validate(Config(cell=cell, hidden=d, bidirectional=bidirectional, layers=layers))
    model = RNNModel(cfg, n, k)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    dirs = 2 if bidirectional else 1
    D = dirs * d
    expected = k * D + k
    for layer in range(layers):
        n_in = n if layer == 0 else D
        expected += dirs * (G * d * n_in + G * d * d + G * d + (d if cell == "gru" else 0))
    sizes = sum(model.params[name].size for name in model.param_names)
    assert count_params(cfg, n, k) == model.n_params == sizes == model.flat.size == model.grad.size == expected
    assert sum(int(np.prod(s.shape)) for s in param_specs(cfg, n, k)) == expected
    for spec in param_specs(cfg, n, k):                       # user-visible shapes
        assert model.params[spec.name].shape == spec.shape == model.grads[spec.name].shape
    # the views really are the flat buffer: writing one parameter shows in model.flat
    model.set("W", np.full((G * d, d), 7.0))
    assert (model.flat == 7.0).sum() >= G * d * d


# --------------------------------------------------------------------------------------------- no Qt
def test_core_imports_no_qt():
    core = REPO / "rnnviz" / "core"
    modules = sorted(".".join(p.relative_to(core).with_suffix("").parts).removesuffix(".__init__")
                     for p in core.rglob("*.py") if p.name != "__init__.py" or p.parent != core)
    assert {"nn.model", "nn.cells", "train.trainer", "nn.gradcheck", "live.loop"} <= set(modules)
    code = ("import importlib, sys\n"
            "import rnnviz.core\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module('rnnviz.core.' + m)\n"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'PyQt', 'shiboken'))]\n"
            "assert not bad, bad\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --------------------------------------------------------------------------------- vanishing gradients
def _delayed_recall_batch(L=50, B=32, seed=0):
    """Label token (ids 4..7, class = id - 4) then L distractor digits (ids 8..17): classification."""
    rng = np.random.default_rng(seed)
    labels = np.arange(B) % 4
    ids = np.concatenate([4 + labels[:, None], rng.integers(8, 18, size=(B, L))], axis=1)
    return Batch(ids=ids.astype(np.int64), lengths=np.full(B, L + 1, dtype=np.int64), targets=labels.astype(np.int64),
                 index=np.arange(B))


def _recall_ratio(cell):
    cfg = validate(Config(cell=cell, hidden=32, init="uniform", seed=0, task="classification", dtype="float64"))
    model = RNNModel(cfg, 18, 4)
    res = model.loss_and_grads(_delayed_recall_batch())
    g = res.grad_norms
    assert g.shape == (51,) and np.all(np.isfinite(g)) and g[-1] > 0
    return g[0] / g[-1]


def test_vanishing_gradient_lesson():
    rnn, lstm, gru = _recall_ratio("rnn"), _recall_ratio("lstm"), _recall_ratio("gru")
    print(f"\n||dL/ds_1|| / ||dL/ds_T||: rnn {rnn:.3g}, lstm {lstm:.3g}, gru {gru:.3g}")
    assert rnn < 1e-3
    assert lstm >= 100 * rnn


# ------------------------------------------------------------------------------------ extreme confidence
@pytest.mark.parametrize("dtype,gap,task", [("float32", 120.0, "classification"), ("float32", 120.0, "labelling"),
                                            ("float64", 800.0, "classification")])
def test_loss_is_exact_when_the_target_probability_underflows(dtype, gap, task):
    """A confidently wrong model: the target's logit is ``gap`` below the other one, so the cross-entropy is
    exactly ``gap`` (log(1 + e^-gap) is far below rounding). softmax(target) underflows to 0 (float32 below
    about e^-104, float64 below e^-745), but the loss is still a finite, exact number: log-softmax gives it.
    A wrong loss here pauses training with "the loss became NaN or infinite" (float32) although weights and
    gradients are finite, or shows a capped loss (float64)."""
    cfg = validate(Config(cell="rnn", activation="relu", hidden=2, task=task, dtype=dtype))
    model = RNNModel(cfg, 3, 2)
    model.set("U", np.ones((2, 3)))                       # s_1 = relu(1, 1) = (1, 1)
    model.set("W", np.zeros((2, 2)))
    model.set("V", np.array([[gap / 2, gap / 2], [0.0, 0.0]]))   # logits (gap, 0)
    targets = np.array([1]) if task == "classification" else np.array([[1]])
    batch = Batch(ids=np.array([[1]]), lengths=np.array([1]), targets=targets, index=np.array([0]))
    res = model.loss_and_grads(batch)
    assert np.isfinite(model.grad).all()
    np.testing.assert_allclose(model.grads["c"], [1.0, -1.0], rtol=1e-6)   # softmax - onehot: fine
    assert res.loss == pytest.approx(gap, rel=1e-6)
    assert model.loss(batch) == pytest.approx(gap, rel=1e-6)


@pytest.mark.parametrize("cell,activation", [("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")])
@pytest.mark.parametrize("task", ["classification", "labelling"])
@pytest.mark.parametrize("bidirectional,layers", [(False, 1), (True, 2)])
def test_training_workspace_reuse_across_batch_shapes(cell, activation, task, bidirectional, layers):
    """loss_and_grads keeps its big arrays in a workspace reused across calls (growing, never shrinking): batches
    of other lengths and sizes in between must leave every gradient exactly as a fresh model computes it."""
    kw = dict(cell=cell, activation=activation, task=task, bidirectional=bidirectional, layers=layers)
    long_batch = make_batch(task, lengths=np.array([9, 4, 7, 2, 9, 5]), seed=3)
    short_batch = make_batch(task, seed=1)
    model = make_model(**kw)
    first = model.loss_and_grads(short_batch)
    g_first = model.grad.copy()
    model.loss_and_grads(long_batch)
    g_long = model.grad.copy()
    again = model.loss_and_grads(short_batch)
    np.testing.assert_array_equal(model.grad, g_first)
    np.testing.assert_array_equal(again.probs, first.probs)
    np.testing.assert_array_equal(again.grad_norms, first.grad_norms)
    fresh = make_model(**kw)
    fresh.loss_and_grads(long_batch)
    np.testing.assert_array_equal(fresh.grad, g_long)
    assert first.probs is not again.probs            # results handed out are not workspace buffers


@pytest.mark.parametrize("n,N,G", [(50, 40, 8), (50, 3200, 256), (50, 100, 1024), (7, 500, 300), (400, 900, 64)])
def test_scatter_add_rows_every_path(n, N, G):
    """The one-hot product, the sorted block sums and reduceat (chosen by size) all equal np.add.at."""
    from rnnviz.core.nn.workspace import scatter_add_rows
    rng = np.random.default_rng(N + G)
    ids = rng.integers(0, n, size=N)
    rows = rng.standard_normal((N, G))
    target = rng.standard_normal((n, G))
    expected = target.copy()
    np.add.at(expected, ids, rows)
    for work in (None, {}):
        got = target.copy()
        scatter_add_rows(got, ids, rows, work=work)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
