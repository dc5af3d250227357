"""``rnnviz bench``: the training step against PyTorch CPU, the matmul peak and the window's cost."""
from __future__ import annotations


def add_parsers(sub) -> None:
    p = sub.add_parser("bench", help="time the training step against PyTorch CPU, and the window's cost",
                       description="Time rnnviz's training step (RNN/LSTM/GRU, classification/labelling, a grid of "
                                   "shapes, float32 and float64) against the same step in PyTorch CPU when it is "
                                   "installed, the machine's matmul peak, and what the window costs training. "
                                   "Interleaved runs, medians; a table, or one JSON object with --json.")
    p.add_argument("--quick", action="store_true", help="a small subset that runs in seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--no-window", action="store_true", help="skip the window figures")
    p.add_argument("--only", type=_parts, metavar="PARTS",
                   help="run only these parts, comma-separated: core (the training step against PyTorch), window "
                        "(the negation window), startup (fresh processes to the first painted window), big (the "
                        "LSTM d=256 window on tiny Shakespeare); all of them by default (big not with --quick)")
    p.add_argument("--shakespeare", metavar="FILE",
                   help="the tiny-Shakespeare text for the big-model case (default: RNNVIZ_SHAKESPEARE, or "
                        "shared/data/real/tinyshakespeare/input_first100k.txt above the current folder)")


def _parts(text: str) -> str:
    import argparse

    from rnnviz.bench.report import PARTS as known
    parts = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in parts if p not in known]
    if bad or not parts:
        raise argparse.ArgumentTypeError(f"unknown part {', '.join(bad) or '(none)'}; known: {', '.join(known)}")
    return ",".join(parts)


def cmd_bench(args) -> int:
    from rnnviz.bench import cmd_bench as run
    from rnnviz.cli import common

    if not args.no_window:
        common.quiet_qt()       # the window figures start Qt: its plugin noise stays off stderr

    return run(args)
