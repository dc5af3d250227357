"""Probe by typing: tokens as the dataset's, <unk> for unknown words, states equal to the core's hidden_states for"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.core.train.trainer import Trainer

from helpers import core_states, small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


@pytest.mark.usefixtures("no_leaks")
@pytest.mark.parametrize("backend", ["process"])
def test_window_typed_probe_follows_training(qtbot, backend):
    from rnnviz.gui.main_window import MainWindow

    cfg = small_config(n_examples=200)
    win = MainWindow(cfg, backend=backend)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    ctl = win.controller
    wait_snapshot(qtbot, ctl)
    ctl.step_batch(5)
    wait_snapshot(qtbot, ctl, lambda s: s.step == 5)
    hidden = win.panels["hidden"]
    hidden.probe_text.setText("The film was NOT zzyzx")
    qtbot.keyClick(hidden.probe_text, Qt.Key.Key_Return)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.probe is not None and s.probe.source == "typed")
    qtbot.wait(100)
    assert snap.probe.tokens == ("the", "film", "was", "not", "<unk>")
    reference = Trainer(win.controller.config, dataset=ctl.dataset)    # same seed, same data order
    for _ in range(5):
        reference.step()
    ids, states = core_states(reference, ["the", "film", "was", "not", "zzyzx"])
    np.testing.assert_array_equal(snap.probe.ids, ids)
    np.testing.assert_allclose(snap.probe.states, states, rtol=1e-5, atol=1e-6)
    qtbot.waitUntil(lambda: win.panels["hidden"].source_label.text().startswith("showing: typed"), timeout=5000)
    assert "predicted class" in hidden.source_label.text()
    np.testing.assert_allclose(hidden.image.image, np.asarray(ctl.latest.probe.states, dtype=np.float64).T)
    # more training: still the typed sentence, with the new weights' states
    ctl.step_batch(7)
    snap2 = wait_snapshot(qtbot, ctl, lambda s: s.step == 12)
    for _ in range(7):
        reference.step()
    _, states2 = core_states(reference, ["the", "film", "was", "not", "zzyzx"])
    assert snap2.probe.source == "typed"
    np.testing.assert_allclose(snap2.probe.states, states2, rtol=1e-5, atol=1e-6)
    assert not np.allclose(snap2.probe.states, snap.probe.states)
    # empty text + Enter: back to the validation example
    hidden.probe_text.clear()
    qtbot.keyClick(hidden.probe_text, Qt.Key.Key_Return)
    snap3 = wait_snapshot(qtbot, ctl, lambda s: s.probe.source.startswith("validation"))
    assert snap3.probe.source == "validation #0"
    # only spaces: one clear message, and the validation probe stays
    from rnnviz.gui.features.explore_tools import NO_TOKENS

    hidden.probe_text.setText("   ")
    qtbot.keyClick(hidden.probe_text, Qt.Key.Key_Return)
    assert win.statusBar().currentMessage() == NO_TOKENS
    win.close()
