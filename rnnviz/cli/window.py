"""The window (``rnnviz`` with no command) and ``rnnviz render`` (the window drawn to a PNG, headless)."""
from __future__ import annotations

from pathlib import Path

from rnnviz.cli import common


def add_parsers(sub) -> None:
    p = sub.add_parser("render", help="train N steps and save the whole window as a PNG",
                       description="Train N steps headless, draw every panel offscreen and save the window as PNG. "
                                   "The output file is checked before training starts.")
    common.add_source(p)
    p.add_argument("--steps", type=common.whole(0, common.MAX_STEPS), required=True,
                   help="training steps before the picture")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to save the picture")
    p.add_argument("--size", default="1600x1000", metavar="WxH", help="window size in pixels (1600x1000)")
    common.add_look(p)


def cmd_render(args) -> int:
    from rnnviz.core.files import check_output_file

    src = common.resolve_source(args)
    size = common.parse_size(args.size)
    with check_output_file(args.out, what="--out"):      # before the training, not after it
        common.quiet_qt()
        from rnnviz.gui.windows.render import render

        path = render(src.config, args.steps, Path(args.out), size=size, preset=src.preset,
                      presentation=args.presentation, theme=args.theme)
    print(f"wrote {path}")
    return 0


def cmd_window(args) -> int:
    common.quiet_qt()
    from rnnviz.gui.app import run

    if getattr(args, "session", None):      # check the file first: a bad one is one line and exit 2, no window
        from rnnviz.core.io.session import load_session, restore_trainer

        session = load_session(args.session)
        restore_trainer(session)            # and its data, as the window will open it
        return run(session.config, title=Path(args.session).name, session=args.session,
                   presentation=getattr(args, "presentation", False), theme=getattr(args, "theme", "light"))
    src = common.resolve_source(args)
    return run(src.config, preset=src.preset, presentation=getattr(args, "presentation", False),
               theme=getattr(args, "theme", "light"))
