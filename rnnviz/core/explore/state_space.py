"""The state space: the hidden states s_t of many validation examples projected to 2-D by PCA.

For N validation examples (evenly spread over the split, the same ones on every frame) the model's top-layer
states s_t = g(U x_t + W s_{t-1} + b) (``RNNModel.hidden_states``; [forward; backward] concatenated, 2d numbers,
when bidirectional) are stacked into X, one row per real (non-padding) step: (M, D). PCA is fitted on these
current states:

    mu = mean of the rows of X,   X - mu = U S V^T (thin SVD),   p_i = V[:, i]   (i = 1, 2)
    projection of a state s:   z = (s - mu) @ [p_1, p_2]                          # (2,)
    explained variance of component i:   S_i^2 / sum_j S_j^2                      (share of the total variance)

Each example is a path z_1 .. z_L through the plane. The probe sequence (a validation example or typed text) is
projected with the same mu and p_i. What colours the points (``COLOUR_BY``): classification, the true class of
the sequence (its final point is where the class is read); labelling, the true tag at each step; generation, the
next token (the target at each step), the ``TOP_TOKENS`` most frequent of them in colour and the others as
"other".

Frame to frame the projection is kept stable (``align``): a principal direction is only defined up to its sign,
and when two components' variances cross their order swaps; so each new pair is matched to the previous frame's
(swapped when the crossed pairing overlaps more, then each sign flipped when it points against its predecessor).
The axes then say which component of the fit each one is and its share of the variance.

Cost (bounded): one forward pass over N <= ``MAX_EXAMPLES`` examples of at most ``MAX_STEPS`` steps, with at most
``MAX_POINTS`` states in the fit, and one thin SVD of (M, D): O(M D^2). Measured in docs/performance.md.
Qt-free.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Any, ClassVar

import numpy as np

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.explore.amortize import BudgetClock
from rnnviz.core.snapshot import frozen_array

MAX_EXAMPLES = 200       # validation examples whose paths are drawn
MAX_STEPS = 100          # steps of each path (longer sequences are cut: the note says so)
MAX_POINTS = 5000        # states in the fit at most: fewer examples for long sequences
TOP_TOKENS = 9           # generation: the most frequent next tokens that get a colour of their own
MIN_INTERVAL = 0.5       # seconds between two frames while training runs, at least (the picture changes slowly;
                         # each new frame also costs the window a redraw of thousands of points)
OTHER = -1               # colour id of points with no colour of their own ("other" / no tag)

COLOUR_BY = {
    "classification": "true class of each sequence (large dot: its last state, where the class is read)",
    "labelling": "true tag at each step",
    "generation": f"next token (the {TOP_TOKENS} most frequent in colour, the rest grey)",
}


@dataclass(frozen=True)
class StateSpace:
    """One frame of the state-space view (arrays read-only).

    points:      (M, 2) the projected states of every example, example after example, first step first
    starts:      (N + 1,) example e's points are points[starts[e]:starts[e + 1]]
    examples:    (N,) their indices in the validation split
    colour:      (M,) colour id of each point (index into ``names``; OTHER = -1: grey)
    names:       the names of the colour ids
    colour_by:   what the colour means (``COLOUR_BY``)
    explained:   (2,) share of the total variance of the states along each axis
    ranks:       (2,) which principal component of this fit each axis shows (1 = largest variance)
    components:  (2, D) the axes' directions in state space (unit vectors, sign-aligned)
    mean:        (D,) mu, the mean state
    probe:       (T_p, 2) the probe's path (its own states, projected), or None
    probe_label: the probe's source ("validation #12", "typed")
    note:        which states are shown (bidirectional: both directions concatenated; cut paths)
    step:        the training step of the model these states come from
    swapped:     the two components were swapped to follow the previous frame (their variances crossed)
    made_at:     perf_counter time of the computation (a frame carried again by a later snapshot keeps it)
    """

    points: np.ndarray
    starts: np.ndarray
    examples: np.ndarray
    colour: np.ndarray
    names: tuple[str, ...]
    colour_by: str
    explained: np.ndarray
    ranks: tuple[int, int]
    components: np.ndarray
    mean: np.ndarray
    probe: np.ndarray | None
    probe_label: str
    note: str
    step: int
    swapped: bool = False
    made_at: float = field(default_factory=time.perf_counter)   # when computed: the same frame carried by several
                                                                 # snapshots has the same made_at
    OTHER: ClassVar[int] = OTHER     # the colour id of grey points (for readers that do not import this module)

    @property
    def n_examples(self) -> int:
        return len(self.examples)

    def path(self, e: int) -> np.ndarray:
        """(L_e, 2) the path of the e-th example shown."""
        return self.points[self.starts[e]:self.starts[e + 1]]


def choose_examples(n_val: int, lengths: np.ndarray, n: int = MAX_EXAMPLES, max_steps: int = MAX_STEPS,
                    max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of the validation examples shown: evenly spread over the split (so every class of a sorted split
    appears), as many as ``n`` and the point budget allow. The same indices on every frame."""
    if n_val <= 0:
        return np.zeros(0, np.int64)
    steps = int(min(max(int(np.max(lengths)), 1), max_steps))
    k = int(max(1, min(n, n_val, max_points // steps)))
    return np.unique(np.linspace(0, n_val - 1, k).round().astype(np.int64))


def fit_pca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of the rows of X (M, D): the first two principal directions and their share of the variance.

    With Xc = X - mu = U S V^T, the right singular vectors V are those of the D x D matrix G = Xc^T Xc = V S^2 V^T
    (symmetric, so its SVD is its eigendecomposition, singular values S_i^2): the SVD of G gives the same V and
    S^2 for O(M D^2) + O(D^3) work instead of the SVD of the tall (M, D) matrix, several times slower here.
    Returns (mu (D,), components (2, D), explained (2,)): V's first two columns as rows (a zero row where X has
    fewer than two directions) and S_i^2 / sum_j S_j^2."""
    X = np.asarray(X, dtype=np.float64)
    D = X.shape[1]
    mu = X.mean(axis=0) if len(X) else np.zeros(D)
    comps, explained = np.zeros((2, D)), np.zeros(2)
    if len(X) < 2:
        return mu, comps, explained
    Xc = X - mu                                             # (M, D)
    _, S2, Vt = np.linalg.svd(Xc.T @ Xc, hermitian=True)   # (D,), (D, D): S2 = S^2, descending
    S2 = np.maximum(S2, 0.0)
    total = float(S2.sum())
    k = min(2, D)
    if total > 0:
        comps[:k] = Vt[:k]
        explained[:k] = S2[:k] / total
        comps[explained == 0] = 0.0                         # no variance: no direction
    return mu, comps, explained


def align(components: np.ndarray, explained: np.ndarray, previous: np.ndarray | None
          ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], bool]:
    """Match ``components`` (2, D) to the previous frame's (2, D): swap the two when
    |c1.p2| + |c2.p1| > |c1.p1| + |c2.p2| (their variances crossed), then flip each whose dot product with its
    predecessor is negative. Returns (components, explained, ranks, swapped); ranks say which component of the
    fit (1 or 2) each axis now shows."""
    comps, expl, ranks, swapped = np.array(components, dtype=np.float64), np.array(explained), (1, 2), False
    if previous is None or previous.shape != comps.shape:
        return comps, expl, ranks, swapped
    o = np.abs(comps @ previous.T)                         # (2, 2) |c_i . p_j|
    if o[0, 1] + o[1, 0] > o[0, 0] + o[1, 1]:
        comps, expl, ranks, swapped = comps[::-1].copy(), expl[::-1].copy(), (2, 1), True
    for i in range(2):
        if float(comps[i] @ previous[i]) < 0:
            comps[i] = -comps[i]
    return comps, expl, ranks, swapped


def colour_ids(task: str, targets: list[np.ndarray] | np.ndarray, lengths: np.ndarray, names: list[str]
               ) -> tuple[np.ndarray, tuple[str, ...]]:
    """The colour id of every point (examples concatenated, each cut to ``lengths``) and the names of the ids.

    classification: the sequence's true class at each of its points; labelling: the true tag at each step
    (IGNORE: OTHER); generation: the next token, the TOP_TOKENS most frequent of the shown points keeping their
    colour (ids renumbered 0..K-1 by frequency) and the rest OTHER."""
    if task == "classification":
        cls = np.asarray(targets, dtype=np.int64)
        return np.repeat(cls, lengths), tuple(names)
    per_point = np.concatenate([np.asarray(t, dtype=np.int64)[:L] for t, L in zip(targets, lengths)]) \
        if len(lengths) else np.zeros(0, np.int64)
    out = np.where(per_point == IGNORE, OTHER, per_point)
    if task == "labelling":
        return out, tuple(names)
    valid = out[out != OTHER]
    if valid.size == 0:
        return out, ()
    counts = np.bincount(valid, minlength=len(names))
    order = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0][:TOP_TOKENS]
    remap = np.full(len(names), OTHER, np.int64)
    remap[order] = np.arange(len(order))
    return np.where(out == OTHER, OTHER, remap[np.maximum(out, 0)]), tuple(names[i] for i in order)


class StateSpaceView:
    """Makes ``StateSpace`` frames for one model, remembering the previous frame's axes for ``align``.

    The training loop owns one while the state-space panel is shown (``messages.SetStateSpace``);
    ``build_snapshot`` calls ``frame``. A new model (another state size) starts without alignment.

    ``live`` (set by the loop while training runs): the view keeps its own clock (``amortize.BudgetClock``), so
    that its cost stays at most ``budget`` of the time: a frame is computed again only when max(``min_interval``,
    ``cost / budget``) seconds have passed since the last (cost: a moving average of ``compute``'s time); in
    between, snapshots carry the last frame, whose ``step`` says when it was made (the window draws it once). Not
    live (paused, stepping, a render, a test): every frame is fresh.
    """

    def __init__(self, n_examples: int = MAX_EXAMPLES, max_steps: int = MAX_STEPS, max_points: int = MAX_POINTS,
                 budget: float = 0.03, min_interval: float = MIN_INTERVAL):
        self.n_examples, self.max_steps, self.max_points = int(n_examples), int(max_steps), int(max_points)
        self.clock = BudgetClock(budget, min_interval)     # cost: a moving average of compute's seconds
        self.previous: np.ndarray | None = None
        self.live = False
        self.last: StateSpace | None = None
        self._last_key: tuple = ()

    @property
    def min_interval(self) -> float:
        return self.clock.min_interval

    @min_interval.setter
    def min_interval(self, seconds: float) -> None:
        self.clock.min_interval = float(seconds)

    def forget(self) -> None:
        """Start again without alignment (a new model)."""
        self.previous = None
        self.last = None
        self._last_key = ()

    def frame(self, trainer: Any, probe: Any = None) -> StateSpace | None:
        """``compute``, or while ``live`` the last frame when the view's clock says it is not yet due (same model
        and probe)."""
        key = (id(trainer.model), None if probe is None else (probe.source, tuple(probe.tokens)))
        if self.live and self.last is not None and key == self._last_key and not self.clock.due():
            return self.last
        self.last = self.clock.timed(lambda: self.compute(trainer, probe))
        self._last_key = key
        return self.last

    def compute(self, trainer: Any, probe: Any = None) -> StateSpace | None:
        """The frame for ``trainer``'s model now; ``probe`` (a ``snapshot.Probe``) adds its path. None when there
        is no validation data."""
        ds, model = trainer.dataset, trainer.model
        val = ds.val
        if len(val) == 0:
            return None
        lengths_all = val.lengths
        chosen = choose_examples(len(val), lengths_all, self.n_examples, self.max_steps, self.max_points)
        lengths = np.minimum(lengths_all[chosen], self.max_steps)                      # (N,)
        T = int(lengths.max())
        ids = np.full((len(chosen), T), ds.vocab.pad_id, dtype=np.int64)              # (N, T)
        for row, i in enumerate(chosen):
            ids[row, :lengths[row]] = val.ids[i][:lengths[row]]
        with np.errstate(all="ignore"):
            S = model.hidden_states(ids, lengths)                                      # (N, T, D)
        mask = np.arange(T)[None, :] < lengths[:, None]                                # (N, T)
        X = np.asarray(S[mask], dtype=np.float64)                                      # (M, D), example by example
        finite = bool(np.isfinite(X).all())
        if finite:
            mu, comps, expl = fit_pca(X)
        else:                                   # NaN/Inf states (a faulted model): nothing to project
            mu, comps, expl = np.zeros(X.shape[1]), np.zeros((2, X.shape[1])), np.zeros(2)
        comps, expl, ranks, swapped = align(comps, expl, self.previous)
        if finite and np.any(comps):
            self.previous = comps
        points = (X - mu) @ comps.T if finite else np.full((len(X), 2), np.nan)        # (M, 2)
        targets = (np.asarray(val.targets)[chosen] if ds.task == "classification"
                   else [val.targets[i] for i in chosen])
        colour, names = colour_ids(ds.task, targets, lengths, list(ds.classes))
        probe_path, probe_label = None, ""
        if probe is not None and np.asarray(probe.states).ndim == 2 and np.asarray(probe.states).shape[1] == len(mu):
            probe_path = (np.asarray(probe.states, dtype=np.float64) - mu) @ comps.T   # (T_p, 2)
            probe_label = str(probe.source)
        notes = []
        if len(model.directions) > 1:
            notes.append(f"bidirectional: s\u209c = [forward; backward], both directions' states concatenated "
                         f"({model.D} numbers)")
        if int(lengths_all[chosen].max()) > self.max_steps:
            notes.append(f"paths cut after {self.max_steps} steps")
        if not finite:
            notes.append("the states hold NaN/Inf: nothing to project")
        return StateSpace(
            points=frozen_array(points), starts=frozen_array(np.concatenate([[0], np.cumsum(lengths)])),
            examples=frozen_array(chosen), colour=frozen_array(colour), names=names,
            colour_by=COLOUR_BY[ds.task], explained=frozen_array(expl), ranks=ranks,
            components=frozen_array(comps), mean=frozen_array(mu),
            probe=None if probe_path is None else frozen_array(probe_path), probe_label=probe_label,
            note="; ".join(notes), step=int(trainer.step_count), swapped=swapped)
