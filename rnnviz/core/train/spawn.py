"""Starting training child processes the same way everywhere (the window's worker, the sweep's pool).

Each child is a fresh interpreter (multiprocessing "spawn") with one BLAS thread, because small recurrent matrices
run fastest on one thread and several children must not oversubscribe the cores. It does not re-run the caller's
``__main__``: ``python -m rnnviz`` would otherwise open a second window in the child.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import types
from typing import Iterator

ONE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
}
_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def child_environment() -> Iterator[None]:
    """Inside this block, ``Process.start()`` gives the child one BLAS thread and a blank ``__main__``; the
    parent's environment and ``__main__`` are restored afterwards (one thread at a time may be inside)."""
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in ONE_THREAD_ENV}
        main = sys.modules.get("__main__")
        os.environ.update(ONE_THREAD_ENV)
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def describe_exit(exitcode: int | None) -> str:
    """How a child process ended, for a message: "was killed by signal 9 (SIGKILL)", "exited with code 1",
    "stopped answering" (``exitcode`` as ``multiprocessing.Process.exitcode``: negative for a signal, None while
    it is still running or unknown)."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        import signal

        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-exitcode} ({name})"
    return f"exited with code {exitcode}"
