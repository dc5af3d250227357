"""What every ``rnnviz`` subcommand shares: the parser that reports a mistake in one line, range-checked numeric
flags, where the data come from (--preset / --preset-file / --data / --set), the run's name, the window's look
(--presentation / --theme) and picture sizes."""
from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from rnnviz.core.config import SETTINGS, TASKS, set_help
from rnnviz.core.errors import one_line

MAX_STEPS = 10_000_000          # training steps a headless command may be asked for (render, race, gradcheck)


class Parser(argparse.ArgumentParser):
    """argparse, except that a mistake is one line on stderr (no usage block): ``rnnviz render: error: argument
    --steps: must be a whole number from 0 to 10000000, got '1e23' (see rnnviz render --help)``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, one_line(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")


# --------------------------------------------------------------------------------------------- numeric flags
class Bounded:
    """An argparse ``type`` for a number in [lo, hi]: whole numbers in plain decimal digits only (no 1e23, no
    thousands of digits, no ², no 1_000), floats finite. ``lo``/``hi`` are kept for the help and the tests."""

    def __init__(self, kind: type, lo: float, hi: float, low_inclusive: bool = True):
        self.kind, self.lo, self.hi, self.low_inclusive = kind, lo, hi, low_inclusive

    def describe(self) -> str:
        what = "a whole number" if self.kind is int else "a number"
        low = "from" if self.low_inclusive else "above"
        show = (lambda v: f"{v:,}") if self.kind is int else (lambda v: f"{v:g}")
        return f"{what} {low} {show(self.lo)} to {show(self.hi)}"

    def __call__(self, text: str) -> Any:
        text = str(text).strip()
        bad = argparse.ArgumentTypeError(f"must be {self.describe()}, got {text[:40]!r}")
        if len(text) > 40:
            raise bad
        if self.kind is int:
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                raise bad
            value: float = int(text)
        else:
            try:
                value = float(text)
            except ValueError:
                raise bad from None
            if not math.isfinite(value):
                raise bad
        if not (self.lo <= value if self.low_inclusive else self.lo < value) or value > self.hi:
            raise bad
        return value

    @property
    def __name__(self) -> str:      # argparse names the type in some messages
        return self.describe()


def whole(lo: int, hi: int) -> Bounded:
    return Bounded(int, lo, hi)


def number(lo: float, hi: float, low_inclusive: bool = True) -> Bounded:
    return Bounded(float, lo, hi, low_inclusive)


def setting_type(name: str) -> Bounded:
    """The argparse type of a flag that sets the Config field ``name``: its range from the settings registry."""
    s = SETTINGS[name]
    lo, hi, inclusive = s.range
    return Bounded(s.type, lo, hi, inclusive)


# --------------------------------------------------------------------------------------------- the source
def add_source(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("what to train on (one of)")
    src.add_argument("--preset", metavar="NAME", help="a built-in preset (see `rnnviz presets`); only the names of "
                     "built-in presets, never a path")
    src.add_argument("--preset-file", metavar="FILE.toml", help="a preset file of your own ([settings] and an "
                     "optional [lesson], as Edit > Copy settings writes); output goes to runs/ as for any run")
    src.add_argument("--data", metavar="FILE", help="a data file: .tsv/.csv (text<TAB>label), .conllu, "
                     "two-column token<TAB>tag, or plain .txt for generation")
    src.add_argument("--task", choices=TASKS, help="the task for --data (default: the one the file's shape shows: "
                     "token<TAB>tag sentences or CoNLL-U -> labelling, text<TAB>label lines -> classification, "
                     "plain text -> generation); the other settings are chosen for the file, --set wins")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help=set_help())


def add_look(p: argparse.ArgumentParser) -> None:
    p.add_argument("--presentation", action="store_true",
                   help="presentation (projector) mode: large fonts, thick lines, no settings dock (F11 / Ctrl+P)")
    p.add_argument("--theme", choices=("light", "dark"), default=None,
                   help="colour theme (light; the window: the one it last had)")


@dataclass(frozen=True)
class Source:
    """What a command trains on: the settings, the run's name (one safe folder name: ``runs/NAME``, titles), the
    preset they came from (a built-in one or a --preset-file; None for --data) and, for --data, the Suggestion
    (``core.data.suggest``) the settings were chosen by."""

    config: Any
    name: str
    preset: Any = None
    choice: Any = None


def run_name(text: str) -> str:
    """``text`` as one folder name: letters, digits, ``.``, ``-`` and ``_`` (others become ``_``), no leading
    dot, at most 64 characters; "run" when nothing is left. ``runs/NAME`` then never leaves ``runs``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip(".")[:64]
    return name or "run"


def resolve_source(args: Any) -> Source:
    """The Source of --preset / --preset-file / --data [--task] / --set. ``--data`` gets the settings
    ``core.data.suggest`` chooses for the file (the task from its shape unless --task or --set task=... names
    one), then --set wins. Raises ConfigError / DataError for bad values and unreadable files."""
    from rnnviz.core.config import apply_sets
    from rnnviz.core.errors import ConfigError
    from rnnviz.core.presets import DEFAULT_PRESET, load_preset, load_preset_file

    preset_file = getattr(args, "preset_file", None)
    given = [flag for flag, value in (("--preset", args.preset), ("--preset-file", preset_file), ("--data", args.data))
             if value is not None]
    if len(given) > 1:
        raise ConfigError("data", f"give one of --preset, --preset-file and --data, not {' and '.join(given)}")
    preset = choice = None
    if args.data is not None:
        task = args.task
        for item in args.sets:                 # --set task=... names the task too: settings chosen for it
            key, _, value = item.partition("=")
            if key.strip().replace("-", "_") == "task":
                task = value.strip()
        from rnnviz.core.data.suggest import suggest

        choice = suggest(str(args.data), task)
        cfg, name = choice.config, run_name(Path(args.data).stem)
    elif preset_file is not None:
        preset = load_preset_file(preset_file)
        cfg, name = preset.config, run_name(preset.name)
    else:
        preset = load_preset(DEFAULT_PRESET if args.preset is None else args.preset)
        cfg, name = preset.config, preset.name
    return Source(apply_sets(cfg, args.sets), name, preset, choice)


def describe_choice(choice, cfg) -> list[str]:
    """Lines for stderr: what was chosen for a --data file and why; a setting given on the command line (--set,
    --epochs) instead says so."""
    lines = [f"settings chosen for {choice.path}:"]
    for key, value in choice.settings.items():
        final = getattr(cfg, key)
        note = "" if final == value else f" (given instead: {final})"
        lines.append(f"  {key} = {value}{note}: {choice.reasons[key]}")
    return lines


def parse_size(text: str) -> tuple[int, int]:
    from rnnviz.core.errors import ConfigError

    parts = text.lower().split("x")
    if len(parts) != 2 or not all(re.fullmatch(r"[0-9]{1,5}", v.strip()) for v in parts):
        raise ConfigError("size", f"expected WIDTHxHEIGHT such as 1600x1000, got {text[:40]!r}")
    w, h = (int(v) for v in parts)
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise ConfigError("size", f"must be between 320x240 and 8000x8000, got {text[:40]!r}")
    return w, h


# --------------------------------------------------------------------------------------------- Qt commands
def quiet_qt() -> None:
    """Before a command starts Qt: Qt's own noise never reaches stderr (``gui.qt_messages``)."""
    from rnnviz.gui.qt_messages import install

    install()


def fault_line(fault: str) -> str:
    """A Trainer's fault without the window's advice about the weights it shows (a command says where they are)."""
    from rnnviz.core.train.trainer import FAULT_ADVICE

    return fault.replace(FAULT_ADVICE, "").strip().rstrip(".")


def message_of(exc: BaseException) -> str:
    """The one line a command prints for ``exc``: a fault without the window's advice, any message shortened."""
    from rnnviz.core.errors import TrainingFault

    return one_line(fault_line(str(exc)) if isinstance(exc, TrainingFault) else str(exc))


def stderr_line(text: str) -> None:
    """One message line on stderr (``errors.one_line``)."""
    print(one_line(text), file=sys.stderr)

