"""Gates panel (LSTM and GRU): the probe's gate activations over time, and how many gates are saturated.

Top: one heatmap per gate, timesteps left to right, one row per unit (as the hidden-state panel): the LSTM's input,
forget and output gates i, f, o and its cell state c_t; the GRU's reset and update gates r, z. The gates lie in
[0, 1] and are drawn on fixed levels [0, 1]; c_t is unbounded and is drawn on symmetric levels +-L, where L (a
round number above the largest |c_t| seen) only grows while the model trains, so colours never jump.
Bottom: the share of each gate's values below 0.05 or above 0.95 on the monitor batch, over training.
The vanilla RNN has no gates: the panel says so.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.panels import colormaps, heatmaps, hover, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.hidden import short, tick_stride

GATE_LEVELS = (0.0, 1.0)
COMPACT_BELOW = 420       # panel height (px) below which the saturation history makes room for the heatmaps
SHOWN = {"lstm": ("i", "f", "o", "c"), "gru": ("r", "z")}
TITLES = {"i": "input gate i", "f": "forget gate f", "o": "output gate o", "c": "cell state c\u209c",
          "r": "reset gate r", "z": "update gate z"}
LESSONS = {
    "lstm": ("f near 1 keeps the memory: c\u209c = f \u00b7 c\u209c\u208b\u2081 + i \u00b7 g, so c and "
             "\u2202L/\u2202c pass from step to step almost unchanged \u2014 the memory highway."),
    "gru": ("z near 1 keeps the state: s\u209c = (1 \u2212 z) \u00b7 n + z \u00b7 s\u209c\u208b\u2081, "
            "so s and its gradient pass from step to step almost unchanged."),
}
NO_GATES = ("A vanilla RNN has no gates: s\u209c = g(U x\u209c + W s\u209c\u208b\u2081 + b). "
            "Set the Cell to LSTM or GRU to see its gates.")
SATURATION_TEXT = "saturated (&lt; 0.05 or &gt; 0.95), monitor batch"


class GatesPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_theme(name)``, ``set_projector(on)``.

    A heatmap larger than its plot's pixels is drawn reduced (``heatmaps.set_heatmap``) and ``reduced_label`` says
    so (for the most reduced of them); the read-out gives exact entries.

    Items (for tests): ``images`` (gate name -> ImageItem, row-major (d, T), or reduced), ``plots`` (name ->
    PlotItem), ``reduced_label``,
    ``gate_colorbar`` / ``c_colorbar``, ``c_levels``, ``sat_plot`` with ``sat_curves`` (name -> PlotDataItem),
    ``sat_label`` (the latest shares), ``note`` (the text shown instead for the vanilla RNN), ``readout``;
    ``compact`` (the history is out on a short panel).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.view = self._register(plotting.graphics_layout(self.theme))
        self.note = style.label(NO_GATES, wrap=True)
        self.note.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.sat_label = style.label("")             # the latest saturated shares, one line (kept in compact mode)
        self.readout = style.label("")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        self.reduced_label = heatmaps.ReducedNote()   # when the gates have more entries than a plot has pixels
        layout.addWidget(self.reduced_label)
        layout.addWidget(self.sat_label)
        layout.addWidget(self.readout)
        self.hover = hover.HoverReadout(self.view, self.readout, [])
        self.cell = ""
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.sat_curves: dict[str, pg.PlotDataItem] = {}
        self.sat_plot: pg.PlotItem | None = None
        self.gate_colorbar = self.c_colorbar = None
        self.gate_cmap = self.cmap = colormaps.heatmap_cmap("sequential", False, self.theme)
        self.c_cmap = colormaps.diverging_cmap()
        self.reset()

    # ------------------------------------------------------------------------------------------ building
    def _build(self, cell: str) -> None:
        """The heatmaps of ``cell``'s gates in a grid of two columns (made again only when the cell changes), one
        colour bar for the gates and one for c_t on the right, the saturation history below."""
        ci = self.view.ci
        ci.clear()
        self.plots, self.images, self.sat_curves = {}, {}, {}
        self.gate_colorbar = self.c_colorbar = None
        self.hover.targets.clear()
        self.cell = cell
        names = SHOWN.get(cell, ())
        if not names:
            self.sat_plot = None
            return
        th = self.theme
        rows = (len(names) + 1) // 2
        for k, name in enumerate(names):
            row, col = divmod(k, 2)
            plot = ci.addPlot(row=row, col=col)
            last_row = row == rows - 1
            plotting.style_plot(plot, None, left="unit" if col == 0 else None,
                                bottom="timestep t" if last_row else None, grid=False, th=th)
            if not last_row:
                plot.getAxis("bottom").setStyle(showValues=False)     # the row below names the tokens
            plotting.set_title(plot, TITLES[name], style.FONT_PT, th)
            plot.titleLabel.setMaximumHeight(22)
            plot.invertY(True)
            plot.setMouseEnabled(x=False, y=False)
            image = pg.ImageItem(axisOrder="row-major")
            image.setNanPolicy("omit")
            plot.addItem(image)
            plot.getAxis("bottom").setStyle(hideOverlappingLabels=False)
            plot.getAxis("left").setWidth(44)
            self.plots[name], self.images[name] = plot, image
            self.hover.add(plot, lambda x, y, n=name: self._text_at(n, x, y))
        gates = [n for n in names if n != "c"]
        for name in gates:
            self.images[name].setColorMap(self.gate_cmap)
        self.gate_colorbar = self._bar(self.images[gates[0]], self.gate_cmap, GATE_LEVELS, "gate", 0)
        if "c" in names:
            self.images["c"].setColorMap(self.c_cmap)
            self.c_colorbar = self._bar(self.images["c"], self.c_cmap, self.c_levels, "cₜ (±L)", rows - 1)
        self.sat_plot = ci.addPlot(row=rows, col=0, colspan=2)
        plotting.style_plot(self.sat_plot, None, left="share", bottom="training step", th=th)
        self.sat_plot.getAxis("left").setWidth(44)
        self.sat_plot.titleLabel.setMaximumHeight(22)
        self.sat_plot.setYRange(0.0, 1.0, padding=0.02)
        self.sat_plot.setMouseEnabled(x=False, y=False)
        for i, name in enumerate(gates):
            self.sat_curves[name] = self.sat_plot.plot(pen=pg.mkPen(style.colour(i), width=2))
        self._sat_title()
        for r in range(rows):
            ci.layout.setRowStretchFactor(r, 3)
        ci.layout.setRowStretchFactor(rows, 2)
        self.hover.add(self.sat_plot, self._sat_text)
        self._fit()

    def _bar(self, image: pg.ImageItem, cmap: pg.ColorMap, levels: tuple[float, float], label: str,
             row: int) -> pg.ColorBarItem:
        """A colour bar for ``image`` in the right-hand column of ``row`` (shared by the heatmaps of that map)."""
        bar = plotting.make_colorbar(image, None, cmap, levels, label, self.theme)
        bar.axis.setWidth(40)
        self.view.ci.addItem(bar, row=row, col=2)
        return bar

    def _sat_title(self) -> None:
        if self.sat_plot is None:
            return
        names = " &nbsp;".join(f"<span style='color:{style.colour(i)}'><b>\u2501 {n}</b></span>"
                               for i, n in enumerate(self.sat_curves))
        self.sat_plot.setTitle(f"{SATURATION_TEXT}: &nbsp;{names}", size=f"{style.TITLE_PT - 1}pt",
                               color=self.theme.foreground)

    # ------------------------------------------------------------------------------------------ drawing
    def reset(self) -> None:
        self.c_level = 1.0
        self.c_levels = (-1.0, 1.0)
        self._gates: dict[str, np.ndarray] = {}
        self._tokens: tuple[str, ...] = ()
        self._sat_steps = np.zeros(0)
        self._sat: dict[str, np.ndarray] = {}
        if self.c_colorbar is not None:
            self.c_colorbar.setLevels(self.c_levels)
        for image in self.images.values():
            image.setVisible(False)
        for curve in self.sat_curves.values():
            curve.setData([], [])
        self.readout.setText(self.hover.idle_text)

    def render(self, snapshot) -> None:
        cell = snapshot.cell
        if cell != self.cell:
            self._build(cell)
        gated = cell in SHOWN
        self.note.setVisible(not gated)
        self.view.setVisible(gated)
        self.sat_label.setVisible(gated)
        self.readout.setVisible(gated)
        if not gated:
            self.reduced_label.say("", (0, 0), (1, 1))
            return
        self.setToolTip(LESSONS[cell])
        probe = snapshot.probe
        gates = dict(getattr(probe, "gates", {}) or {}) if probe is not None else {}
        self._gates = {k: np.asarray(v, dtype=np.float64) for k, v in gates.items()}
        tokens = tuple(probe.tokens) if probe is not None else ()
        if "c" in self._gates and self._gates["c"].size:
            finite = np.abs(self._gates["c"][np.isfinite(self._gates["c"])])
            if finite.size:
                self.c_level = max(self.c_level, plotting.nice_ceil(float(finite.max())))
            if (-self.c_level, self.c_level) != self.c_levels:
                self.c_levels = (-self.c_level, self.c_level)
                self.c_colorbar.setLevels(self.c_levels)
        reduced = (1, 1), (0, 0)
        for name, image in self.images.items():
            values = self._gates.get(name)
            if values is None or values.size == 0:
                image.setVisible(False)
                continue
            T, d = values.shape
            levels = self.c_levels if name == "c" else GATE_LEVELS
            blocks = heatmaps.set_heatmap(image, values.T, levels)             # (d, T): rows = units
            reduced = max(reduced, (blocks, (d, T)))
            image.setRect(QtCore.QRectF(0.5, -0.5, T, d))
            image.setVisible(True)
            self.plots[name].setRange(xRange=(0.5, T + 0.5), yRange=(-0.5, d - 0.5), padding=0)
        self.reduced_label.say("/".join(self.images), reduced[1], reduced[0])
        if tokens != self._tokens:
            self._tokens = tokens
            self._update_ticks()
        self._sat_steps = np.asarray(snapshot.gate_saturation_steps, dtype=np.float64)
        self._sat = {k: np.asarray(v, dtype=np.float64) for k, v in snapshot.gate_saturation.items()}
        for name, curve in self.sat_curves.items():
            values = self._sat.get(name, np.zeros(0))
            curve.setData(self._sat_steps[: values.size], values)
        latest = [f"{name} {100 * v[-1]:.1f}%" for name, v in self._sat.items() if v.size]
        self.sat_label.setText(f"saturated at step {int(self._sat_steps[-1])}: "
                               + "  ".join(latest) if latest else "")
        self.sat_label.setToolTip("saturated: the share of each gate's values below 0.05 or above 0.95 on the "
                                  "fixed monitor batch (every unit, every real timestep)")
        if self._sat_steps.size:
            self.sat_plot.setXRange(float(self._sat_steps[0]), max(float(self._sat_steps[-1]),
                                                                   float(self._sat_steps[0]) + 10), padding=0.02)

    @property
    def compact(self) -> bool:
        """On a short panel (a 1280x800 projector) the saturation history is taken out so the heatmaps keep a
        readable height (the line under them still gives the latest shares); it comes back when there is room."""
        return self.sat_plot is not None and self.sat_plot.scene() is None

    def _fit(self) -> None:
        if self.sat_plot is None:
            return
        want = self.height() < COMPACT_BELOW
        if want != self.compact:
            rows = (len(self.plots) + 1) // 2
            if want:
                self.view.ci.removeItem(self.sat_plot)
            else:
                self.view.ci.addItem(self.sat_plot, row=rows, col=0, colspan=2)
                self.view.ci.layout.setRowStretchFactor(rows, 2)

    def _update_ticks(self) -> None:
        labels = [short(t) for t in self._tokens]
        for plot in self.plots.values():
            axis = plot.getAxis("bottom")
            if not labels:
                axis.setTicks([[]])
                continue
            width = plot.vb.width() if plot.vb.width() >= 50 else 150
            stride = tick_stride(labels, width)
            axis.setTicks([[(t + 1, labels[t]) for t in range(0, len(labels), stride)]])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()
        QtCore.QTimer.singleShot(0, self._update_ticks)

    # ------------------------------------------------------------------------------------------ theme
    def _set_cmap(self, cmap: pg.ColorMap) -> None:
        """The gates take ``cmap`` (sequential); c_t the diverging map of the same mode."""
        self.gate_cmap = self.cmap = cmap
        self.c_cmap = colormaps.heatmap_cmap("diverging", self.projector, self.theme)
        for name, image in self.images.items():
            image.setColorMap(self.c_cmap if name == "c" else cmap)
        if self.gate_colorbar is not None:
            self.gate_colorbar.setColorMap(cmap)
        if self.c_colorbar is not None:
            self.c_colorbar.setColorMap(self.c_cmap)

    def _theme_changed(self) -> None:
        self._sat_title()

    # ------------------------------------------------------------------------------------------ hover
    def _text_at(self, name: str, x: float, y: float) -> str | None:
        values = self._gates.get(name)
        if values is None or values.size == 0:
            return None
        t, u = int(round(x)) - 1, int(round(y))
        T, d = values.shape
        if not (0 <= t < T and 0 <= u < d):
            return None
        tok = plotting.display_token(self._tokens[t]) if t < len(self._tokens) else "?"
        label = "c" if name == "c" else name
        return f"{TITLES[name]}: t = {t + 1}, token \u201c{tok}\u201d, unit {u}: {label} = {values[t, u]:+.4f}"

    def _sat_text(self, x: float, y: float) -> str | None:
        if self._sat_steps.size == 0:
            return None
        i = int(np.argmin(np.abs(self._sat_steps - x)))
        parts = [f"{n} {100 * v[i]:.1f}%" for n, v in self._sat.items() if i < v.size]
        return f"step {int(self._sat_steps[i])}: saturated " + ", ".join(parts)
