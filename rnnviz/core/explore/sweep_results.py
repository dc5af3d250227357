"""Reading a finished sweep: the parallel-coordinates axes of its runs, the importance of each swept setting, and
the A/B race that replays one run against the current settings. Qt-free (the sweep window draws it).

Parallel coordinates: one vertical axis per swept setting, then one per final metric; each run is a line through
its value on every axis. Positions are in [0, 1] along an axis:

- a categorical setting (text, yes/no), or a numeric one with at most ``LEVEL_MAX`` values that are not spread
  over decades, stands as evenly spaced levels in the grid's order: level i of n at i / (n - 1) (0.5 for n = 1);
- a numeric setting whose values are all positive and span at least a decade (max / min >= 10) is on a log scale:
  (log10 v - log10 min) / (log10 max - log10 min); other numeric settings are on a linear scale;
- a metric runs from the lowest to the highest value of the runs that finished, on a log scale when those are
  positive and span at least a decade (one diverged run must not squash all the others together), else linear.

A run that failed (or was cancelled) keeps its settings on the setting axes and sits at ``FAILED_AT`` (below the
axis, labelled "failed") on every metric axis: shown, not dropped.

Importance of a setting k, from the runs that finished with a finite metric y_1..y_n (mean ybar): the share of
the variance of the metric explained by k's main effect,

    eta^2_k = sum over the values v of k of  n_v (ybar_v - ybar)^2   /   sum_i (y_i - ybar)^2

with n_v the number of runs with k = v and ybar_v their mean metric (the correlation ratio; on a full grid the
main effects of the settings add up to at most 1, the rest being their interaction). 0 when every run has the same
metric or fewer than two runs finished.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.core.config import Config
from rnnviz.core.explore.race import b_config
from rnnviz.core.explore.sweep import format_value

FAILED_AT = -0.12          # where a failed run crosses a metric axis (below its range, labelled "failed")
DECADE = 10.0              # a positive numeric setting spanning at least this ratio is drawn on a log scale
METRIC_NAMES = {"val_loss": "final val loss", "val_accuracy": "final val accuracy",
                "val_perplexity": "final val perplexity"}


@dataclass(frozen=True)
class Axis:
    """One vertical axis: ``key`` (a setting or a metric), its ``scale`` ("levels", "log", "linear"), the tick
    positions in [0, 1] and their labels, and the position of every run (NaN: no value, FAILED_AT: failed)."""

    key: str
    label: str
    scale: str
    ticks: tuple[tuple[float, str], ...]
    positions: np.ndarray          # (R,) one per run, in the order of ``rows``
    metric: bool = False


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def setting_axis(key: str, grid_values: list[Any], rows: list[dict]) -> Axis:
    """The axis of swept setting ``key`` with the grid's values ``grid_values`` (in the grid's order)."""
    values = [r["settings"][key] for r in rows]
    numeric = all(_is_number(v) for v in grid_values)
    if numeric and len(grid_values) > 1 and min(grid_values) > 0 and max(grid_values) / min(grid_values) >= DECADE:
        lo, hi = math.log10(min(grid_values)), math.log10(max(grid_values))
        pos = np.array([(math.log10(v) - lo) / (hi - lo) for v in values])
        ticks = tuple(((math.log10(v) - lo) / (hi - lo), format_value(v)) for v in grid_values)
        return Axis(key, f"{key} (log)", "log", ticks, pos)
    n = len(grid_values)
    level = {repr(v): (i / (n - 1) if n > 1 else 0.5) for i, v in enumerate(grid_values)}
    pos = np.array([level[repr(v)] for v in values])
    return Axis(key, key, "levels", tuple((level[repr(v)], format_value(v)) for v in grid_values), pos)


def metric_axis(metric: str, rows: list[dict]) -> Axis:
    """A final metric over the finished runs (log or linear, see the module text); failed runs at FAILED_AT."""
    ok = [r["status"] == "ok" and math.isfinite(float(r[metric])) for r in rows]
    vals = np.array([float(r[metric]) for r in rows])
    good = vals[np.array(ok, dtype=bool)] if rows else np.zeros(0)
    label = METRIC_NAMES.get(metric, metric)
    if good.size == 0:
        return Axis(metric, label, "linear", ((FAILED_AT, "failed"),), np.full(len(rows), FAILED_AT), metric=True)
    lo, hi = float(good.min()), float(good.max())
    fmt = (lambda v: f"{v:.1%}") if metric == "val_accuracy" else (lambda v: f"{v:.3g}")
    scale = "log" if lo > 0 and hi / lo >= DECADE else "linear"
    to = (lambda v: np.log10(v)) if scale == "log" else (lambda v: v)
    span = float(to(hi) - to(lo))
    with np.errstate(all="ignore"):
        pos = np.where(ok, (to(np.where(ok, vals, lo)) - to(lo)) / span if span > 0 else 0.5, FAILED_AT)
    ticks: tuple = ((0.0, fmt(lo)), (1.0, fmt(hi))) if span > 0 else ((0.5, fmt(lo)),)
    if scale == "log":                                   # the powers of ten in between
        ticks += tuple(((k - to(lo)) / span, fmt(10.0 ** k)) for k in range(math.ceil(to(lo) + 0.15),
                                                                            math.floor(to(hi) - 0.15) + 1))
    if any(not o for o in ok):
        ticks = ticks + ((FAILED_AT, "failed"),)
    return Axis(metric, label + (" (log)" if scale == "log" else ""), scale, ticks, pos, metric=True)


def metrics_for(task: str) -> tuple[str, ...]:
    """The final metrics shown: validation loss and accuracy (perplexity for generation)."""
    return ("val_loss", "val_perplexity") if task == "generation" else ("val_loss", "val_accuracy")


def parallel_axes(grid: list[tuple[str, list[Any]]], rows: list[dict], task: str) -> list[Axis]:
    """Every axis of the parallel-coordinates plot: the swept settings in the grid's order, then the metrics."""
    return ([setting_axis(k, list(v), rows) for k, v in grid]
            + [metric_axis(metric, rows) for metric in metrics_for(task)])


def importance(rows: list[dict], keys: list[str], metric: str) -> list[tuple[str, float]]:
    """(setting, eta^2) for each swept setting, largest first (see the module text for the formula); from the
    runs that finished with a finite ``metric``."""
    done = [r for r in rows if r["status"] == "ok" and math.isfinite(float(r[metric]))]
    y = np.array([float(r[metric]) for r in done])
    out = []
    total = float(((y - y.mean()) ** 2).sum()) if len(y) > 1 else 0.0
    for key in keys:
        if total <= 0:
            out.append((key, 0.0))
            continue
        groups: dict[str, list[float]] = {}
        for r, v in zip(done, y):
            groups.setdefault(repr(r["settings"][key]), []).append(v)
        between = sum(len(g) * (np.mean(g) - y.mean()) ** 2 for g in groups.values())
        out.append((key, float(between / total)))
    return sorted(out, key=lambda kv: -kv[1])


def finished_runs(rows: list[dict], metric: str) -> int:
    return sum(r["status"] == "ok" and math.isfinite(float(r[metric])) for r in rows)


def _assignment(key: str, value: Any) -> str:
    """``key=value`` text that parses back to exactly ``value`` (floats by repr, so no digit is lost)."""
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    return f"{key}={value!r}" if isinstance(value, float) else f"{key}={value}"


def race_config(current: Config, settings: dict) -> Config:
    """B for the A/B race of a sweep run against ``current`` (A): A with the run's swept settings. A ConfigError
    (one line) when the run's settings are A's already."""
    return b_config(current, [_assignment(k, v) for k, v in settings.items()])
