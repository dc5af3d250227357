"""The project's own exception types: every error a user can cause is one of these.

Each carries a message that a lecturer can read on a projector: what file, what line, what is wrong.
The command line prints ``str(error)`` on one line and exits with code 2; the window shows it in a dialog.
A message is one line of at most ``MESSAGE_LIMIT`` characters (``one_line``): a 2 MB label or a name with a
newline or a terminal escape in it is shortened and escaped where the error is made, so every place that shows
it gets the short form. ``TrainingFault`` keeps its full explanation (the window's banner shows all of it).
"""
from __future__ import annotations

MESSAGE_LIMIT = 300      # characters of one message: its start (the file or setting) and its end are kept


def one_line(text: object, limit: int | None = MESSAGE_LIMIT) -> str:
    """``text`` as one printable line of at most ``limit`` characters.

    Line breaks and tabs become spaces; other control characters (a terminal escape, a NUL) are shown escaped
    (``\\x1b``); an overlong text keeps its first two thirds and its end around " … ", so the file or setting it
    starts with and the advice it ends with both stay."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch in "\n\r\t\v\f":
            out.append(" ")
        elif code < 32 or 127 <= code < 160 or ch in "\u2028\u2029":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    line = "".join(out)
    if limit is not None and len(line) > limit:
        head = (limit - 3) * 2 // 3
        line = line[:head] + " … " + line[len(line) - (limit - 3 - head):]
    return line


class RnnvizError(Exception):
    """Base class of every error rnnviz raises on purpose. Its message is made ``one_line`` (``limit`` chars)."""

    limit: int | None = MESSAGE_LIMIT

    def __init__(self, *args: object):
        if args and isinstance(args[0], str):
            args = (one_line(args[0], self.limit),) + args[1:]
        super().__init__(*args)


class DataError(RnnvizError):
    """A data file (or generated data setting) that cannot be turned into a dataset.

    ``str(err)`` reads ``"<file>:<line>: <what>"`` when a line is known, else ``"<file>: <what>"``.
    """

    def __init__(self, what: str, path: str | None = None, line: int | None = None):
        self.what = what
        self.path = None if path is None else str(path)
        self.line = line
        if self.path is not None and line is not None:
            text = f"{self.path}:{line}: {what}"
        elif self.path is not None:
            text = f"{self.path}: {what}"
        else:
            text = what
        super().__init__(text)


class ConfigError(RnnvizError):
    """A setting outside its allowed values. ``str(err)`` names the field and the allowed range."""

    def __init__(self, field: str, what: str):
        self.field = field
        self.what = what
        super().__init__(f"setting '{field}': {what}")


class CheckpointError(RnnvizError):
    """A checkpoint or session file that is damaged, foreign, or from a newer version."""


class TrainingFault(RnnvizError):
    """Training produced NaN or Inf; the message explains the cause and what to try (kept whole: no limit)."""

    limit = None


class OutputError(RnnvizError, OSError):
    """A file or folder rnnviz was asked to write that cannot be written: an unusable place (checked before the
    work starts), or a failed save (a full disk). The message names the path and why; ``errno`` is the system's
    error number when there is one. It is an OSError too, so code that catches OSError around a save sees it."""

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
