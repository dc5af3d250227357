"""The gradient flow on screen: of the snapshot's own step, and a mean over the examples that have each timestep
(aligned at each example's last token for classification), checked against one example at a time."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core import Config
from rnnviz.core.data.batch import Batch
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train import grad_flow
from rnnviz.core.train.trainer import Trainer

NEGATION = Config(dataset="negation", n_examples=300, hidden=12, batch_size=16, dtype="float64")
POS = Config(dataset="pos", task="labelling", n_examples=120, hidden=10, batch_size=8, dtype="float64")


def one_at_a_time(trainer: Trainer, only_last: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each monitor example alone (a batch of one, no padding): ||dL_b/ds_t|| of its own loss, placed at its last
    token's column (classification) or its first (otherwise); then the plain mean of each column and its count."""
    batch, model = trainer.monitor_batch, trainer.model
    T = batch.ids.shape[1]
    columns: list[list[float]] = [[] for _ in range(T)]
    end = trainer.dataset.task == "classification"
    for b in range(len(batch.lengths)):
        n = int(batch.lengths[b])
        target = batch.targets[b:b + 1] if batch.targets.ndim == 1 else batch.targets[b:b + 1, :n]
        alone = Batch(ids=batch.ids[b:b + 1, :n], lengths=np.array([n]), index=np.array([0]), targets=target)
        norms = model.loss_and_grads(alone, only_last=only_last).grad_norms       # (n,) B = 1: ||dL_b/ds_t||
        first = T - n if end else 0
        for t in range(n):
            columns[first + t].append(float(norms[t]))
    mean = np.array([np.mean(c) if c else np.nan for c in columns])
    return mean, np.array([len(c) for c in columns])


def test_classification_curve_is_the_mean_over_examples_aligned_at_their_last_token():
    t = Trainer(NEGATION)
    for _ in range(7):
        t.step()
    snap = build_snapshot(t)
    lengths = t.monitor_batch.lengths
    assert lengths.min() < lengths.max()                 # a padded batch: the case the dip came from
    assert snap.grad_norms_align == "end"
    want, count = one_at_a_time(t)
    np.testing.assert_allclose(snap.grad_norms, want, rtol=1e-10)
    assert np.array_equal(snap.grad_norms_count, count)
    assert snap.grad_norms_count[-1] == len(lengths)     # every example ends in the last column
    assert np.array_equal(snap.grad_norms_examples, t.monitor_batch.index)
    # the padded batch's plain norm falls in the last columns, where few examples are; the mean does not
    plain = t.model.loss_and_grads(t.monitor_batch).grad_norms
    assert plain[-1] < snap.grad_norms[-1]


def test_labelling_curves_are_means_from_the_first_token():
    t = Trainer(POS)
    for _ in range(5):
        t.step()
    snap = build_snapshot(t)
    assert snap.grad_norms_align == "start"
    want, count = one_at_a_time(t)
    np.testing.assert_allclose(snap.grad_norms, want, rtol=1e-10)
    want_last, _ = one_at_a_time(t, only_last=True)
    np.testing.assert_allclose(snap.grad_norms_last, want_last, rtol=1e-10)
    assert np.array_equal(snap.grad_norms_count, count) and count[0] == len(t.monitor_batch.lengths)


@pytest.mark.parametrize("steps", [1, 3, 9, 13])
def test_the_curve_belongs_to_the_snapshots_step(steps):
    """Not only multiples of monitor_every: each press of S shows the curve of the weights it left."""
    t = Trainer(NEGATION, monitor_every=10)
    seen = []
    for _ in range(steps):
        t.step()
        snap = build_snapshot(t)
        assert snap.grad_norms_step == snap.step == t.step_count
        want, _ = one_at_a_time(t)
        np.testing.assert_allclose(snap.grad_norms, want, rtol=1e-10)
        seen.append(np.asarray(snap.grad_norms))
    assert all(not np.allclose(a, b) for a, b in zip(seen, seen[1:]))     # it moves with every step


def test_snapshots_keep_the_history_cadence_and_do_not_change_training():
    """Measuring for a snapshot records no row (the heatmap keeps a row every monitor_every steps) and leaves
    training bit for bit as it was (float32, whose flush flag a backward pass may set)."""
    cfg = NEGATION.replace(dtype="float32")
    watched, alone = Trainer(cfg, monitor_every=10), Trainer(cfg, monitor_every=10)
    for _ in range(25):
        a, b = watched.step(), alone.step()
        build_snapshot(watched)
        assert a == b and watched.model.flush_subnormal == alone.model.flush_subnormal
    assert np.array_equal(watched.model.flat, alone.model.flat)
    steps, _ = watched.grad_flow.view()
    assert list(steps) == [0, 10, 20]


def test_aligned_mean_by_hand():
    e = np.array([[1.0, 4.0], [2.0, 5.0], [0.0, 6.0]])     # (T=3, B=2): example 0 has 2 steps, example 1 has 3
    lengths = np.array([2, 3])
    np.testing.assert_allclose(grad_flow.aligned_mean(e, lengths, "start"), [2.5, 3.5, 6.0])
    # aligned at the end: example 0's steps 1, 2 sit in columns 2, 3
    np.testing.assert_allclose(grad_flow.aligned_mean(e, lengths, "end"), [4.0, 3.0, 4.0])
    assert list(grad_flow.counts(lengths, 3, "end")) == [1, 2, 2]
    assert list(grad_flow.counts(lengths, 3, "start")) == [2, 2, 1]
    assert grad_flow.alignment("classification", lengths) == "end"
    assert grad_flow.alignment("classification", np.array([4, 4])) == "start"
    assert grad_flow.alignment("labelling", lengths) == "start"


def test_without_measuring_the_snapshot_says_the_step_of_the_curve_it_carries():
    t = Trainer(NEGATION, monitor_every=10)
    for _ in range(13):
        t.step()
    carried = build_snapshot(t, flow=False)
    assert carried.step == 13 and carried.grad_norms_step == 10
    np.testing.assert_array_equal(carried.grad_norms, t.grad_flow.view()[1][-1])
    assert build_snapshot(t).grad_norms_step == 13


def test_the_loop_measures_still_snapshots_and_running_ones_when_the_panel_is_shown():
    from rnnviz.core.live import messages as m
    from rnnviz.core.live.loop import TrainingLoop

    events: list = []
    loop = TrainingLoop(events.append, interval=0.0, budget=0.0)
    loop.handle(m.Configure(NEGATION.replace(epochs=100), None))
    snaps = lambda: [e.snapshot for e in events if isinstance(e, m.SnapshotReady)]   # noqa: E731
    for shown in (True, False):
        loop.handle(m.SetGradFlow(shown))
        loop.handle(m.Start())
        events.clear()
        while loop.trainer.step_count % 10 in (0, 9) or len(snaps()) < 3:    # running snapshots between records
            loop.tick()
        running = snaps()
        loop.handle(m.Pause())
        still = snaps()[-1]
        assert still.grad_norms_step == still.step                           # paused: always its own step
        if shown:
            assert all(s.grad_norms_step == s.step for s in running)
        else:
            assert any(s.grad_norms_step != s.step for s in running)
            assert all(s.grad_norms_step == s.step // 10 * 10 for s in running)
