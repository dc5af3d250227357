"""Setting-change markers on plots whose x axis is the training step: a thin vertical line with a label
("lr 0.01→0.001") at the step where a live setting changed (``Snapshot.markers``).

Lines are pyqtgraph InfiniteLines made once and reused: a frame only moves, relabels, shows or hides them, and
does nothing at all when the markers did not change. Labels take turns at three heights so neighbours do not
overwrite each other.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.gui import style

MARKER_COLOUR = "#9467bd"           # purple: no curve of the loss or gradient panels uses it
LABEL_HEIGHTS = (0.98, 0.78, 0.58)  # fractions of the view height (label tops), cycled so neighbours do not collide
HEATMAP_COLOUR = "#ffffff"          # on viridis, white reads better than purple


class MarkerLines:
    """Markers on ``plot``: ``set(markers)`` with ``markers`` = ((step, text), ...).

    ``angle`` 90 draws vertical lines at x = step; 0 draws horizontal lines at y = ``to_pos(step)`` (e.g. the
    row of a heatmap). ``labelled`` False draws the lines only (a second plot under a labelled one).
    Items (for tests): ``lines`` (every InfiniteLine made, visible ones first), ``shown`` (the markers drawn).
    """

    def __init__(self, plot: pg.PlotItem, th: style.Theme, labelled: bool = True, angle: int = 90,
                 heights: tuple = LABEL_HEIGHTS, colour: str = MARKER_COLOUR):
        self.plot, self.theme, self.labelled, self.angle = plot, th, labelled, angle
        self.heights, self.colour = heights, colour
        self.lines: list[pg.InfiniteLine] = []
        self.shown: tuple = ()
        self._key: tuple | None = None

    def _new_line(self, i: int) -> pg.InfiniteLine:
        pen = pg.mkPen(self.colour, width=1.5, style=QtCore.Qt.PenStyle.DashDotLine)
        opts = {}
        if self.labelled:
            y = self.heights[i % len(self.heights)]
            opts = dict(label="", labelOpts=dict(position=y, anchors=[(0, 0), (0, 0)], color=self.colour,
                                                 fill=pg.mkBrush(self.theme.legend_brush), movable=False))
        line = pg.InfiniteLine(angle=self.angle, movable=False, pen=pen, **opts)
        if self.labelled:
            line.label.setFont(style.font(style.SMALL_PT, bold=True))
        line.setZValue(5)
        self.plot.addItem(line, ignoreBounds=True)      # markers never stretch the axes
        self.lines.append(line)
        return line

    def set(self, markers: Sequence, to_pos: Callable[[float], float] | None = None, extra_key: tuple = ()) -> None:
        """Show ``markers``; ``to_pos`` maps a step to the line's position (default: the step itself)."""
        markers = tuple((int(s), str(t)) for s, t in (markers or ()))
        key = (markers, extra_key)
        if key == self._key:
            return
        self._key = key
        shown = []
        for i, (step, text) in enumerate(markers):
            pos = float(step) if to_pos is None else to_pos(float(step))
            if not np.isfinite(pos):
                continue
            line = self.lines[len(shown)] if len(shown) < len(self.lines) else self._new_line(len(shown))
            # shown first: a hidden line's label ignores a new text (pyqtgraph updates only visible labels), and a
            # reused line then showed the text of an old marker
            line.setVisible(True)
            line.setValue(pos)
            if self.labelled and (line.label.format != text or line.label.toPlainText() != text):
                line.label.setFormat(text)
            shown.append((step, text))
        for line in self.lines[len(shown):]:
            line.setVisible(False)
        self.shown = tuple(shown)

    def clear(self) -> None:
        self.set(())

    def set_theme(self, th: style.Theme) -> None:
        self.theme = th
        for line in self.lines:
            if self.labelled:
                line.label.fill = pg.mkBrush(th.legend_brush)
                line.label.update()
