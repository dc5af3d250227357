"""Who-reaches-whom panel: ||dL_t'/ds_t|| of the probe, each step's loss followed back on its own (itemised BPTT).

Rows: the loss at step t' (top: the first); columns: the state s_t. Colours are log10 of the norm on fixed levels
(as the gradient-flow heatmap), with a colour bar. A unidirectional model leaves t > t' blank: a loss cannot reach a
later state. Classification has one loss, at the last step: one row. The matrix is computed in the training process
only while this panel is on screen (``features.views``): the panel says so when a snapshot carries none.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.panels import colormaps, hover, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.gradients import FLOW_LEVELS, _log_image
from rnnviz.gui.panels.hidden import short, tick_stride

WAITING = "computing \u2016\u2202L\u209c\u2032/\u2202s\u209c\u2016 \u2026 (only while this panel is on screen)"
NO_GRADIENT = "this probe has no target, so no loss to follow back (type a sentence with a label, or pick one)"
CLASSIFICATION = ("Classification has one loss, at the last step: the one row below is \u2016\u2202L/\u2202s\u209c\u2016 "
                  "of that loss. Labelling and generation have a loss at every step: then each row is one of them.")
TITLE = "\u2016\u2202L\u209c\u2032/\u2202s\u209c\u2016 of each step\u2019s loss"
LABELLED = ("Row t\u2032: the loss at step t\u2032 alone, followed back through time. A band along the diagonal: the "
            "gradient vanishes; a wide triangle: it reaches far back.")


class ReachPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_theme(name)``.

    Items (for tests): ``plot``, ``image`` (ImageItem of log10 norms, row-major (R, T): row r = the loss at
    step ``rows[r]``), ``colorbar``, ``note`` (what is shown, or why nothing is), ``readout``.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0)
        plotting.style_plot(self.plot, None, left="loss at step t\u2032", bottom="state s\u209c at timestep t",
                            grid=False, th=th)
        plotting.set_title(self.plot, TITLE, style.TITLE_PT - 1, th)
        self.plot.invertY(True)                       # the first loss at the top: a triangle below the diagonal
        self.plot.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setNanPolicy("omit")
        self.cmap = colormaps.log_cmap()
        self.image.setColorMap(self.cmap)
        self.plot.addItem(self.image)
        self.colorbar = plotting.make_colorbar(self.image, self.plot, self.cmap, FLOW_LEVELS, "norm (log scale)", th)
        self.colorbar.axis.setTicks([[(v, plotting.pow10_text(v, power=True)) for v in (-8, -6, -4, -2, 0, 2)]])
        self.plot.getAxis("bottom").setStyle(hideOverlappingLabels=False)
        self.plot.vb.sigResized.connect(self._update_ticks)
        self.note = style.label("", wrap=True)
        self.readout = style.label("")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        self.hover = hover.HoverReadout(self.view, self.readout, [(self.plot, self._text_at)])
        self.reset()

    def reset(self) -> None:
        self._matrix = np.zeros((0, 0))
        self._rows = np.zeros(0, dtype=np.int64)
        self._tokens: tuple[str, ...] = ()
        self._shape = None
        self.image.setImage(np.full((1, 1), np.nan), autoLevels=False, levels=FLOW_LEVELS)
        self.image.setVisible(False)
        self.note.setText(WAITING)
        self.readout.setText(self.hover.idle_text)

    def render(self, snapshot) -> None:
        probe, task = snapshot.probe, snapshot.task
        matrix = None if probe is None else getattr(probe, "reach", None)
        if matrix is None:
            self.image.setVisible(False)
            self.note.setText(NO_GRADIENT if probe is not None and not probe.target_from else WAITING)
            return
        matrix = np.asarray(matrix, dtype=np.float64)
        rows = np.asarray(probe.reach_rows, dtype=np.int64)
        R, T = matrix.shape
        self._matrix, self._rows = matrix, rows
        self.image.setImage(_log_image(matrix), autoLevels=False, levels=FLOW_LEVELS)
        self.image.setRect(QtCore.QRectF(0.5, -0.5, T, R))          # column t on x = t, row r on y = r
        self.image.setVisible(True)
        if self._shape != matrix.shape:
            self._shape = matrix.shape
            self.plot.setRange(xRange=(0.5, T + 0.5), yRange=(-0.5, R - 0.5), padding=0)
        if task == "classification":
            self.note.setText(CLASSIFICATION)
        else:
            self.note.setText(LABELLED)
        tokens = tuple(probe.tokens)
        if tokens != self._tokens:
            self._tokens = tokens
            self._update_ticks()

    def _update_ticks(self, *args) -> None:
        labels = [short(t) for t in self._tokens]
        bottom, left = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        if not labels:
            bottom.setTicks([[]])
            left.setTicks([[]])
            return
        width = self.plot.vb.width() if self.plot.vb.width() >= 50 else 300
        stride = tick_stride(labels, width)
        bottom.setTicks([[(t + 1, labels[t]) for t in range(0, len(labels), stride)]])
        rows = self._rows
        height = max(self.plot.vb.height(), 60)
        n = max(1, int(height // 22))
        every = max(1, int(np.ceil(len(rows) / n)))
        left.setTicks([[(float(r), f"{int(rows[r]) + 1}") for r in range(0, len(rows), every)]])

    def _set_cmap(self, cmap: pg.ColorMap) -> None:
        self.cmap = cmap
        self.image.setColorMap(cmap)
        self.colorbar.setColorMap(cmap)

    def _text_at(self, x: float, y: float) -> str | None:
        t, r = int(round(x)) - 1, int(round(y))
        if self._matrix.ndim != 2 or not (0 <= r < self._matrix.shape[0] and 0 <= t < self._matrix.shape[1]):
            return None
        v = self._matrix[r, t]
        if not np.isfinite(v):
            return None
        tp = int(self._rows[r]) + 1
        tok = plotting.display_token(self._tokens[t]) if t < len(self._tokens) else "?"
        return (f"loss at t\u2032 = {tp}, state at t = {t + 1} (\u201c{tok}\u201d): "
                f"\u2016\u2202L\u209c\u2032/\u2202s\u209c\u2016 = {plotting.fmt(v)}")
