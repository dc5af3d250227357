"""Sweep results (core.explore.sweep_results): the parallel-coordinates axes hold exactly the runs' settings and
metrics, the importance ranking against a hand computation, and the A/B race of a run."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.core.errors import ConfigError
from rnnviz.core.explore import race
from rnnviz.core.explore import sweep_results as sr
from rnnviz.core.presets import load_preset

NAN = float("nan")


def run(index, settings, val_loss, val_accuracy, status="ok"):
    return {"index": index, "settings": settings, "val_loss": val_loss, "val_accuracy": val_accuracy,
            "val_perplexity": NAN, "status": status, "error": "" if status == "ok" else "NaN/Inf at step 3"}


GRID = [("lr", [0.001, 0.01, 0.1]), ("hidden", [8, 16, 32])]


def grid_rows(loss):
    """A full 3 x 3 grid whose val_loss is ``loss(lr, hidden)``; accuracy 1 - loss / 4."""
    rows = []
    for i, lr in enumerate(GRID[0][1]):
        for j, hidden in enumerate(GRID[1][1]):
            v = loss(lr, hidden)
            rows.append(run(3 * i + j, {"lr": lr, "hidden": hidden}, v, 1 - v / 4))
    return rows


def value_at(axis, position):
    """The tick label at ``position`` (every run must sit exactly on a tick of a setting axis)."""
    hits = [text for pos, text in axis.ticks if pos == pytest.approx(position, abs=1e-12)]
    assert len(hits) == 1, (axis.key, position, axis.ticks)
    return hits[0]


def test_lines_hold_exactly_the_runs_settings_and_metrics():
    rows = grid_rows(lambda lr, h: 1.0 + abs(math.log10(lr) + 2) + 0.01 * h)
    rows[4] = run(4, {"lr": 0.01, "hidden": 16}, NAN, NAN, status="failed")
    axes = sr.parallel_axes(GRID, rows, "classification")
    assert [a.key for a in axes] == ["lr", "hidden", "val_loss", "val_accuracy"]
    lr, hidden, loss, acc = axes
    assert lr.scale == "log" and hidden.scale == "levels"            # 0.001..0.1 spans decades; 8..32 does not
    for r, p_lr, p_h in zip(rows, lr.positions, hidden.positions):
        assert value_at(lr, p_lr) == f"{r['settings']['lr']:g}"
        assert value_at(hidden, p_h) == str(r["settings"]["hidden"])
    np.testing.assert_allclose(lr.positions[:3 * 3:3], [0.0, 0.5, 1.0])   # log10: -3, -2, -1 evenly
    np.testing.assert_allclose(hidden.positions[:3], [0.0, 0.5, 1.0])
    ok = np.array([r["status"] == "ok" for r in rows])
    values = np.array([r["val_loss"] for r in rows])
    lo, hi = values[ok].min(), values[ok].max()
    np.testing.assert_allclose(loss.positions[ok], (values[ok] - lo) / (hi - lo))       # back to the metric:
    np.testing.assert_allclose(lo + loss.positions[ok] * (hi - lo), values[ok])        # exactly the run's
    assert loss.positions[4] == acc.positions[4] == sr.FAILED_AT                     # shown, as failed
    assert (sr.FAILED_AT, "failed") in loss.ticks and loss.ticks[0] == (0.0, f"{lo:.3g}")
    accs = np.array([r["val_accuracy"] for r in rows])
    np.testing.assert_allclose(acc.positions[ok], (accs[ok] - accs[ok].min()) / np.ptp(accs[ok]))
    assert loss.scale == acc.scale == "linear"                     # 1.3 .. 2.3: less than a decade


def test_a_metric_spanning_decades_is_on_a_log_scale():
    rows = [run(i, {"lr": lr}, v, 0.5) for i, (lr, v) in enumerate([(0.01, 0.3), (0.1, 0.6), (1.0, 30.0)])]
    loss = sr.metric_axis("val_loss", rows)
    assert loss.scale == "log" and loss.label.endswith("(log)")
    np.testing.assert_allclose(loss.positions, [0.0, math.log10(2) / 2, 1.0])      # log10(0.3 .. 30) = 2 decades
    assert [t for _, t in loss.ticks] == ["0.3", "30", "1", "10"]


def test_categorical_and_linear_settings():
    rows = [run(i, {"cell": c, "clip": x}, 1.0 + i, 0.5) for i, (c, x) in
            enumerate([("rnn", 0.5), ("lstm", 0.5), ("gru", 2.0), ("rnn", 2.0)])]
    cell = sr.setting_axis("cell", ["rnn", "lstm", "gru"], rows)
    clip = sr.setting_axis("clip", [0.5, 2.0], rows)
    assert cell.scale == "levels" and [t for _, t in cell.ticks] == ["rnn", "lstm", "gru"]
    np.testing.assert_allclose(cell.positions, [0.0, 0.5, 1.0, 0.0])
    assert clip.scale == "levels" and list(clip.positions) == [0.0, 0.0, 1.0, 1.0]
    one = sr.setting_axis("lr", [0.1], rows[:1] and [run(0, {"lr": 0.1}, 1.0, 0.5)])
    assert one.positions[0] == 0.5
    assert sr.metrics_for("generation") == ("val_loss", "val_perplexity")


def test_importance_where_one_setting_clearly_matters():
    """lr decides the loss (0.2, 1.0, 3.0), hidden adds a little (0, 0.03, 0.06): by hand, with ybar the mean
    over the 9 runs, eta^2_lr = 3 sum_lr (ybar_lr - ybar)^2 / sum (y - ybar)^2 and likewise for hidden."""
    effect_lr = {0.001: 3.0, 0.01: 0.2, 0.1: 1.0}
    effect_h = {8: 0.0, 16: 0.03, 32: 0.06}
    rows = grid_rows(lambda lr, h: effect_lr[lr] + effect_h[h])
    y = np.array([r["val_loss"] for r in rows])
    ybar = y.mean()                                   # (4.2 + 0.09) / 3 = 1.43
    total = ((y - ybar) ** 2).sum()
    lr_means = {0.001: 3.03, 0.01: 0.23, 0.1: 1.03}
    h_means = {8: 1.4, 16: 1.43, 32: 1.46}
    want_lr = 3 * sum((m - ybar) ** 2 for m in lr_means.values()) / total
    want_h = 3 * sum((m - ybar) ** 2 for m in h_means.values()) / total
    ranking = sr.importance(rows, ["lr", "hidden"], "val_loss")
    assert [k for k, _ in ranking] == ["lr", "hidden"]
    assert dict(ranking)["lr"] == pytest.approx(want_lr, rel=1e-12)
    assert dict(ranking)["hidden"] == pytest.approx(want_h, rel=1e-12)
    assert want_lr > 0.99 and want_h < 0.01 and want_lr + want_h == pytest.approx(1.0)   # additive: no interaction
    # written out: deviations of the lr means from 1.43 are 1.6, -1.2, -0.4; of the hidden means -0.03, 0, 0.03
    assert ybar == pytest.approx(1.43)
    assert total == pytest.approx(3 * (1.6 ** 2 + 1.2 ** 2 + 0.4 ** 2) + 3 * (0.03 ** 2 + 0.03 ** 2))


def test_importance_leaves_out_failed_runs_and_needs_variation():
    rows = grid_rows(lambda lr, h: {0.001: 1.0, 0.01: 2.0, 0.1: 3.0}[lr])
    rows[0] = run(0, {"lr": 0.001, "hidden": 8}, NAN, NAN, status="failed")
    ranking = dict(sr.importance(rows, ["lr", "hidden"], "val_loss"))
    assert ranking["lr"] == pytest.approx(1.0)
    # by hand: the 8 finished runs y = 2, 3 | 1, 2, 3 | 1, 2, 3 (hidden 8 | 16 | 32), ybar = 17/8;
    # total = 2 (1 - 17/8)^2 + 3 (2 - 17/8)^2 + 3 (3 - 17/8)^2 = 4.875; hidden's groups have means 2.5, 2, 2
    # (hidden 8 lost its lr = 0.001 run), so its main effect is 2 (2.5 - 17/8)^2 + 6 (2 - 17/8)^2 = 0.375
    assert ranking["hidden"] == pytest.approx(0.375 / 4.875, rel=1e-12)
    assert sr.finished_runs(rows, "val_loss") == 8
    flat = grid_rows(lambda lr, h: 1.0)
    assert dict(sr.importance(flat, ["lr", "hidden"], "val_loss")) == {"lr": 0.0, "hidden": 0.0}


def test_race_of_a_run_differs_exactly_as_the_run():
    current = load_preset("negation").config.replace(lr=0.01, hidden=32)
    settings = {"lr": 0.0012345678901234, "hidden": 16}
    b = sr.race_config(current, settings)
    assert sorted(race.differences(current, b)) == [("hidden", 32, 16), ("lr", 0.01, 0.0012345678901234)]
    assert b.lr == settings["lr"]                     # not a digit lost on the way through key=value text
    only_lr = sr.race_config(current, {"lr": 0.1, "hidden": 32})       # hidden is A's already: only lr differs
    assert race.differences(current, only_lr) == [("lr", 0.01, 0.1)]
    assert sr.race_config(current, {"bidirectional": True}).bidirectional is True
    with pytest.raises(ConfigError, match="at least one setting"):
        sr.race_config(current, {"lr": 0.01, "hidden": 32})
