"""The costly parts of a running Trainer's snapshots, each on a clock of its own.

Most of a snapshot is a copy of what the Trainer already holds. A few parts are computed for the screen, and for a
big model they cost more than a training step (an LSTM with d = 256 at T = 200 on this 2-core machine: the
eigenvalues of four 256 x 256 blocks 0.2-0.7 s, the gradient flow of the monitor batch 1.4 s, a step 0.6-1 s).
While training runs, each of these is computed again only when its ``BudgetClock`` says so: at least
``min_interval`` seconds after the last time, and late enough that it takes at most ``budget`` of the time. In
between, a snapshot carries the last result with the step it was computed at (``Snapshot.eigenvalues_step``,
``Snapshot.grad_norms_step``), and the panel says that step when it is not the snapshot's own. Paused, stepping or
in a test (``live`` False) every part is computed fresh, as without this module. A part that costs less than
``CHEAP`` (a small model's, such as the lessons') is fresh in every snapshot.

    eigenvalues:   lambda of each d x d block of W (float64), computed at ``eigenvalues_step``
    gradient flow: ||dL_b/ds_t|| of the monitor batch (``Trainer.measure_monitor``), measured at
                   ``grad_norms_step``: the newest of the Trainer's own record (every ``monitor_every`` steps, part
                   of training) and the last one measured here.
Qt-free.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

PART_BUDGET = 0.02       # each costly part takes at most this share of the training time while training runs
CHEAP = 0.01             # seconds: a part that costs less (moving average) is computed for every snapshot


class BudgetClock:
    """When a costly computation is due again while training runs.

    due: ``cost < cheap``, or never computed, or ``now - last >= max(min_interval, cost / budget)``, with ``cost``
    the moving average (0.8 old, 0.2 new) of its own seconds. ``spent`` adds up the seconds of the computations made
    while ``cost >= cheap`` (the training loop takes them out of a snapshot's own cost: this budget pays for them;
    a cheap part is part of the snapshot's own cost, as any other copy)."""

    def __init__(self, budget: float = PART_BUDGET, min_interval: float = 0.0, cheap: float = 0.0):
        self.budget, self.min_interval, self.cheap = float(budget), float(min_interval), float(cheap)
        self.cost = 0.0                  # moving average of the computation's seconds
        self.last_at: float | None = None  # perf_counter time the last computation started
        self.spent = 0.0                 # seconds of every computation timed so far

    def wait(self) -> float:
        """Seconds between two computations while live."""
        return max(self.min_interval, self.cost / self.budget if self.budget > 0 else 0.0)

    def due(self, now: float | None = None) -> bool:
        now = time.perf_counter() if now is None else now
        return self.cost < self.cheap or self.last_at is None or now - self.last_at >= self.wait()

    def timed(self, compute: Callable[[], Any]) -> Any:
        """``compute()``, its seconds counted in ``cost`` and ``spent``, and the clock started again."""
        start = time.perf_counter()
        out = compute()
        seconds = time.perf_counter() - start
        self.cost = seconds if self.cost == 0.0 else 0.8 * self.cost + 0.2 * seconds
        if self.cost >= self.cheap:
            self.spent += seconds
        self.last_at = start
        return out

    def reset(self) -> None:
        """The next computation is due at once (its cost is remembered)."""
        self.last_at = None


def eigenvalues_of(model: Any) -> dict[str, np.ndarray]:
    """Gate name -> the (d,) complex eigenvalues of that d x d block of W (float64); empty when the block holds
    NaN/Inf."""
    with np.errstate(all="ignore"):
        return {g: np.linalg.eigvals(b.astype(np.float64)) if np.isfinite(b).all() else np.zeros(0, complex)
                for g, b in model.W_blocks().items()}


class LiveParts:
    """The eigenvalues and the gradient flow of one training loop's snapshots (see the module docstring).

    ``build_snapshot(trainer, parts=...)`` asks ``eigenvalues`` and ``gradient_flow``; the loop sets ``live``
    while training runs and calls ``forget`` when the weights change other than by a step (a new model, the best
    weights restored, a fault cleared)."""

    def __init__(self, budget: float = PART_BUDGET, min_interval: float = 0.0, cheap: float = CHEAP):
        self.live = False
        self.eigen_clock = BudgetClock(budget, min_interval, cheap)
        self.flow_clock = BudgetClock(budget, min_interval, cheap)
        self._eigen: tuple | None = None     # (key, step, eigenvalues)
        self._flow: tuple | None = None      # (key, step, norms, norms_last, norms_c)

    @property
    def spent(self) -> float:
        """Seconds spent on the parts so far."""
        return self.eigen_clock.spent + self.flow_clock.spent

    def forget(self) -> None:
        """Nothing kept is valid any more: every part is computed again for the next snapshot."""
        self._eigen = self._flow = None
        self.eigen_clock.reset()
        self.flow_clock.reset()

    @staticmethod
    def _key(trainer: Any) -> tuple[int, int]:
        return id(trainer), id(trainer.model)

    def _kept(self, kept: tuple | None, trainer: Any) -> bool:
        """``kept`` may be shown: live, the same Trainer and model, not from a later step (a reset)."""
        return (self.live and kept is not None and kept[0] == self._key(trainer)
                and kept[1] <= int(trainer.step_count))

    def eigenvalues(self, trainer: Any) -> tuple[dict[str, np.ndarray], int]:
        """(eigenvalues by gate, the step they were computed at): fresh unless live and not yet due."""
        step = int(trainer.step_count)
        kept = self._eigen
        if self._kept(kept, trainer) and (kept[1] == step or not self.eigen_clock.due()):
            return kept[2], kept[1]
        eigs = self.eigen_clock.timed(lambda: eigenvalues_of(trainer.model))
        self._eigen = (self._key(trainer), step, eigs)
        return eigs, step

    def gradient_flow(self, trainer: Any, measure: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(norms, norms_last, norms_c, step measured at). Without ``measure`` (the panel is not shown), or when it
        is of this step: the Trainer's own record. Else measured now, unless live and not yet due: then the newest
        of the Trainer's record and the last one measured here."""
        step = int(trainer.step_count)
        own_step = int(getattr(trainer, "monitor_step", -1))
        own = (trainer.monitor_norms, trainer.monitor_norms_last, trainer.monitor_norms_c, own_step)
        if own_step == step or not measure:
            return own
        kept = self._flow if self._kept(self._flow, trainer) else None
        if kept is not None and (kept[1] == step or not self.flow_clock.due()):
            return (*kept[2:], kept[1]) if kept[1] > own_step else own
        if kept is None and own_step >= 0 and self.live and not self.flow_clock.due():
            return own
        norms = self.flow_clock.timed(trainer.measure_monitor)
        self._flow = (self._key(trainer), step, *norms)
        return (*norms, step)
