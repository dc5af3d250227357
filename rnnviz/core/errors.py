"""The project's own exception types: every error a user can cause is one of these.

Each carries a message that a lecturer can read on a projector: what file, what line, what is wrong.
The command line prints ``str(error)`` on one line and exits with code 2; the window shows it in a dialog.
"""
from __future__ import annotations


class RnnvizError(Exception):
    """Base class of every error rnnviz raises on purpose."""


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
    """Training produced NaN or Inf; the message explains the cause and what to try."""
