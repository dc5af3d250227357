"""The ``rnnviz`` command: the window by default, and headless subcommands.

  rnnviz [SOURCE] [--set key=value ...]                          open the window
  rnnviz presets                                                 list the built-in presets
  rnnviz train     SOURCE [--set ...] [--epochs N] [--out DIR] [--json]
  rnnviz gradcheck SOURCE [--set ...] [--steps N] [--tolerance X]
  rnnviz render    SOURCE --steps N --out FILE.png [--size WxH]
  rnnviz sweep     SOURCE --grid key=v1,v2 --out DIR       rnnviz race SOURCE --b key=value [--render OUT.png]

SOURCE is one of --preset NAME (a built-in preset), --preset-file FILE.toml (one of your own) or --data FILE
[--task T] (without --task, the task and settings are chosen from the file's shape and said on stderr). Errors a user can cause (a bad file, a bad setting, a flag out of its range, an output place that cannot
be written) print one line on stderr, at most ``errors.MESSAGE_LIMIT`` characters, and exit with code 2. Output
places are checked before any training. When the reader of the output goes away (``rnnviz train --json | head
-1``) the command stops quietly with status 141, as a tool ended by SIGPIPE does.
"""
from __future__ import annotations

import os

# Small recurrent matrices run fastest on one BLAS thread; with several, OpenBLAS threads spin against the window
# and other processes (measured here: 1,100 steps/s on one thread against 70-400 on two). Set before NumPy loads;
# a value the user exported wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import importlib
import sys

from rnnviz.core.errors import RnnvizError, one_line

# command -> "module:function" under rnnviz.cli; a command's module is imported only when it runs
COMMANDS = {
    "presets": "train:cmd_presets", "train": "train:cmd_train", "gradcheck": "train:cmd_gradcheck",
    "render": "window:cmd_render", "sweep": "explore:cmd_sweep", "race": "explore:cmd_race",
    "bench": "bench:cmd_bench",
}
WINDOW = "window:cmd_window"


def build_parser() -> argparse.ArgumentParser:
    from rnnviz.cli import bench, common, explore, train, window

    parser = common.Parser(
        prog="rnnviz",
        description="Train a small recurrent neural network live and watch it learn: the loss, the hidden states, "
                    "the gradients flowing back through time, the confusion matrix. With no command, opens the "
                    "window on the 'negation' preset; press Space to start training.")
    common.add_source(parser)
    common.add_look(parser)
    parser.add_argument("--session", metavar="FILE", help="open the window on a saved session (File > Save session)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train.add_parsers(sub)
    window.add_parsers(sub)
    explore.add_parsers(sub)
    bench.add_parsers(sub)
    return parser


def _command(args: argparse.Namespace):
    module, _, name = COMMANDS.get(args.command, WINDOW).partition(":")
    return getattr(importlib.import_module(f"rnnviz.cli.{module}"), name)


def main(argv: list[str] | None = None) -> int:
    from rnnviz.cli import common

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _command(args)(args)
    except RnnvizError as exc:
        print(f"rnnviz: error: {common.message_of(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("rnnviz: error: out of memory (lower hidden, batch_size, max_vocab or the sequence length)",
              file=sys.stderr)
        return 2
    except OSError as exc:              # a file the commands did not expect to fail: still one line, no traceback
        if isinstance(exc, BrokenPipeError):
            _silence_stdout()
            return BROKEN_PIPE
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"rnnviz: error: {one_line(where + (exc.strerror or str(exc) or type(exc).__name__))}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rnnviz: interrupted", file=sys.stderr)
        return 130


BROKEN_PIPE = 141       # 128 + SIGPIPE (13): the status a shell reports for a tool whose output pipe was closed


def _silence_stdout() -> None:
    """Point stdout at the null device: the reader has gone, and the flush at exit must not raise again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):     # stdout replaced by an object without a file descriptor
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
