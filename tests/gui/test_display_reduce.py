"""A heatmap with more entries than its plot has pixels is drawn reduced (each pixel the entry of largest |value|
of its block, a NaN showing as NaN), says so, and its read-out still gives every exact entry."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.gui.panels import WeightsPanel, plotting

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
    got = plotting.reduce_for_display(a, blocks)
    assert got.dtype == a.dtype and np.array_equal(got, _by_loops(a, *blocks), equal_nan=True)
    if blocks == (1, 1):
        assert got is a and plotting.reduced_note(shape, blocks) == ""


def test_blocks_follow_the_pixels():
    assert plotting.display_blocks((1024, 256), (400.0, 300.0)) == (3, 1)
    assert plotting.display_blocks((40, 10), (400.0, 300.0)) == (1, 1)
    assert plotting.display_blocks((1024, 256), (0.0, 0.0)) == (1, 1)         # not laid out yet: full size
    assert plotting.reduced_note((1024, 256), (3, 1)).startswith("shown at 342 \u00d7 256 of 1024 \u00d7 256 (largest")


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
