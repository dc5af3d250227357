"""What every ``rnnviz`` subcommand shares: where the data comes from (--preset / --data / --set), the window's look
(--presentation / --theme), and picture sizes."""
from __future__ import annotations

import argparse
from pathlib import Path

from rnnviz.core.config import TASKS, set_help


def add_source(p: argparse.ArgumentParser, required: bool = False) -> None:
    src = p.add_argument_group("what to train on (one of)")
    src.add_argument("--preset", metavar="NAME", help="a built-in preset (see `rnnviz presets`)")
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
    p.add_argument("--theme", choices=("light", "dark"), default="light", help="colour theme (light)")


def resolve(args) -> tuple[object, str, object]:
    """(Config, name, Suggestion or None) from --preset / --data [--task] / --set. ``--data`` gets the settings
    ``core.data.suggest`` chooses for the file (the task from its shape unless --task or --set task=... names
    one), then --set wins. Raises ConfigError / DataError for bad values and unreadable files."""
    from rnnviz.core.config import apply_sets
    from rnnviz.core.data.suggest import suggest
    from rnnviz.core.errors import ConfigError
    from rnnviz.core.presets import DEFAULT_PRESET, load_preset

    if args.preset and args.data:
        raise ConfigError("data", "give either --preset or --data, not both")
    choice = None
    if args.data:
        task = args.task
        for item in args.sets:                 # --set task=... names the task too: settings chosen for it
            key, _, value = item.partition("=")
            if key.strip().replace("-", "_") == "task":
                task = value.strip()
        choice = suggest(str(args.data), task)
        cfg = choice.config
        name = Path(args.data).stem
    else:
        name = args.preset or DEFAULT_PRESET
        cfg = load_preset(name).config
    return apply_sets(cfg, args.sets), name, choice


def resolve_config(args) -> tuple[object, str]:
    """(Config, name) from --preset / --data / --set (see ``resolve``)."""
    cfg, name, _choice = resolve(args)
    return cfg, name


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

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError("size", f"expected WIDTHxHEIGHT such as 1600x1000, got {text!r}") from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise ConfigError("size", f"must be between 320x240 and 8000x8000, got {text!r}")
    return w, h
