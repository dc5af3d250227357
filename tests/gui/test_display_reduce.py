"""A heatmap with more entries than its plot has pixels is drawn reduced (each pixel the entry of largest |value|
of its block, a NaN showing as NaN), says so, and its read-out still gives every exact entry."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.gui.panels import WeightsPanel, heatmaps

from snapshot_factory import make_snapshot


def _by_loops(a: np.ndarray, fr: int, fc: int) -> np.ndarray:
    out = np.empty((-(-a.shape[0] // fr), -(-a.shape[1] // fc)), dtype=a.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            block = a[i * fr:(i + 1) * fr, j * fc:(j + 1) * fc].ravel()
            out[i, j] = np.nan if np.isnan(block).any() else block[np.argmax(np.abs(block))]
    return out


@pytest.mark.parametrize("shape, blocks", [((1024, 256), (3, 1)), ((7, 5), (2, 3)), ((10, 4), (3, 2)),
                                           ((9, 9), (4, 4)), ((6, 1), (4, 1)), ((5, 5), (1, 1))])
def test_reduction_keeps_each_blocks_largest_magnitude(shape, blocks):
    rng = np.random.default_rng(sum(shape))
    a = rng.normal(size=shape).astype(np.float32)
    a[rng.random(shape) < 0.01] = np.nan
    got = heatmaps.reduce_for_display(a, blocks)
    assert got.dtype == a.dtype and np.array_equal(got, _by_loops(a, *blocks), equal_nan=True)
    if blocks == (1, 1):
        assert got is a and heatmaps.reduced_note(shape, blocks) == ""
    at = np.ascontiguousarray(a.T).T                      # the same entries in a transposed view (column order)
    assert np.array_equal(heatmaps.reduce_for_display(at, blocks), _by_loops(a, *blocks), equal_nan=True)


def test_blocks_follow_the_pixels():
    assert heatmaps.display_blocks((1024, 256), (400.0, 300.0)) == (3, 1)
    assert heatmaps.display_blocks((40, 10), (400.0, 300.0)) == (1, 1)
    assert heatmaps.display_blocks((1024, 256), (0.0, 0.0)) == (1, 1)         # not laid out yet: full size
    assert heatmaps.reduced_note((1024, 256), (3, 1)).startswith("shown at 342 \u00d7 256 of 1024 \u00d7 256 (largest")


def test_a_weight_matrix_larger_than_its_plot_is_reduced_and_says_so(qtbot):
    panel = WeightsPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 420)
    panel.show()
    qtbot.waitExposed(panel)
    snap = make_snapshot("classification", cell="lstm", d=256)        # W is (1024, 256)
    panel.render(snap)
    qtbot.wait(20)                     # the first frame's texts (the spectral radius) settle the layout
    panel.render(snap)
    vb = panel.plot.vb
    fr, fc = panel.blocks
    assert fr == int(np.ceil(1024 / vb.height())) > 1 and fc == int(np.ceil(256 / vb.width()))
    assert panel.image.image.shape == (-(-1024 // fr), -(-256 // fc))
    assert np.array_equal(panel.image.image, _by_loops(np.asarray(snap.W), fr, fc), equal_nan=True)
    assert panel.reduced_label.isVisible() and "of 1024 \u00d7 256" in panel.reduced_label.text()
    height = vb.height()
    panel.render(snap)                                                 # the note took no room from the plot
    qtbot.wait(20)
    assert vb.height() == height and panel.blocks == (fr, fc)
    r, j = 517, 201                                                    # the read-out: the exact entry
    assert f"= {float(snap.W[r, j]):+.4f}" in panel._w_text(j, r)
    small = make_snapshot("classification", cell="lstm", d=10)
    panel.render(small)
    assert panel.blocks == (1, 1) and np.allclose(panel.image.image, small.W) and panel.reduced_label.text() == ""


def test_eigenvalues_of_an_earlier_step_say_their_step(qtbot):
    """While a big model trains, the eigenvalues come on their own clock (core.explore.amortize): the plot's title
    says their step when it is not the snapshot's own."""
    import dataclasses

    panel = WeightsPanel()
    qtbot.addWidget(panel)
    snap = make_snapshot("classification", cell="lstm", d=10)
    panel.render(dataclasses.replace(snap, step=1250, eigenvalues_step=1200))
    assert panel.eig_plot.titleLabel.text.startswith("Eigenvalues of W at step 1,200<br>")
    panel.render(dataclasses.replace(snap, step=1250, eigenvalues_step=1250))
    assert panel.eig_plot.titleLabel.text.startswith("Eigenvalues of W<br>")


def _shown(qtbot, panel, snap, size=(640, 360)):
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.render(snap)
    qtbot.wait(20)                     # the first frame's texts and the note's line settle the layout
    panel.render(snap)
    return panel


def _check(image, full: np.ndarray) -> tuple[int, int]:
    """``image`` shows ``full`` (rows x columns) reduced to its view box's pixels, block by block (by loops)."""
    vb = image.getViewBox()
    fr, fc = -(-full.shape[0] // int(vb.height())), -(-full.shape[1] // int(vb.width()))
    assert (fr, fc) == heatmaps.display_blocks(full.shape, (vb.height(), vb.width()))
    assert np.array_equal(image.image, _by_loops(full, max(fr, 1), max(fc, 1)), equal_nan=True)
    return fr, fc


def test_big_hidden_states_are_reduced_and_say_so(qtbot):
    from rnnviz.gui.panels import HiddenStatesPanel

    snap = make_snapshot("generation", cell="lstm", d=256, T=200)
    panel = _shown(qtbot, HiddenStatesPanel(), snap)
    states = np.asarray(snap.probe.states, dtype=np.float64)                 # (T, D)
    fr, fc = _check(panel.image, states.T)
    assert fr > 1 and panel.reduced_label.isVisible()
    assert panel.reduced_label.text() == "s\u209c " + heatmaps.reduced_note((256, 200), (fr, fc))
    assert f"s = {states[150, 201]:+.4f}" in panel._text_at(151, 201)       # the read-out: the exact entry
    small = make_snapshot("generation", cell="lstm", d=8, T=12)
    panel.render(small)
    assert np.allclose(panel.image.image, np.asarray(small.probe.states).T) and not panel.reduced_label.isVisible()


def test_big_gates_are_reduced_and_say_so(qtbot):
    from rnnviz.gui.panels import GatesPanel

    snap = make_snapshot("generation", cell="lstm", d=256, T=200)
    panel = _shown(qtbot, GatesPanel(), snap, size=(700, 520))
    most = (1, 1)
    for name, image in panel.images.items():
        values = np.asarray(snap.probe.gates[name], dtype=np.float64)      # (T, d)
        most = max(most, _check(image, values.T))
    assert most > (1, 1) and panel.reduced_label.isVisible()
    assert panel.reduced_label.text() == "i/f/o/c " + heatmaps.reduced_note((256, 200), most)
    f = np.asarray(snap.probe.gates["f"], dtype=np.float64)
    assert f"f = {f[17, 250]:+.4f}" in panel._text_at("f", 18, 250)


def test_big_bptt_heatmaps_are_reduced_and_say_so(qtbot):
    from rnnviz.gui.panels import BPTTPanel

    snap = make_snapshot("generation", cell="lstm", d=256, T=200)
    panel = _shown(qtbot, BPTTPanel(), snap, size=(800, 560))
    T = 200
    panel.set_position(2 * T - 1 - 120)                                     # backward, at t = 120 (0-based)
    states = np.asarray(snap.probe.states, dtype=np.float64)
    grads = np.asarray(snap.probe.bptt.dS, dtype=np.float64)
    shown = np.full_like(grads, np.nan)
    shown[120:] = grads[120:]                                               # filled in from the end
    blocks = _check(panel.state_image, states.T)
    assert blocks > (1, 1) and _check(panel.grad_image, shown.T) == blocks
    assert panel.reduced_label.text() == ("s\u209c and \u2202L/\u2202s\u209c "
                                          + heatmaps.reduced_note((256, 200), blocks))
    bars = panel.vector_bars.opts["height"]                                 # the bars: every unit, exact
    assert np.array_equal(bars, grads[120])


def test_the_reduced_note_stays_until_the_shape_changes(qtbot):
    note = heatmaps.ReducedNote()
    qtbot.addWidget(note)
    note.say("s", (256, 200), (2, 1))
    assert not note.isHidden() and note.text().startswith("s shown at 128 \u00d7 200")
    note.say("s", (256, 200), (1, 1))                    # the panel grew: the line stays, empty
    assert not note.isHidden() and note.text() == ""
    note.say("s", (16, 12), (1, 1))                      # another model
    assert note.isHidden()


def test_a_heatmap_reduced_in_a_small_place_is_drawn_full_again_when_its_place_grows(qtbot):
    """Before training, a lecturer enlarges panels with Z: a heatmap reduced while its place was tiny must be drawn
    again at full size when its place grows, without waiting for a new snapshot."""
    from rnnviz.core.presets import load_preset

    from qt_helpers import open_window

    preset = load_preset("exploding")
    win = open_window(qtbot, preset.config.replace(n_examples=200), size=(1024, 480))
    win.presentation.fullscreen = False
    win.presentation.toggle()
    hidden = win.panels["hidden"]
    D, T = win.controller.latest.probe.states.shape[1], win.controller.latest.probe.states.shape[0]
    place = win.order.index("hidden")
    win.hero.focus((place + 1) % 4)                         # another place is big: this one is a few px tall
    qtbot.waitUntil(lambda: hidden.image.image.shape[0] < D, timeout=5000)
    win.hero.focus(place)                                  # its place grows: drawn again at its new size
    qtbot.waitUntil(lambda: hidden.image.image.shape == (D, T), timeout=5000)
    assert hidden.plot.vb.height() >= D
    win.presentation.toggle()
    win.close()
