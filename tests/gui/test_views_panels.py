"""The gates, who-reaches-whom and equation panels draw exactly what the Snapshot holds (whose numbers
tests/core/test_views_maths.py checks against the textbook), for the vanilla RNN (saying plainly when a view does
not apply), the LSTM and the GRU, in the light and dark themes and in presentation mode; a click on the hidden-state
heatmap opens that unit's equation; the who-reaches-whom matrix is computed only while its panel is on screen; the
worked-example lesson shows the articles' printed digits."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from rnnviz.core import Config, Trainer
from rnnviz.core.equation import lines, plain, unit_equation
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset
from rnnviz.gui.panels.equation import EquationPanel
from rnnviz.gui.panels.gates import NO_GATES, GatesPanel
from rnnviz.gui.panels.gradients import GradientFlowPanel
from rnnviz.gui.panels.reach import CLASSIFICATION, ReachPanel

from qt_helpers import no_leaks  # noqa: F401  (a fixture)

LOOKS = [("light", False), ("dark", False), ("light", True), ("dark", True)]


def snapshot_after(cell: str, task: str = "labelling", steps: int = 17):
    data = {"labelling": dict(dataset="pos", task="labelling"),
            "classification": dict(dataset="negation", task="classification")}[task]
    t = Trainer(Config(cell=cell, hidden=6, n_examples=80, batch_size=8, epochs=50, seed=5, **data))
    for _ in range(steps):
        t.step()
    t.record_monitor()
    return build_snapshot(t, reach=True)


@pytest.fixture(scope="module")
def snaps():
    return {cell: snapshot_after(cell) for cell in ("rnn", "lstm", "gru")}


def _look(panel, look):
    theme, projector = look
    panel.set_theme(theme)
    panel.set_projector(projector)


@pytest.mark.parametrize("look", LOOKS)
@pytest.mark.parametrize("cell", ("lstm", "gru"))
def test_gates_panel_draws_the_probes_gates(qtbot, snaps, cell, look):
    panel = GatesPanel()
    qtbot.addWidget(panel)
    _look(panel, look)
    snap = snaps[cell]
    panel.render(snap)
    names = ("i", "f", "o", "c") if cell == "lstm" else ("r", "z")
    assert tuple(panel.images) == names and not panel.note.isVisibleTo(panel)
    for name in names:
        image = panel.images[name]
        np.testing.assert_array_equal(image.image, np.asarray(snap.probe.gates[name]).T)
        if name == "c":
            lo, hi = panel.c_levels
            assert lo == -hi and hi >= np.abs(snap.probe.gates["c"]).max()
            assert tuple(image.levels) == (lo, hi)
        else:
            assert tuple(image.levels) == (0.0, 1.0)
    for name, curve in panel.sat_curves.items():
        x, y = curve.getData()
        np.testing.assert_array_equal(x, snap.gate_saturation_steps)
        np.testing.assert_array_equal(y, snap.gate_saturation[name])
    # the levels of c only grow: a later probe with smaller |c| keeps them
    if cell == "lstm":
        before = panel.c_levels
        panel.render(snap)
        assert panel.c_levels == before


def test_gates_panel_says_the_vanilla_rnn_has_none(qtbot, snaps):
    panel = GatesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.render(snaps["rnn"])
    assert panel.note.isVisible() and panel.note.text() == NO_GATES and not panel.view.isVisible()
    panel.render(snaps["lstm"])                         # a new model of another cell: the heatmaps come back
    assert panel.view.isVisible() and not panel.note.isVisible()


@pytest.mark.parametrize("look", LOOKS)
@pytest.mark.parametrize("cell", ("rnn", "lstm", "gru"))
def test_reach_panel_draws_log10_of_the_matrix(qtbot, snaps, cell, look):
    panel = ReachPanel()
    qtbot.addWidget(panel)
    _look(panel, look)
    snap = snaps[cell]
    panel.render(snap)
    m = np.asarray(snap.probe.reach)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(panel.image.image, np.log10(np.maximum(m, 1e-12)), equal_nan=True)
    assert panel.image.isVisible()
    T = m.shape[1]
    assert panel.image.image.shape == (len(snap.probe.reach_rows), T)
    # the read-out names the loss step, the state step and the value
    r, t = len(snap.probe.reach_rows) - 1, 0
    text = panel._text_at(t + 1, r)
    assert f"t\u2032 = {snap.probe.reach_rows[r] + 1}" in text and f"t = {t + 1}" in text


def test_reach_panel_classification_shows_one_row_and_says_why(qtbot):
    snap = snapshot_after("lstm", "classification", 5)
    panel = ReachPanel()
    qtbot.addWidget(panel)
    panel.render(snap)
    assert panel.image.image.shape[0] == 1 and panel.note.text() == CLASSIFICATION
    plain_snap = build_snapshot(Trainer(Config(dataset="negation", hidden=4, n_examples=40)))
    panel.reset()
    panel.render(plain_snap)                           # no matrix asked for: it says it computes only on screen
    assert not panel.image.isVisible() and "only while this panel is on screen" in panel.note.text()


@pytest.mark.parametrize("look", LOOKS)
@pytest.mark.parametrize("cell", ("rnn", "lstm", "gru"))
def test_equation_panel_writes_the_cores_lines(qtbot, snaps, cell, look):
    panel = EquationPanel()
    qtbot.addWidget(panel)
    _look(panel, look)
    snap = snaps[cell]
    panel.render(snap)
    panel.select(3, 2)
    eq = unit_equation(snap.probe, cell, "tanh", snap.task, snap.classes, 3, 2)
    assert panel.lines == lines(eq, panel.decimals_box.value())
    shown = panel.text.toPlainText()
    assert f"{eq.s:.3f}".replace("-", "\u2212") in shown
    assert panel.step_box.value() == 4 and panel.unit_box.value() == 2
    panel.unit_box.setValue(7)                           # hidden = 6: the box stops at unit 5
    assert panel.unit_box.value() == 5 and panel.lines
    panel.select(0, 7)
    assert panel.lines == [] and panel.message == "the model has 6 hidden units: choose j from 0 to 5"


def test_gradient_panel_adds_the_cell_state_curve_for_the_lstm(qtbot, snaps):
    panel = GradientFlowPanel()
    qtbot.addWidget(panel)
    panel.render(snaps["lstm"])
    x, y = panel.cell_curve.getData()                   # the axis is log: the curve holds log10 of the norms
    np.testing.assert_allclose(10 ** y, snaps["lstm"].grad_norms_c, rtol=1e-12)
    np.testing.assert_array_equal(x, np.arange(1, snaps["lstm"].grad_norms_c.size + 1))
    assert panel.cell_curve.isVisible() and "\u2202L/\u2202c" in panel.norm_plot.titleLabel.text
    panel.render(snaps["gru"])
    assert not panel.cell_curve.isVisible() and "\u2202L/\u2202c" not in panel.norm_plot.titleLabel.text


def test_clicking_a_hidden_state_opens_its_equation(qtbot, no_leaks):
    from rnnviz.gui.main_window import MainWindow
    from qt_helpers import wait_snapshot

    from helpers import small_config

    win = MainWindow(small_config(n_examples=120), backend="thread")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    snap = wait_snapshot(qtbot, win.controller)
    hidden, equation = win.panels["hidden"], win.panels["equation"]
    qtbot.waitUntil(lambda: hidden._states.size > 0, timeout=5000)
    t, j = 2, 5
    pos = hidden.plot.vb.mapViewToScene(QtCore.QPointF(t + 1, j))          # the centre of cell (t, j)
    qtbot.mouseClick(hidden.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=hidden.view.mapFromScene(pos))
    qtbot.waitUntil(lambda: (equation.t, equation.j) == (t, j), timeout=3000)
    assert win.tabs.currentWidget() is equation
    shown = equation._snapshot
    eq = unit_equation(shown.probe, shown.cell, "tanh", shown.task, shown.classes, t, j)
    assert equation.lines == lines(eq, 3) and equation.lines[0][1].startswith(f"t = {t + 1} ")
    win.close()


def test_the_reach_matrix_is_computed_only_while_its_panel_is_shown(qtbot, no_leaks):
    from rnnviz.gui.main_window import MainWindow
    from qt_helpers import wait_snapshot

    from helpers import small_config

    win = MainWindow(small_config(n_examples=120), backend="thread")
    qtbot.addWidget(win)
    win.show()
    ctl = win.controller
    snap = wait_snapshot(qtbot, ctl)
    assert snap.probe.reach is None
    win.tabs.setCurrentWidget(win.panels["reach"])
    wait_snapshot(qtbot, ctl, lambda s: s.probe.reach is not None)
    win.tabs.setCurrentWidget(win.panels["confusion"])
    wait_snapshot(qtbot, ctl, lambda s: s.probe.reach is None)
    win.close()


# the articles' printed digits for the word "dogs" after the first letter "d"
ARTICLE_A1, ARTICLE_H1, ARTICLE_Y1 = ("0.60", "0.20", "0.90"), ("0.54", "0.20", "0.72"), ("0.32", "0.21", "0.24", "0.22")


def test_worked_example_lesson_shows_the_articles_numbers(qtbot):
    from rnnviz.gui.main_window import MainWindow

    preset = load_preset("worked-example")
    trainer = Trainer(preset.config)
    snap = build_snapshot(trainer)
    win = MainWindow(preset.config, dataset=trainer.dataset, preset=preset, start=False)
    qtbot.addWidget(win)
    win.show()
    win.show_snapshot(snap, everything=True)
    panel = win.panels["equation"]
    assert win.order[0] == "equation" and (panel.t, panel.j) == (0, 0)
    panel.decimals_box.setValue(2)
    text = panel.text.toPlainText()
    assert [plain(x) for _, x in panel.lines] == [line for line in text.splitlines() if line.strip()]
    assert "t = 1 (\u201cd\u201d)" in text
    assert f"a1 = [{', '.join(ARTICLE_A1)}]" in text
    assert f"s1 = tanh(a1) = [{', '.join(ARTICLE_H1)}]" in text
    assert "y1 = " + "  ".join(f"{c}: {v}" for c, v in zip("dogs", ARTICLE_Y1)) in text
    for j, h in enumerate(ARTICLE_H1):                     # each unit's own equation too
        panel.select(0, j)
        assert f"s1[{j}] = tanh({ARTICLE_A1[j]}) = {h}" in panel.text.toPlainText()
    win.close()
