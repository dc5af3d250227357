"""The ``rnnviz sweep`` and ``rnnviz race`` subcommands.

  rnnviz sweep --preset NAME --grid key=v1,v2 [--grid key=...] --out DIR [--epochs N] [--set k=v] [--processes P]
               [--scheduler tcp://HOST:8786]
  rnnviz race  --preset NAME --b key=value [--b ...] [--presentation] [--render OUT.png --steps N [--size WxH]]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from rnnviz.cli import common

MAX_PROCESSES = 256     # worker processes of a sweep


def add_parsers(sub) -> None:
    p = sub.add_parser("sweep", help="train a grid of settings in parallel processes, write DIR/sweep.csv",
                       description="Train every combination of the --grid values (same seed, one BLAS thread per "
                                   "process), print a table and write one row per cell to DIR/sweep.csv. A run "
                                   "that fails (NaN/Inf) is a row with status 'failed' and its error.")
    common.add_source(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a setting and its values, e.g. --grid lr=0.001,0.01 --grid hidden=16,32 (repeatable)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for sweep.csv (checked before any training)")
    p.add_argument("--epochs", type=common.setting_type("epochs"), help="epochs per cell (overrides the preset)")
    p.add_argument("--processes", type=common.whole(0, MAX_PROCESSES), default=0,
                   help="worker processes (default min(cores, cells))")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="train the cells on the Dask cluster of this scheduler instead of local processes "
                        "(default: $DASK_SCHEDULER_ADDRESS if set; needs pip install \"rnnviz[cluster]\"; "
                        "see docs/cluster.md)")

    p = sub.add_parser("race", help="A/B race: train two settings side by side from the same initial weights",
                       description="Open the A/B race window: A is the preset (with --set), B is A with the --b "
                                   "changes. With --render, train both --steps steps headless and save a PNG.")
    common.add_source(p)
    p.add_argument("--b", dest="b_sets", action="append", default=[], metavar="KEY=VALUE",
                   help="what B changes, e.g. --b cell=lstm (repeatable)")
    p.add_argument("--render", metavar="OUT.png", help="train headless and save the race window as a PNG (the file "
                   "is checked before training)")
    p.add_argument("--steps", type=common.whole(0, common.MAX_STEPS), default=300,
                   help="with --render: training steps of each (300)")
    p.add_argument("--size", default="1600x1000", metavar="WxH", help="with --render: picture size (1600x1000)")
    p.add_argument("--presentation", action="store_true",
                   help="presentation (projector) mode: large fonts, thick lines, full screen (F11 / Ctrl+P)")


def cmd_sweep(args) -> int:
    from rnnviz.core.explore import sweep
    from rnnviz.core.files import check_output_folder

    src = common.resolve_source(args)
    cfg, name, choice = src.config, src.name, src.choice
    if args.epochs is not None:
        cfg = cfg.replace(epochs=args.epochs)
    grid = [sweep.parse_grid(g) for g in args.grid]
    cells = sweep.expand_grid(cfg, grid)
    out = Path(args.out)
    with check_output_folder(out, ("sweep.csv",), what="--out"):      # before any cell trains
        return _sweep(args, cfg, name, grid, cells, out, choice)


def _sweep(args, cfg, name: str, grid: list, cells: list, out: Path, choice) -> int:
    from rnnviz.core.explore import sweep, sweep_dask
    from rnnviz.core.files import RunWriter

    if args.data:   # a bad file: one clear message now, not the same error in every cell
        from rnnviz.core.data.load import load_dataset

        load_dataset(cells[0].config)
        if choice is not None:
            for line in common.describe_choice(choice, cfg):
                common.stderr_line(line)
    keys = [k for k, _ in grid]
    # connects now: an unreachable scheduler is one line before anything is trained
    runner = sweep_dask.make_runner(cells, processes=args.processes,
                                    scheduler=sweep_dask.scheduler_address(args.scheduler))
    runner_box = {}

    def on_event(kind, payload, runner) -> None:
        runner_box["r"] = runner
        if kind == "done":
            print(f"[{len(runner.rows):>3}/{len(cells)}] {cells[payload['index']].label()}: {payload['status']}"
                  + (f" val_loss {payload['val_loss']:.4f}" if payload["status"] == "ok" else
                     f" ({payload['error'][:80]})"), flush=True)

    print(f"{name}: {len(cells)} cells ({' x '.join(f'{k}: {len(v)}' for k, v in grid)}), "
          f"{cfg.epochs} epochs each, on {runner.describe()}", flush=True)
    start = time.perf_counter()
    rows = sweep.run_sweep(cells, on_event=on_event, runner=runner)
    seconds = time.perf_counter() - start
    failed = sum(r["status"] != "ok" for r in rows)
    with RunWriter(out, what="--out") as run:
        run.add_text("sweep.csv", sweep.csv_text(rows, keys))
        run.publish({"cells": len(rows), "failed": failed})
    print(sweep.table(rows, keys))
    print(f"wrote {out / 'sweep.csv'} ({len(rows)} rows, {failed} failed, {seconds:.1f} s)")
    return 0


def cmd_race(args) -> int:
    from rnnviz.core.errors import ConfigError
    from rnnviz.core.explore.race import b_config

    src = common.resolve_source(args)
    cfg_a, name, choice = src.config, src.name, src.choice
    if choice is not None and not choice.problem:
        for line in common.describe_choice(choice, cfg_a):
            common.stderr_line(line)
    if not args.b_sets:
        raise ConfigError("b", "give what B changes, e.g. --b cell=lstm")
    cfg_b = b_config(cfg_a, args.b_sets)
    common.quiet_qt()
    if args.render:
        from rnnviz.core.files import check_output_file

        size = common.parse_size(args.size)
        with check_output_file(args.render, what="--render"):   # before the training, not after it
            from rnnviz.gui.windows.race import render_race

            path = render_race(cfg_a, cfg_b, args.steps, Path(args.render), size=size, title=name,
                               presentation=args.presentation)
        print(f"wrote {path}")
        return 0
    from rnnviz.gui.windows.race import run_race

    return run_race(cfg_a, cfg_b, title=name, presentation=args.presentation)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the rnnviz command")
