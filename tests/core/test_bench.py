"""rnnviz bench: the FLOP count and the fraction of peak for known shapes, the timing helpers' arithmetic, and a
smoke run of `rnnviz bench --quick --json` (no timing assertions)."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.bench import core, flops, report


# ------------------------------------------------------------------------------------------- FLOP arithmetic
def test_step_flops_vanilla_classification_by_hand():
    # d=32, T=20, B=32, k=10, G=1: W s_{t-1} for t=1..19 is 19 products of (32x32)(32x32): 19*2*32*32*32 FLOPs,
    # done 3 times (forward, dL/ds_{t-1}, dW); the head (32x32)(32x10) 3 times (forward, dL/ds, dV)
    recurrent = 19 * 2 * 32 * 32 * 32          # 1,245,184
    head = 2 * 32 * 32 * 10                    # 20,480
    assert flops.step_flops("rnn", "classification", 32, 20, 32, 10) == 3 * recurrent + 3 * head == 3_796_992


def test_step_flops_gated_labelling_by_hand():
    # LSTM: 4 gates, so W is (128 x 32); labelling: the head runs at all T=5 steps for B=2 sequences
    recurrent = 4 * 2 * 2 * (4 * 32) * 32      # (T-1)=4 products of (2x32)(32x128)
    head = 5 * 2 * 2 * 32 * 7
    assert flops.step_flops("lstm", "labelling", 32, 5, 2, 7) == 3 * (recurrent + head)
    assert flops.step_flops("gru", "labelling", 32, 5, 2, 7) == 3 * (recurrent * 3 // 4 + head)
    assert flops.step_flops("rnn", "labelling", 8, 1, 3, 2) == 3 * 2 * 3 * 8 * 2   # T=1: no recurrent product


def test_step_flops_counts_the_products_the_model_makes(monkeypatch):
    """Independent count: the per-step recurrent products the core really makes (np.dot in the cells, counted by
    their shapes while one forward + BPTT runs), plus dW and the head by shape. Vocabulary look-ups are gathers."""
    from rnnviz.core.config import Config
    from rnnviz.core.data.batch import Batch
    from rnnviz.core.nn.model import RNNModel

    counted = []
    real_dot = np.dot

    def counting_dot(a, b, out=None):
        if np.ndim(a) == 2 and np.ndim(b) == 2:
            counted.append(2 * a.shape[0] * a.shape[1] * b.shape[1])
        return real_dot(a, b, out=out)

    d, T, B, k = 16, 6, 3, core.CLASSES
    model = RNNModel(Config(cell="lstm", task="classification", hidden=d, dtype="float64"), core.VOCAB, k)
    ids, targets = core.make_data(core.Shape("lstm", "classification", d, T, B))
    batch = Batch(ids=ids, lengths=np.full(B, T), targets=targets, index=np.arange(B))
    monkeypatch.setattr(np, "dot", counting_dot)
    model.loss_and_grads(batch)
    monkeypatch.undo()
    per_product = 2 * B * (4 * d) * d                   # (B x d)(d x 4d), or (B x 4d)(4d x d) backwards
    assert counted == [per_product] * (2 * (T - 1))     # forward and backward, t = 1..T-1
    dW = 2 * (4 * d) * ((T - 1) * B) * d                # dA^T S: (4d x (T-1)B)((T-1)B x d)
    head = 3 * 2 * B * d * k                            # V s, dlogits V, dlogits^T s
    assert flops.step_flops("lstm", "classification", d, T, B, k) == sum(counted) + dW + head


def test_fraction_of_peak_and_gflops():
    assert flops.gflops(3_000_000_000, 1.5) == pytest.approx(2.0)
    # 2e9 FLOPs in 0.5 s is 4 GFLOP/s, half of an 8 GFLOP/s peak
    assert flops.fraction_of_peak(2_000_000_000, 0.5, 8.0) == pytest.approx(0.5)


def test_matmul_peak_is_a_plausible_rate():
    peak = flops.matmul_peak("float64", n=64, repeats=2, min_seconds=0.002)
    assert 0.01 < peak < 1e5      # GFLOP/s: positive and finite (no timing claim)


def test_interleaved_medians_round_robin_and_median(monkeypatch):
    order = []
    fns = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    samples = iter([5.0, 1.0, 3.0, 2.0, 4.0, 9.0])        # a, b, a, b, a, b

    def fake_time_per_call(fn, min_seconds):
        fn()
        return next(samples)

    monkeypatch.setattr(flops, "time_per_call", fake_time_per_call)
    med = flops.interleaved_medians(fns, rounds=3, min_seconds=0.0)
    assert order == ["a", "b", "a", "b", "a", "b", "a", "b"]   # one warm-up each, then turns
    assert med == {"a": 4.0, "b": 2.0}                         # medians of (5, 3, 4) and (1, 2, 9)


def test_time_per_call_divides_by_the_call_count():
    calls = []
    t = flops.time_per_call(lambda: calls.append(1), min_seconds=0.01)
    assert len(calls) >= 1 and 0 < t <= 0.01 * 10 / len(calls) + 0.05


def test_targets_met_or_not_from_the_rows():
    rows = [{"cell": "rnn", "numpy_over_torch": 0.4, "f64_over_f32": 2.0},
            {"cell": "rnn", "numpy_over_torch": 0.6, "f64_over_f32": 2.3},
            {"cell": "lstm", "numpy_over_torch": 1.0, "f64_over_f32": 1.5},
            {"cell": "lstm", "numpy_over_torch": 1.6, "f64_over_f32": 1.5},
            {"cell": "lstm", "numpy_over_torch": 1.1, "f64_over_f32": 1.5}]
    window = {"live_over_headless": 0.85, "step_to_pixel_ms": {"median": 120.0}, "stall_ms": {"p99": 10.0},
              "refresh_worst_panel_ms": 12.0}
    got = {t["target"]: (t["value"], t["met"]) for t in report.targets(rows, window)}
    assert got["rnn numpy/torch worst <= 0.5"] == (0.6, False)
    assert got["lstm numpy/torch median <= 1.2"] == (1.1, True)
    assert got["lstm numpy/torch worst <= 1.5"] == (1.6, False)
    assert got["gru numpy/torch median <= 1.2"] == (None, None)          # no gru rows: not measured
    assert got["float64/float32 worst <= 2.2"] == (2.3, False)
    assert got["window live/headless >= 0.8"] == (0.85, True)
    assert got["step-to-pixel median < 100 ms"] == (120.0, False)
    assert got["stall p99 < 50 ms"] == (10.0, True)
    assert got["slowest panel refresh <= 12 ms"] == (12.0, True)


# ------------------------------------------------------------------------ the optimised core's code paths agree
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bptt", [0, 3])
def test_scatter_paths_give_the_same_gradients(monkeypatch, cell, bptt):
    """The sorted scatter-add of dU (a large vocabulary's path) gives the gradients of the one-hot product (a small
    vocabulary's path), to float64 rounding."""
    from rnnviz.core.config import Config
    from rnnviz.core.data.batch import Batch
    from rnnviz.core.nn import model as model_mod
    from rnnviz.core.nn import workspace

    shape = core.Shape(cell, "labelling", 6, 7, 3)
    ids, targets = core.make_data(shape)
    batch = Batch(ids=ids, lengths=np.array([7, 4, 5]), targets=targets, index=np.arange(3))

    def grads():
        m = model_mod.RNNModel(Config(cell=cell, task="labelling", hidden=6, dtype="float64", bptt=bptt, seed=3),
                               core.VOCAB, core.CLASSES)
        res = m.loss_and_grads(batch)
        return m.grad.copy(), res.grad_norms.copy()

    ref_g, ref_n = grads()
    for one_hot_max in (0, 10):              # 0: always sorted; 10 < 50 ids: sorted as well, via the threshold
        monkeypatch.setattr(workspace, "ONE_HOT_MAX", one_hot_max)
        g, n = grads()
        np.testing.assert_allclose(g, ref_g, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(n, ref_n, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_subnormal_flush_changes_gradients_by_less_than_float32_tiny(cell):
    """float32 gradients that vanish below 1e-20 switch on the flush of subnormals (a speed path); the gradients
    stay those of the plain path to within a few float32-tiny (1.2e-38) in absolute value."""
    from rnnviz.core.config import Config
    from rnnviz.core.data.batch import Batch
    from rnnviz.core.nn.model import RNNModel

    model = RNNModel(Config(cell=cell, task="classification", hidden=8, dtype="float32"), core.VOCAB, core.CLASSES)
    model.set("W", model.params["W"] * 0.05)                    # contracting: ||dL/ds_t|| vanishes going back
    if cell == "lstm":
        model.params["b"][8:16] = -6.0                            # forget gate ~0: the cell path forgets too
    ids, targets = core.make_data(core.Shape(cell, "classification", 8, 80, 2))
    batch = Batch(ids=ids, lengths=np.array([80, 80]), targets=targets, index=np.arange(2))
    assert model._flush_subnormal is False
    plain = model.loss_and_grads(batch)
    g_plain = model.grad.copy()
    assert model._flush_subnormal is True and (plain.grad_norms < 1e-20).any()
    flushed = model.loss_and_grads(batch)
    np.testing.assert_allclose(model.grad, g_plain, rtol=0, atol=1e-35)
    np.testing.assert_allclose(flushed.grad_norms, plain.grad_norms, rtol=0, atol=1e-35)
    assert np.abs(g_plain).max() > 1e-3                         # the comparison is not between zeros


# ------------------------------------------------------------------------------------------- start-up bytecode
def test_uncached_modules_follows_the_bytecode_python_would_use(tmp_path):
    """A module counts as cached only while its .pyc is for its source as it is now (the checks importlib makes)."""
    import compileall
    import os
    import py_compile

    from rnnviz.bench.startup import uncached_modules

    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("x = 1\n")
    (pkg / "sub" / "m.py").write_text("y = 2\n")
    assert uncached_modules(str(pkg)) == ["__init__.py", os.path.join("sub", "m.py")]
    assert compileall.compile_dir(str(pkg), quiet=1)
    assert uncached_modules(str(pkg)) == []
    (pkg / "sub" / "m.py").write_text("y = 22\n")            # edited: the size no longer matches
    assert uncached_modules(str(pkg)) == [os.path.join("sub", "m.py")]
    py_compile.compile(str(pkg / "sub" / "m.py"), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    assert uncached_modules(str(pkg)) == []
    (pkg / "sub" / "m.py").write_text("y = 23\n")            # same size, new hash
    assert uncached_modules(str(pkg)) == [os.path.join("sub", "m.py")]


def test_the_report_says_which_bytecode_case_the_start_up_measured():
    assert report._bytecode({"bytecode_cache": True, "uncached_modules": 0}) == "rnnviz's bytecode cached"
    assert report._bytecode({"bytecode_cache": False, "uncached_modules": 84}) == \
        "84 rnnviz modules without cached bytecode"
