"""The Trainer's boundary: state_dict / load_state_dict continue a run bit for bit, apply_live is the one way a
live setting reaches it, every field exists from __init__ on, and no module outside train/ reaches inside it."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from rnnviz.core.config import LIVE_FIELDS, MARKED_FIELDS
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train import grad_flow
from rnnviz.core.train import trainer as trainer_module
from rnnviz.core.train.trainer import Trainer

from helpers import REPO, SESSION_CASES, SmallCaps, same


def steps(t: Trainer, n: int) -> list[float]:
    return [t.step() for _ in range(n)]


@pytest.mark.parametrize("name", sorted(SESSION_CASES))
def test_state_dict_then_load_then_train_equals_training_straight_through(name):
    """rnn/adam, lstm/momentum, gru/rmsprop: N steps, a live change, state_dict into a fresh Trainer, M more steps
    across an epoch boundary: losses, weights, optimiser, histories and snapshots equal bit for bit."""
    cfg = SESSION_CASES[name]
    straight, first = Trainer(cfg), Trainer(cfg)
    N, M = (4, 3) if cfg.task == "generation" else (17, 19)
    assert steps(straight, N) == steps(first, N)
    for t in (straight, first):
        t.apply_live("lr", t.lr / 2)
        t.apply_live("temperature", 0.7)
    state = first.state_dict()
    steps(first, 2)                                      # the state is a copy: training on does not change it
    resumed = Trainer(cfg)
    resumed.load_state_dict(state)
    assert resumed.step_count == N and resumed.markers == straight.markers and resumed.lr == straight.lr
    expected, got = steps(straight, M), steps(resumed, M)
    assert got == expected
    assert straight.epoch == resumed.epoch > N // straight.steps_per_epoch or cfg.task == "generation"
    same(straight.state_dict(), resumed.state_dict(), "state")
    a, b = build_snapshot(straight), build_snapshot(resumed)
    for key, value in a.arrays().items():
        assert np.array_equal(value, b.arrays()[key], equal_nan=True), key
    same(a.probe, b.probe, "probe")
    assert (a.sample_text, a.markers, a.epoch_progress, a.confusion_examples.keys()) == \
           (b.sample_text, b.markers, b.epoch_progress, b.confusion_examples.keys())


def test_load_state_dict_keeps_small_history_caps_and_decimation():
    """A Trainer with 256-row histories, past several decimations: the loaded one thins at the same steps."""
    cfg = SESSION_CASES["rnn-classification-adam"]
    straight, first = SmallCaps(cfg), SmallCaps(cfg)
    steps(straight, 700)
    steps(first, 700)
    assert straight.loss_history.stride > 1
    resumed = Trainer(cfg)
    resumed.load_state_dict(first.state_dict())
    assert resumed.loss_history.capacity == 256 and resumed.eval_cap == first.eval_cap
    assert steps(resumed, 300) == steps(straight, 300)
    same(straight.state_dict(), resumed.state_dict(), "state")


def test_a_fault_travels_with_the_state():
    from rnnviz.core.errors import TrainingFault

    from helpers import EXPLODING, small_config

    cfg = small_config(**EXPLODING)
    t = Trainer(cfg)
    with pytest.raises(TrainingFault):
        steps(t, 500)
    other = Trainer(cfg)
    other.load_state_dict(t.state_dict())
    assert other.fault == t.fault
    with pytest.raises(TrainingFault, match="Training paused at step"):
        other.step()
    other.restore_last_good()
    t.restore_last_good()
    for x in (t, other):
        x.apply_live("lr", 0.01)
        x.apply_live("clip", 1.0)
    assert steps(other, 20) == steps(t, 20)


@pytest.mark.parametrize("change, words", [
    (dict(hidden=8), "hidden 8 (here 12)"),
    (dict(cell="gru"), "cell 'gru' (here 'rnn')"),
    (dict(batch_size=7), "batch_size 7 (here 32)"),
])
def test_a_state_of_other_settings_is_refused_and_changes_nothing(change, words):
    cfg = SESSION_CASES["rnn-classification-adam"]
    donor = Trainer(cfg.replace(**change))
    steps(donor, 3)
    t = Trainer(cfg)
    steps(t, 2)
    before = t.state_dict()
    with pytest.raises(ValueError, match="the state was saved with other settings: ") as info:
        t.load_state_dict(donor.state_dict())
    assert words in str(info.value)
    same(before, t.state_dict(), "state")


def test_a_broken_state_is_refused_before_anything_changes():
    """Each broken part of a state from further on in the same run: refused, and not one field has moved."""
    cfg = SESSION_CASES["rnn-classification-adam"]
    t, donor = Trainer(cfg), Trainer(cfg)
    steps(t, 2)
    steps(donor, 9)
    donor.apply_live("lr", 0.004)
    before = t.state_dict()

    def refused(change, error, words=None):
        broken = donor.state_dict()
        change(broken)
        with pytest.raises(error, match=words):
            t.load_state_dict(broken)
        same(before, t.state_dict(), "state")

    refused(lambda s: s.update(order=np.arange(5)), ValueError, "data order of 5 examples")
    refused(lambda s: s.update(pos=10**6), ValueError, "at position 1000000")
    refused(lambda s: s.update(monitor_norms=np.zeros(1)), ValueError, "monitor gradient flow")
    refused(lambda s: s.update(probe_index=10**6), ValueError, "probe index 1000000")
    refused(lambda s: s["params"].update(W=np.zeros((3, 3))), ValueError, r"parameter W has shape \(3, 3\)")
    refused(lambda s: s["histories"]["loss"].update(n=99), ValueError, "history state does not fit together")
    refused(lambda s: s.update(rng={"bit_generator": "MT19937"}), ValueError)
    for key in ("rng", "eval_cap", "last_cells", "flush_subnormal", "markers"):      # read first and last
        refused(lambda s: s.pop(key), KeyError)
    t.load_state_dict(donor.state_dict())                  # the whole state is taken
    same(donor.state_dict(), t.state_dict(), "state")


# ------------------------------------------------------------------------------------------------- live
def test_apply_live_is_the_one_way_and_knows_exactly_the_live_settings():
    cfg = SESSION_CASES["lstm-generation-momentum"]
    t = Trainer(cfg)
    steps(t, 2)
    t.apply_live("lr", 0.02)
    assert t.optimizer.lr == t.lr == t.config.lr == 0.02
    t.apply_live("clip", 0.0)
    assert t.config.clip == 0.0
    t.apply_live("epochs", 9)
    assert t.config.epochs == 9 and isinstance(t.config.epochs, int)
    text = t.sample_text
    t.apply_live("temperature", 0.0)               # greedy: the sample is drawn again at once
    assert t.temperature == 0.0 and t.sample_text != text
    t.apply_live("temperature", -3)
    assert t.temperature == 0.0
    t.apply_live("eval_every", 3)                  # evaluations only: no marker
    assert t.config.eval_every == 3
    assert [s.split()[0] for _, s in t.markers] == ["lr", "clip", "epochs", "temperature"]
    assert set(MARKED_FIELDS) <= LIVE_FIELDS == {"lr", "clip", "epochs", "temperature", "eval_every"}
    for key in ("hidden", "optimizer", "seed", "dataset", "nonsense"):
        with pytest.raises(ValueError, match=f"{key} is not a live setting"):
            t.apply_live(key, 1)


def test_every_field_is_set_in_init():
    """No attribute appears later (a step, an evaluation, a sample, a live change, a loaded state)."""
    cfg = SESSION_CASES["lstm-generation-momentum"]
    t = Trainer(cfg)
    fields = set(vars(t))
    assert {"last_cells", "last_eval", "sample_text", "probe_tokens", "fault"} <= fields
    assert t.last_cells == {} and t.last_eval is None
    t.run_epoch()
    for key in LIVE_FIELDS:
        t.apply_live(key, getattr(t.config, key))
    t.load_state_dict(Trainer(cfg).state_dict())
    t.set_probe_text(["a", "b"])
    t.record_monitor(restart=True)
    assert set(vars(t)) == fields


def test_record_monitor_restart_starts_the_gradient_flow_over():
    t = Trainer(SESSION_CASES["rnn-classification-adam"], monitor_every=1)
    steps(t, 5)
    assert t.grad_flow.n == 6
    t.record_monitor(restart=True)
    steps_, rows = t.grad_flow.view()
    want, _, _ = grad_flow.measure(t.model, t.monitor_batch, t.dataset.task, t.monitor_align)
    assert list(steps_) == [5] and np.array_equal(rows[0], want)
    assert math.isclose(t.epoch_progress, min(5 * 32, len(t.dataset.train)) / len(t.dataset.train))


# ---------------------------------------------------------------------------------------------- boundary
def private_names() -> set[str]:
    """The private attributes and methods of the classes in rnnviz/core/train (``self._x`` there)."""
    names = set()
    for path in (REPO / "rnnviz" / "core" / "train").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and _private(node.attr):
                names.add(node.attr)
            elif isinstance(node, ast.FunctionDef) and _private(node.name):
                names.add(node.name)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def reaches_inside(path: Path, names: set[str]) -> list[str]:
    """``obj._x`` (obj not ``self``) or ``getattr/hasattr/setattr(obj, "_x")`` for a private name of train/."""
    found = []
    where = path.relative_to(REPO) if REPO in path.parents else path.name
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            found.append(f"{where}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "hasattr", "setattr", "delattr") and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in names:
            found.append(f"{where}:{node.lineno}: {node.func.id}(…, {node.args[1].value!r})")
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path):
    names = private_names()
    assert {"_pos", "_order", "_last_good", "_good_t", "_offered", "_sample", "_next_batch"} <= names
    probe = tmp_path / "reaching.py"
    probe.write_text("def f(trainer, h):\n    trainer._pos = 0\n    hasattr(trainer, '_good_t')\n"
                     "    return h._offered, self._order\n")
    found = reaches_inside(probe, names)
    assert [f.split(": ", 1)[1] for f in found] == ["._pos", "hasattr(…, '_good_t')", "._offered"]


def test_no_module_outside_train_reaches_inside_a_trainer():
    """The package and the tests use the Trainer (and its History) through public fields and methods only;
    ``self._x`` in a subclass of the Trainer is the subclass's own business."""
    names = private_names()
    train = REPO / "rnnviz" / "core" / "train"
    found = []
    for path in sorted([*(REPO / "rnnviz").rglob("*.py"), *(REPO / "tests").rglob("*.py")]):
        if train not in path.parents:
            found += reaches_inside(path, names)
    assert found == []


def test_train_does_not_import_explore_or_build_snapshots():
    source = Path(trainer_module.__file__).read_text()
    assert "explore" not in "".join(line for line in source.splitlines(True) if "import" in line)
    assert not hasattr(Trainer, "snapshot") and not hasattr(Trainer, "probe")
