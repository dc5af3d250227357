"""A/B race: the same start (shared weights, batches), the differences legend, the window's numbers, closing."""
from __future__ import annotations

import time

import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.core.explore import race
from rnnviz.core.explore.capture import build_probe

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def test_cli_race_render_and_errors(tmp_path, capsys):
    out = tmp_path / "race.png"
    rc = main(["race", "--preset", "delayed-recall", "--set", "delay=5", "--set", "n_examples=100",
               "--b", "cell=lstm", "--render", str(out), "--steps", "20", "--size", "1200x800"])
    assert rc == 0 and out.exists()
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    for argv, words in ((["--preset", "negation"], "--b cell=lstm"),
                        (["--preset", "negation", "--b", "cell=cnn"], "'cell'"),
                        (["--preset", "negation", "--b", "colour=red"], "unknown setting"),
                        (["--preset", "negation", "--b", "cell=rnn"], "at least one setting")):
        capsys.readouterr()
        assert main(["race", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err


@pytest.mark.ondemand
def test_classic_race_lstm_beats_tanh_rnn_at_delay_50(tmp_path):
    """The lecture's story, trained for real (about 10 s): tanh RNN stays near chance, the LSTM learns."""
    from rnnviz.core.presets import load_preset
    from rnnviz.gui.windows.race import render_race

    a = load_preset("delayed-recall").config          # delay 50 (at delay 30 the tanh RNN often learns too)
    ta, tb, sharing = race.make_pair(a, race.b_config(a, ["cell=lstm"]))
    for t in (ta, tb):
        for _ in range(400):
            t.step()
    assert tb.last_eval["val_accuracy"] > ta.last_eval["val_accuracy"] + 0.3
    out = render_race(ta.config, tb.config, 400, tmp_path / "race.png")
    assert out.exists()


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
        # the curve of the snapshot's own step (the trainer records one only every monitor_every steps)
        assert snap.grad_norms_step == t.step_count
        assert np.allclose(grads.norm_curve.getData()[1], np.log10(t.measure_monitor()[0]))   # log-y plot
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
    for ctl in ctls.values():        # no clock: closing ended both training threads (shutdown's fast branch)
        assert ctl.thread.isFinished()


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
    for ctl in win.controllers.values():     # no clock: both trainings were ended by the close, none is left
        assert ctl.thread.isFinished()
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
