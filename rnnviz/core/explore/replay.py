"""Replay: a bounded ring buffer of recent Snapshots, so a paused lecture can scrub back through training.

The buffer keeps the newest snapshots in order, oldest first, and drops the oldest whenever it holds more than
``max_count`` snapshots or more than ``max_bytes`` bytes (``snapshot_nbytes``: the real size of every array in a
Snapshot, the ones inside its dicts and its probe included, plus its strings). The newest snapshot is always kept,
even when it alone is larger than the cap.

Snapshots arrive up to ~30 times a second; to let the buffer reach further back than a few seconds it keeps at
most one snapshot per ``min_gap`` seconds of wall time: a snapshot that comes sooner replaces the newest entry
(so the newest entry is always the newest snapshot, i.e. "live").

Plain Python and NumPy: no Qt.
"""
from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import fields, is_dataclass
from typing import Any, Callable

import numpy as np

DEFAULT_MAX_BYTES = 200_000_000            # 200 MB
DEFAULT_MAX_COUNT = 1000
DEFAULT_MIN_GAP = 0.2                     # seconds of wall time between two kept snapshots


def nbytes(obj: Any, _seen: set[int] | None = None) -> int:
    """Bytes held by ``obj``: arrays' ``nbytes`` (each array counted once), recursing into dataclasses, dicts,
    lists and tuples; strings and other scalars by ``sys.getsizeof``."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        base = obj if obj.base is None or not isinstance(obj.base, np.ndarray) else obj.base
        if base is not obj:
            if id(base) in seen:
                return 0
            seen.add(id(base))
        return int(base.nbytes)
    if is_dataclass(obj) and not isinstance(obj, type):
        return sys.getsizeof(obj) + sum(nbytes(getattr(obj, f.name), seen) for f in fields(obj))
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(nbytes(k, seen) + nbytes(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sys.getsizeof(obj) + sum(nbytes(v, seen) for v in obj)
    return sys.getsizeof(obj)


def snapshot_nbytes(snapshot: Any) -> int:
    """The memory one Snapshot holds (see ``nbytes``)."""
    return nbytes(snapshot)


class ReplayBuffer:
    """The newest snapshots, oldest first, within ``max_count`` snapshots and ``max_bytes`` bytes.

    ``clock`` (seconds) decides the ``min_gap`` thinning; tests pass their own.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_count: int = DEFAULT_MAX_COUNT,
                 min_gap: float = DEFAULT_MIN_GAP, clock: Callable[[], float] = time.monotonic):
        if max_bytes <= 0 or max_count < 1 or min_gap < 0:
            raise ValueError(f"replay buffer: max_bytes must be > 0 (got {max_bytes}), max_count >= 1 "
                             f"(got {max_count}), min_gap >= 0 (got {min_gap})")
        self.max_bytes = int(max_bytes)
        self.max_count = int(max_count)
        self.min_gap = float(min_gap)
        self.clock = clock
        self._items: deque[tuple[Any, int]] = deque()   # (snapshot, its bytes)
        self._slot_time = -float("inf")                # when the newest entry's slot was opened
        self.nbytes = 0                                 # bytes of every snapshot held
        self.dropped = 0                                # snapshots evicted (or replaced) so far

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> Any:
        return self._items[i][0]

    def snapshots(self) -> list[Any]:
        return [s for s, _ in self._items]

    def steps(self) -> list[int]:
        return [int(s.step) for s, _ in self._items]

    def index_of(self, snapshot: Any) -> int:
        """Position of this very snapshot object (-1 when it has been dropped)."""
        for i, (s, _) in enumerate(self._items):
            if s is snapshot:
                return i
        return -1

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0
        self._slot_time = -float("inf")

    def drop_after(self, step: int) -> None:
        """Forget the snapshots of steps after ``step`` (training goes back to that step)."""
        while self._items and int(self._items[-1][0].step) > int(step):
            _, old = self._items.pop()
            self.nbytes -= old
            self.dropped += 1
        self._slot_time = -float("inf")

    def add(self, snapshot: Any) -> None:
        """Keep ``snapshot`` as the newest entry; drop the oldest beyond the caps."""
        size = snapshot_nbytes(snapshot)
        now = self.clock()
        same_moment = self._items and int(self._items[-1][0].step) == int(snapshot.step)
        if self._items and (same_moment or now - self._slot_time < self.min_gap):
            _, old = self._items.pop()          # too soon after the last one (or the same step): replace it
            self.nbytes -= old
            self.dropped += 1
        else:
            self._slot_time = now
        self._items.append((snapshot, size))
        self.nbytes += size
        while len(self._items) > 1 and (len(self._items) > self.max_count or self.nbytes > self.max_bytes):
            _, old = self._items.popleft()
            self.nbytes -= old
            self.dropped += 1

    def describe(self) -> str:
        """"37 snapshots, 12.3 MB of 200 MB" for the screen."""
        return (f"{len(self)} snapshot{'s' if len(self) != 1 else ''}, {self.nbytes / 1e6:.1f} MB of "
                f"{self.max_bytes / 1e6:.0f} MB (at most {self.max_count})")
