"""Export (PNG, SVG, CSV) and sessions in the real window: saved mid-training, reopened in a new window, its plots
and predictions compared with the original; bad session files leave the window's model alone."""
from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from rnnviz.core.presets import parse_preset
from rnnviz.gui.features import export

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def make_window(qtbot):
    from rnnviz.gui.main_window import MainWindow

    made = []

    def make(**changes):
        win = MainWindow(small_config(**changes), backend="thread")
        qtbot.addWidget(win)
        win.resize(1400, 900)
        win.show()
        qtbot.waitExposed(win)
        wait_snapshot(qtbot, win.controller)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()


def _train(qtbot, win, n):
    ctl = win.controller
    start = ctl.latest.step
    ctl.step_batch(n)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.step == start + n)
    win.show_snapshot(snap, everything=True)
    return snap


# ------------------------------------------------------------------------------------------------ export
def test_export_panels_window_and_metrics(qtbot, make_window, tmp_path):
    win = make_window()
    ctl, actions = win.controller, win.session_actions
    _train(qtbot, win, 10)
    win.controls.settingChanged.emit("lr", ctl.config.lr / 2)
    snap = _train(qtbot, win, 2 * ctl.steps_per_epoch)

    # a panel: PNG of its plot scene at the size on screen, SVG with text and vector paths
    loss = win.panels["loss"]
    png = actions.export_view("loss", str(tmp_path / "loss.png"))
    image = QImage(str(png))
    assert not image.isNull() and (image.width(), image.height()) == (loss.view.width(), loss.view.height())
    svg = actions.export_view("loss", str(tmp_path / "loss.svg"))
    root = ET.parse(svg).getroot()
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "training step" in texts and "nats per sequence" in texts
    assert any(e.tag.endswith(("path", "polyline")) for e in root.iter())
    # a panel in a hidden tab still exports (drawn first)
    data_png = actions.export_view("weights", str(tmp_path / "weights.png"))
    assert not QImage(str(data_png)).isNull()

    # the whole window: PNG at the window's size, SVG too (QtSvg is in PySide6-Essentials)
    image = QImage(str(actions.export_view(None, str(tmp_path / "window.png"))))
    assert (image.width(), image.height()) == (win.width(), win.height())
    root = ET.parse(actions.export_view(None, str(tmp_path / "window.svg"))).getroot()
    assert root.get("viewBox").split() == ["0", "0", str(win.width()), str(win.height())]
    assert any(e.tag.endswith("text") for e in root.iter())

    # through the menu, with the file dialog replaced
    actions.ask_save_path = lambda *a: str(tmp_path / "menu.png")
    win.actions_by_name["export_gradients"].trigger()
    assert QImage(str(tmp_path / "menu.png")).width() == win.panels["gradients"].view.width()
    actions.ask_save_path = lambda *a: str(tmp_path / "right-click.svg")
    menu = win.panels["confusion"].view.scene().contextMenu
    next(a for a in menu if a.text().startswith("Export this panel")).trigger()
    assert "Validation confusion matrix" in (tmp_path / "right-click.svg").read_text(encoding="utf-8")

    # metrics: every training step and every evaluation, numbers equal to the snapshot's
    path = actions.export_metrics(str(tmp_path / "metrics.csv"))
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(export.CSV_COLUMNS)
    col = lambda name: np.array([float(r[name]) if r[name] else np.nan for r in rows])  # noqa: E731
    steps = col("step")
    train = ~np.isnan(col("train_loss"))
    assert np.array_equal(steps[train], snap.train_steps) and np.array_equal(col("train_loss")[train],
                                                                            snap.train_loss)
    val = ~np.isnan(col("val_loss"))
    assert np.array_equal(steps[val], snap.val_steps) and np.array_equal(col("val_loss")[val], snap.val_loss)
    assert np.array_equal(col("val_accuracy")[val], snap.val_accuracy)
    assert [(int(float(r["step"])), r["marker"]) for r in rows if r["marker"]] == list(snap.markers)

    # errors: one message each, naming the file
    shown = []
    win.show_error = lambda title, message: shown.append(message)
    assert actions.export_view("loss", str(tmp_path / "loss.jpg")) is None
    assert actions.export_view(None, str(tmp_path / "no" / "such" / "dir.svg")) is None
    assert "loss.jpg: choose a .png or .svg" in shown[0] and "no folder" in shown[1]

    # Copy settings: a preset the parser reads back as the settings in force (the live lr change included)
    win.actions_by_name["copy_settings"].trigger()
    text = QApplication.clipboard().text()
    assert parse_preset("pasted", text).config == ctl.config == ctl.worker.loop.trainer.config


# ---------------------------------------------------------------------------------------------- sessions
def _plotted(win):
    """What the panels show: the data of the curves, images, labels and predictions."""
    loss, grads = win.panels["loss"], win.panels["gradients"]
    conf, pred, hidden = win.panels["confusion"], win.panels["predictions"], win.panels["hidden"]
    out = {
        "loss.raw": loss.raw_curve.getData(), "loss.val": loss.val_curve.getData(),
        "loss.metric": loss.metric_curve.getData(), "loss.markers": [(l.value(), l.label.format) for l in
                                                                      loss.markers.lines if l.isVisible()],
        "grads.norm": grads.norm_curve.getData(), "grads.flow": grads.flow_image.image,
        "grads.params": {k: c.getData() for k, c in grads.param_curves.items()},
        "conf.image": conf.image.image, "conf.text": [[t.toPlainText() for t in row] for row in conf.cell_text],
        "conf.accuracy": conf.accuracy_label.text(),
        "pred.bars": pred.bars.opts["height"], "pred.caption": pred.caption.text(),
        "hidden.image": hidden.image.image,
        "status.val": win.status_labels["val"].text(),
    }
    return out


def _same(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (tuple, list)) and a and not isinstance(a[0], str) and not isinstance(a[0], (tuple, list)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True), path
    else:
        assert a == b, path


def test_session_saved_mid_training_reopens_with_the_same_plots_and_predictions(qtbot, make_window, tmp_path):
    original = make_window()
    ctl = original.controller
    path = tmp_path / "lesson.rnnviz.npz"
    ctl.start_training()
    wait_snapshot(qtbot, ctl, lambda s: s.step >= 15)
    original.controls.settingChanged.emit("lr", ctl.config.lr / 4)      # a live change: a marker
    wait_snapshot(qtbot, ctl, lambda s: s.step >= 30 and bool(s.markers))
    with qtbot.waitSignal(original.session_actions.saved, timeout=10000) as saved:
        original.session_actions.save_session(str(path))                # while training runs
    saved_step = saved.args[0].step
    ctl.pause()
    qtbot.waitUntil(lambda: not ctl.running, timeout=5000)
    trainer = ctl.worker.loop.trainer
    end = wait_snapshot(qtbot, ctl, lambda s: s.step == trainer.step_count)
    assert end.step > saved_step               # training went on after the save
    original.show_snapshot(end, everything=True)
    want = _plotted(original)

    reopened = make_window(hidden=8, cell="lstm")        # another model, to be replaced by the session's
    actions = reopened.session_actions
    with qtbot.waitSignal(actions.opened, timeout=10000):
        assert actions.open_session(str(path))
    rctl = reopened.controller
    snap = wait_snapshot(qtbot, rctl, lambda s: s.step == saved_step)
    reopened.show_snapshot(snap, everything=True)
    assert rctl.config == trainer.config and reopened.controls.widgets["hidden"].value() == trainer.config.hidden
    first = _plotted(reopened)
    # at the saved step: the history is the original's up to that step
    x, y = want["loss.raw"]
    keep = x <= saved_step
    _same(first["loss.raw"], (x[keep], y[keep]))
    vx, vy = want["loss.val"]
    _same(first["loss.val"], (vx[vx <= saved_step], vy[vx <= saved_step]))
    assert first["loss.markers"] == want["loss.markers"]

    # continued to the original's step, everything drawn is the original's, number for number
    _train(qtbot, reopened, end.step - saved_step)
    _same(_plotted(reopened), want)
    assert reopened.panel_errors == [] and original.panel_errors == []


def test_bad_session_files_change_nothing(qtbot, make_window, tmp_path):
    """Damaged, truncated, newer, foreign: one message naming the file; the window keeps its model."""
    from rnnviz.core.files import atomic_save_npz, json_to_array
    from rnnviz.core.io.checkpoint import save_checkpoint

    win = make_window()
    ctl = win.controller
    _train(qtbot, win, 5)
    good = tmp_path / "good.npz"
    with qtbot.waitSignal(win.session_actions.saved, timeout=10000):
        win.session_actions.save_session(str(good))
    trainer = ctl.worker.loop.trainer
    bad = {name: tmp_path / f"{name}.npz" for name in ("text", "truncated", "checkpoint", "newer", "other-data")}
    bad["text"].write_text("not a session\n")
    bad["truncated"].write_bytes(good.read_bytes()[:300])
    save_checkpoint(bad["checkpoint"], trainer)
    arrays = dict(np.load(good, allow_pickle=False))
    atomic_save_npz(bad["newer"], {**arrays, "meta.json": json_to_array({"format": "rnnviz-session",
                                                                         "version": 99})})
    fewer = np.random.default_rng(0).permutation(arrays["order"].size - 3)    # an order of other, fewer examples
    atomic_save_npz(bad["other-data"], {**arrays, "order": fewer})
    expect = {"text": "not a readable", "truncated": "not a readable", "checkpoint": "not a session",
              "newer": "newer rnnviz", "other-data": "have changed since the session was saved"}
    shown = []
    win.show_error = lambda title, message: shown.append(message)
    before = (trainer, ctl.config, win.windowTitle(), ctl.dataset)
    for name, path in bad.items():
        win.session_actions.ask_open_path = lambda p=path: str(p)
        win.actions_by_name["open_session"].trigger()
        assert len(shown) == 1 and shown[0].startswith(str(path)) and expect[name] in shown[0], (name, shown)
        shown.clear()
    # a session that cannot be written (the name of a folder): the worker's message, shown once
    with qtbot.waitSignal(win.session_actions.failed, timeout=10000) as failed:
        win.session_actions.save_session(str(tmp_path))
    assert failed.args[0] == f"{tmp_path}: cannot be written: it is a folder" and shown == [failed.args[0]]
    win.session_actions.ask_open_path = lambda: None                   # the dialog cancelled: nothing happens
    assert win.session_actions.open_session() is False
    _train(qtbot, win, 1)
    assert (ctl.worker.loop.trainer, ctl.config, win.windowTitle(), ctl.dataset) == before
    assert ctl.latest.step == 6


def test_sessions_with_the_process_backend(qtbot, tmp_path):
    """Save and open run in the training subprocess, between two steps, and report back."""
    from rnnviz.core.io.session import load_session
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="process")
    qtbot.addWidget(win)
    win.show()
    try:
        ctl, actions = win.controller, win.session_actions
        wait_snapshot(qtbot, ctl, timeout=30)
        ctl.step_batch(7)
        at7 = wait_snapshot(qtbot, ctl, lambda s: s.step == 7, timeout=30)
        with qtbot.waitSignal(actions.saved, timeout=10000):
            actions.save_session(str(tmp_path / "child.npz"))
        assert load_session(tmp_path / "child.npz").step == 7
        ctl.step_batch(5)
        wait_snapshot(qtbot, ctl, lambda s: s.step == 12, timeout=30)
        win.confirm = lambda question: True                 # "replace the model trained here?"
        with qtbot.waitSignal(actions.opened, timeout=10000):
            assert actions.open_session(str(tmp_path / "child.npz"))
        back = wait_snapshot(qtbot, ctl, lambda s: s.step == 7, timeout=30)
        assert np.array_equal(back.train_loss, at7.train_loss) and np.array_equal(back.W, at7.W)
    finally:
        win.close()
