"""Where the window's training process starts: Ctrl+C is ignored before anything heavy is imported.

A Ctrl+C in the terminal reaches the whole process group, the training child included. The window handles it
(``gui.interrupt``: it closes and ends the child); the child must not die on its own with a KeyboardInterrupt
traceback, not even while it is still importing NumPy and the core, so this module imports nothing of rnnviz
before it has set SIGINT to be ignored. ``run("package.module:function", *args)`` then calls the real entry.
(Only a Ctrl+C while the child's interpreter itself starts, before this module runs, still reaches it: the
parent cannot hand it an ignored SIGINT without ignoring one itself for that moment, and a lost Ctrl+C in the
window would be worse than a stray child traceback.)
"""
from __future__ import annotations

import importlib
import signal
from typing import Any


def run(target: str, *args: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args)
