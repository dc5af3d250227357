"""The ``rnnviz`` command: the window by default, and headless subcommands.

  rnnviz [--preset NAME | --data FILE --task T] [--set key=value ...]     open the window
  rnnviz presets                                                          list the built-in presets
  rnnviz train    (--preset NAME | --data FILE --task T) [--set ...] [--epochs N] [--out DIR] [--json]
  rnnviz gradcheck (--preset NAME | --data FILE --task T) [--set ...] [--steps N] [--tolerance X]
  rnnviz render   (--preset NAME | --data FILE --task T) --steps N --out FILE.png [--size WxH]

Errors a user can cause (a bad file, a bad setting) print one line on stderr and exit with code 2.
"""
from __future__ import annotations

import os

# Small recurrent matrices run fastest on one BLAS thread; with several, OpenBLAS threads spin against the window
# and other processes (measured here: 1,100 steps/s on one thread against 70-400 on two). Set before NumPy loads;
# a value the user exported wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

from .core.errors import RnnvizError

TASK_CHOICES = ("classification", "labelling", "generation")


def _add_source(p: argparse.ArgumentParser, required: bool = False) -> None:
    src = p.add_argument_group("what to train on (one of)")
    src.add_argument("--preset", metavar="NAME", help="a built-in preset (see `rnnviz presets`)")
    src.add_argument("--data", metavar="FILE", help="a data file: .tsv/.csv (text<TAB>label), .conllu, "
                     "two-column token<TAB>tag, or plain .txt for generation")
    src.add_argument("--task", choices=TASK_CHOICES, help="the task for --data")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="change a setting, e.g. --set cell=lstm --set hidden=64 (repeatable); keys include cell, "
                        "activation, hidden, layers, bidirectional, lr, optimizer, batch_size, clip, seed, delay, "
                        "spectral_radius, init, bptt, epochs, dtype")


def _add_look(p: argparse.ArgumentParser) -> None:
    p.add_argument("--presentation", action="store_true",
                   help="presentation (projector) mode: large fonts, thick lines, no settings dock (F11 / Ctrl+P)")
    p.add_argument("--theme", choices=("light", "dark"), default="light", help="colour theme (light)")


def resolve_config(args) -> tuple[object, str]:
    """(Config, name) from --preset / --data / --set. Raises ConfigError for bad values."""
    from .core.config import Config, apply_sets
    from .core.errors import ConfigError
    from .core.presets import DEFAULT_PRESET, load_preset

    if args.preset and args.data:
        raise ConfigError("data", "give either --preset or --data, not both")
    if args.data:
        if not args.task:
            raise ConfigError("task", "--data needs --task classification, labelling or generation")
        cfg = Config().replace(dataset=str(args.data), task=args.task)
        name = Path(args.data).stem
    else:
        name = args.preset or DEFAULT_PRESET
        cfg = load_preset(name).config
    return apply_sets(cfg, args.sets), name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnviz",
        description="Train a small recurrent neural network live and watch it learn: the loss, the hidden states, "
                    "the gradients flowing back through time, the confusion matrix. With no command, opens the "
                    "window on the 'negation' preset; press Space to start training.")
    _add_source(parser)
    _add_look(parser)
    parser.add_argument("--session", metavar="FILE", help="open the window on a saved session (File > Save session)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("presets", help="list the built-in presets", description="List the built-in presets.")

    p = sub.add_parser("train", help="train headless, write metrics CSV and a checkpoint",
                       description="Train without a window. Prints a progress line per epoch, writes metrics.csv and "
                                   "checkpoint.npz to --out; with --json the last line is one JSON object.")
    _add_source(p)
    p.add_argument("--epochs", type=int, help="number of epochs (overrides the preset)")
    p.add_argument("--out", metavar="DIR", help="folder for metrics.csv and checkpoint.npz (default runs/NAME)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the final metrics")
    p.add_argument("--session", metavar="FILE", help="go on training a saved session exactly where it stopped "
                   "(its own settings; --epochs N: the total to reach); writes session.npz to --out as well")

    p = sub.add_parser("gradcheck", help="check BPTT against finite differences",
                       description="Compare every parameter's BPTT gradient with central finite differences in "
                                   "float64; prints each parameter's relative error and the worst; exits 1 above "
                                   "the tolerance.")
    _add_source(p)
    p.add_argument("--steps", type=int, default=0, help="train this many steps first (default 0)")
    p.add_argument("--tolerance", type=float, default=1e-6, help="largest accepted relative error (1e-6)")

    p = sub.add_parser("render", help="train N steps and save the whole window as a PNG",
                       description="Train N steps headless, draw every panel offscreen and save the window as PNG.")
    _add_source(p)
    p.add_argument("--steps", type=int, required=True, help="training steps before the picture")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to save the picture")
    p.add_argument("--size", default="1600x1000", metavar="WxH", help="window size in pixels (1600x1000)")
    _add_look(p)
    from .explore_cli import add_parsers as _add_explore   # sweep, race

    _add_explore(sub, _add_source)
    p = sub.add_parser("bench", help="time the training step against PyTorch CPU, and the window's cost",
                       description="Time rnnviz's training step (RNN/LSTM/GRU, classification/labelling, a grid of "
                                   "shapes, float32 and float64) against the same step in PyTorch CPU when it is "
                                   "installed, the machine's matmul peak, and what the window costs training. "
                                   "Interleaved runs, medians; a table, or one JSON object with --json.")
    p.add_argument("--quick", action="store_true", help="a small subset that runs in seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--no-window", action="store_true", help="skip the window figures")
    return parser


def cmd_presets(_args) -> int:
    from .core.presets import list_presets

    presets = list_presets()
    width = max(len(p.name) for p in presets)
    for p in presets:
        print(f"{p.name:<{width}}  {p.description}")
    return 0


def _bar(fraction: float, width: int = 20) -> str:
    full = int(round(fraction * width))
    return "[" + "#" * full + "." * (width - full) + "]"


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def cmd_train(args) -> int:
    import numpy as np

    from .core.batch import iterate_batches
    from .core.checkpoint import save_checkpoint
    from .core.trainer import Trainer

    cfg, name = resolve_config(args)
    if args.epochs is not None:
        cfg = cfg.replace(epochs=args.epochs)
    out = Path(args.out) if args.out else Path("runs") / name
    if getattr(args, "session", None):      # a saved session: its settings, weights and place in the data
        from .core.session import resume_for_cli

        trainer, cfg, name = resume_for_cli(args.session, args.epochs)
        out = Path(args.out) if args.out else Path("runs") / name
    else:
        trainer = Trainer(cfg)
    for note in trainer.dataset.notes:
        print(f"note: {note}", file=sys.stderr)
    ds = trainer.dataset
    print(f"{name}: {ds.task}, {len(ds.train)} training / {len(ds.val)} validation examples, vocabulary "
          f"{len(ds.vocab)}, {ds.n_classes} classes; {cfg.cell} d={cfg.hidden}, {trainer.model.n_params} parameters",
          flush=True)
    out.mkdir(parents=True, exist_ok=True)
    rows, start = [], time.perf_counter()
    while not trainer.done:
        trainer.run_epoch()
        ev = trainer.last_eval
        rows.append({"epoch": trainer.epoch, "step": trainer.step_count, "train_loss": trainer.last_loss,
                     "val_loss": ev["val_loss"], "val_accuracy": ev["val_accuracy"],
                     "val_perplexity": ev["val_perplexity"], "seconds": time.perf_counter() - start})
        extra = (f"val_acc {_fmt(ev['val_accuracy'])}" if ev["val_accuracy"] is not None
                 else f"perplexity {_fmt(ev['val_perplexity'])}")
        print(f"epoch {trainer.epoch:>3}/{cfg.epochs} {_bar(trainer.epoch / cfg.epochs)} "
              f"train_loss {_fmt(trainer.last_loss)}  val_loss {_fmt(ev['val_loss'])}  {extra}  "
              f"({rows[-1]['seconds']:.1f} s)", flush=True)
    seconds = time.perf_counter() - start
    with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    save_checkpoint(out / "checkpoint.npz", trainer)
    if getattr(args, "session", None):
        from .core.session import save_session

        print(f"wrote {save_session(out / 'session.npz', trainer)}", flush=True)
    last_batch = None
    for last_batch in iterate_batches(ds.val, cfg.batch_size, ds.vocab.pad_id, ds.task):
        pass
    with np.errstate(all="ignore"):
        norms = trainer.model.loss_and_grads(last_batch).grad_norms
    ev = trainer.last_eval
    print(f"wrote {out / 'metrics.csv'} and {out / 'checkpoint.npz'}", flush=True)
    if args.json:
        result = {
            "preset": args.preset, "data": args.data, "task": ds.task,
            "train_loss": trainer.last_loss, "val_loss": ev["val_loss"], "val_accuracy": ev["val_accuracy"],
            "val_perplexity": ev["val_perplexity"],
            "per_class_accuracy": {c: (None if math.isnan(a) else float(a))
                                   for c, a in zip(ds.classes, ev["per_class_accuracy"])} if ds.task != "generation"
            else None,
            "epochs": trainer.epoch, "steps": trainer.step_count, "seconds": seconds,
            "n_params": trainer.model.n_params, "grad_norms": [float(x) for x in norms],
            "config": cfg.to_dict(), "out": str(out),
        }
        print(json.dumps(result))
    return 0


def cmd_gradcheck(args) -> int:
    import numpy as np

    from .core.batch import make_batch
    from .core.gradcheck import gradcheck
    from .core.trainer import Trainer

    cfg, name = resolve_config(args)
    cfg = cfg.replace(dtype="float64", bptt=0)
    trainer = Trainer(cfg)
    for _ in range(args.steps):
        trainer.step()
    ds = trainer.dataset
    batch = make_batch(ds.train, np.arange(min(4, len(ds.train))), ds.vocab.pad_id, ds.task)
    report = gradcheck(trainer.model, batch)
    print(f"{name}: {cfg.cell}, {ds.task}, batch of {len(batch.lengths)} sequences up to {batch.ids.shape[1]} steps, "
          f"{report.checked} entries checked (full BPTT, float64)")
    for pname, err in report.per_parameter.items():
        print(f"  {pname:<8} relative error {err:.2e}")
    ok = report.passed(args.tolerance)
    print(f"worst relative error {report.worst_relative_error:.2e} ({report.worst_parameter}) - "
          f"{'OK' if ok else 'FAILED'} (tolerance {args.tolerance:g})")
    return 0 if ok else 1


def _parse_size(text: str) -> tuple[int, int]:
    from .core.errors import ConfigError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError("size", f"expected WIDTHxHEIGHT such as 1600x1000, got {text!r}") from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise ConfigError("size", f"must be between 320x240 and 8000x8000, got {text!r}")
    return w, h


def cmd_render(args) -> int:
    from .gui.render import render

    cfg, name = resolve_config(args)
    size = _parse_size(args.size)
    if args.steps < 0:
        from .core.errors import ConfigError
        raise ConfigError("steps", "must be 0 or more")
    from .core.presets import load_preset

    path = render(cfg, args.steps, Path(args.out), size=size, preset=None if args.data else load_preset(name),
                  presentation=args.presentation, theme=args.theme)
    print(f"wrote {path}")
    return 0


def cmd_window(args) -> int:
    from .gui.app import run

    if getattr(args, "session", None):      # check the file first: a bad one is one line and exit 2, no window
        from .core.session import load_session

        session = load_session(args.session)
        return run(session.config, title=Path(args.session).name, session=args.session,
                   presentation=getattr(args, "presentation", False), theme=getattr(args, "theme", "light"))
    cfg, name = resolve_config(args)
    return run(cfg, preset=args.preset or (None if args.data else name),
               presentation=getattr(args, "presentation", False), theme=getattr(args, "theme", "light"))


COMMANDS = {"presets": cmd_presets, "train": cmd_train, "gradcheck": cmd_gradcheck, "render": cmd_render}
COMMANDS["sweep"] = lambda args: __import__("rnnviz.explore_cli", fromlist=["cmd_sweep"]).cmd_sweep(args)
COMMANDS["race"] = lambda args: __import__("rnnviz.explore_cli", fromlist=["cmd_race"]).cmd_race(args)
COMMANDS["bench"] = lambda args: __import__("rnnviz.bench", fromlist=["cmd_bench"]).cmd_bench(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS.get(args.command, cmd_window)(args)
    except RnnvizError as exc:
        print(f"rnnviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnviz: interrupted", file=sys.stderr)
        return 130
