"""``rnnviz bench``: run every measurement, check the targets, print a table (or one JSON object).

Targets: vanilla RNN numpy/torch <= 0.5 in every row; LSTM and GRU median <= 1.2 and worst <= 1.5;
float64 <= 2.2 x float32 (every row); window: live >= 0.8 x headless, step-to-pixel < 100 ms (median),
p99 stall < 50 ms, one full refresh <= 12 ms (the slowest panel); start-up to the first painted window < 1 s
(median, fresh processes: ``rnnviz.bench.startup``).
"""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys

import numpy as np

from rnnviz.bench import core
from rnnviz.bench.flops import matmul_peak


def machine() -> dict:
    info = {"cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
            "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        info["cpu"] = names[0] if names else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    return info


def _summary_ratio(rows: list[dict], cell: str, key: str) -> dict | None:
    values = [r[key] for r in rows if r["cell"] == cell and r[key] is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "worst": max(values), "n": len(values)}


def targets(rows: list[dict], window: dict | None, startup: dict | None = None,
            big: dict | None = None) -> list[dict]:
    """Each target with the value measured and whether it was met (None when not measured)."""
    out = []

    def add(name, value, limit, less=True):
        met = None if value is None else (value <= limit if less else value >= limit)
        out.append({"target": name, "value": value, "limit": limit, "met": met})

    rnn = _summary_ratio(rows, "rnn", "numpy_over_torch")
    add("rnn numpy/torch worst <= 0.5", rnn and rnn["worst"], 0.5)
    for cell in ("lstm", "gru"):
        s = _summary_ratio(rows, cell, "numpy_over_torch")
        add(f"{cell} numpy/torch median <= 1.2", s and s["median"], 1.2)
        add(f"{cell} numpy/torch worst <= 1.5", s and s["worst"], 1.5)
    f64 = [r["f64_over_f32"] for r in rows]
    add("float64/float32 worst <= 2.2", max(f64) if f64 else None, 2.2)
    w = window or {}
    add("window live/headless >= 0.8", w.get("live_over_headless"), 0.8, less=False)
    add("step-to-pixel median < 100 ms", (w.get("step_to_pixel_ms") or {}).get("median"), 100.0)
    add("stall p99 < 50 ms", (w.get("stall_ms") or {}).get("p99"), 50.0)
    add("slowest panel refresh <= 12 ms", w.get("refresh_worst_panel_ms"), 12.0)
    add("start-up to first paint < 1.0 s", (startup or {}).get("painted_s"), 1.0)
    b = big or {}
    add("big: window live/headless >= 0.8", b.get("live_over_headless"), 0.8, less=False)
    add("big: step-to-pixel median < 100 ms", (b.get("step_to_pixel_ms") or {}).get("median"), 100.0)
    add("big: stall p99 < 50 ms", (b.get("stall_ms") or {}).get("p99"), 50.0)
    add("big: slowest panel refresh <= 12 ms", b.get("refresh_worst_panel_ms"), 12.0)
    return out


PARTS = ("core", "window", "startup", "big")     # what ``--only`` can choose


def run(quick: bool = False, window: bool = True, rounds: int | None = None, min_seconds: float | None = None,
        progress=None, only: tuple[str, ...] = PARTS, shakespeare: str | None = None) -> dict:
    """Every figure of ``rnnviz bench`` as one dict (``only``: the parts of ``PARTS`` to run; ``window=False``
    leaves out everything that needs Qt; the big-model case is left out of ``quick`` unless ``only`` names it
    alone)."""
    rounds = rounds or (3 if quick else 7)
    min_seconds = min_seconds or (0.02 if quick else 0.05)
    notes = ["interleaved: numpy float32, numpy float64 and torch take turns, `rounds` times per row; medians",
             "FLOPs: matrix products only (see rnnviz.bench.flops); fraction of peak = achieved / matmul peak"]
    result = {"date": datetime.date.today().isoformat(), "machine": machine(), "quick": quick,
              "rounds": rounds, "min_seconds_per_sample": min_seconds}
    ok, why = core.torch_available()
    if ok:
        import torch

        threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1") or 1)
        torch.set_num_threads(threads)
        result["machine"]["torch"] = torch.__version__
        result["machine"]["torch_threads"] = torch.get_num_threads()
        notes.append(f"torch.set_num_threads({threads}), the same as rnnviz's OPENBLAS_NUM_THREADS")
    else:
        result["machine"]["torch"] = None
        notes.append(why)
    peak_repeats = 3 if quick else 7
    peaks = {"float32": matmul_peak("float32", repeats=peak_repeats),
             "float64": matmul_peak("float64", repeats=peak_repeats)}
    result["peak_gflops"] = peaks
    rows = core.run_core(quick, peaks, ok, rounds, min_seconds, progress=progress) if "core" in only else []
    result["rows"] = rows
    result["summary"] = {cell: _summary_ratio(rows, cell, "numpy_over_torch") for cell in core.CELLS}
    f64 = [r["f64_over_f32"] for r in rows]
    result["summary"]["f64_over_f32"] = ({"median": statistics.median(f64), "worst": max(f64), "n": len(f64)}
                                         if f64 else None)
    result["window"] = None
    qt = False
    if window:
        try:
            import PySide6  # noqa: F401
        except Exception as exc:
            notes.append(f"window figures skipped: Qt not importable ({type(exc).__name__}: {exc})")
        else:
            qt = True
    if qt and "window" in only:
        from rnnviz.core.presets import load_preset
        from rnnviz.gui.windows.bench_window import run_window_bench

        result["window"] = run_window_bench(load_preset("negation").config, seconds=1.0 if quick else 6.0,
                                            repeats=3 if quick else 10, train_steps=60 if quick else 200)
    result["startup"] = None
    if qt and "startup" in only:
        from rnnviz.bench.startup import measure_startup

        result["startup"] = measure_startup(runs=3 if quick else 7)
    result["big_window"] = None
    if qt and "big" in only and (not quick or tuple(only) == ("big",)):
        from rnnviz.bench.big_window import find_text, run_big_window

        result["big_window"], note = run_big_window(find_text(shakespeare), quick=quick)
        notes.append(note)
    elif qt and "big" in only:
        notes.append("big-model window case: not in --quick (run it with --only big)")
    result["machine"]["load_average_end"] = ([round(x, 2) for x in os.getloadavg()]
                                             if hasattr(os, "getloadavg") else None)
    result["targets"] = targets(rows, result["window"], result["startup"], result["big_window"])
    result["notes"] = notes
    return result


def _f(x, fmt="{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def row_line(r: dict) -> str:
    return (f"{r['cell']:<5}{r['task'][:5]:<7}{r['hidden']:>4}{r['T']:>5}{r['batch']:>4}"
            f"{r['numpy_f32_ms']:>10.3f}{r['numpy_f64_ms']:>10.3f}{_f(r['torch_f32_ms'], '{:.3f}'):>10}"
            f"{_f(r['numpy_over_torch']):>8}{r['f64_over_f32']:>8.2f}"
            f"{r['numpy_f32_peak'] * 100:>7.1f}%{_f(r['torch_f32_peak'] and r['torch_f32_peak'] * 100, '{:.1f}'):>7}%")


HEADER = (f"{'cell':<5}{'task':<7}{'d':>4}{'T':>5}{'B':>4}{'np32 ms':>10}{'np64 ms':>10}{'torch ms':>10}"
          f"{'np/th':>8}{'64/32':>8}{'np%pk':>8}{'th%pk':>8}")


def window_lines(w: dict) -> list[str]:
    """The table lines of one window case (``bench_window.run_window_bench``)."""
    return ["  one full refresh, ms: " + ", ".join(f"{k} {v:.1f}" for k, v in w["refresh_ms"].items()),
            "  ... its CPU time in the GUI thread, ms: "
            + ", ".join(f"{k} {v:.1f}" for k, v in (w.get("refresh_cpu_ms") or {}).items()),
            "  ... when every axis range moves, ms: "
            + ", ".join(f"{k} {v:.1f}" for k, v in (w.get("refresh_rescale_ms") or {}).items()),
            f"  steps/s headless {w['headless_steps_per_s']:.2f}"
            + (" (before/after the live run: {:.2f}/{:.2f})".format(*w["headless_before_after"])
               if w.get("headless_before_after") else "")
            + f", all panels live {w['live_steps_per_s']:.2f}"
            f" (ratio {_f(w['live_over_headless'])}; {w['frames']} frames, {w['snapshots']} snapshots)",
            f"  step-to-pixel ms: median {_f(w['step_to_pixel_ms']['median'], '{:.0f}')}, max "
            f"{_f(w['step_to_pixel_ms']['max'], '{:.0f}')} (n={w['step_to_pixel_ms']['n']}; first panel)",
            f"  step-to-window ms: median {_f((w.get('step_to_window_ms') or {}).get('median'), '{:.0f}')}, "
            f"max {_f((w.get('step_to_window_ms') or {}).get('max'), '{:.0f}')} (every visible panel)",
            f"  event-loop stall ms: p99 {_f(w['stall_ms']['p99'], '{:.0f}')}, max "
            f"{_f(w['stall_ms']['max'], '{:.0f}')} (n={w['stall_ms']['n']})"]


def format_table(res: dict) -> str:
    m = res["machine"]
    lines = [f"rnnviz bench {res['date']}  {m['cpu']}, {m['cores']} cores, Python {m['python']}, numpy {m['numpy']}, "
             f"torch {m['torch'] or 'not installed'}; BLAS threads {m['blas_threads']}"
             + (f", torch threads {m['torch_threads']}" if m.get("torch_threads") else "")
             + f"; load average {m['load_average']} -> {m['load_average_end']}",
             f"matmul peak: float32 {res['peak_gflops']['float32']:.1f} GFLOP/s, "
             f"float64 {res['peak_gflops']['float64']:.1f} GFLOP/s; median of {res['rounds']} interleaved rounds",
             "", HEADER]
    lines += [row_line(r) for r in res["rows"]]
    lines.append("")
    for cell in core.CELLS:
        s = res["summary"][cell]
        if s:
            lines.append(f"{cell}: numpy/torch median {s['median']:.2f}, worst {s['worst']:.2f} ({s['n']} rows)")
    s = res["summary"]["f64_over_f32"]
    if s:
        lines.append(f"float64/float32: median {s['median']:.2f}, worst {s['worst']:.2f}")
    if res["window"]:
        lines += ["", "window (negation preset, process backend, default redraw rate):"] + window_lines(res["window"])
    if res.get("big_window"):
        lines += ["", "big-model window (LSTM d=256, tiny Shakespeare, T=200; each panel timed on snapshots with the "
                      "BPTT trace and the state space; the live run in the default layout, process backend):"]
        lines += window_lines(res["big_window"])
    st = res.get("startup")
    if st:
        lines += ["", f"start-up ({st['command']}, {st['runs']} fresh processes after one uncounted, medians; "
                      f"{_bytecode(st)}):",
                  f"  to first paint {_f(st['painted_s'], '{:.2f}')} s (imports {_f(st['imports_s'], '{:.2f}')}, "
                  f"window built {_f(st['built_s'], '{:.2f}')}, shown {_f(st['shown_s'], '{:.2f}')}); "
                  f"CPU {_f(st['cpu_s'], '{:.2f}')} s"]
        lines += [f"  failed: {e}" for e in st["errors"]]
    lines += ["", "targets:"]
    for t in res["targets"]:
        state = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        lines.append(f"  {t['target']:<36} {_f(t['value']):>8}  {state}")
    lines += ["", "notes:"] + [f"  {n}" for n in res["notes"]]
    return "\n".join(lines)


def _bytecode(st: dict) -> str:
    """What the start-up runs compiled: nothing of rnnviz (its bytecode cached), or how many of its modules."""
    if st.get("bytecode_cache"):
        return "rnnviz's bytecode cached"
    n = st.get("uncached_modules")
    return f"{n if n is not None else 'some'} rnnviz modules without cached bytecode"


def cmd_bench(args) -> int:
    import json

    print(HEADER, file=sys.stderr, flush=True)           # rows as they finish (a full run takes minutes)

    def progress(r):
        print(row_line(r), file=sys.stderr, flush=True)
    only = tuple(p.strip() for p in (getattr(args, "only", None) or ",".join(PARTS)).split(",") if p.strip())
    res = run(quick=args.quick, window=not args.no_window, progress=progress, only=only,
              shakespeare=getattr(args, "shakespeare", None))
    if args.json:
        print(json.dumps(res))
    else:
        print()
        print(format_table(res))
    sys.stdout.flush()
    return 0
