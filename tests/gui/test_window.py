"""The whole window, training for real: keys, panels, settings, bad files, NaN, closing mid-training."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.core.explore.capture import build_probe
from rnnviz.gui.main_window import MainWindow
from rnnviz.gui.panels.registry import PANELS, MissingPanel

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def make_window(qtbot):
    made = []

    def make(backend="thread", **config_changes):
        win = MainWindow(small_config(**config_changes), backend=backend)
        qtbot.addWidget(win)
        win.resize(1400, 900)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        wait_snapshot(qtbot, win.controller)
        return win

    yield make
    for win in made:
        win.close()
        assert win.controller.thread.isFinished() or not win.controller.thread.isRunning()


def press(qtbot, win, key):
    qtbot.keyClick(win, key)


def test_window_opens_with_the_default_lesson(make_window):
    win = make_window()
    assert win.windowTitle().startswith("rnnviz")
    assert win.controller.config.dataset == "negation"
    assert set(win.panels) == set(PANELS)
    assert not any(isinstance(p, MissingPanel) for p in win.panels.values())
    assert win.controls.widgets["dataset"].currentText() == "negation"
    assert win.controls.params_label.text().startswith("Parameters: ")
    cfg, ds = win.controller.config, win.controller.dataset
    d, n, k = cfg.hidden, len(ds.vocab), ds.n_classes
    assert cfg.cell == "rnn" and cfg.layers == 1 and not cfg.bidirectional
    assert win.controller.n_params == d * n + d * d + d + k * d + k          # U, W, b, V, c
    for key in ("start", "step", "epoch", "reset", "quit"):
        assert win.actions_by_name[key].shortcut().toString()
    assert not win.banner.isVisible()


def test_space_trains_and_panels_show_the_trainers_numbers(qtbot, make_window):
    win = make_window()
    ctl = win.controller
    with qtbot.waitSignal(ctl.frameReady, timeout=10000):
        press(qtbot, win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ctl.running, timeout=5000)
    spe = ctl.steps_per_epoch
    wait_snapshot(qtbot, ctl, lambda s: s.epoch >= 2)
    press(qtbot, win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    trainer = ctl.worker.loop.trainer
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == trainer.step_count)
    # the final snapshot drawn in every panel (all of them, tabs included)
    win.show_snapshot(snap, everything=True)
    assert win.panel_errors == []
    assert snap.step > 2 * spe

    # the numbers on screen are the core's own
    steps, losses = trainer.loss_history.view()
    assert np.array_equal(snap.W, trainer.model.params["W"])
    loss_panel = win.panels["loss"]
    x, y = loss_panel.raw_curve.getData()
    assert np.array_equal(x, steps) and np.allclose(y, losses[:, 0])
    vx, vy = loss_panel.val_curve.getData()
    assert np.allclose(vy, [e["val_loss"] for e in trainer.eval_history])

    hidden = win.panels["hidden"]
    probe = build_probe(trainer)
    assert hidden.image.image.shape == probe.states.T.shape
    assert np.allclose(hidden.image.image, probe.states.T)

    grads = win.panels["gradients"]
    gx, gy = grads.norm_curve.getData()
    assert gy.shape == trainer.monitor_norms.shape
    assert grads.flow_image.image.shape == trainer.grad_flow.view()[1].shape

    confusion = win.panels["confusion"]
    conf = trainer.last_eval["confusion"]
    assert confusion.image.image.shape == conf.shape
    rows = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    assert np.allclose(confusion.image.image, rows)

    weights = win.panels["weights"]
    assert np.allclose(weights.image.image, trainer.model.params["W"])

    predictions = win.panels["predictions"]
    heights = predictions.bars.opts["height"]
    assert np.allclose(heights, probe.probs)

    data = win.panels["data"]
    assert data.dataset is ctl.dataset and data.token_table.rowCount() > 0

    # status bar and epoch progress
    assert win.status_labels["step"].text() == f"Step {snap.step}"
    assert win.status_labels["epoch"].text().startswith(f"Epochs done {snap.epoch}")
    assert win.progress.value() == round(1000 * snap.epoch_progress)


def test_keys_step_batch_epoch_and_reset(qtbot, make_window):
    win = make_window()
    ctl = win.controller
    W0 = np.array(ctl.latest.W)
    press(qtbot, win, Qt.Key.Key_S)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 1)
    press(qtbot, win, Qt.Key.Key_E)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == ctl.steps_per_epoch)
    assert snap.epoch == 1 and not ctl.running
    press(qtbot, win, Qt.Key.Key_R)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 0)
    assert np.array_equal(snap.W, W0)
    assert np.array_equal(ctl.worker.loop.trainer.model.params["W"], W0)


def test_changing_cell_and_dataset(qtbot, make_window, monkeypatch):
    win = make_window()
    ctl = win.controller
    questions = []
    monkeypatch.setattr(win, "confirm", lambda q: questions.append(q) or True)
    before = win.controls.params_label.text()

    # untrained: no question, a new LSTM at once, parameter count follows
    cell = win.controls.widgets["cell"]
    cell.setCurrentIndex(cell.findData("lstm"))
    cell.activated.emit(cell.currentIndex())
    snap = wait_snapshot(qtbot, ctl, lambda s: s.cell == "lstm")
    assert questions == [] and snap.gate_names == ("i", "f", "g", "o")
    assert win.controls.params_label.text() != before
    assert ctl.n_params == snap.n_params

    # trained: a structural change asks first; "no" keeps the model
    ctl.step_batch(2)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 2)
    monkeypatch.setattr(win, "confirm", lambda q: questions.append(q) or False)
    win.controls.widgets["hidden"].setValue(20)
    assert len(questions) == 1 and ctl.config.hidden == 16
    assert win.controls.widgets["hidden"].value() == 16
    # "yes" builds the new model
    monkeypatch.setattr(win, "confirm", lambda q: questions.append(q) or True)
    win.controls.widgets["hidden"].setValue(20)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.W.shape[-1] == 20)
    assert len(questions) == 2 and snap.step == 0

    # the learning rate is live: no question, no reset
    ctl.step_batch(2)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 2)
    win.controls.widgets["lr"].setValue(0.003)
    ctl.step_batch(1)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 3)
    assert snap.lr == pytest.approx(0.003) and len(questions) == 2

    # another built-in dataset
    box = win.controls.widgets["dataset"]
    box.setCurrentIndex(box.findData("names", Qt.ItemDataRole.UserRole))
    box.activated.emit(box.currentIndex())
    snap = wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "names")
    assert ctl.dataset.name.startswith("names") or "names" in ctl.dataset.source
    assert win.panel_errors == []


def test_bad_file_shows_the_loaders_message_and_changes_nothing(qtbot, make_window, monkeypatch, tmp_path):
    win = make_window()
    ctl = win.controller
    bad = tmp_path / "broken.tsv"
    bad.write_text("a good line\tpos\nthis line has no label\nanother\tneg\n", encoding="utf-8")
    errors = []
    monkeypatch.setattr(win, "ask_open_file", lambda: str(bad))
    monkeypatch.setattr(win, "ask_task", lambda path: "classification")
    monkeypatch.setattr(win, "show_error", lambda title, text: errors.append(text))
    old_dataset, old_config = ctl.dataset, ctl.config
    win.actions_by_name["open"].trigger()
    assert len(errors) == 1 and "broken.tsv" in errors[0]
    assert ctl.dataset is old_dataset and ctl.config == old_config
    assert win.controls.widgets["dataset"].currentText() == "negation"
    # the old dataset still trains
    press(qtbot, win, Qt.Key.Key_S)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == 1)
    assert snap.config["dataset"] == "negation"


def test_nan_pauses_and_shows_the_banner(qtbot, make_window):
    win = make_window(optimizer="sgd", lr=50.0, spectral_radius=5.0, clip=0.0, activation="relu")
    ctl = win.controller
    with qtbot.waitSignal(ctl.faultRaised, timeout=15000):
        press(qtbot, win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    qtbot.waitUntil(win.banner.isVisible, timeout=5000)
    assert "exploding" in win.banner_label.text().lower()
    assert "clipping" in win.banner_label.text().lower()
    snap = wait_snapshot(qtbot, ctl, lambda s: s.fault is not None)
    assert np.isfinite(snap.W).all()          # the last good weights stay inspectable
    assert win.status_labels["state"].text().startswith("Paused")
    win.show_snapshot(snap, everything=True)
    assert win.panel_errors == []
    # Reset clears the banner
    press(qtbot, win, Qt.Key.Key_R)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 0 and s.fault is None)
    assert not win.banner.isVisible()


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_closing_while_training_is_quick_and_clean(qtbot, make_window, backend, capfd):
    win = make_window(backend=backend)
    ctl = win.controller
    press(qtbot, win, Qt.Key.Key_Space)
    wait_snapshot(qtbot, ctl, lambda s: s.step > 10)
    assert ctl.running
    capfd.readouterr()
    win.close()
    # No clock (the machine is shared): Controller.shutdown bounds every wait of the close, and what is checked is
    # the branch it took. With the process backend the child answers the stop or is killed, so when close()
    # returned the thread had ended and the training child was gone. The thread backend cannot interrupt a step:
    # on a loaded machine its thread may be handed on to finish by itself (keep_until_finished), and it must.
    if backend == "process":
        assert ctl.thread.isFinished()
        assert not ctl.worker.process.is_alive()
    else:
        qtbot.waitUntil(ctl.thread.isFinished, timeout=10000)
    out, err = capfd.readouterr()
    with capfd.disabled():
        print(f"\nclose while training ({backend}): {1000 * win.close_seconds:.0f} ms")
    assert "Destroyed while thread" not in err and "Traceback" not in err


def test_learning_rate_box_reads_scientific_notation(qtbot):
    from rnnviz.gui.controls import ScientificSpinBox

    box = ScientificSpinBox()
    qtbot.addWidget(box)
    box.setRange(1e-6, 10.0)
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "1e-3")
    box.interpretText()
    assert box.value() == pytest.approx(1e-3)
    assert box.textFromValue(0.0005) == "0.0005"
    box.stepBy(1)
    assert box.value() == pytest.approx(2e-3)


def test_opening_a_good_file_retitles_and_the_bar_speaks_of_the_file(qtbot, make_window, monkeypatch, tmp_path):
    from rnnviz.core.presets import load_preset

    win = make_window()
    win.preset = load_preset("negation")
    win.lesson.setText(win.preset.text)
    win.lesson.setVisible(True)
    good = tmp_path / "reviews.tsv"
    good.write_text("".join(f"film {i} was good\tpos\nfilm {i} was bad\tneg\n" for i in range(20)),
                    encoding="utf-8")
    monkeypatch.setattr(win, "ask_open_file", lambda: str(good))
    monkeypatch.setattr(win, "ask_task", lambda path: "classification")
    monkeypatch.setattr(win, "confirm", lambda q: True)
    win.actions_by_name["open"].trigger()
    assert win.controller.config.dataset == str(good)
    assert win.windowTitle() == "rnnviz — reviews.tsv"
    text = win.lesson.text()
    assert "reviews.tsv" in text and "classification" in text and "negation" not in text.lower()


def test_status_speed_is_the_achieved_rate(make_window):
    """With a 50 steps/s limit the status bar must not show the trainer's raw compute speed."""
    win = make_window()
    win.status.rate_mark = None                        # forget the window's own snapshots so far
    assert np.isnan(win._throughput(10, now=100.0))   # the first snapshot only sets the mark
    assert win._throughput(40, now=100.6) == pytest.approx(30 / 0.6)
    assert win._throughput(45, now=100.8) == pytest.approx(30 / 0.6)   # under half a second: unchanged
    assert win._throughput(70, now=101.2) == pytest.approx(30 / 0.6)
    assert np.isnan(win._throughput(0, now=102.0))    # a reset starts again
