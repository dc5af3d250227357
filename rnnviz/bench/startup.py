"""Start-up: from starting ``python -m rnnviz`` to the window's first painted frame, in fresh processes.

Each run starts ``python -m rnnviz`` with ``RNNVIZ_EXIT_AFTER_FIRST_PAINT`` set (``rnnviz.gui.first_paint``):
the application prints the moments its modules were imported, its window built, shown and first painted, on the
clock this process reads just before starting it (``time.perf_counter``, CLOCK_MONOTONIC, comparable across
processes), and quits. One run first, not counted (it fills the disk cache, and the bytecode cache when Python may
write one); then ``runs`` runs; the figures are medians. "cpu" is the CPU time of the window's process until the
first paint: on a busy machine it moves less than the wall time.

Python compiles a module that has no current cached bytecode (``__pycache__``) on every start, and with
``PYTHONDONTWRITEBYTECODE`` set it never writes one. An editable install compiles rnnviz's modules in place
(``setup.py``); a module edited since is compiled again at every start until a run may write its cache. The result
says which case it measured: ``bytecode_cache`` (every rnnviz module had current bytecode when the counted runs
began; else ``uncached_modules`` says how many had none) and ``writes_bytecode`` (whether a start may write it).
"""
from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

FIELDS = ("imports", "built", "shown", "painted", "cpu")


def _environment() -> dict:
    env = dict(os.environ, RNNVIZ_EXIT_AFTER_FIRST_PAINT="1")
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def one_run(argv: tuple[str, ...] = (), timeout: float = 60.0) -> dict:
    """Seconds from starting the process to each start-up moment, and its CPU seconds; {"error": ...} on failure."""
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "rnnviz", *argv], env=_environment(), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no first paint within {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("first-paint ")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode} without a first paint: {tail[:200]}"}
    marks = json.loads(lines[0].split(" ", 1)[1])
    out = {k: marks[k] - start for k in FIELDS if k in marks and k != "cpu"}
    out["cpu"] = marks.get("cpu")
    return out


def uncached_modules(package_dir: str | None = None) -> list[str]:
    """The modules under ``package_dir`` (rnnviz's folder) that have no cached bytecode this Python would use as it
    is (written by this Python version, for the source as it is now: its size and time, or its hash)."""
    if package_dir is None:
        import rnnviz

        package_dir = os.path.dirname(os.path.abspath(rnnviz.__file__))
    out = []
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.endswith(".py") and not _cache_is_current(path):
                out.append(os.path.relpath(path, package_dir))
    return out


def _cache_is_current(source: str) -> bool:
    """The header of ``source``'s .pyc against the source (the checks importlib makes before using it)."""
    try:
        with open(importlib.util.cache_from_source(source), "rb") as fh:
            header = fh.read(16)
        st = os.stat(source)
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags & 1:                     # hash-based: used as it is unless it asks for the source's hash to be checked
        if not flags & 2:
            return True
        with open(source, "rb") as fh:
            return header[8:16] == importlib.util.source_hash(fh.read())
    return (int.from_bytes(header[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
            and int.from_bytes(header[12:16], "little") == st.st_size & 0xFFFFFFFF)


def measure_startup(runs: int = 5, argv: tuple[str, ...] = (), warmup: int = 1) -> dict:
    """Median seconds to each start-up moment over ``runs`` fresh processes (after ``warmup`` uncounted ones)."""
    for _ in range(warmup):
        one_run(argv)
    uncached = uncached_modules()
    samples = [one_run(argv) for _ in range(runs)]
    good = [s for s in samples if "error" not in s]
    result = {"command": " ".join(["python -m rnnviz", *argv]), "runs": len(good),
              "bytecode_cache": not uncached, "uncached_modules": len(uncached),
              "writes_bytecode": not (sys.flags.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")),
              "errors": sorted({s["error"] for s in samples if "error" in s}),
              "samples": good}
    for key in FIELDS:
        values = [s[key] for s in good if s.get(key) is not None]
        result[f"{key}_s"] = statistics.median(values) if values else None
    return result
