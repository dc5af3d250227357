"""The big-model window case of ``rnnviz bench``: an LSTM with d = 256 on the tiny-Shakespeare text, windows of
T = 200 characters, the window live with every panel (each panel's refresh timed on its own, the live run in the
window's default layout), and the slow-motion BPTT trace in the snapshots.

The text is not part of rnnviz: ``--shakespeare FILE`` (or ``RNNVIZ_SHAKESPEARE``) names it, else it is looked
for as ``shared/data/real/tinyshakespeare/input_first100k.txt`` in the folders above the current one and above
this package. When it is absent the case is skipped with a note saying so; nothing is downloaded or copied.
"""
from __future__ import annotations

import os
from pathlib import Path

RELATIVE = Path("shared") / "data" / "real" / "tinyshakespeare" / "input_first100k.txt"
SETTINGS = {"task": "generation", "tokenize": "char", "cell": "lstm", "hidden": 256, "window": 200}
LIVE_SNAPSHOTS = 25      # the live run (30 s) goes on until this many snapshots have arrived (90 s at most)


def find_text(path: str | None = None) -> Path | None:
    """The tiny-Shakespeare file: ``path``, ``RNNVIZ_SHAKESPEARE``, or the first ``RELATIVE`` found above the
    current folder or this package; None when there is none."""
    given = path or os.environ.get("RNNVIZ_SHAKESPEARE")
    if given:
        return Path(given) if Path(given).is_file() else None
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in [start, *start.parents]:
            if (folder / RELATIVE).is_file():
                return folder / RELATIVE
    return None


def big_config(text: Path):
    from rnnviz.core.config import Config

    return Config(dataset=str(text), **SETTINGS)


def run_big_window(text: Path | None, quick: bool = False) -> tuple[dict | None, str]:
    """The case's figures (``bench_window.run_window_bench``) and a note; (None, why) when it cannot run."""
    if text is None:
        return None, (f"big-model window case skipped: the tiny-Shakespeare text was not found (give --shakespeare "
                      f"FILE or RNNVIZ_SHAKESPEARE; looked for {RELATIVE.as_posix()} above the current folder)")
    from rnnviz.gui.windows.bench_window import run_window_bench

    config = big_config(text)
    res = run_window_bench(config, seconds=6.0 if quick else 30.0, repeats=3 if quick else 6,
                           train_steps=3 if quick else 6, near=2, warm_steps=3, bptt=True,
                           min_snapshots=5 if quick else LIVE_SNAPSHOTS, max_seconds=20.0 if quick else 90.0)
    res["text"] = str(text)
    return res, (f"big-model window case: LSTM d=256 on {text.name} ({text.stat().st_size:,} bytes), "
                 f"generation, characters, T=200, batch {config.batch_size}")
