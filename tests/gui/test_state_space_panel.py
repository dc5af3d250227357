"""The state-space panel draws exactly the core's frame (points, colours, probe, explained variance on the axes),
and the window has the frames computed only while the panel is shown."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.state_space import OTHER, StateSpaceView
from rnnviz.gui.panels.state_space import StateSpacePanel

from helpers import small_config, trainer_for
from qt_helpers import no_leaks, open_window, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def show(qtbot):
    panel = StateSpacePanel()
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def xy(item) -> np.ndarray:
    x, y = item.getData()
    return np.empty((0, 2)) if x is None else np.column_stack([x, y])


def label(panel, side: str) -> str:
    return panel.plot.getAxis(side).labelText


def test_classification_paths_and_last_states_by_class(qtbot):
    trainer = trainer_for("negation", steps=10)
    snap = build_snapshot(trainer, state_space=StateSpaceView())
    frame = snap.state_space
    panel = show(qtbot)
    panel.render(snap)
    lengths = np.diff(frame.starts)
    seq_class = np.asarray(trainer.dataset.val.targets)[frame.examples]
    point_class = np.repeat(seq_class, lengths)
    for cid, name in enumerate(trainer.dataset.classes):
        np.testing.assert_array_equal(xy(panel.paths[cid]), frame.points[point_class == cid])
        np.testing.assert_array_equal(xy(panel.dots[cid]), frame.points[frame.starts[1:] - 1][seq_class == cid])
    legend = [item[1].text for item in panel.legend.items]
    assert legend == list(trainer.dataset.classes) + ["probe"]
    np.testing.assert_array_equal(xy(panel.probe_curve), frame.probe)
    assert label(panel, "bottom") == f"PC1 \u00b7 {round(100 * frame.explained[0])}% of the variance"
    assert label(panel, "left") == f"PC2 \u00b7 {round(100 * frame.explained[1])}% of the variance"
    shown = [t.toPlainText() for t in panel.probe_labels if t.isVisible()]
    assert shown[0] == f"1:{snap.probe.tokens[0]}" and shown[-1].endswith(snap.probe.tokens[-1])
    assert f"{len(frame.examples)} validation examples" in panel.info.text()


def test_labelling_points_by_tag(qtbot):
    trainer = trainer_for("pos", steps=5, cell="gru")
    snap = build_snapshot(trainer, state_space=StateSpaceView())
    frame = snap.state_space
    panel = show(qtbot)
    panel.render(snap)
    for cid in list(range(len(frame.names))) + [OTHER]:
        np.testing.assert_array_equal(xy(panel.dots[cid]), frame.points[frame.colour == cid])
    np.testing.assert_array_equal(xy(panel.paths[OTHER]), frame.points)          # every path, in grey
    assert [item[1].text for item in panel.legend.items] == list(frame.names) + ["no tag", "probe"]


def test_swapped_axes_say_which_component_they_show(qtbot):
    import dataclasses

    trainer = trainer_for("negation", steps=3)
    snap = build_snapshot(trainer, state_space=StateSpaceView())
    frame = dataclasses.replace(snap.state_space, ranks=(2, 1), swapped=True,
                                explained=snap.state_space.explained[::-1].copy())
    panel = show(qtbot)
    panel.render(dataclasses.replace(snap, state_space=frame))
    assert label(panel, "bottom") == f"PC2 \u00b7 {round(100 * frame.explained[0])}% of the variance"
    assert "crossed" in panel.info.text()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_and_reset(qtbot, theme):
    trainer = trainer_for("negation", steps=3)
    snap = build_snapshot(trainer, state_space=StateSpaceView())
    panel = show(qtbot)
    panel.render(snap)
    panel.set_theme(theme)
    panel.render(snap)
    assert len(xy(panel.paths[0])) + len(xy(panel.paths[1])) == len(snap.state_space.points)
    panel.reset()
    assert all(len(xy(p)) == 0 for p in panel.paths.values()) and "only while this tab is shown" in panel.info.text()


def test_frames_are_computed_only_while_the_tab_is_shown(qtbot, no_leaks):
    win = open_window(qtbot, small_config())
    ctl = win.controller
    panel = win.panels["statespace"]
    assert win.tabs.indexOf(panel) >= 0 and not win.state_space_sync.on
    ctl.request_snapshot()
    assert wait_snapshot(qtbot, ctl).state_space is None
    win.tabs.setCurrentWidget(panel)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.state_space is not None)
    qtbot.waitUntil(lambda: panel.frame is not None, timeout=5000)
    assert panel.frame.step == snap.step
    win.tabs.setCurrentIndex(0)
    wait_snapshot(qtbot, ctl, lambda s: s.state_space is None)
    win.close()


def test_a_frame_carried_again_is_not_drawn_again(qtbot):
    """Live, the core hands the same frame to several snapshots (its own clock); through the process pipe each
    arrives as a new object: the panel draws it once."""
    import pickle

    trainer = trainer_for("negation", steps=3)
    view = StateSpaceView()
    snap = build_snapshot(trainer, state_space=view)
    panel = show(qtbot)
    drawn = []
    panel._draw_probe = lambda frame, s, f=panel._draw_probe: drawn.append(frame) or f(frame, s)
    panel.render(snap)
    panel.render(pickle.loads(pickle.dumps(snap)))
    assert len(drawn) == 1
    trainer.step()
    panel.render(build_snapshot(trainer, state_space=view))       # paused: a fresh frame
    assert len(drawn) == 2


def test_help_says_what_colours_and_which_states():
    from rnnviz.core.config import Config
    from rnnviz.gui.panels.help_texts import state_space

    assert "true class" in state_space(Config())
    assert "true tag" in state_space(Config(dataset="pos", task="labelling"))
    gen = state_space(Config(dataset="chars", task="generation", tokenize="char"))
    assert "next token" in gen and "most frequent" in gen
    assert "concatenated" in state_space(Config(bidirectional=True)) and "concatenated" not in state_space(Config())


def test_a_share_under_one_percent_keeps_a_decimal():
    from rnnviz.gui.panels.state_space import axis_text

    assert axis_text(1, 0.4237) == "PC1 \u00b7 42% of the variance"
    assert axis_text(2, 0.0042) == "PC2 \u00b7 0.4% of the variance"
