"""One line for the user when loading one of their files failed in a way nobody planned for.

Loaders raise ``RnnvizError`` with a message naming the file for every problem they know about; anything else
(a MemoryError, an error deep inside a library) must still reach the user as one short line naming the file, and
the window must keep its model. ``failure_message`` makes that line.
"""
from __future__ import annotations

from rnnviz.core.errors import RnnvizError

MAX_CHARS = 300


def failure_message(subject: str, exc: BaseException, verb: str = "could not be opened") -> str:
    """``exc``'s own message for an RnnvizError, else "SUBJECT: VERB (Type: what)"; one line, at most
    MAX_CHARS characters."""
    if isinstance(exc, RnnvizError):
        text = str(exc)
    elif isinstance(exc, MemoryError):
        text = f"{subject}: {verb}: not enough memory"
    else:
        text = f"{subject}: {verb} ({type(exc).__name__}: {exc})"
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
