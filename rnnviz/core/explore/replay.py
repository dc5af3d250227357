"""Replay: a bounded ring buffer of recent Snapshots, so a paused lecture can scrub back through training.

The buffer keeps the newest snapshots in order, oldest first, and drops the oldest whenever it holds more than
``max_count`` snapshots or more than ``max_bytes`` bytes (``snapshot_nbytes``: the real size of every array in a
Snapshot, the ones inside its dicts and its probe included, plus its strings). The newest snapshot is always kept,
even when it alone is larger than the cap.

Snapshots arrive up to ~30 times a second; to let the buffer reach further back than a few seconds it keeps at
most one snapshot per ``min_gap`` seconds of wall time: a snapshot that comes sooner replaces the newest entry
(so the newest entry is always the newest snapshot, i.e. "live").

Histories are held once. Late in a run most of a snapshot is its histories (the loss per step, the gradient
norms per parameter, ...: up to their caps, about 1.3 MB), and each snapshot repeats the previous one's and adds
a few rows. So the buffer keeps each group of ``HISTORIES`` in one growing store and points the history fields
of every buffered snapshot whose history is the store's first rows at read-only views of them (``_Store``): a
snapshot shows the very numbers it arrived with (the rows are checked equal before they are shared), and a
buffered moment costs what it holds of its own (weights, probe, confusion). A history that is not a
continuation of the store's (the trainer thinned it at its cap, or went back to an earlier step) starts a new
store. ``nbytes`` counts every array once: each snapshot's own arrays, and each store once.

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
# the histories of a Snapshot: (the field of its steps, the fields of its rows; a dict field holds one array per key)
HISTORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("train_steps", ("train_loss",)),
    ("val_steps", ("val_loss", "val_accuracy", "val_perplexity", "val_loss_per_token")),
    ("grad_flow_steps", ("grad_flow",)),
    ("param_grad_steps", ("param_grad_norms",)),
    ("gate_saturation_steps", ("gate_saturation",)),
)


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


def _history_arrays(snapshot: Any, group: tuple[str, tuple[str, ...]]) -> dict[tuple[str, str], np.ndarray] | None:
    """The arrays of one history group of ``snapshot`` by (field, key in a dict field or ""); None when the
    snapshot has no such group or its arrays do not all have one row per step."""
    steps_field, value_fields = group
    steps = getattr(snapshot, steps_field, None)
    if not isinstance(steps, np.ndarray) or steps.ndim != 1:
        return None
    out = {(steps_field, ""): steps}
    for name in value_fields:
        value = getattr(snapshot, name, None)
        items = value.items() if isinstance(value, dict) else [("", value)]
        for key, a in items:
            if not isinstance(a, np.ndarray) or a.ndim < 1 or a.shape[0] != steps.shape[0]:
                return None
            out[(name, key)] = a
    return out


class _Store:
    """One history group's rows, held once: each snapshot attached to it shows read-only views of its first rows.

    The arrays grow by doubling; when they are reallocated every attached snapshot is pointed at the new ones (the
    same numbers). Attaching changes the snapshot's history fields in place (its other fields, and what it shows,
    stay as they were): the fields of a frozen Snapshot are set with ``object.__setattr__``, a dict field's arrays
    are replaced in that dict."""

    def __init__(self, arrays: dict[tuple[str, str], np.ndarray]):
        self.n = 0
        self.buffers: dict[tuple[str, str], np.ndarray] = {}
        self.users: dict[int, tuple[Any, int]] = {}     # id(snapshot) -> (snapshot, its rows)
        self._grow(arrays, len(next(iter(arrays.values()))))

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.buffers.values())

    def continues(self, arrays: dict[tuple[str, str], np.ndarray]) -> bool:
        """``arrays`` begin with this store's rows (as far as both go), in the same layout."""
        if set(arrays) != set(self.buffers):
            return False
        for k, a in arrays.items():
            b = self.buffers[k]
            m = min(self.n, a.shape[0])
            if a.dtype != b.dtype or a.shape[1:] != b.shape[1:] or not np.array_equal(a[:m], b[:m], equal_nan=True):
                return False
        return True

    def attach(self, snapshot: Any, arrays: dict[tuple[str, str], np.ndarray]) -> None:
        """Hold ``snapshot``'s rows here (after ``continues``) and point its fields at them."""
        n = len(next(iter(arrays.values())))
        if n > self.n:
            self._grow(arrays, n)
        self.users[id(snapshot)] = (snapshot, n)
        self._point(snapshot, n)

    def detach(self, snapshot: Any) -> None:
        self.users.pop(id(snapshot), None)

    def _grow(self, arrays: dict[tuple[str, str], np.ndarray], n: int) -> None:
        first = next(iter(self.buffers.values()), None)
        if first is None or n > first.shape[0]:               # reallocate: twice what is needed
            cap = max(16, 2 * n)
            new = {}
            for k, a in arrays.items():
                b = np.empty((cap,) + a.shape[1:], dtype=a.dtype)
                b[:self.n] = self.buffers[k][:self.n] if k in self.buffers else a[:self.n]
                new[k] = b
            self.buffers = new
            for snap, rows in self.users.values():
                self._point(snap, rows)
        for k, a in arrays.items():
            self.buffers[k][self.n:n] = a[self.n:n]
        self.n = n

    def _point(self, snapshot: Any, n: int) -> None:
        for (name, key), b in self.buffers.items():
            view = b[:n]
            view.flags.writeable = False
            if key:
                getattr(snapshot, name)[key] = view
            else:
                object.__setattr__(snapshot, name, view)


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
        self._items: deque[tuple[Any, int]] = deque()   # (snapshot, the bytes it holds of its own)
        self._slot_time = -float("inf")                # when the newest entry's slot was opened
        self._stores: dict[str, _Store] = {}            # history group (its steps field) -> the store in use
        self._held: dict[int, tuple[_Store, int]] = {}  # id(store) -> (store, snapshots attached to it)
        self._own = 0                                   # bytes the snapshots hold of their own
        self.nbytes = 0                                 # bytes held: the snapshots' own and every store once
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
        self._stores.clear()
        self._held.clear()
        self._own = self.nbytes = 0
        self._slot_time = -float("inf")

    def drop_after(self, step: int) -> None:
        """Forget the snapshots of steps after ``step`` (training goes back to that step)."""
        while self._items and int(self._items[-1][0].step) > int(step):
            self._forget(self._items.pop())
        self._slot_time = -float("inf")
        self._count()

    def add(self, snapshot: Any) -> None:
        """Keep ``snapshot`` as the newest entry (its histories held in the stores); drop the oldest beyond the
        caps."""
        now = self.clock()
        same_moment = self._items and int(self._items[-1][0].step) == int(snapshot.step)
        if self._items and (same_moment or now - self._slot_time < self.min_gap):
            self._forget(self._items.pop())     # too soon after the last one (or the same step): replace it
        else:
            self._slot_time = now
        self._share(snapshot)
        size = nbytes(snapshot, {id(b) for st, _ in self._held.values() for b in st.buffers.values()})
        self._items.append((snapshot, size))
        self._own += size
        self._count()
        while len(self._items) > 1 and (len(self._items) > self.max_count or self.nbytes > self.max_bytes):
            self._forget(self._items.popleft())
            self._count()

    def _share(self, snapshot: Any) -> None:
        """Hold each history of ``snapshot`` in its group's store (a new store when it does not continue it)."""
        for group in HISTORIES:
            arrays = _history_arrays(snapshot, group)
            if arrays is None:
                continue
            store = self._stores.get(group[0])
            if store is None or not store.continues(arrays):
                if store is not None and self._held.get(id(store), (store, 0))[1] == 0:
                    self._held.pop(id(store), None)         # nothing buffered uses the old one any more
                store = self._stores[group[0]] = _Store(arrays)
            store.attach(snapshot, arrays)
            held = self._held.get(id(store), (store, 0))
            self._held[id(store)] = (store, held[1] + 1)

    def _forget(self, item: tuple[Any, int]) -> None:
        """Drop one entry: its own bytes, and the stores no snapshot and no group uses any more."""
        snapshot, size = item
        self._own -= size
        self.dropped += 1
        for key, (store, users) in list(self._held.items()):
            if id(snapshot) in store.users:
                store.detach(snapshot)
                if users > 1:
                    self._held[key] = (store, users - 1)
                elif all(s is not store for s in self._stores.values()):
                    del self._held[key]
                else:
                    self._held[key] = (store, 0)            # the group's store in use: kept for the next one

    def _count(self) -> None:
        self.nbytes = self._own + sum(store.nbytes for store, _ in self._held.values())

    def describe(self) -> str:
        """"37 snapshots, 12.3 MB of 200 MB" for the screen."""
        return (f"{len(self)} snapshot{'s' if len(self) != 1 else ''}, {self.nbytes / 1e6:.1f} MB of "
                f"{self.max_bytes / 1e6:.0f} MB (at most {self.max_count})")
