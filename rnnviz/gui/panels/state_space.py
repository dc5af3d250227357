"""State-space panel: the hidden states s_t of many validation examples projected to 2-D by PCA.

Each validation example is a path from s_1 to its last state; the colours say what the core's
``explore.state_space`` colours by (classification: the true class, the last state a large dot; labelling: the
true tag of each step; generation: the next token). The probe is the thick path (thinner beyond ``LONG_PROBE``
steps) with its tokens written at its points. The axes are the PCA components of the current states with their
share of the variance, each scaled to fill the panel (its ticks give its units; a reversal of direction stays a
reversal under that scaling). The frame is computed by the training process only while this panel is shown
(``features.state_space_view``).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from rnnviz.gui import style
from rnnviz.gui.fitting import LiveCaption
from rnnviz.gui.panels import plotting
from rnnviz.gui.panels.base import TASK_CLASSIFICATION, Panel
from rnnviz.gui.panels.dot_cloud import DotCloud

OTHER = -1                      # the colour id of grey points: ``frame.OTHER`` (checked in render)
MAX_COLOURS = len(style.PALETTE)
MAX_PROBE_LABELS = 24           # tokens written along the probe's path (every k-th one beyond this)
LONG_PROBE = 50                 # a probe path of more steps is drawn thinner, with smaller dots
PATH_ALPHA = 70                 # paths are faint, so hundreds of them stay readable
REFIT_BELOW = 0.5               # the view is refitted when the points fill less than this share of it
WAITING = "Computing the state space\u2026 (it is computed only while this tab is shown)"


def axis_text(rank: int, share: float) -> str:
    """'PC1 · 42% of the variance' (in whole percents, 0.4% below 1%): readable from the back of a room, and a new
    text, which re-lays the axis out, only when the share moves by a whole percent."""
    return f"PC{rank} \u00b7 {share:.0%} of the variance" if share >= 0.01 else \
        f"PC{rank} \u00b7 {share:.1%} of the variance"


class StateSpacePanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_theme(name)``.

    Items (for tests): ``plot``; ``paths`` (colour id -> PlotDataItem of the paths of that colour, examples
    separated by ``connect``; OTHER: grey); ``dots`` (colour id -> ScatterPlotItem of the last states for
    classification, ``dot_cloud.DotCloud`` of every state otherwise); ``probe_curve``, ``probe_dots`` (a DotCloud), ``probe_labels`` (TextItems);
    ``legend``; ``info`` (what is shown, under the plot); ``frame`` (the StateSpace drawn).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0)
        plotting.style_plot(self.plot, "State space: s\u209c of validation examples, by PCA", left="PC2",
                            bottom="PC1", th=th)
        self.plot.setMouseEnabled(x=False, y=False)
        # the legend has a column of its own right of the plot: with a dozen tags it must not cover the points
        self.legend = pg.LegendItem(offset=None, labelTextSize=f"{style.SMALL_PT + 1}pt",
                                    labelTextColor=th.foreground, brush=pg.mkBrush(th.legend_brush),
                                    pen=pg.mkPen(th.faint))
        side = self.view.ci.addLayout(row=0, col=1)
        side.addItem(self.legend, row=0, col=0)
        spacer = pg.GraphicsWidget()                               # takes the height the legend does not need
        spacer.setMaximumWidth(1)
        side.addItem(spacer, row=1, col=0)
        side.layout.setRowStretchFactor(1, 10)
        side.layout.setRowStretchFactor(0, 0)
        self.view.ci.layout.setColumnStretchFactor(0, 1)
        self.view.ci.layout.setColumnStretchFactor(1, 0)
        self.paths: dict[int, pg.PlotDataItem] = {}
        self.dots: dict[int, pg.ScatterPlotItem] = {}
        self.probe_curve = pg.PlotDataItem()
        self.probe_dots = DotCloud()
        self.probe_curve.setZValue(20)
        self.probe_dots.setZValue(21)
        self.plot.addItem(self.probe_curve)
        self.plot.addItem(self.probe_dots)
        self.probe_labels: list[pg.TextItem] = []
        self.info = LiveCaption(font=style.font(style.SMALL_PT + 1))      # its step changes with every frame
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(self.view, 1)
        box.addWidget(self.info)
        self._style_probe()
        self.reset()

    # ------------------------------------------------------------------------------------------ drawing
    def reset(self) -> None:
        self.frame = None
        self._names: tuple[str, ...] = ()
        self._key: tuple = ()
        self._shown_range: tuple | None = None
        for item in list(self.paths.values()) + list(self.dots.values()):
            self.plot.removeItem(item)
        self.paths.clear()
        self.dots.clear()
        self.legend.clear()
        self.probe_curve.setData([], [])
        self.probe_dots.setData([], [])
        for t in self.probe_labels:
            t.setVisible(False)
        self.info.setText(WAITING)

    def _colour(self, cid: int, alpha: int = 255) -> QtWidgets.QWidget:
        c = pg.mkColor(self.theme.faint if cid == OTHER else style.colour(cid))
        c.setAlpha(alpha)
        return c

    def _style_probe(self, long: bool = False) -> None:
        """The probe's path: thick with large dots, thinner and smaller when it is ``long`` (more than
        LONG_PROBE steps: a long path crosses the picture many times and would hide it)."""
        fg = self.theme.foreground
        self._long_probe = long
        self.probe_curve.setPen(pg.mkPen(fg, width=1.5 if long else 3))
        self.probe_dots.setPen(pg.mkPen(self.theme.background, width=1))
        self.probe_dots.setBrush(pg.mkBrush(fg))
        self.probe_dots.setSize(5 if long else 9)
        for t in self.probe_labels:
            t.setColor(fg)
            t.fill = pg.mkBrush(self.theme.legend_brush)

    def _make_items(self, frame, classification: bool) -> None:
        """Curves and scatters per colour id, and the legend, for a new set of colour names."""
        for item in list(self.paths.values()) + list(self.dots.values()):
            self.plot.removeItem(item)
        self.paths.clear()
        self.dots.clear()
        self.legend.clear()
        ids = list(range(min(len(frame.names), MAX_COLOURS))) + [OTHER]
        for cid in ids:
            line = self._colour(cid, PATH_ALPHA) if classification else self._colour(OTHER, PATH_ALPHA)
            path = pg.PlotDataItem(pen=pg.mkPen(line, width=1), antialias=False)   # hundreds of faint
            # lines: without antialiasing they cost a third to paint and look the same
            path.setZValue(1)
            self.plot.addItem(path)
            self.paths[cid] = path
            # classification: one outlined dot per example; otherwise one per state, thousands: a DotCloud
            dots = (pg.ScatterPlotItem(size=11, pen=pg.mkPen(self.theme.background, width=0.5),
                                       brush=pg.mkBrush(self._colour(cid)))
                    if classification else DotCloud(size=6, brush=self._colour(cid)))
            dots.setZValue(10 if cid != OTHER else 5)
            self.plot.addItem(dots)
            self.dots[cid] = dots
            if cid != OTHER:
                self.legend.addItem(dots, plotting.display_token(frame.names[cid]))
        if classification:
            self.paths[OTHER].setVisible(False)
        else:
            other = "no tag" if not frame.colour_by.startswith("next") else "other tokens"
            self.legend.addItem(self.dots[OTHER], other)
        self.legend.addItem(self.probe_curve, "probe")

    def render(self, snapshot) -> None:
        frame = snapshot.state_space
        if frame is None:
            if self.frame is None:
                self.info.setText(WAITING)
            return
        if frame.OTHER != OTHER:
            raise ValueError(f"state-space frames mark grey points with {frame.OTHER}, this panel with {OTHER}")
        if self.frame is not None and (frame.made_at, frame.step) == (self.frame.made_at, self.frame.step):
            return                       # the same frame again (the core computes it on its own clock)
        classification = snapshot.task == TASK_CLASSIFICATION
        key = (frame.names, classification, frame.colour_by)
        if key != self._key:
            self._make_items(frame, classification)
            self._key = key
        self.frame = frame
        pts, starts, colour = frame.points, frame.starts, frame.colour
        n = len(starts) - 1
        lengths = np.diff(starts)
        ends = starts[1:] - 1                                         # (N,) each example's last point
        connect = np.ones(len(pts), dtype=bool)
        connect[ends] = False                                         # no line from one example to the next
        if classification:
            seq_colour = colour[starts[:-1]] if n else np.zeros(0, np.int64)     # (N,) one class per example
            point_seq = np.repeat(np.arange(n), lengths)
            for cid, path in self.paths.items():
                if cid == OTHER:
                    continue
                mine = seq_colour[point_seq] == cid
                path.setData(pts[mine, 0], pts[mine, 1], connect=connect[mine])
                last = ends[seq_colour == cid]
                self.dots[cid].setData(pts[last, 0], pts[last, 1])
        else:
            self.paths[OTHER].setData(pts[:, 0], pts[:, 1], connect=connect)
            for cid, dots in self.dots.items():
                mine = colour == cid
                dots.setData(pts[mine, 0], pts[mine, 1])
        self._draw_probe(frame, snapshot)
        for side, rank, share in (("bottom", frame.ranks[0], frame.explained[0]),
                                  ("left", frame.ranks[1], frame.explained[1])):
            axis = self.plot.getAxis(side)
            text = axis_text(rank, float(share))
            if axis.labelText != text:          # a new label re-lays the plot out: only when it changes
                plotting.set_axis_label(axis, text, self.theme)
        self._fit(frame)
        info = (f"{n} validation examples, {len(pts)} states s\u209c at step {frame.step}; colour: "
                f"{frame.colour_by}; {'thin' if self._long_probe else 'thick'} path with tokens: the probe "
                f"({frame.probe_label or 'none'}).")
        if frame.swapped:
            info += " The two components' variances crossed: each axis keeps the direction it had."
        if frame.note:
            info += f" <i>{frame.note}</i>."
        self.info.setText(info)

    def _draw_probe(self, frame, snapshot) -> None:
        path = frame.probe
        tokens = list(getattr(snapshot.probe, "tokens", ()) or ()) if snapshot.probe is not None else []
        if path is None or len(path) == 0:
            self.probe_curve.setData([], [])
            self.probe_dots.setData([], [])
            for t in self.probe_labels:
                t.setVisible(False)
            return
        if (len(path) > LONG_PROBE) != self._long_probe:
            self._style_probe(len(path) > LONG_PROBE)
        self.probe_curve.setData(path[:, 0], path[:, 1])
        self.probe_dots.setData(path[:, 0], path[:, 1])
        stride = max(1, int(np.ceil(len(path) / MAX_PROBE_LABELS)))
        shown = list(range(0, len(path), stride))
        if shown[-1] != len(path) - 1:
            shown.append(len(path) - 1)
        while len(self.probe_labels) < len(shown):
            text = pg.TextItem("", anchor=(0, 1), color=self.theme.foreground,
                               fill=pg.mkBrush(self.theme.legend_brush))
            text.setFont(style.font(style.FONT_PT))
            text.setZValue(30)
            self.plot.addItem(text, ignoreBounds=True)
            self.probe_labels.append(text)
        for j, t in enumerate(self.probe_labels):
            if j < len(shown):
                i = shown[j]
                tok = plotting.display_token(tokens[i]) if i < len(tokens) else ""
                text = f"{i + 1}:{tok}" if i in (0, len(path) - 1) else tok
                if t.toPlainText() != text:
                    t.setText(text)
                t.setPos(float(path[i, 0]), float(path[i, 1]))
                t.setVisible(True)
            else:
                t.setVisible(False)

    def _fit(self, frame) -> None:
        """Fit the view to the points (and the probe) when they leave it or fill too little of it."""
        pts = frame.points
        if frame.probe is not None and len(frame.probe):
            pts = np.concatenate([pts, frame.probe])
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) == 0:
            return
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        shown = self._shown_range
        if shown is not None:
            (x0, x1), (y0, y1) = shown
            inside = lo[0] >= x0 and hi[0] <= x1 and lo[1] >= y0 and hi[1] <= y1
            filled = min(span[0] / (x1 - x0), span[1] / (y1 - y0))
            if inside and filled >= REFIT_BELOW:
                return
        pad = 0.06 * span
        self._shown_range = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
        self.plot.setRange(xRange=self._shown_range[0], yRange=self._shown_range[1], padding=0)

    def _theme_changed(self) -> None:
        self._style_probe(self._long_probe)
        self._key = ()                   # the next frame remakes the items in the new theme's colours
        self.frame = None
