"""Is the model memorising the training set? A pure rule over the evaluation history and the training losses.

Let evaluation b be the one with the lowest validation loss L_b (the earliest on ties). The model is memorising
when all four hold:

1. at least ``PATIENCE`` (3) evaluations came after b;
2. each of the last ``PATIENCE`` evaluations is above L_b by more than ``MARGIN`` (5 %): L > 1.05 L_b;
3. b is at least ``min_steps`` steps old (the Snapshot passes one epoch's steps);
4. the training loss fell meanwhile: its mean over the last evaluation interval (the steps since the evaluation
   before the last) is below its mean over the same number of steps up to b.

(3) keeps a few noisy evaluations at a plateau from being called a trend when evaluations come every few steps (the
part-of-speech lesson at 99.4 % accuracy wobbles by more than 5 % within an epoch). (4) tells memorising from a run
that goes wrong everywhere (a learning rate too high: both losses rise). The rule
compares losses of one kind with each other (validation with validation, training with training), so it holds
for the loss per sequence as well as per token.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PATIENCE = 3          # evaluations in a row above the best
MARGIN = 0.05         # ... each by more than this share of the best validation loss

# what helps, and how, for the loss panel (one line each)
REMEDIES = (
    ("a smaller model", "lower Hidden size d: fewer weights to memorise with"),
    ("weight decay", "Weight decay, e.g. 0.001: an L2 penalty pulls unused weights to zero"),
    ("fewer epochs", "Epochs: stop near the step of the best validation loss"),
    ("the best weights", "go back to the weights of the best validation loss (kept while training)"),
)


@dataclass(frozen=True)
class Overfitting:
    """The evidence for "memorising": the best evaluation, the latest, and the training loss at both."""

    since_step: int          # step of the best validation loss: it has risen since
    best_loss: float
    latest_step: int
    latest_loss: float
    evaluations: int         # evaluations after the best
    train_then: float        # mean training loss over an evaluation interval up to since_step
    train_now: float         # ... and over the last one

    @property
    def remedies(self) -> tuple[tuple[str, str], ...]:
        """What helps: (what, how) pairs, for the screen."""
        return REMEDIES

    @property
    def message(self) -> str:
        return f"validation loss rising since step {self.since_step}: the model is memorising the training set"

    @property
    def detail(self) -> str:
        rise = 100.0 * (self.latest_loss / self.best_loss - 1.0) if self.best_loss > 0 else float("inf")
        return (f"validation loss {self.best_loss:.4g} at step {self.since_step}, {self.latest_loss:.4g} at step "
                f"{self.latest_step} (+{rise:.0f} %, {self.evaluations} evaluations later); training loss "
                f"{self.train_then:.4g} \u2192 {self.train_now:.4g}")


def _mean_over(steps: np.ndarray, losses: np.ndarray, end: float, width: float) -> float:
    """Mean of the finite training losses recorded at steps in (end - width, end]; NaN when there is none."""
    keep = (steps > end - width) & (steps <= end) & np.isfinite(losses)
    return float(losses[keep].mean()) if keep.any() else float("nan")


def detect(val_steps, val_loss, train_steps, train_loss, patience: int = PATIENCE,
           margin: float = MARGIN, min_steps: int = 0) -> Overfitting | None:
    """``Overfitting`` when the rule of the module docstring holds, else None. Arrays: (M,) evaluation steps and
    validation losses, (N,) training steps and batch losses."""
    vs, vl = np.asarray(val_steps, dtype=np.float64), np.asarray(val_loss, dtype=np.float64)
    ts, tl = np.asarray(train_steps, dtype=np.float64), np.asarray(train_loss, dtype=np.float64)
    if vl.size < patience + 1 or not np.isfinite(vl).any():
        return None
    best = int(np.nanargmin(vl))
    after = vl.size - 1 - best
    last = vl[-patience:]
    if after < patience or not np.all(np.isfinite(last)) or not np.all(last > vl[best] * (1.0 + margin)):
        return None
    if vs[-1] - vs[best] < min_steps:
        return None
    width = max(1.0, vs[-1] - vs[-2])
    then, now = _mean_over(ts, tl, vs[best], width), _mean_over(ts, tl, vs[-1], width)
    if not now < then:                       # the training loss did not fall: not memorising (NaN: no evidence)
        return None
    return Overfitting(since_step=int(vs[best]), best_loss=float(vl[best]), latest_step=int(vs[-1]),
                       latest_loss=float(vl[-1]), evaluations=after, train_then=then, train_now=now)
