"""``rnnviz presets``, ``rnnviz train`` and ``rnnviz gradcheck``: the headless commands of one run."""
from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

from rnnviz.cli import common


def add_parsers(sub) -> None:
    sub.add_parser("presets", help="list the built-in presets", description="List the built-in presets.")

    p = sub.add_parser("train", help="train headless, write metrics CSV and a checkpoint",
                       description="Train without a window. Prints a progress line per epoch, writes metrics.csv and "
                                   "checkpoint.npz to --out, published together with rnnviz-run.json (see "
                                   "docs/robustness.md); with --json the last line is one JSON object. When "
                                   "training stops on NaN/Inf, the last good weights and the metrics of the "
                                   "finished epochs are written and the exit code is 1.")
    common.add_source(p)
    p.add_argument("--epochs", type=common.setting_type("epochs"),
                   help="number of epochs (overrides the preset)")
    p.add_argument("--out", metavar="DIR", help="folder for metrics.csv and checkpoint.npz (default runs/NAME); "
                   "checked before training starts")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the final metrics")
    p.add_argument("--session", metavar="FILE", help="go on training a saved session exactly where it stopped "
                   "(its own settings; --epochs N: the total to reach); writes session.npz to --out as well")

    p = sub.add_parser("gradcheck", help="check BPTT against finite differences",
                       description="Compare every parameter's BPTT gradient with central finite differences in "
                                   "float64; prints each parameter's relative error and the worst; exits 1 above "
                                   "the tolerance. Truncated BPTT (bptt shorter than the checked sequences) is not "
                                   "the loss's gradient and is refused.")
    common.add_source(p)
    p.add_argument("--steps", type=common.whole(0, common.MAX_STEPS), default=0,
                   help="train this many steps first (default 0)")
    p.add_argument("--tolerance", type=common.number(0.0, 1.0, low_inclusive=False), default=1e-6,
                   help="largest accepted relative error (1e-6)")


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


METRICS_COLUMNS = ("epoch", "step", "train_loss", "val_loss", "val_loss_per_token", "val_accuracy", "val_perplexity",
                   "seconds")


def _metrics_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(METRICS_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _publish(out: Path, trainer, rows: list[dict], with_session: bool, fault: str | None) -> list[str]:
    """Write the run's files as one set (``files.RunWriter``): nothing in ``out`` changes unless all are written."""
    from rnnviz.core.files import RunWriter
    from rnnviz.core.io.checkpoint import checkpoint_arrays

    with RunWriter(out, what="--out") as run:
        run.add_text("metrics.csv", _metrics_csv(rows))
        run.add_npz("checkpoint.npz", checkpoint_arrays(trainer))
        if with_session:
            from rnnviz.core.io.session import session_arrays

            run.add_npz("session.npz", session_arrays(trainer))
        run.publish({"status": "faulted" if fault else "complete", "step": int(trainer.step_count),
                     "epoch": int(trainer.epoch), "fault": fault})
        return list(run.files)


def cmd_train(args) -> int:
    from rnnviz.core.files import check_output_folder

    session = getattr(args, "session", None)
    choice = None
    if session:         # a saved session: its settings, weights and place in the data
        name = common.run_name(Path(session).name.split(".")[0] or "session")
    else:
        src = common.resolve_source(args)
        cfg, name, choice = src.config, src.name, src.choice
        if args.epochs is not None:
            cfg = cfg.replace(epochs=args.epochs)
    out = Path(args.out) if args.out else Path("runs") / name
    names = ("metrics.csv", "checkpoint.npz") + (("session.npz",) if session else ())
    # before any data is loaded or any step is taken; a run that stops before writing leaves no new folder
    with check_output_folder(out, names, what="--out"):
        return _train(args, out, name, session, None if session else cfg, choice)


def _train(args, out: Path, name: str, session: str | None, cfg, choice) -> int:
    """Train (or go on with ``session``), print an epoch line each, publish the run set in ``out``. ``choice``:
    the Suggestion the settings of a --data file came from (printed to stderr with its reasons)."""
    import numpy as np

    from rnnviz.core.data.batch import iterate_batches
    from rnnviz.core.errors import TrainingFault
    from rnnviz.core.explore.capture import targets_per_sequence
    from rnnviz.core.snapshot import LOSS_UNIT
    from rnnviz.core.train.trainer import Trainer

    if session:
        from rnnviz.core.io.session import resume_for_cli

        trainer, cfg, _ = resume_for_cli(session, args.epochs)
    else:
        trainer = Trainer(cfg)
        if choice is not None:          # the file loaded: what was chosen for it, and why
            for line in common.describe_choice(choice, cfg):
                common.stderr_line(line)
    for note in trainer.dataset.notes:
        common.stderr_line(f"note: {note}")
    ds = trainer.dataset
    print(f"{name}: {ds.task}, {len(ds.train)} training / {len(ds.val)} validation examples, vocabulary "
          f"{len(ds.vocab)}, {ds.n_classes} classes; {cfg.cell} d={cfg.hidden}, {trainer.model.n_params} parameters; "
          f"losses in {LOSS_UNIT}", flush=True)
    per_sequence = targets_per_sequence(ds)       # validation targets per sequence: loss per token = loss / this
    rows, start, fault = [], time.perf_counter(), None
    try:
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
    except TrainingFault as exc:
        fault = str(exc)
    seconds = time.perf_counter() - start
    written = _publish(out, trainer, rows, bool(session), fault)
    listing = " and ".join(str(out / n) for n in written)
    if fault:
        common.stderr_line(f"rnnviz: error: {out}: the last good weights (step {trainer.step_count}) and "
                           f"{len(rows)} finished epoch(s) are saved there. {common.fault_line(fault)}")
        if args.json:
            print(json.dumps({"fault": fault, "steps": trainer.step_count, "epochs": trainer.epoch,
                              "out": str(out)}))
        return 1
    last_batch = None
    for last_batch in iterate_batches(ds.val, cfg.batch_size, ds.vocab.pad_id, ds.task):
        pass
    with np.errstate(all="ignore"):
        norms = trainer.model.loss_and_grads(last_batch).grad_norms
    ev = trainer.last_eval
    print(f"wrote {listing}", flush=True)
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
            "chosen": None if choice is None else {
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

    src = common.resolve_source(args)
    cfg, name = src.config.replace(dtype="float64"), src.name
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
