"""``rnnviz presets``, ``rnnviz train`` and ``rnnviz gradcheck``: the headless commands of one run."""
from __future__ import annotations

import csv
import json
import math
import sys
import time
from pathlib import Path

from rnnviz.cli import common


def add_parsers(sub) -> None:
    sub.add_parser("presets", help="list the built-in presets", description="List the built-in presets.")

    p = sub.add_parser("train", help="train headless, write metrics CSV and a checkpoint",
                       description="Train without a window. Prints a progress line per epoch, writes metrics.csv and "
                                   "checkpoint.npz to --out; with --json the last line is one JSON object.")
    common.add_source(p)
    p.add_argument("--epochs", type=int, help="number of epochs (overrides the preset)")
    p.add_argument("--out", metavar="DIR", help="folder for metrics.csv and checkpoint.npz (default runs/NAME)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the final metrics")
    p.add_argument("--session", metavar="FILE", help="go on training a saved session exactly where it stopped "
                   "(its own settings; --epochs N: the total to reach); writes session.npz to --out as well")

    p = sub.add_parser("gradcheck", help="check BPTT against finite differences",
                       description="Compare every parameter's BPTT gradient with central finite differences in "
                                   "float64; prints each parameter's relative error and the worst; exits 1 above "
                                   "the tolerance. Truncated BPTT (bptt shorter than the checked sequences) is not "
                                   "the loss's gradient and is refused.")
    common.add_source(p)
    p.add_argument("--steps", type=int, default=0, help="train this many steps first (default 0)")
    p.add_argument("--tolerance", type=float, default=1e-6, help="largest accepted relative error (1e-6)")


def cmd_presets(_args) -> int:
    from rnnviz.core.presets import list_presets

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

    from rnnviz.core.data.batch import iterate_batches
    from rnnviz.core.explore.capture import targets_per_sequence
    from rnnviz.core.io.checkpoint import save_checkpoint
    from rnnviz.core.snapshot import LOSS_UNIT
    from rnnviz.core.train.trainer import Trainer

    cfg, name, choice = common.resolve(args)
    if args.epochs is not None:
        cfg = cfg.replace(epochs=args.epochs)
    out = Path(args.out) if args.out else Path("runs") / name
    if getattr(args, "session", None):      # a saved session: its settings, weights and place in the data
        from rnnviz.core.io.session import resume_for_cli

        trainer, cfg, name = resume_for_cli(args.session, args.epochs)
        out = Path(args.out) if args.out else Path("runs") / name
    else:
        trainer = Trainer(cfg)
        if choice is not None:          # the file loaded: what was chosen for it, and why
            for line in common.describe_choice(choice, cfg):
                print(line, file=sys.stderr)
    for note in trainer.dataset.notes:
        print(f"note: {note}", file=sys.stderr)
    ds = trainer.dataset
    print(f"{name}: {ds.task}, {len(ds.train)} training / {len(ds.val)} validation examples, vocabulary "
          f"{len(ds.vocab)}, {ds.n_classes} classes; {cfg.cell} d={cfg.hidden}, {trainer.model.n_params} parameters; "
          f"losses in {LOSS_UNIT}", flush=True)
    per_sequence = targets_per_sequence(ds)       # validation targets per sequence: loss per token = loss / this
    out.mkdir(parents=True, exist_ok=True)
    rows, start = [], time.perf_counter()
    while not trainer.done:
        trainer.run_epoch()
        ev = trainer.last_eval
        rows.append({"epoch": trainer.epoch, "step": trainer.step_count, "train_loss": trainer.last_loss,
                     "val_loss": ev["val_loss"], "val_loss_per_token": ev["val_loss"] / per_sequence,
                     "val_accuracy": ev["val_accuracy"], "val_perplexity": ev["val_perplexity"],
                     "seconds": time.perf_counter() - start})
        extra = (f"val_acc {_fmt(ev['val_accuracy'])}" if ev["val_accuracy"] is not None
                 else f"perplexity {_fmt(ev['val_perplexity'])}")
        if ds.task != "classification":
            extra = f"= {_fmt(rows[-1]['val_loss_per_token'])} per token  " + extra
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
        from rnnviz.core.io.session import save_session

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
            "train_loss": trainer.last_loss, "val_loss": ev["val_loss"],
            "val_loss_per_token": ev["val_loss"] / per_sequence, "loss_unit": LOSS_UNIT,
            "val_accuracy": ev["val_accuracy"], "val_perplexity": ev["val_perplexity"],
            "per_class_accuracy": {c: (None if math.isnan(a) else float(a))
                                   for c, a in zip(ds.classes, ev["per_class_accuracy"])} if ds.task != "generation"
            else None,
            "best": _best(trainer),
            "epochs": trainer.epoch, "steps": trainer.step_count, "seconds": seconds,
            "n_params": trainer.model.n_params, "grad_norms": [float(x) for x in norms],
            "config": cfg.to_dict(), "out": str(out),
            "chosen": None if choice is None or getattr(args, "session", None) else {
                **choice.to_dict(), "overridden": sorted(k for k, v in choice.settings.items()
                                                         if getattr(cfg, k) != v)},
        }
        print(json.dumps(result))
    return 0


def _best(trainer) -> dict | None:
    """The evaluation of the lowest validation loss (the weights the Trainer keeps): its step and numbers."""
    best = getattr(trainer, "best", None)
    if best is None:
        return None
    ev = next((e for e in trainer.eval_history if e["step"] == best["step"]), None)
    return {"step": int(best["step"]), "val_loss": float(best["val_loss"]),
            "val_accuracy": None if ev is None else ev["val_accuracy"],
            "val_perplexity": None if ev is None else ev["val_perplexity"]}


def cmd_gradcheck(args) -> int:
    import numpy as np

    from rnnviz.core.data.batch import make_batch
    from rnnviz.core.errors import ConfigError
    from rnnviz.core.nn.gradcheck import gradcheck
    from rnnviz.core.train.trainer import Trainer

    cfg, name = common.resolve_config(args)
    cfg = cfg.replace(dtype="float64")
    trainer = Trainer(cfg)
    ds = trainer.dataset
    batch = make_batch(ds.train, np.arange(min(4, len(ds.train))), ds.vocab.pad_id, ds.task)
    T = batch.ids.shape[1]
    if 0 < cfg.bptt < T:
        # truncated BPTT is not the gradient of the loss: finite differences of the loss cannot check it
        raise ConfigError("bptt", f"gradcheck compares full BPTT with finite differences of the loss; bptt={cfg.bptt} "
                                  f"truncates the {T}-step sequences it checks, so leave bptt at 0")
    for _ in range(args.steps):
        trainer.step()
    report = gradcheck(trainer.model, batch)
    full = f"full BPTT: bptt={cfg.bptt} covers all {T} steps" if cfg.bptt else "full BPTT"
    print(f"{name}: {cfg.cell}, {ds.task}, batch of {len(batch.lengths)} sequences up to {T} steps, "
          f"{report.checked} entries checked ({full}, float64)")
    for pname, err in report.per_parameter.items():
        print(f"  {pname:<8} relative error {err:.2e}")
    ok = report.passed(args.tolerance)
    print(f"worst relative error {report.worst_relative_error:.2e} ({report.worst_parameter}) - "
          f"{'OK' if ok else 'FAILED'} (tolerance {args.tolerance:g})")
    return 0 if ok else 1
