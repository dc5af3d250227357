"""Heatmaps larger than their plot's pixels are drawn reduced, each pixel the entry of largest |value| of its block,
and say so in a line under the plot (``ReducedNote``); the hover read-outs still give every exact entry."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from rnnviz.gui.style import SMALL_PT, font


def display_blocks(shape: tuple[int, int], pixels: tuple[float, float]) -> tuple[int, int]:
    """Rows and columns of a heatmap of ``shape`` that share one screen pixel of a plot ``pixels`` = (height,
    width) in pixels: (1, 1) when every entry has a pixel or more of its own, or while the plot has no size yet
    (not laid out)."""
    if pixels[0] < 2 or pixels[1] < 2:
        return 1, 1
    fr = max(1, int(np.ceil(shape[0] / max(1.0, float(pixels[0])))))
    fc = max(1, int(np.ceil(shape[1] / max(1.0, float(pixels[1])))))
    return fr, fc


def reduce_for_display(a: np.ndarray, blocks: tuple[int, int]) -> np.ndarray:
    """``a`` (R, C) shown at one value per ``blocks`` = (fr, fc) entries: each block's entry of largest magnitude,
    sign kept (so the extremes a viewer looks for stay visible; a NaN in a block shows as NaN). (ceil(R/fr),
    ceil(C/fc)); ``a`` itself when blocks is (1, 1). Only for drawing: read-outs use the full array."""
    fr, fc = blocks
    if fr > 1:
        a = _largest_of_blocks(a, fr)
    if fc > 1:
        a = _largest_of_blocks(np.ascontiguousarray(a.T), fc).T
    return a


def _largest_of_blocks(a: np.ndarray, f: int) -> np.ndarray:
    """Rows of ``a`` in blocks of ``f`` (the last one padded with zeros, which never outweigh a real entry): per
    block and column, the entry of largest magnitude (its block's max or its min), a NaN winning. Largest-of-blocks
    in rows then in columns is the largest of each 2-D block. ``a`` is made C-contiguous first: the blocks of a
    transposed view (a panel's timesteps × units drawn units × timesteps) are reduced across strided memory, ten
    times slower."""
    a = np.ascontiguousarray(a)
    R = a.shape[0]
    Rp = -(-R // f) * f
    if Rp != R:
        a = np.concatenate([a, np.zeros((Rp - R,) + a.shape[1:], dtype=a.dtype)])
    tiles = a.reshape(Rp // f, f, *a.shape[1:])
    top, bottom = tiles.max(axis=1), tiles.min(axis=1)       # NaN in a block: both NaN, and NaN is kept
    with np.errstate(invalid="ignore"):
        return np.where(-bottom > top, bottom, top)


def reduced_note(shape: tuple[int, int], blocks: tuple[int, int]) -> str:
    """What a reduced heatmap says about itself, e.g. "shown at 512 × 256 of 1024 × 256 (largest |value| of
    each 2 × 1 block)" (its panel's hover read-out gives exact entries); "" when not reduced."""
    fr, fc = blocks
    if fr == 1 and fc == 1:
        return ""
    return (f"shown at {-(-shape[0] // fr)} × {-(-shape[1] // fc)} of {shape[0]} × {shape[1]} (largest "
            f"|value| of each {fr} × {fc} block)")


def set_heatmap(image: pg.ImageItem, a: np.ndarray, levels: tuple[float, float]) -> tuple[int, int]:
    """Draw ``a`` (R, C) in ``image`` at its levels, reduced (``reduce_for_display``) when it has more entries
    than the image's view box has pixels; the blocks used ((1, 1): full size). The caller sets the image's rect in
    data units as for the full array, so hover read-outs index the full array."""
    vb = image.getViewBox()
    blocks = display_blocks(a.shape, (vb.height(), vb.width())) if vb is not None else (1, 1)
    image.setImage(reduce_for_display(a, blocks), autoLevels=False, levels=levels)
    return blocks


class ReducedNote(QtWidgets.QLabel):
    """The line under heatmaps that says they are drawn reduced (``reduced_note``), e.g. "sₜ shown at 128 × 200
    of 256 × 200 (largest |value| of each 2 × 1 block)". It appears with the first reduced frame and stays
    (empty if the panel grows) until the data's shape changes: a line that came and went frame to frame would
    resize the plots and so change the blocks."""

    def __init__(self):
        super().__init__("")
        self.setFont(font(SMALL_PT))
        self.setFixedHeight(self.fontMetrics().lineSpacing() + 2)
        self.setVisible(False)
        self._shape: tuple | None = None
        self._kept = False

    def say(self, name: str, shape: tuple[int, int], blocks: tuple[int, int]) -> None:
        note = reduced_note(shape, blocks)
        text = f"{name} {note}" if note else ""
        if tuple(shape) != self._shape:
            self._shape, self._kept = tuple(shape), False
        self._kept = self._kept or bool(text)
        if text != self.text():
            self.setText(text)
            self.setToolTip(text)
        if self.isHidden() == self._kept:
            self.setVisible(self._kept)
