"""The window (``rnnviz`` with no command) and ``rnnviz render`` (the window drawn to a PNG, headless)."""
from __future__ import annotations

from pathlib import Path

from rnnviz.cli import common


def add_parsers(sub) -> None:
    p = sub.add_parser("render", help="train N steps and save the whole window as a PNG",
                       description="Train N steps headless, draw every panel offscreen and save the window as PNG.")
    common.add_source(p)
    p.add_argument("--steps", type=int, required=True, help="training steps before the picture")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to save the picture")
    p.add_argument("--size", default="1600x1000", metavar="WxH", help="window size in pixels (1600x1000)")
    common.add_look(p)


def cmd_render(args) -> int:
    from rnnviz.gui.windows.render import render

    cfg, name = common.resolve_config(args)
    size = common.parse_size(args.size)
    if args.steps < 0:
        from rnnviz.core.errors import ConfigError
        raise ConfigError("steps", "must be 0 or more")
    from rnnviz.core.presets import load_preset

    path = render(cfg, args.steps, Path(args.out), size=size, preset=None if args.data else load_preset(name),
                  presentation=args.presentation, theme=args.theme)
    print(f"wrote {path}")
    return 0


def cmd_window(args) -> int:
    from rnnviz.gui.app import run

    if getattr(args, "session", None):      # check the file first: a bad one is one line and exit 2, no window
        from rnnviz.core.io.session import load_session, restore_trainer

        session = load_session(args.session)
        restore_trainer(session)            # and its data, as the window will open it
        return run(session.config, title=Path(args.session).name, session=args.session,
                   presentation=getattr(args, "presentation", False), theme=getattr(args, "theme", "light"))
    cfg, name = common.resolve_config(args)
    return run(cfg, preset=args.preset or (None if args.data else name),
               presentation=getattr(args, "presentation", False), theme=getattr(args, "theme", "light"))
