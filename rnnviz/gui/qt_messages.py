"""Qt's own messages on stderr: known noise dropped, anything else shortened to one line after a ``qt:`` prefix.

Qt writes warnings of its platform plugins to stderr ("This plugin does not support propagateSizeHints()" from
the offscreen plugin of ``rnnviz render``, font and XDG notes...). They say nothing to a user and pushed rnnviz's
own one-line error off the first line. ``install()`` puts a message handler in Qt (``qInstallMessageHandler``)
that drops the messages matching ``NOISE`` and writes every other one as ``qt: <message>`` (one line,
``errors.one_line``). The commands that start Qt (the window, ``render``, ``race``, ``bench``) install it first.
"""
from __future__ import annotations

import sys
from typing import Any

from PySide6 import QtCore

from rnnviz.core.errors import one_line

NOISE = (
    "This plugin does not support propagateSizeHints()",    # offscreen / minimal platform plugins
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
    "This plugin does not support setParent",
    "QStandardPaths: XDG_RUNTIME_DIR not set",               # running as another user or without a session
    "QStandardPaths: runtime directory",
    "QFont::setPointSizeF: Point size <= 0",
    "Could not find the Qt platform plugin \"wayland\"",
)
_installed = False


def is_noise(message: str) -> bool:
    return any(pattern in message for pattern in NOISE)


def handler(mode: Any, context: Any, message: str) -> None:
    """The message handler: drop the noise, write the rest as one ``qt:`` line on stderr."""
    if is_noise(message):
        return
    try:
        sys.stderr.write(f"qt: {one_line(message)}\n")
    except (OSError, ValueError):       # stderr closed: nothing more to say
        pass


def install() -> None:
    """Put ``handler`` in Qt (once; it must come before the QApplication for the platform plugin's messages)."""
    global _installed
    if not _installed:
        QtCore.qInstallMessageHandler(handler)
        _installed = True
