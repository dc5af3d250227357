"""Every number of the gates, who-reaches-whom and equation views against an independent computation: the textbook
loops of ``views_reference`` (one example at a time, one-hot inputs, float64) and central finite differences, after
training an arbitrary number of steps, for the vanilla RNN, the LSTM and the GRU."""
from __future__ import annotations

import numpy as np
import pytest
from views_reference import fd_grad, forward, params_of, sig, step_losses

from rnnviz.core import Config, Trainer
from rnnviz.core.data.batch import IGNORE
from rnnviz.core.equation import lines, plain, unit_equation
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.nn.gates import SATURATED_ABOVE, SATURATED_BELOW

CELLS = ("rnn", "lstm", "gru")
DATA = {"labelling": dict(dataset="pos", task="labelling", n_examples=60),
        "generation": dict(dataset="chars", task="generation", n_examples=60, window=8),
        "classification": dict(dataset="negation", task="classification", n_examples=60)}


def trained(cell: str, task: str, steps: int, **extra) -> Trainer:
    cfg = Config(**{**dict(cell=cell, hidden=5, dtype="float64", batch_size=8, lr=0.05, epochs=50, seed=3),
                    **DATA[task], **extra})
    t = Trainer(cfg)
    for _ in range(steps):
        t.step()
    return t


def probe_of(t: Trainer):
    ds = t.dataset
    i = t.probe_index
    return np.asarray(ds.val.ids[i]), np.asarray(ds.val.targets[i])


# ------------------------------------------------------------------------------------------------ reach
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("task,steps", [("labelling", 7), ("generation", 13)])
def test_who_reaches_whom_is_each_steps_loss_followed_back(cell, task, steps):
    t = trained(cell, task, steps)
    snap = build_snapshot(t, reach=True)
    ids, targets = probe_of(t)
    P = params_of(t.model)
    fd = fd_grad(P, cell, t.config.activation, ids, targets, task)          # (T', T, d)
    want_rows = np.flatnonzero(targets != IGNORE)
    np.testing.assert_array_equal(snap.probe.reach_rows, want_rows)
    want = np.sqrt((fd[want_rows] ** 2).sum(axis=2))                         # (R, T)
    got = np.asarray(snap.probe.reach)
    T = len(ids)
    later = np.arange(T)[None, :] > want_rows[:, None]
    assert np.isnan(got[later]).all()                                        # a loss never reaches a later state
    assert np.abs(want[later]).max(initial=0) < 1e-8
    np.testing.assert_allclose(got[~later], want[~later], rtol=1e-5, atol=1e-9)
    # the rows add up to the probe's whole gradient: sum_t' dL_t'/ds_t = dL/ds_t (checked through the norms)
    total = fd.sum(axis=0)
    np.testing.assert_allclose(snap.probe.grad_norms, np.sqrt((total ** 2).sum(axis=1)), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("cell", CELLS)
def test_who_reaches_whom_for_classification_is_one_row(cell):
    t = trained(cell, "classification", 11)
    snap = build_snapshot(t, reach=True)
    ids, target = probe_of(t)
    fd = fd_grad(params_of(t.model), cell, t.config.activation, ids, target, "classification")
    assert snap.probe.reach.shape == (1, len(ids))
    np.testing.assert_array_equal(snap.probe.reach_rows, [len(ids) - 1])
    np.testing.assert_allclose(snap.probe.reach[0], np.sqrt((fd[-1] ** 2).sum(axis=1)), rtol=1e-5, atol=1e-9)


def test_who_reaches_whom_only_when_asked_and_bounded_by_chunks():
    t = trained("rnn", "labelling", 3)
    assert build_snapshot(t).probe.reach is None
    from rnnviz.core.explore import reach

    ids, targets = probe_of(t)
    long_ids = np.tile(ids, 12)[: reach.CHUNK + 7]                          # more rows than one chunk
    long_t = np.tile(targets, 12)[: reach.CHUNK + 7]
    rows, m = reach.reach(t.model, long_ids, long_t)
    fd = fd_grad(params_of(t.model), "rnn", "tanh", long_ids, long_t, "labelling")
    want = np.sqrt((fd[rows] ** 2).sum(axis=2))
    ok = ~np.isnan(m)
    np.testing.assert_allclose(m[ok], want[ok], rtol=1e-5, atol=1e-9)


# ------------------------------------------------------------------------------------------------ gates
@pytest.mark.parametrize("cell", ("lstm", "gru"))
def test_gate_heatmaps_are_the_textbook_gates(cell):
    t = trained(cell, "labelling", 9)
    snap = build_snapshot(t)
    ids, _ = probe_of(t)
    ref = forward(params_of(t.model), cell, "tanh", ids)
    names = ("i", "f", "g", "o", "c") if cell == "lstm" else ("r", "z", "n")
    assert set(snap.probe.gates) == set(names)
    for name in names:
        np.testing.assert_allclose(snap.probe.gates[name], ref["gates"][name], rtol=1e-10, atol=1e-12)
    for name in ("i", "f", "o", "r", "z"):
        if name in names:
            assert 0 <= snap.probe.gates[name].min() and snap.probe.gates[name].max() <= 1


def test_the_vanilla_rnn_has_no_gates():
    t = trained("rnn", "labelling", 2)
    snap = build_snapshot(t)
    assert snap.probe.gates == {} and snap.gate_saturation == {} and snap.gate_saturation_steps.size == 0
    assert snap.grad_norms_c.size == 0


@pytest.mark.parametrize("cell", ("lstm", "gru"))
def test_saturation_share_counts_the_monitor_batchs_gates(cell):
    t = trained(cell, "labelling", 17)
    t.record_monitor()                        # at step 17 (not a multiple of monitor_every)
    snap = build_snapshot(t)
    assert snap.gate_saturation_steps[-1] == 17
    P = params_of(t.model)
    batch = t.monitor_batch
    names = ("i", "f", "o") if cell == "lstm" else ("r", "z")
    counts, total = dict.fromkeys(names, 0), 0
    for b in range(len(batch.lengths)):
        L = int(batch.lengths[b])
        ref = forward(P, cell, "tanh", batch.ids[b, :L])
        total += L * 5
        for name in names:
            g = ref["gates"][name]
            counts[name] += int(((g < SATURATED_BELOW) | (g > SATURATED_ABOVE)).sum())
    for name in names:
        assert snap.gate_saturation[name][-1] == pytest.approx(counts[name] / total, abs=1e-12)


def test_saturation_history_is_bounded():
    from rnnviz.core.train.trainer import GRAD_FLOW_CAP

    t = trained("gru", "labelling", 0)
    assert t.gate_saturation.capacity == GRAD_FLOW_CAP             # a History: thinned, never longer (test_history)
    t.gate_saturation = type(t.gate_saturation)(2, 8)              # the same recording into a small one
    for _ in range(30):
        t.record_monitor()
    steps, values = t.gate_saturation.view()
    assert len(steps) <= 8 and values.shape[1] == 2 and t.gate_saturation.state_dict()["offered"] == 30


def test_cell_state_gradient_norms_of_the_monitor_batch():
    """||dL/dc_t|| (LSTM) next to ||dL/ds_t||, the same means over the batch's examples of each example's own
    gradient norm (core.train.grad_flow), against finite differences of the textbook."""
    t = trained("lstm", "labelling", 13, batch_size=3)             # a monitor batch of 3 sequences
    t.record_monitor()
    snap = build_snapshot(t)
    P = params_of(t.model)
    batch = t.monitor_batch
    assert len(batch.lengths) == 3
    B, T = batch.ids.shape
    sum_c, sum_s, have = np.zeros(T), np.zeros(T), np.zeros(T)
    for b in range(B):
        L = int(batch.lengths[b])
        ids, tg = batch.ids[b, :L], batch.targets[b, :L]
        for kind, acc in (("c", sum_c), ("s", sum_s)):
            g = fd_grad(P, "lstm", "tanh", ids, tg, "labelling", kind).sum(axis=0)   # dL_b/d(.)_t, L_b its loss
            acc[:L] += np.sqrt((g ** 2).sum(axis=1))
        have[:L] += 1
    assert snap.grad_norms_align == "start"                       # labelling: position t is step t
    np.testing.assert_allclose(snap.grad_norms_c, sum_c / have, rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(snap.grad_norms, sum_s / have, rtol=1e-5, atol=1e-10)


# ------------------------------------------------------------------------------------------------ equation
def textbook_unit(P, cell, ids, t, j):
    """The pre-activations, gates and state of unit j at step t, from the textbook loop."""
    ref = forward(P, cell, "tanh", ids)
    d = P["W"].shape[1]
    if cell == "rnn":
        return {"s": ref["pre"][t, j]}, ref
    if cell == "lstm":
        return {q: ref["pre"][t, k * d + j] for k, q in enumerate("ifgo")}, ref
    return {q: ref["pre"][t, k * d + j] for k, q in enumerate("rzn")}, ref


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("t_, j", [(0, 0), (2, 3), (5, 1)])
def test_equation_numbers_are_the_textbook_ones(cell, t_, j):
    t = trained(cell, "labelling", 23)
    snap = build_snapshot(t)
    ids, targets = probe_of(t)
    t_ = min(t_, len(ids) - 1)
    P = params_of(t.model)
    eq = unit_equation(snap.probe, cell, "tanh", snap.task, snap.classes, t_, j)
    pre, ref = textbook_unit(P, cell, ids, t_, j)
    s_prev = ref["states"][t_ - 1] if t_ > 0 else np.zeros(5)
    for sm in eq.sums:
        assert sm.total == pytest.approx(pre[sm.gate], abs=1e-12)
        # the parts add up: input + bias + scale * (shown terms + rest + inner)
        shown = sum(w * s for _, w, s in sm.terms)
        assert sm.inp + sm.bias + sm.scale * (shown + sm.rest + sm.inner) == pytest.approx(sm.total, abs=1e-12)
        k = {"s": 0, "i": 0, "f": 1, "g": 2, "o": 3, "r": 0, "z": 1, "n": 2}[sm.gate]
        assert sm.inp == pytest.approx(P["U"][k * 5 + j, ids[t_]], abs=1e-15)
        for kk, w, s in sm.terms:
            assert w == P["W"][k * 5 + j, kk] and s == pytest.approx(s_prev[kk], abs=1e-15)
        # the shown terms are the largest ones
        prods = np.abs(P["W"][k * 5 + j] * s_prev)
        assert min((abs(w * s) for _, w, s in sm.terms), default=0) >= np.sort(prods)[::-1][len(sm.terms):].max(
            initial=0) - 1e-15
        if cell != "rnn" and sm.gate in ref["gates"]:
            assert sm.value == pytest.approx(ref["gates"][sm.gate][t_, j], abs=1e-12)
    assert eq.s == pytest.approx(ref["states"][t_, j], abs=1e-12)
    if cell == "lstm":
        assert eq.c == pytest.approx(ref["cells"][t_, j], abs=1e-12)
    probs = {name: p for name, _, p in eq.classes}
    for k, name in enumerate(snap.classes):
        if name in probs:
            assert probs[name] == pytest.approx(ref["probs"][t_, k], abs=1e-12)
    # dL/ds_t[j] of the probe's own loss, by finite differences
    fd = fd_grad(P, cell, "tanh", ids, targets, "labelling").sum(axis=0)
    assert eq.grad == pytest.approx(fd[t_, j], rel=1e-5, abs=1e-9)
    # and what the view writes says the same numbers
    text = "\n".join(plain(x) for _, x in lines(eq, 4))
    assert f"{eq.s:.4f}".replace("-", "\u2212") in text


def test_equation_classification_reads_the_output_at_the_last_step_only():
    t = trained("rnn", "classification", 5)
    snap = build_snapshot(t)
    T = len(snap.probe.tokens)
    early = unit_equation(snap.probe, "rnn", "tanh", snap.task, snap.classes, 0, 0)
    assert early.classes == () and "last step" in early.output_note
    last = unit_equation(snap.probe, "rnn", "tanh", snap.task, snap.classes, T - 1, 0)
    ref = forward(params_of(t.model), "rnn", "tanh", probe_of(t)[0])
    assert [p for _, _, p in last.classes] == pytest.approx(list(ref["probs"][T - 1]), abs=1e-12)


def test_equation_parameters_are_bounded():
    from rnnviz.core.snapshot import EQUATION_MAX_NUMBERS

    big = Trainer(Config(dataset="pos", task="labelling", hidden=160, cell="lstm", n_examples=40))
    probe = build_snapshot(big).probe
    assert probe.params == {} and f"{EQUATION_MAX_NUMBERS:,}" in probe.params_note
    with pytest.raises(ValueError, match="too large"):
        unit_equation(probe, "lstm", "tanh", "labelling", (), 0, 0)
    two = Trainer(Config(dataset="pos", task="labelling", hidden=4, layers=2, n_examples=40))
    assert "one-layer" in build_snapshot(two).probe.params_note


# ------------------------------------------------------------------------------------------------ textbook sanity
def test_the_reference_sigmoid_and_losses_are_the_textbook_ones():
    assert sig(0.0) == 0.5
    P = {"U": np.eye(2), "W": np.zeros((2, 2)), "b": np.zeros(2), "V": np.eye(2), "c": np.zeros(2)}
    loss = step_losses(P, "rnn", "tanh", [0], np.array([0]), "labelling")
    y0 = np.exp(np.tanh(1.0)) / (np.exp(np.tanh(1.0)) + 1.0)
    assert loss[0] == pytest.approx(-np.log(y0), abs=1e-15)
