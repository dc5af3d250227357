"""Gradient-flow panel: how strongly the loss reaches back to each timestep (vanishing / exploding gradients).

Top:    ||dL_b/ds_t|| per timestep: the mean over the monitor batch's examples that have the timestep
        (``core.train.grad_flow``; for classification of different lengths aligned at each example's last token,
        so the x axis counts steps back from it), log axis. A hollow point is a mean over fewer than all of them.
        The title says over which examples, and the training step when the curve is older than the snapshot; the
        clipping threshold is a dashed line named in the title (a label on the line covered the curve).
Middle: the same over training (one row per recorded step), log10 colours with fixed levels.
Bottom: ||dL/dtheta|| per parameter over training, log axis.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.panels import colormaps, hover, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.markers import HEATMAP_COLOUR, MarkerLines
from rnnviz.gui.panels.ranges import FollowRange, set_ticks_once

FLOW_LEVELS = (-8.0, 2.0)           # log10 of the gradient norm: 1e-8 (vanished) .. 1e2 (exploding)
PARAM_ORDER = ("U", "W", "b", "V", "c")
SYMBOLS_UP_TO = 60                  # draw markers on the per-timestep curve when T is at most this
COMPACT_BELOW = 420                 # panel height (px) below which the ||dL/dtheta|| plot makes room for the others
TINY_BELOW = 300                    # panel height (px) below which the heatmap makes room for the ||dL/ds_t|| curve
NORM_DECADES = 2.0                  # the ||dL/ds_t|| axis spans at least this many powers of ten (3 labels)
ROW_STRETCH = (1, 1, 1)             # the rows share the room evenly up to SIDE_SHARES (below), the curve the rest
SIDE_SHARES = (0.24, 0.32)          # the heatmap and the ||dL/dtheta|| plot: at most these shares of the plots'
SIDE_DATA_PX = 50                   # height, or their titles and axes and this many px of data; the ||dL/ds_t||
                                    # curve takes the rest (the log axis of ||dL/dtheta|| needs ~90 px for three
                                    # labels)


def examples_text(indices) -> str:
    """"validation examples #0-31" (or the first few) for the title."""
    idx = [int(i) for i in np.asarray(indices).ravel()]
    if not idx:
        return "a fixed validation batch"
    if len(idx) == 1:
        return f"validation example #{idx[0]}"
    if idx == list(range(idx[0], idx[0] + len(idx))):
        return f"validation examples #{idx[0]}\u2013{idx[-1]}"
    return "validation examples " + ", ".join(f"#{i}" for i in idx[:4]) + ("\u2026" if len(idx) > 4 else "")


def position_label(t: int, T: int, align: str) -> str:
    """Tick text of position t (1..T): the timestep, or with "end" alignment the steps before the last token."""
    return str(t) if align != "end" else ("last" if t == T else f"\u2212{T - t}")


def snapshot_step(snapshot) -> int:
    return int(getattr(snapshot, "step", -1))


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
        for r, stretch in enumerate(ROW_STRETCH):
            ci.layout.setRowStretchFactor(r, stretch)
        plotting.style_plot(self.norm_plot, None, left="norm", th=th)
        plotting.style_plot(self.flow_plot, None, left="step", bottom="timestep t", grid=False, th=th)
        # no title on the heatmap: its axes say it (rows: training step, columns: timestep t, colour: norm) and its
        # row goes to the curve above
        plotting.style_plot(self.param_plot, None, left="norm", bottom="training step", th=th)
        for p in (self.norm_plot, self.flow_plot, self.param_plot):
            p.getAxis("left").setWidth(78)
            p.titleLabel.setMaximumHeight(26)
        self.flow_plot.setXLink(self.norm_plot)
        self.norm_plot.getAxis("bottom").setStyle(showValues=False)   # the heatmap right below has the same x

        # top: per-timestep norms (the title doubles as the legend: a legend box would cover the curve)
        self.norm_plot.setLogMode(y=True)
        self.norm_curve = self.norm_plot.plot(pen=pg.mkPen(style.colour(0), width=2.5), symbol="o", symbolSize=7,
                                              symbolBrush=style.colour(0), symbolPen=pg.mkPen(style.colour(0)))
        self.last_curve = self.norm_plot.plot(pen=pg.mkPen(style.colour(3), width=2.5,
                                                           style=QtCore.Qt.PenStyle.DashLine))
        # LSTM: ||dL/dc_t|| of the cell states, same batch and loss (the gradient that rides the forget gate)
        self.cell_curve = self.norm_plot.plot(pen=pg.mkPen(style.colour(2), width=2.5,
                                                           style=QtCore.Qt.PenStyle.DotLine))
        self._cell_shown = False
        # the clipping threshold: a dashed line, named in the title (a label on the line covered the curve)
        self.clip_line = self._clip_line(self.norm_plot, in_bounds=True)

        # middle: the heatmap over training
        self.flow_image = pg.ImageItem(axisOrder="row-major")
        self.flow_image.setNanPolicy("omit")
        self.flow_cmap = colormaps.log_cmap()
        self.flow_image.setColorMap(self.flow_cmap)
        self.flow_plot.addItem(self.flow_image)
        self.flow_colorbar = plotting.make_colorbar(self.flow_image, self.flow_plot, self.flow_cmap, FLOW_LEVELS,
                                                  "norm", th)
        # the colours are log10 values: label them as the norms they stand for, few enough for a short bar
        self.flow_colorbar.axis.setTicks([[(v, plotting.pow10_text(v, power=True)) for v in (-8, -4, 0)],
                                          [(v, "") for v in (-6, -2, 2)]])
        self.flow_plot.vb.sigResized.connect(self._flow_ticks)
        self.flow_plot.vb.sigResized.connect(self._position_ticks)

        # bottom: per-parameter norms; the title is the legend (coloured names)
        self.param_plot.setLogMode(y=True)
        self.param_plot.setClipToView(True)
        self.param_curves: dict[str, pg.PlotDataItem] = {}
        self.param_clip_line = self._clip_line(self.param_plot, in_bounds=True)
        # live setting changes: labelled lines at their step on the parameter plot, the heatmap row they fall in
        self.markers = MarkerLines(self.param_plot, th, heights=(0.98, 0.62, 0.26))     # a short plot
        self.flow_markers = MarkerLines(self.flow_plot, th, labelled=False, angle=0, colour=HEATMAP_COLOUR)
        for p in (self.norm_plot, self.param_plot):      # data areas as wide as the heatmap's
            plotting.reserve_colorbar_space(p, self.flow_colorbar)

        # ranges that follow the data in steps, not every frame (see ranges.py)
        self.norm_range = FollowRange(self.norm_plot, "y", min_span=NORM_DECADES)
        self.param_x_range = FollowRange(self.param_plot, "x", min_span=10.0)
        self.param_y_range = FollowRange(self.param_plot, "y")

        self.show_params = True          # False: the ||dL/dtheta|| plot is never shown (the A/B race)
        self.readout = style.label("")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        self.hover = hover.HoverReadout(self.view, self.readout, [
            (self.norm_plot, self._norm_text), (self.flow_plot, self._flow_text), (self.param_plot, self._param_text)])
        self.reset()

    def _clip_line(self, plot: pg.PlotItem, in_bounds: bool) -> pg.InfiniteLine:
        """A dashed red line at the clipping threshold (the plot's title names it)."""
        line = pg.InfiniteLine(angle=0, movable=False,
                               pen=pg.mkPen(self.theme.bad, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        line.setVisible(False)
        plot.addItem(line, ignoreBounds=not in_bounds)
        return line

    def _theme_changed(self) -> None:
        self._title_key = self._axis_text = None
        self._position_ticks()
        self._norm_title()
        self._param_title()
        self.markers.set_theme(self.theme)
        for line in (self.clip_line, self.param_clip_line):
            line.setPen(pg.mkPen(self.theme.bad, width=1.5, style=QtCore.Qt.PenStyle.DashLine))

    def _norm_title(self) -> None:
        """"||dL/ds_t|| (at step 120): ━ all steps' loss ┄ last step's only ┈ ||dL/dc_t|| ○ fewer examples ┄ clip 5
        (total)"; which examples the curves are over is said under the heatmap (``_position_ticks``)."""
        blue, orange, green, red = style.colour(0), style.colour(3), style.colour(2), self.theme.bad
        key = (self._last_shown, self._cell_shown, self._clip, self._stale_step, self._partial, self.theme.name)
        if key == getattr(self, "_title_key", None):
            return
        self._title_key = key
        nb = "&nbsp;"
        text = "\u2016\u2202L/\u2202s\u209c\u2016"
        if self._stale_step is not None:
            text += f" <span style='color:{red}'>(at{nb}step{nb}{self._stale_step})</span>"
        text += f": <span style='color:{blue}'>\u2501{nb}all{nb}steps'{nb}loss</span>"
        if self._last_shown:
            text += f" <span style='color:{orange}'>\u2504{nb}last{nb}step's{nb}only</span>"
        if self._cell_shown:
            text += f" <span style='color:{green}'>\u2508{nb}\u2016\u2202L/\u2202c\u209c\u2016</span>"
        if self._partial:
            text += f" <span style='color:{blue}'>\u25cb{nb}fewer{nb}examples</span>"
        if self._clip > 0:
            text += f" <span style='color:{red}'>\u2504{nb}clip{nb}{self._clip:g}{nb}(total)</span>"
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

    @property
    def tiny(self) -> bool:
        """On a very short panel (a small place on a 1024x768 screen) the history heatmap goes too: the
        ||dL/ds_t|| curve keeps the room and takes the heatmap's x axis."""
        return self.flow_plot.scene() is None

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        k = style.FONT_PT / style.BASE_POINT_SIZE                       # larger fonts need more room
        self.arrange(self.show_params and self.height() >= COMPACT_BELOW * k, self.height() >= TINY_BELOW * k)
        self._share_rows()

    def _share_rows(self) -> None:
        """Cap the heatmap's and the ||dL/dtheta|| plot's heights (the layout's stretch shares out only the room
        beyond each plot's preferred height, which left the curve the lessons point at the smallest of the three)."""
        height = self.view.height()
        for plot, share in zip((self.flow_plot, self.param_plot), SIDE_SHARES):
            plot.setMaximumHeight(max(plot.minimumHeight() + SIDE_DATA_PX, share * height))

    def arrange(self, params: bool, flow: bool) -> None:
        """Put the ||dL/dtheta|| plot and the heatmap in or out (the ||dL/ds_t|| curve always stays)."""
        ci = self.view.ci
        if params == self.compact or flow == self.tiny:
            for plot in (self.flow_plot, self.param_plot):
                if plot.scene() is not None:
                    ci.removeItem(plot)
            row = 1
            for plot, on in ((self.flow_plot, flow), (self.param_plot, params)):
                plot.setVisible(on)
                if on:
                    ci.addItem(plot, row=row, col=0)
                    ci.layout.setRowStretchFactor(row, ROW_STRETCH[1 if plot is self.flow_plot else 2])
                    row += 1
            self.norm_plot.getAxis("bottom").setStyle(showValues=not flow)
            self._axis_text = None
            self._position_ticks()
            QtCore.QTimer.singleShot(0, self, self.refit_axis_titles)       # once the plots have their new sizes

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
        self._align = ""
        self._counts = np.zeros(0, np.int64)
        self._examples = examples_text(())
        self._stale_step: int | None = None
        self._partial = False
        self._title_key = self._axis_text = None
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
        self._norm_title()
        for line in (self.clip_line, self.param_clip_line):
            line.setVisible(False)
        self.markers.clear()
        self.flow_markers.clear()
        self.readout.setText(self.hover.idle_text)
        for follow in (self.norm_range, self.param_x_range, self.param_y_range):   # a new run: no old ranges
            follow.clear()

    def render(self, snapshot) -> None:
        # top
        norms = np.asarray(snapshot.grad_norms, dtype=np.float64)
        last = np.asarray(snapshot.grad_norms_last, dtype=np.float64)
        T = norms.size
        t = np.arange(1, T + 1, dtype=np.float64)
        self._norms, self._last = norms, last
        align = getattr(snapshot, "grad_norms_align", "start")
        counts = np.asarray(getattr(snapshot, "grad_norms_count", np.zeros(0)), dtype=np.int64)
        self._counts = counts if counts.shape == norms.shape else np.zeros(0, np.int64)
        if T != self._T or align != self._align:    # timesteps are fixed per model: a fixed x range, no jitter
            self._T, self._align = T, align
            self.norm_plot.setXRange(0.5, max(T, 1) + 0.5, padding=0.01)
            self._position_ticks()
        shown_norms = plotting.log_safe(norms)
        symbols = T <= SYMBOLS_UP_TO
        full = self._counts.max() if self._counts.size else 0
        partial = symbols and bool(self._counts.size) and bool((self._counts < full).any())
        # hollow points: means over fewer than all the examples
        brush = ([pg.mkBrush(style.colour(0) if n == full else self.theme.background) for n in self._counts]
                 if partial else pg.mkBrush(style.colour(0)))
        self.norm_curve.setData(t, shown_norms, symbol="o" if symbols else None, symbolBrush=brush)
        differs = last.shape == norms.shape and not np.allclose(last, norms, equal_nan=True)
        shown_last = plotting.log_safe(last) if differs else np.zeros(0)
        self.last_curve.setData(t if differs else [], shown_last)
        self.last_curve.setVisible(differs)
        self._last_shown, self._partial = differs, partial
        examples = examples_text(getattr(snapshot, "grad_norms_examples", ()))
        if examples != self._examples:
            self._examples = examples
            self._position_ticks()
        at = int(getattr(snapshot, "grad_norms_step", snapshot_step(snapshot)))
        self._stale_step = at if at != snapshot_step(snapshot) and at >= 0 else None

        clip = float(snapshot.clip or 0.0)
        if clip != self._clip:
            self._clip = clip
            self._param_title()
        self._norm_title()
        for line in (self.clip_line, self.param_clip_line):
            line.setVisible(clip > 0)
            if clip > 0:
                line.setValue(np.log10(clip))          # log axes: the view holds log10 values
        clip_view = [clip] if clip > 0 else []         # the clip lines count in the y ranges
        cells = np.asarray(snapshot.grad_norms_c, dtype=np.float64)
        with_cell = cells.shape == norms.shape and cells.size > 0
        self._cells = cells if with_cell else np.zeros(0)
        shown_cells = plotting.log_safe(cells) if with_cell else np.zeros(0)
        self.cell_curve.setData(t if with_cell else [], shown_cells)
        self.cell_curve.setVisible(with_cell)
        if with_cell != self._cell_shown:
            self._cell_shown = with_cell
            self._norm_title()
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

    def _position_ticks(self, *_args) -> None:
        """x ticks and title of the heatmap's x axis: timesteps, or steps before the last token ("end" alignment),
        and over which examples the curves are means (a shorter wording when the axis is short)."""
        axes = [self.flow_plot.getAxis("bottom"), self.norm_plot.getAxis("bottom")]
        axis = axes[1] if self.tiny else axes[0]                 # the lowest plot's axis carries the title
        ticks = None
        if self._align == "end":
            T = self._T
            step = max(1, int(np.ceil(T / 8)))
            ticks = [[(float(t), position_label(t, T, "end")) for t in range(T, 0, -step)]]
            what = ("steps before each example's last token", "steps before the last token", "steps before the end")
        else:
            what = ("timestep t", "timestep t", "t")
        for a in axes:
            set_ticks_once(a, ticks)
        over = self._examples
        short = over.replace("validation examples", "val.").replace("validation example", "val.")
        variants = (f"{what[0]} \u00b7 mean over {over}", f"{what[1]} \u00b7 mean over {short}",
                    f"{what[2]} \u00b7 mean of {short}", what[2])
        metrics = QtGui.QFontMetricsF(style.font(style.FONT_PT))
        room = axis.geometry().width() - 8 if axis.geometry().width() > 50 else 1e9
        text = next((v for v in variants if metrics.horizontalAdvance(v) <= room), variants[-1])
        if text != getattr(self, "_axis_text", None):
            self._axis_text = text
            plotting.set_axis_label(axis, text, self.theme)
            other = axes[0] if axis is axes[1] else axes[1]
            other.showLabel(False)

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
        n = int(np.clip(self.flow_plot.vb.height() // 22, 3, 6))       # at least three labels
        idx = np.unique(np.linspace(0, R - 1, min(R, n)).round().astype(int))
        set_ticks_once(self.flow_plot.getAxis("left"), [[(float(i), f"{int(steps[i])}") for i in idx]])

    # ------------------------------------------------------------------------------------------ hover
    def _norm_text(self, x: float, y: float) -> str | None:
        t = int(round(x)) - 1
        if not 0 <= t < self._norms.size:
            return None
        if self._align == "end":
            k = self._T - (t + 1)
            where = "at each example's last token" if k == 0 else f"{k} step{'s' * (k != 1)} before the last token"
        else:
            where = f"t = {t + 1}"
        text = f"{where}: mean \u2016\u2202L/\u2202s\u209c\u2016 = {plotting.fmt(self._norms[t])}"
        if self._counts.size:
            text += f" over {int(self._counts[t])} of {int(self._counts.max())} examples"
        if self.last_curve.isVisible() and t < self._last.size:
            text += f"  (from the last step's loss only: {plotting.fmt(self._last[t])})"
        if self.cell_curve.isVisible() and t < self._cells.size:
            text += f"  \u2016\u2202L/\u2202c\u209c\u2016 = {plotting.fmt(self._cells[t])}"
        return text

    def _flow_text(self, x: float, y: float) -> str | None:
        t, r = int(round(x)) - 1, int(round(y))
        if self._flow.ndim != 2 or not (0 <= r < self._flow.shape[0] and 0 <= t < self._flow.shape[1]):
            return None
        where = f"position {position_label(t + 1, self._T, 'end')}" if self._align == "end" else f"t = {t + 1}"
        return (f"training step {int(self._flow_steps[r])}, {where}: "
                f"mean \u2016\u2202L/\u2202s\u209c\u2016 = {plotting.fmt(self._flow[r, t])}")

    def _param_text(self, x: float, y: float) -> str | None:
        if self._param_steps.size == 0:
            return None
        i = int(np.argmin(np.abs(self._param_steps - x)))
        parts = [f"{n} {plotting.fmt(self._params[n][i], 3)}" for n in self._ordered(self._params)]
        return f"step {int(self._param_steps[i])}: " + ", ".join(parts)
