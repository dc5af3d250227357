"""What the real corpora (../shared/data/real) reach with the settings rnnviz chooses for them: the README's table.

    python tests/real_corpora.py            # prints the Markdown table (a few minutes on two cores)

Each row is ``rnnviz train --data FILE --json`` (no other option: the task and the settings are the ones
``core.data.suggest`` chooses, seed 0), then the validation numbers at the end and at the evaluation of the lowest
validation loss (the weights the window's "back to the best weights" restores), and the share of the most frequent
class in the validation split (what always answering it would score).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
FILES = ("sentence_polarity/rt_polarity_subset1000.tsv", "ud_ewt/en_ewt-ud-dev.subset.upos.tsv",
         "ud_ewt/en_ewt-ud-dev.subset.conllu", "uner_ewt/en_ewt-ud-dev.subset.ner.tsv",
         "tinyshakespeare/input_first100k.txt")
HEADER = ("| file | task, tokens | hidden d, epochs (steps) | validation at the end | at the lowest validation loss "
          "(step) | always the most frequent class |\n|---|---|---|---|---|---|")


def run(name: str, real: Path = REAL) -> dict:
    """``rnnviz train --data FILE --json`` in this process: its JSON result."""
    from rnnviz import cli

    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()) as text, \
            contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["train", "--data", str(real / name), "--json", "--out", out])
    if code != 0:
        raise RuntimeError(f"rnnviz train --data {name} exited with {code}")
    return json.loads(text.getvalue().strip().splitlines()[-1])


def majority(name: str, config: dict, real: Path = REAL) -> float | None:
    """The share of the most frequent class among the validation targets (None for generation)."""
    from rnnviz.core.config import from_dict
    from rnnviz.core.data.load import describe, load_dataset

    if config["task"] == "generation":
        return None
    counts = describe(load_dataset(from_dict(config)))["val"]["class_counts"]
    return max(counts.values()) / sum(counts.values())


def row(name: str, result: dict, base: float | None) -> str:
    cfg, best = result["config"], result["best"]
    if cfg["task"] == "generation":
        end = f"perplexity {result['val_perplexity']:.2f}"
        low = f"perplexity {best['val_perplexity']:.2f} (step {best['step']})"
    else:
        end = f"accuracy {result['val_accuracy']:.1%}"
        low = f"accuracy {best['val_accuracy']:.1%} (step {best['step']})"
    return (f"| `{name.split('/')[-1]}` | {cfg['task']}, {cfg['tokenize']}s | {cfg['hidden']}, {cfg['epochs']} "
            f"({result['steps']}) | {end} | {low} | {'–' if base is None else f'{base:.1%}'} |")


def table(real: Path = REAL) -> list[str]:
    rows = [HEADER]
    for name in FILES:
        result = run(name, real)
        rows.append(row(name, result, majority(name, result["config"], real)))
    return rows


if __name__ == "__main__":
    if not REAL.is_dir():
        sys.exit(f"{REAL} is not there")
    print("\n".join(table()))
