"""The entry point of the training subprocess, importable without the loop: the window starts the child with
``main`` as its target and only the child imports the loop, so the window's start-up never loads the Trainer, the
model or the snapshot builder. The loop's defaults are in ``live.defaults``.
"""
from __future__ import annotations

from typing import Any


def main(conn: Any, factory: str, interval: float, budget: float) -> None:
    """Runs in the training subprocess: ``loop._child_main`` (the same loop, commands and events over a pipe)."""
    from rnnviz.core.live.loop import _child_main

    _child_main(conn, factory, interval, budget)
