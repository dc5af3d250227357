"""The state space (core.explore.state_space) against an independent PCA, written here: the hidden states of each
shown validation example computed one example at a time, centred, and the numpy SVD of that (M, D) matrix."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.explore import state_space as ss
from rnnviz.core.explore.capture import build_probe, build_snapshot
from rnnviz.core.live import messages as m
from rnnviz.core.live.loop import TrainingLoop
from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import Trainer

from helpers import small_config, trainer_for


def independent_states(trainer, frame):
    """(M, D) float64: the states s_t of each shown example, one forward pass per example (no padding)."""
    val, model = trainer.dataset.val, trainer.model
    rows = []
    for i in frame.examples:
        ids = np.asarray(val.ids[i])[: ss.MAX_STEPS]
        rows.append(model.hidden_states(ids[None, :], np.array([len(ids)]))[0])
    return np.concatenate(rows).astype(np.float64)


def reference_pca(X):
    mu = X.mean(axis=0)
    _, S, Vt = np.linalg.svd(X - mu, full_matrices=False)
    return mu, Vt[:2], S[:2] ** 2 / (S ** 2).sum()


@pytest.mark.parametrize("preset, changes", [
    ("negation", {}),
    ("negation", {"cell": "lstm"}),
    ("pos", {"cell": "gru"}),
    ("pos", {"bidirectional": True}),
    ("chars", {"cell": "lstm"}),
])
def test_projection_is_the_pca_of_the_states(preset, changes):
    trainer = trainer_for(preset, steps=12, **changes)
    frame = ss.StateSpaceView().compute(trainer)
    X = independent_states(trainer, frame)
    mu, V, explained = reference_pca(X)
    assert frame.points.shape == (len(X), 2)
    assert frame.starts[-1] == len(X) and np.all(np.diff(frame.starts) >= 1)
    np.testing.assert_allclose(frame.mean, mu, atol=1e-10)
    np.testing.assert_allclose(frame.explained, explained, rtol=1e-8)      # the numbers on the axes
    assert frame.ranks == (1, 2) and not frame.swapped                     # no previous frame to follow
    for i in range(2):
        sign = np.sign(frame.components[i] @ V[i])
        np.testing.assert_allclose(frame.components[i], sign * V[i], atol=1e-8)
        np.testing.assert_allclose(frame.points[:, i], sign * (X - mu) @ V[i], atol=1e-8)
    assert frame.components.shape[1] == trainer.model.D
    if changes.get("bidirectional"):
        assert frame.components.shape[1] == 2 * trainer.model.d and "concatenated" in frame.note


def test_sign_alignment_follows_the_previous_frame():
    trainer = trainer_for("negation", steps=12)
    view = ss.StateSpaceView()
    first = view.compute(trainer)
    for _ in range(5):
        trainer.step()
    second = view.compute(trainer)
    mu, V, explained = reference_pca(independent_states(trainer, second))
    for i in range(2):
        assert second.components[i] @ first.components[i] > 0           # each axis keeps its direction
        assert abs(abs(second.components[i] @ V[second.ranks[i] - 1]) - 1) < 1e-8


def test_alignment_undoes_a_flipped_fit(monkeypatch):
    """The same states fitted again, with the SVD returning the opposite signs: the picture is the same."""
    trainer = trainer_for("negation", steps=12)
    view = ss.StateSpaceView()
    first = view.compute(trainer)
    fit = ss.fit_pca
    monkeypatch.setattr(ss, "fit_pca", lambda X: (lambda mu, c, e: (mu, -c, e))(*fit(X)))
    again = view.compute(trainer)
    np.testing.assert_allclose(again.points, first.points, atol=1e-12)
    assert not np.allclose(ss.fit_pca(independent_states(trainer, first))[1], first.components)


def test_alignment_swaps_components_whose_variances_crossed():
    rng = np.random.default_rng(0)
    p = np.linalg.qr(rng.normal(size=(5, 2)))[0].T                  # (2, 5) orthonormal: the previous axes
    new = np.array([-p[1], p[0]])                                    # the fit's order swapped, one sign flipped
    comps, expl, ranks, swapped = ss.align(new, np.array([0.5, 0.3]), p)
    np.testing.assert_allclose(comps, p)
    np.testing.assert_allclose(expl, [0.3, 0.5])
    assert ranks == (2, 1) and swapped
    comps, expl, ranks, swapped = ss.align(-p, np.array([0.5, 0.3]), p)
    np.testing.assert_allclose(comps, p)
    assert ranks == (1, 2) and not swapped
    # another state size (a new model): nothing to follow
    comps, _, ranks, swapped = ss.align(new, np.array([0.5, 0.3]), np.zeros((2, 3)))
    np.testing.assert_allclose(comps, new)


def test_colours_are_the_classes_of_the_dataset():
    trainer = trainer_for("negation", steps=3)
    frame = ss.StateSpaceView().compute(trainer)
    val = trainer.dataset.val
    assert frame.names == tuple(trainer.dataset.classes)
    for e, i in enumerate(frame.examples):
        seg = frame.colour[frame.starts[e]:frame.starts[e + 1]]
        assert len(seg) == len(val.ids[i])
        assert np.all(seg == val.targets[i])
    assert "class" in frame.colour_by


def test_colours_are_the_tags_of_each_step():
    trainer = trainer_for("pos", steps=3)
    frame = ss.StateSpaceView().compute(trainer)
    val = trainer.dataset.val
    assert frame.names == tuple(trainer.dataset.classes)
    for e, i in enumerate(frame.examples):
        want = np.where(np.asarray(val.targets[i]) == IGNORE, ss.OTHER, val.targets[i])
        np.testing.assert_array_equal(frame.colour[frame.starts[e]:frame.starts[e + 1]], want)


def test_generation_colours_the_most_frequent_next_tokens():
    trainer = trainer_for("chars", steps=3)
    frame = ss.StateSpaceView().compute(trainer)
    val, classes = trainer.dataset.val, trainer.dataset.classes
    nxt = np.concatenate([np.asarray(val.targets[i])[: len(frame.path(e))] for e, i in enumerate(frame.examples)])
    counts = {c: int((nxt == c).sum()) for c in set(nxt.tolist()) if c != IGNORE}
    top = sorted(counts, key=lambda c: (-counts[c], c))[: ss.TOP_TOKENS]
    assert frame.names == tuple(classes[c] for c in top)
    for point, c in zip(frame.colour, nxt):
        assert (classes[c] == frame.names[point]) if point != ss.OTHER else (c not in top)
    assert "next token" in frame.colour_by


def test_probe_path_is_the_probe_states_projected():
    trainer = trainer_for("pos", steps=8, cell="lstm")
    trainer.set_probe(5)
    snap = build_snapshot(trainer, state_space=ss.StateSpaceView())
    frame = snap.state_space
    ids = np.asarray(trainer.dataset.val.ids[5])
    states = trainer.model.hidden_states(ids[None, :], np.array([len(ids)]))[0].astype(np.float64)   # (T, D)
    np.testing.assert_allclose(frame.probe, (states - frame.mean) @ frame.components.T, atol=1e-10)
    assert frame.probe_label == "validation #5" and len(frame.probe) == len(snap.probe.tokens)
    # a typed probe is projected with the same axes
    trainer.set_probe_text(["the", "dog"])
    typed = ss.StateSpaceView().compute(trainer, build_probe(trainer))
    assert typed.probe_label == "typed" and typed.probe.shape == (2, 2)


def test_cost_is_bounded_by_examples_and_points():
    lengths = np.full(1000, 51)
    chosen = ss.choose_examples(1000, lengths, n=200, max_steps=100, max_points=5000)
    assert len(chosen) == 5000 // 51 and chosen[0] == 0 and chosen[-1] == 999
    assert len(ss.choose_examples(30, np.full(30, 5))) == 30
    trainer = trainer_for("negation", steps=1)
    frame = ss.StateSpaceView(n_examples=10, max_steps=3).compute(trainer)
    assert frame.n_examples == 10 and np.diff(frame.starts).max() <= 3 and "cut after 3" in frame.note


def test_live_view_keeps_its_own_clock():
    """While training runs the frame is made again only when its cost fits the budget; paused, always."""
    trainer = trainer_for("negation", steps=2)
    view = ss.StateSpaceView(budget=1e-9)          # so small that a live frame is never due again
    first = view.frame(trainer)
    trainer.step()
    view.live = True
    assert view.frame(trainer) is first             # the last frame, with its own step
    view.live = False
    fresh = view.frame(trainer)
    assert fresh is not first and fresh.step == first.step + 1
    cheap = ss.StateSpaceView(budget=1e9, min_interval=3600.0)   # cost never matters: the least interval does
    kept = cheap.frame(trainer)
    cheap.live = True
    trainer.step()
    assert cheap.frame(trainer) is kept
    cheap.min_interval = 0.0
    assert cheap.frame(trainer).step == kept.step + 1


def test_loop_carries_frames_only_when_asked():
    events = []
    loop = TrainingLoop(events.append, interval=0.0)
    loop.handle(m.Configure(small_config(), None))
    snaps = lambda: [e.snapshot for e in events if isinstance(e, m.SnapshotReady)]   # noqa: E731
    assert snaps()[-1].state_space is None
    loop.handle(m.SetStateSpace(True))
    assert snaps()[-1].state_space is not None
    loop.handle(m.Configure(small_config(hidden=5), None))       # a view option: kept across new models
    assert snaps()[-1].state_space.components.shape[1] == 5
    loop.handle(m.SetStateSpace(False))
    assert snaps()[-1].state_space is None


def test_faulted_states_give_an_empty_picture_not_an_error():
    trainer = trainer_for("negation", steps=1)
    trainer.model.params["W"][...] = np.nan
    frame = ss.StateSpaceView().compute(trainer)
    assert np.isnan(frame.points).all() and "NaN" in frame.note


def test_not_turns_the_path():
    """Negation, after training: a sentiment word read right after "not" moves the projected state the opposite
    way to the same word read without "not" (the mean move of each word, compared by its cosine)."""
    cfg = load_preset("negation").config
    trainer = Trainer(cfg)
    for _ in range(300):
        trainer.step()
    assert trainer.last_eval["val_accuracy"] > 0.95
    frame = ss.StateSpaceView().compute(trainer)
    val = trainer.dataset.val
    moves: dict[str, dict[bool, list]] = {}
    for e, i in enumerate(frame.examples):
        tokens, path = val.tokens[i], frame.path(e)
        for t in range(1, len(path)):
            moves.setdefault(tokens[t], {True: [], False: []})[tokens[t - 1] == "not"].append(path[t] - path[t - 1])
    cosines = []
    for word, by in moves.items():
        if len(by[True]) >= 5 and len(by[False]) >= 5:
            a, b = np.mean(by[True], axis=0), np.mean(by[False], axis=0)
            cosines.append(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert len(cosines) >= 8
    assert np.median(cosines) < -0.5 and np.mean(np.array(cosines) < 0) >= 0.8
