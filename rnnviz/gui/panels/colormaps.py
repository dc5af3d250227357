"""The panels' colour maps: diverging (states, gradients), sequential (fractions, counts), their strong versions
for a washed-out projector, viridis for log magnitudes, and the black-or-white text that reads on a colour."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from rnnviz.gui.style import Theme, theme


def diverging_cmap() -> pg.ColorMap:
    """Blue (negative) - white (zero) - red (positive), ColorBrewer RdBu reversed."""
    return pg.ColorMap([0.0, 0.25, 0.5, 0.75, 1.0],
                       [(5, 48, 97), (67, 147, 195), (247, 247, 247), (214, 96, 77), (103, 0, 31)],
                       name="rnnviz-diverging")


def sequential_cmap(th: str | Theme | None = None) -> pg.ColorMap:
    """White (0) to dark blue (1), for fractions and counts; on the dark theme dark grey (0) to light blue (1),
    so that empty cells do not glare on a dark screen."""
    if theme(th).name == "dark":
        return pg.ColorMap([0.0, 0.25, 0.5, 0.75, 1.0],
                           [(34, 38, 46), (22, 62, 112), (33, 113, 181), (107, 174, 214), (222, 235, 247)],
                           name="rnnviz-sequential-dark")
    return pg.ColorMap([0.0, 0.25, 0.5, 0.75, 1.0],
                       [(255, 255, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)],
                       name="rnnviz-sequential")


def projector_diverging_cmap() -> pg.ColorMap:
    """The diverging map for a washed-out projector: the same ends, but white only very near zero, so a state
    of +-0.1 is already a clear mid-tone and +-0.5 a strong colour (presentation mode)."""
    return pg.ColorMap([0.0, 0.3, 0.45, 0.5, 0.55, 0.7, 1.0],
                       [(5, 48, 97), (33, 102, 172), (90, 160, 205), (250, 250, 250), (235, 120, 85),
                        (178, 24, 43), (103, 0, 31)], name="rnnviz-diverging-projector")


def projector_sequential_cmap(th: str | Theme | None = None) -> pg.ColorMap:
    """White (0) to dark blue (1) with small fractions already visible (presentation mode); dark grey to light
    blue on the dark theme."""
    if theme(th).name == "dark":
        return pg.ColorMap([0.0, 0.02, 0.25, 0.6, 1.0],
                           [(34, 38, 46), (24, 70, 125), (45, 130, 200), (120, 185, 225), (235, 243, 252)],
                           name="rnnviz-sequential-projector-dark")
    return pg.ColorMap([0.0, 0.02, 0.25, 0.6, 1.0],
                       [(255, 255, 255), (170, 205, 232), (66, 146, 198), (8, 81, 156), (8, 38, 90)],
                       name="rnnviz-sequential-projector")


def heatmap_cmap(kind: str, projector: bool = False, th: str | Theme | None = None) -> pg.ColorMap:
    """The colour map of family ``kind`` ("diverging" or "sequential") on theme ``th``; ``projector``: its strong
    version for presentation mode."""
    if kind == "diverging":
        return projector_diverging_cmap() if projector else diverging_cmap()
    if kind == "sequential":
        return (projector_sequential_cmap if projector else sequential_cmap)(th)
    raise ValueError(f"no colour map family {kind!r}")


def log_cmap() -> pg.ColorMap:
    """Perceptually uniform map for log10 magnitudes (viridis: dark = vanishing, yellow = exploding)."""
    return pg.colormap.get("viridis")


def text_colour_on(cmap: pg.ColorMap, fraction: float) -> QtGui.QColor:
    """Black or white, whichever reads better on ``cmap`` at ``fraction`` in [0, 1]."""
    return _ink(cmap.map(float(np.clip(fraction, 0.0, 1.0)), mode=pg.ColorMap.QCOLOR))


def text_colours_on(cmap: pg.ColorMap, fractions: Any) -> list[QtGui.QColor]:
    """``text_colour_on`` for each of ``fractions``, with one lookup in ``cmap`` for them all."""
    return [_ink(c) for c in cmap.map(np.clip(np.asarray(fractions, dtype=float), 0.0, 1.0), mode=pg.ColorMap.QCOLOR)]


def _ink(c: QtGui.QColor) -> QtGui.QColor:
    luminance = 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()
    return QtGui.QColor("#000000" if luminance > 140 else "#ffffff")
