"""The sweep window's header: the base settings every cell starts from, and whether they follow the main window.

The sweep window follows the main window: while no sweep runs, a settings change there (a lesson, a file, the
dock) becomes the sweep's base at once, so Run sweep never re-runs a lesson that is no longer on screen. A running
sweep keeps the base it started with (its cells are already training); the header then shows both.
"""
from __future__ import annotations

import os

from rnnviz.core.config import SETTINGS, Config

# always shown; any other setting is shown when it differs from the registry default
KEY_SETTINGS = ("dataset", "task", "cell", "hidden", "optimizer", "lr", "batch_size", "epochs", "seed")


def settings_text(cfg: Config) -> str:
    """"negation · classification · cell rnn · hidden 32 · …": the key settings and every other one that differs
    from its default."""
    default = Config()
    keys = list(KEY_SETTINGS) + [k for k in SETTINGS if k not in KEY_SETTINGS
                                 and getattr(cfg, k) != getattr(default, k)]
    parts = []
    for key in keys:
        value = getattr(cfg, key)
        if key == "dataset":
            parts.append(os.path.basename(value) or value)
        elif key == "task":
            parts.append(value)
        else:
            parts.append(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}")
    return " · ".join(parts)


def base_text(base: Config, following: bool, running: Config | None = None) -> str:
    """The header: what the cells start from, and where it comes from."""
    where = ("the main window's settings; they follow it" if following else
             "fixed: this sweep window has no main window to follow")
    text = f"<b>Base settings</b> ({where}): {settings_text(base)}"
    if running is not None and running != base:
        text = (f"<b>Running on</b>: {settings_text(running)}<br>"
                f"<b>Next Run uses</b> (the main window changed): {settings_text(base)}")
    return text
