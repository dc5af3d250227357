"""Gradient-flow panel: how strongly the loss reaches back to each timestep (vanishing / exploding gradients).

Top:    ||dL/ds_t|| per timestep of the monitor batch, log axis, first timestep left; the clipping threshold.
Middle: the same over training (one row per recorded step), log10 colours with fixed levels.
Bottom: ||dL/dtheta|| per parameter over training, log axis.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.panels import plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.markers import HEATMAP_COLOUR, MarkerLines
from rnnviz.gui.panels.ranges import FollowRange, set_ticks_once

FLOW_LEVELS = (-8.0, 2.0)           # log10 of the gradient norm: 1e-8 (vanished) .. 1e2 (exploding)
PARAM_ORDER = ("U", "W", "b", "V", "c")
SYMBOLS_UP_TO = 60                  # draw markers on the per-timestep curve when T is at most this
COMPACT_BELOW = 330                 # panel height (px) below which the ||dL/dtheta|| plot makes room for the others


def _log_image(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(plotting.log_safe(a))


class GradientFlowPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_theme(name)``.

    Items (for tests): ``norm_plot`` with ``norm_curve`` and ``last_curve`` (dashed, from the last step's loss
    only), ``clip_line`` and ``param_clip_line`` (InfiniteLines at log10(clip): the axes are log); ``flow_plot``
    with ``flow_image`` (ImageItem of log10 norms, (R, T)) and ``flow_colorbar``; ``param_plot`` with
    ``param_curves`` (name -> PlotDataItem; the plot title names them in their colours); ``readout``.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        ci = self.view.ci
        self.norm_plot: pg.PlotItem = self.view.addPlot(row=0, col=0, axisItems={"left": plotting.LogAxis("left")})
        self.flow_plot: pg.PlotItem = self.view.addPlot(row=1, col=0)
        self.param_plot: pg.PlotItem = self.view.addPlot(row=2, col=0, axisItems={"left": plotting.LogAxis("left")})
        for r in range(3):
            ci.layout.setRowStretchFactor(r, 1)
        plotting.style_plot(self.norm_plot, None, left="norm", th=th)
        plotting.style_plot(self.flow_plot, None, left="step", bottom="timestep t", grid=False, th=th)
        plotting.set_title(self.flow_plot, "\u2026 over training (a row per recorded step)",
                         style.TITLE_PT - 1, th)
        plotting.style_plot(self.param_plot, None, left="norm", bottom="training step", th=th)
        for p in (self.norm_plot, self.flow_plot, self.param_plot):
            p.getAxis("left").setWidth(78)
            p.titleLabel.setMaximumHeight(26)
        self.flow_plot.setXLink(self.norm_plot)
        self.norm_plot.getAxis("bottom").setStyle(showValues=False)   # the heatmap right below has the same x

        # top: per-timestep norms (the title doubles as the legend: a legend box would cover the curve)
        self.norm_plot.setLogMode(y=True)
        self.norm_curve = self.norm_plot.plot(pen=pg.mkPen(style.colour(0), width=2.5), symbol="o", symbolSize=6,
                                              symbolBrush=style.colour(0), symbolPen=None)
        self.last_curve = self.norm_plot.plot(pen=pg.mkPen(style.colour(3), width=2.5,
                                                           style=QtCore.Qt.PenStyle.DashLine))
        # LSTM: ||dL/dc_t|| of the cell states, same batch and loss (the gradient that rides the forget gate)
        self.cell_curve = self.norm_plot.plot(pen=pg.mkPen(style.colour(2), width=2.5,
                                                           style=QtCore.Qt.PenStyle.DotLine))
        self._cell_shown = False
        self._norm_title(False)
        # vanishing gradients are smallest at the first timesteps: the label goes at the left end
        self.clip_line = self._clip_line(self.norm_plot, "clip = {c} (applies to the total \u2016\u2202L/\u2202\u03b8\u2016)",
                                         in_bounds=True, at_left=True)

        # middle: the heatmap over training
        self.flow_image = pg.ImageItem(axisOrder="row-major")
        self.flow_image.setNanPolicy("omit")
        self.flow_cmap = plotting.log_cmap()
        self.flow_image.setColorMap(self.flow_cmap)
        self.flow_plot.addItem(self.flow_image)
        self.flow_colorbar = plotting.make_colorbar(self.flow_image, self.flow_plot, self.flow_cmap, FLOW_LEVELS,
                                                  "norm", th)
        # the colours are log10 values: label them as the norms they stand for, few enough for a short bar
        self.flow_colorbar.axis.setTicks([[(v, plotting.pow10_text(v, power=True)) for v in (-8, -4, 0)],
                                          [(v, "") for v in (-6, -2, 2)]])
        self.flow_plot.vb.sigResized.connect(self._flow_ticks)

        # bottom: per-parameter norms; the title is the legend (coloured names)
        self.param_plot.setLogMode(y=True)
        self.param_plot.setClipToView(True)
        self.param_curves: dict[str, pg.PlotDataItem] = {}
        # here the curves run just below the line: its label goes in the title instead
        self.param_clip_line = self._clip_line(self.param_plot, "", in_bounds=True)
        # live setting changes: labelled lines at their step on the parameter plot, the heatmap row they fall in
        self.markers = MarkerLines(self.param_plot, th, heights=(0.98, 0.62, 0.26))     # a short plot
        self.flow_markers = MarkerLines(self.flow_plot, th, labelled=False, angle=0, colour=HEATMAP_COLOUR)
        for p in (self.norm_plot, self.param_plot):      # data areas as wide as the heatmap's
            plotting.reserve_colorbar_space(p, self.flow_colorbar)

        # ranges that follow the data in steps, not every frame (see ranges.py)
        self.norm_range = FollowRange(self.norm_plot, "y")
        self.param_x_range = FollowRange(self.param_plot, "x", min_span=10.0)
        self.param_y_range = FollowRange(self.param_plot, "y")

        self.readout = style.label("")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        self.hover = plotting.HoverReadout(self.view, self.readout, [
            (self.norm_plot, self._norm_text), (self.flow_plot, self._flow_text), (self.param_plot, self._param_text)])
        self.reset()

    def _clip_line(self, plot: pg.PlotItem, fmt: str, in_bounds: bool, at_left: bool = False) -> pg.InfiniteLine:
        """A dashed red line at the clipping threshold, labelled just below one end (where the curves are low)."""
        th = self.theme
        anchor = (0, 0) if at_left else (1, 0)
        line = pg.InfiniteLine(angle=0, movable=False,
                               pen=pg.mkPen(th.bad, width=1.5, style=QtCore.Qt.PenStyle.DashLine),
                               label="", labelOpts=dict(position=0.01 if at_left else 0.99, anchors=[anchor, anchor],
                                                        color=th.bad))   # no box: it hid the curve
        line.label.setFont(style.font(style.SMALL_PT))
        line._rnnviz_fmt = fmt
        line.setVisible(False)
        plot.addItem(line, ignoreBounds=not in_bounds)
        return line

    def _theme_changed(self) -> None:
        self._norm_title(self._last_shown)
        self._param_title()
        self.markers.set_theme(self.theme)
        for line in (self.clip_line, self.param_clip_line):
            line.setPen(pg.mkPen(self.theme.bad, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
            line.label.setColor(self.theme.bad)

    def _norm_title(self, with_last: bool) -> None:
        blue, orange = style.colour(0), style.colour(3)
        text = (f"\u2016\u2202L/\u2202s\u209c\u2016 per timestep: "
                f"<span style='color:{blue}'>\u2501 loss of all steps</span>")
        if with_last:
            text += f" &nbsp;<span style='color:{orange}'>\u2504 last step's only</span>"
        if getattr(self, "_cell_shown", False):
            text += f" &nbsp;<span style='color:{style.colour(2)}'>\u2508 \u2016\u2202L/\u2202c\u209c\u2016</span>"
        self.norm_plot.setTitle(text, size=f"{style.TITLE_PT - 1}pt", color=self.theme.foreground)

    def _param_title(self) -> None:
        names = " &nbsp;".join(f"<span style='color:{c.opts['pen'].color().name()}'><b>\u2501 {n}</b></span>"
                               for n, c in self.param_curves.items())
        clip = (f" &nbsp;<span style='color:{self.theme.bad}'>\u2504 clip {self._clip:g} (total)</span>"
                if self._clip > 0 else "")
        self.param_plot.setTitle(f"\u2016\u2202L/\u2202\u03b8\u2016 for \u03b8 = &nbsp;{names}{clip}",
                                 size=f"{style.TITLE_PT - 1}pt", color=self.theme.foreground)

    @property
    def compact(self) -> bool:
        """On a short panel (a 1280x800 projector) the ||dL/dtheta|| plot is taken out so that ||dL/ds_t|| and its
        history, the point of the panel, keep a readable height; it comes back when the panel is tall enough."""
        return self.param_plot.scene() is None

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        want = self.height() < COMPACT_BELOW
        if want != self.compact:
            if want:
                self.view.ci.removeItem(self.param_plot)
            else:
                self.view.ci.addItem(self.param_plot, row=2, col=0)
                self.view.ci.layout.setRowStretchFactor(2, 1)

    # ------------------------------------------------------------------------------------------ drawing
    def reset(self) -> None:
        self._norms = np.zeros(0)
        self._last = np.zeros(0)
        self._flow = np.zeros((0, 0))
        self._flow_steps = np.zeros(0)
        self._param_steps = np.zeros(0)
        self._params: dict[str, np.ndarray] = {}
        self._clip = 0.0
        self._flow_shape = None
        self._T = -1
        self.norm_curve.setData([], [])
        self.last_curve.setData([], [])
        self._cells = np.zeros(0)
        self._cell_shown = False
        self.cell_curve.setData([], [])
        self.cell_curve.setVisible(False)
        self.flow_image.setImage(np.full((1, 1), np.nan), autoLevels=False, levels=FLOW_LEVELS)
        self.flow_image.setVisible(False)
        for name, curve in self.param_curves.items():
            self.param_plot.removeItem(curve)
        self.param_curves.clear()
        self._param_title()
        self._last_shown = False
        self._norm_title(False)
        for line in (self.clip_line, self.param_clip_line):
            line.setVisible(False)
        self.markers.clear()
        self.flow_markers.clear()
        self.readout.setText(self.hover.idle_text)
        for follow in (self.norm_range, self.param_x_range, self.param_y_range):   # a new run: follow again
            follow.resume()

    def render(self, snapshot) -> None:
        # top
        norms = np.asarray(snapshot.grad_norms, dtype=np.float64)
        last = np.asarray(snapshot.grad_norms_last, dtype=np.float64)
        t = np.arange(1, norms.size + 1, dtype=np.float64)
        self._norms, self._last = norms, last
        if norms.size != self._T:                   # timesteps are fixed per model: a fixed x range, no jitter
            self._T = norms.size
            self.norm_plot.setXRange(0.5, max(self._T, 1) + 0.5, padding=0.01)
        shown_norms = plotting.log_safe(norms)
        self.norm_curve.setData(t, shown_norms)
        self.norm_curve.setSymbol("o" if norms.size <= SYMBOLS_UP_TO else None)
        differs = last.shape == norms.shape and not np.allclose(last, norms, equal_nan=True)
        shown_last = plotting.log_safe(last) if differs else np.zeros(0)
        self.last_curve.setData(t if differs else [], shown_last)
        self.last_curve.setVisible(differs)
        if differs != self._last_shown:
            self._last_shown = differs
            self._norm_title(differs)

        clip = float(snapshot.clip or 0.0)
        if clip != self._clip:
            self._clip = clip
            self._param_title()
        for line in (self.clip_line, self.param_clip_line):
            line.setVisible(clip > 0)
            if clip > 0:
                line.setValue(np.log10(clip))          # log axes: the view holds log10 values
                line.label.setFormat(line._rnnviz_fmt.format(c=f"{clip:g}"))
        finite = norms[np.isfinite(norms)]
        if finite.size > 1:                            # the label goes over the end where the curve is lower
            left = finite[0] <= finite[-1]
            anchor = (0, 0) if left else (1, 0)
            label = self.clip_line.label
            if label.anchors[0] != anchor:
                label.anchors = [anchor, anchor]
                label.orthoPos = 0.01 if left else 0.99
                label.updatePosition()
        clip_view = [clip] if clip > 0 else []         # the clip lines count in the y ranges
        cells = np.asarray(snapshot.grad_norms_c, dtype=np.float64)
        with_cell = cells.shape == norms.shape and cells.size > 0
        self._cells = cells if with_cell else np.zeros(0)
        shown_cells = plotting.log_safe(cells) if with_cell else np.zeros(0)
        self.cell_curve.setData(t if with_cell else [], shown_cells)
        self.cell_curve.setVisible(with_cell)
        if with_cell != self._cell_shown:
            self._cell_shown = with_cell
            self._norm_title(self._last_shown)
        self.norm_range.follow(shown_norms, shown_last, shown_cells, clip_view)

        # middle
        flow = np.asarray(snapshot.grad_flow, dtype=np.float64)
        self._flow = flow
        self._flow_steps = np.asarray(snapshot.grad_flow_steps)
        if flow.ndim == 2 and flow.size:
            R, T = flow.shape
            self.flow_image.setImage(_log_image(flow), autoLevels=False, levels=FLOW_LEVELS)
            self.flow_image.setRect(QtCore.QRectF(0.5, -0.5, T, R))   # column t centred on x = t, row r on y = r
            self.flow_image.setVisible(True)
            if self._flow_shape != flow.shape:
                self.flow_plot.setYRange(-0.5, R - 0.5, padding=0)
                self._flow_shape = flow.shape
            self._flow_ticks()
        else:
            self.flow_image.setVisible(False)

        # bottom
        self._param_steps = np.asarray(snapshot.param_grad_steps, dtype=np.float64)
        self._params = {name: np.asarray(v, dtype=np.float64) for name, v in snapshot.param_grad_norms.items()}
        if list(self.param_curves) != self._ordered(self._params):     # a new model: new curves, once
            for curve in self.param_curves.values():
                self.param_plot.removeItem(curve)
            self.param_curves = {}
            for name in self._ordered(self._params):
                self._add_param_curve(name)
            self._param_title()
        shown_params = []
        for name, curve in self.param_curves.items():
            shown_params.append(plotting.log_safe(self._params[name]))
            curve.setData(self._param_steps, shown_params[-1])
        if self._param_steps.size:
            self.param_x_range.follow(self._param_steps)
            self.param_y_range.follow(*shown_params, clip_view)
        markers = getattr(snapshot, "markers", ())
        self.markers.set(markers)
        self.flow_markers.set(markers, self._flow_row, extra_key=(self._flow_steps.size, float(
            self._flow_steps[-1]) if self._flow_steps.size else 0.0))

    def _flow_row(self, step: float) -> float:
        """The heatmap's y (row index, fractional between recorded rows) of training step ``step``; NaN outside."""
        steps = self._flow_steps
        if steps.size < 2 or not steps[0] <= step <= steps[-1]:
            return float("nan")
        return float(np.interp(step, steps.astype(np.float64), np.arange(steps.size, dtype=np.float64)))

    @staticmethod
    def _ordered(params: dict) -> list[str]:
        return sorted(params, key=lambda n: (PARAM_ORDER.index(n) if n in PARAM_ORDER else len(PARAM_ORDER), n))

    def _add_param_curve(self, name: str) -> pg.PlotDataItem:
        i = len(self.param_curves)
        curve = self.param_plot.plot(pen=pg.mkPen(style.colour(i), width=1), name=None)   # width > 1 antialiased: 50x slower to paint
        plotting.make_dense(curve)
        self.param_curves[name] = curve
        return curve

    def _flow_ticks(self, *args) -> None:
        """Label about six rows of the heatmap with their training steps."""
        steps = self._flow_steps
        R = steps.size
        if R == 0:
            set_ticks_once(self.flow_plot.getAxis("left"), [[]])
            return
        n = int(np.clip(self.flow_plot.vb.height() // 30, 2, 6))
        idx = np.unique(np.linspace(0, R - 1, min(R, n)).round().astype(int))
        set_ticks_once(self.flow_plot.getAxis("left"), [[(float(i), f"{int(steps[i])}") for i in idx]])

    # ------------------------------------------------------------------------------------------ hover
    def _norm_text(self, x: float, y: float) -> str | None:
        t = int(round(x)) - 1
        if not 0 <= t < self._norms.size:
            return None
        text = f"t = {t + 1}: \u2016\u2202L/\u2202s\u209c\u2016 = {plotting.fmt(self._norms[t])} (fixed validation batch)"
        if self.last_curve.isVisible() and t < self._last.size:
            text += f"  (from the last step's loss only: {plotting.fmt(self._last[t])})"
        if self.cell_curve.isVisible() and t < self._cells.size:
            text += f"  \u2016\u2202L/\u2202c\u209c\u2016 = {plotting.fmt(self._cells[t])}"
        return text

    def _flow_text(self, x: float, y: float) -> str | None:
        t, r = int(round(x)) - 1, int(round(y))
        if self._flow.ndim != 2 or not (0 <= r < self._flow.shape[0] and 0 <= t < self._flow.shape[1]):
            return None
        return (f"training step {int(self._flow_steps[r])}, t = {t + 1}: "
                f"\u2016\u2202L/\u2202s\u209c\u2016 = {plotting.fmt(self._flow[r, t])}")

    def _param_text(self, x: float, y: float) -> str | None:
        if self._param_steps.size == 0:
            return None
        i = int(np.argmin(np.abs(self._param_steps - x)))
        parts = [f"{n} {plotting.fmt(self._params[n][i], 3)}" for n in self._ordered(self._params)]
        return f"step {int(self._param_steps[i])}: " + ", ".join(parts)
