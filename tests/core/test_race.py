"""A/B race: the same start (shared weights, batches), the differences legend, the window's numbers, closing."""
from __future__ import annotations

import time

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.errors import ConfigError
from rnnviz.core.explore import race
from rnnviz.core.explore.capture import build_probe
from rnnviz.core.train.trainer import Trainer

from qt_helpers import no_leaks, small_config, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def recall(**changes) -> Config:
    values = dict(dataset="delayed-recall", task="classification", delay=8, n_examples=200, hidden=8, epochs=50,
                  clip=1.0)
    values.update(changes)
    return Config().replace(**values)


def test_pair_shares_matching_weights_and_the_batch_order():
    a = recall()
    b = race.b_config(a, ["cell=lstm"])
    ta, tb, sharing = race.make_pair(a, b)
    assert sharing.shared == ("V", "c") and sharing.own == ("U", "W", "b")
    for name in sharing.shared:
        assert np.array_equal(ta.model.params[name], tb.model.params[name])
    assert tb.model.params["U"].shape == (4 * 8, ta.model.params["U"].shape[1])
    # without sharing, B's own seed-drawn V differs (the copy is what makes them equal)
    assert not np.array_equal(Trainer(b).model.params["V"], ta.model.params["V"])
    # B's gradient flow at step 0 is recomputed from the weights it now has
    res = tb.model.loss_and_grads(tb.monitor_batch)
    assert np.allclose(tb.grad_flow.view()[1][-1], res.grad_norms)
    # one Dataset object, the same batches in the same order, epoch after epoch
    assert tb.dataset is ta.dataset
    seen = {"A": [], "B": []}
    for side, t in (("A", ta), ("B", tb)):
        for _ in range(2 * t.steps_per_epoch + 3):
            state = t.state_dict()
            seen[side].append(state["order"][state["pos"]:state["pos"] + t.config.batch_size])
            t.step()
    assert all(np.array_equal(x, y) for x, y in zip(seen["A"], seen["B"]))
    assert len(seen["A"]) == len(seen["B"])


@pytest.mark.parametrize("changes, text, shared", [
    (["cell=lstm"], "cell: rnn → lstm", ("V", "c")),
    (["activation=relu"], "activation: tanh → relu", ("U", "W", "b", "V", "c")),
    (["hidden=16", "lr=0.001"], "hidden: 8 → 16, lr: 0.01 → 0.001", ("c",)),
    (["bidirectional=true", "cell=gru"], "cell: rnn → gru, bidirectional: off → on", ("c",)),
    (["optimizer=sgd", "clip=0"], "optimizer: adam → sgd, clip: 1 → 0", ("U", "W", "b", "V", "c")),
])
def test_differences_and_sharing(changes, text, shared):
    a = recall()
    b = race.b_config(a, changes)
    assert race.differences_text(a, b) == text
    assert {k: (va, vb) for k, va, vb in race.differences(a, b)} == {
        k: (getattr(a, k), getattr(b, k)) for k in a.to_dict() if getattr(a, k) != getattr(b, k)}
    ta, tb, sharing = race.make_pair(a, b)
    assert sharing.shared == shared
    for name in tb.model.param_names:
        same = np.array_equal(ta.model.params.get(name, np.zeros(0)), tb.model.params[name])
        assert same == (name in shared) or np.all(tb.model.params[name] == 0)   # zero biases match anyway


def test_other_seed_shares_nothing_and_says_so():
    a = recall()
    b = race.b_config(a, ["seed=3"])
    assert race.differences_text(a, b) == "seed: 0 → 3"
    assert not race.same_data(a, b) and not race.same_batch_order(a, b)
    assert race.same_data(a, race.b_config(a, ["batch_size=8"]))
    assert not race.same_batch_order(a, race.b_config(a, ["batch_size=8"]))
    ta, tb, sharing = race.make_pair(a, b)
    assert sharing.shared == () and "other data or another seed" in sharing.text()
    with pytest.raises(ConfigError, match="at least one setting"):
        race.b_config(a, ["cell=rnn"])
    with pytest.raises(ConfigError, match="'hidden'"):
        race.b_config(a, ["hidden=0"])


@pytest.mark.usefixtures("no_leaks")
def test_window_draws_both_sides_with_the_trainers_numbers(qtbot):
    from rnnviz.gui.windows.race import RaceWindow

    a = small_config(epochs=3)
    win = RaceWindow(a, a.replace(cell="gru"), backend="thread")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    ctls = win.controllers
    for ctl in ctls.values():
        wait_snapshot(qtbot, ctl)
    qtbot.waitUntil(lambda: ctls["B"].worker.loop.trainer is not None, timeout=5000)
    ta, tb = ctls["A"].worker.loop.trainer, ctls["B"].worker.loop.trainer
    assert np.array_equal(ta.model.params["V"], tb.model.params["V"])     # the worker shared them
    assert "cell: rnn → gru" in win.header.text() and "same initial V, c" in win.header.text()
    assert "the same data and batch order" in win.header.text()
    win.toggle()
    for ctl in ctls.values():
        qtbot.waitUntil(lambda c=ctl: c.done and not c.running, timeout=30000)
    for side, t in (("A", ta), ("B", tb)):
        snap = wait_snapshot(qtbot, ctls[side], lambda s, t=t: s.step == t.step_count)
        win.show_snapshot(side, snap)
        steps, losses = t.loss_history.view()
        x, y = win.raw[side].getData()
        assert np.array_equal(x, steps) and np.allclose(y, losses[:, 0])
        assert win.smooth[side].getData()[1].shape == steps.shape
        vx, vy = win.val[side].getData()
        assert np.array_equal(vx, [e["step"] for e in t.eval_history])
        assert np.allclose(vy, [e["val_loss"] for e in t.eval_history])
        assert np.allclose(win.acc[side].getData()[1], [e["val_accuracy"] for e in t.eval_history])
        grads, hidden = win.panels[("gradients", side)], win.panels[("hidden", side)]
        assert np.allclose(grads.norm_curve.getData()[1], np.log10(t.monitor_norms))   # log-y plot
        assert grads.flow_image.image.shape == t.grad_flow.view()[1].shape
        assert np.allclose(hidden.image.image, build_probe(t).states.T)
        ev = t.last_eval
        assert win.status[side].text() == (f"{side}: step {t.step_count}, val loss {ev['val_loss']:.3f}, "
                                           f"acc {ev['val_accuracy']:.1%}")
    assert ta.step_count == tb.step_count == 3 * ta.steps_per_epoch
    # reset: both start again and B takes A's weights again
    win.reset()
    qtbot.waitUntil(lambda: ctls["B"].worker.loop.trainer is not tb and ctls["B"].latest is not None, timeout=5000)
    qtbot.waitUntil(lambda: ctls["A"].worker.loop.trainer is not ta, timeout=5000)
    na, nb = ctls["A"].worker.loop.trainer, ctls["B"].worker.loop.trainer
    assert np.array_equal(na.model.params["V"], nb.model.params["V"])
    assert np.array_equal(na.model.params["V"], race.initial_model(a, na.dataset).params["V"])
    assert na.step_count == 0
    # choosing a probe on one side shows the same example on both
    win.panels[("hidden", "A")].probe_spin.setValue(3)
    assert win.panels[("hidden", "B")].probe_spin.value() == 3
    qtbot.waitUntil(lambda: na.probe_index == 3 and nb.probe_index == 3, timeout=5000)
    win.close()
    assert win.close_seconds < 3.0


@pytest.mark.usefixtures("no_leaks")
def test_closing_mid_race_leaves_nothing_running(qtbot):
    from rnnviz.gui.windows.race import RaceWindow

    a = small_config(epochs=1000)
    win = RaceWindow(a, a.replace(cell="lstm"))          # process backend: a training subprocess each
    qtbot.addWidget(win)
    win.show()
    for ctl in win.controllers.values():
        wait_snapshot(qtbot, ctl)
    win.toggle()
    for ctl in win.controllers.values():
        wait_snapshot(qtbot, ctl, lambda s: s.step > 20, timeout=20)
    start = time.perf_counter()
    win.close()
    elapsed = time.perf_counter() - start
    print(f"race window closed in {elapsed * 1000:.0f} ms")
    assert elapsed < 3.0
    for ctl in win.controllers.values():
        assert not ctl.thread.isRunning()
        assert ctl.worker.process is not None and not ctl.worker.process.is_alive()


@pytest.mark.usefixtures("no_leaks")
def test_explore_menu_opens_a_race_and_closing_the_main_window_stops_it(qtbot):
    from rnnviz.gui.features.race_sweep_menu import open_race
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="thread")
    qtbot.addWidget(win)
    wait_snapshot(qtbot, win.controller)
    texts = [a.text() for a in win.menu("&Explore").actions()]
    assert "A/B race…" in texts and "Sweep…" in texts
    shown = []
    win.show_error = lambda title, message: shown.append(message)
    assert open_race(win, "cell=cnn") is None and "'cell'" in shown[-1]
    assert open_race(win, "hidden=16") is None and "at least one setting" in shown[-1]
    race_win = open_race(win, "cell=lstm, lr=0.001")
    qtbot.addWidget(race_win)
    assert race_win.configs["A"] == win.controller.config
    assert race.differences_text(race_win.configs["A"], race_win.configs["B"]) == "cell: rnn → lstm, lr: 0.01 → 0.001"
    for ctl in race_win.controllers.values():
        wait_snapshot(qtbot, ctl)
    win.close()
    assert not race_win.isVisible()
    assert all(not c.thread.isRunning() for c in race_win.controllers.values())


