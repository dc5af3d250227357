"""Weights panel: the recurrent matrix W (gate blocks labelled) and the eigenvalues of each d x d block in the
complex plane with the unit circle: outside it, repeated multiplication by W grows (exploding); inside, it shrinks.

The unit circle is drawn over the eigenvalues' dots (with a halo in the background colour, so it reads across a
cloud of them) and labelled |λ| = 1. When the eigenvalues reach far beyond it (axes over ±``ZOOM_ABOVE``: the
circle would be a few pixels across), a zoom plot beside them shows the same eigenvalues at |λ| ≤ ``ZOOM_EXTENT``
around the circle."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.fitting import LiveCaption
from rnnviz.gui.panels import colormaps, heatmaps, hover, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.dot_cloud import DotCloud


def _rho_text(rho: float) -> str:
    return f"{rho:.2f}" if np.isfinite(rho) else "n/a"


def block_name(gate: str, n_gates: int) -> str:
    """'W' for a plain RNN, 'W_f' etc. for gated cells."""
    return "W" if n_gates == 1 else f"W_{gate}"


COMPACT_BELOW = 330     # panel height (px) below which the spectral-radius text is one line (the rest a tooltip)
EIG_PAD = 0.15          # room around the eigenvalue plot's range, so the labels at its ends are drawn
ZOOM_ABOVE = 3.0        # eigenvalue axes beyond ±this: the zoom plot around the unit circle is shown
ZOOM_EXTENT = 1.6       # ... showing -this..this on both axes
NARROW_BELOW = 500      # panel width (px) below which only the eigenvalue plot is shown (W as a heatmap needs room)


class WeightsPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_theme(name)``.

    Colour levels of W are symmetric, a "nice" number (1, 2, 2.5, 5 x 10^k) at or above max |W|, and only ever
    grow (until ``reset``), so colours stay comparable while training.

    W larger than the plot's pixels is drawn reduced (``heatmaps.reduce_for_display``: each pixel the entry of
    largest |w| of its block) and the panel says so under the plot; the hover read-out gives exact entries.

    While training a big model runs, the eigenvalues are computed on a clock of their own (``core.explore.amortize``):
    when they are not of the snapshot's step, the eigenvalue plot's title says theirs.

    Items (for tests): ``image`` (ImageItem, row-major (G*d, d), or reduced: ``blocks`` rows x columns per pixel,
    ``reduced_label`` says so), ``colorbar``, ``levels``, ``gate_lines``
    (InfiniteLines between gate blocks), ``eig_scatter`` (gate -> ``dot_cloud.DotCloud``), ``unit_circle``,
    ``circle_label``, ``eig_plot`` (its title is the legend: names, colours and spectral radii), ``radius_label``;
    ``zoom_plot`` (shown when the eigenvalues reach far beyond the circle), ``zoom_scatter`` (gate -> DotCloud),
    ``zoom_circle``.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0)
        self.eig_plot: pg.PlotItem = self.view.addPlot(row=0, col=1)
        layout = self.view.ci.layout
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, 1)
        plotting.style_plot(self.plot, "Recurrent weights W", left="row: unit receiving (gate block)",
                          bottom="column: unit of s\u209c\u208b\u2081", grid=False, th=th)
        plotting.style_plot(self.eig_plot, "Eigenvalues of W", left="imaginary part", bottom="real part", th=th)
        self.plot.invertY(True)
        self.cmap = colormaps.diverging_cmap()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(self.cmap)
        self.image.setNanPolicy("omit")
        self.plot.addItem(self.image)
        self.levels = (-1.0, 1.0)
        self.colorbar = plotting.make_colorbar(self.image, self.plot, self.cmap, self.levels, "weight", th)
        self.gate_lines: list[pg.InfiniteLine] = []

        self.eig_plot.setAspectLocked(True)
        self.eig_plot.setMouseEnabled(x=False, y=False)
        self.unit_circle, self._halo = self._circle(self.eig_plot)
        self.circle_label = pg.TextItem("|\u03bb| = 1", anchor=(0, 1), color=th.foreground)
        self.circle_label.setFont(style.font(style.SMALL_PT))
        self.circle_label.setPos(np.cos(np.pi / 4), np.sin(np.pi / 4))      # on the circle, up and to the right
        self.circle_label.setZValue(31)
        self.eig_plot.addItem(self.circle_label, ignoreBounds=True)
        self.eig_scatter: dict[str, DotCloud] = {}
        self.zoom_plot: pg.PlotItem = self.view.addPlot(row=0, col=2)
        plotting.style_plot(self.zoom_plot, None, th=th)
        plotting.set_title(self.zoom_plot, "zoom: |\u03bb| = 1", style.FONT_PT, th)
        self.zoom_plot.setAspectLocked(True)
        self.zoom_plot.setMouseEnabled(x=False, y=False)
        self.zoom_plot.setRange(xRange=(-ZOOM_EXTENT, ZOOM_EXTENT), yRange=(-ZOOM_EXTENT, ZOOM_EXTENT), padding=0)
        self.zoom_circle, self._zoom_halo = self._circle(self.zoom_plot)
        self.zoom_scatter: dict[str, DotCloud] = {}
        self._show_zoom(False)
        self.radius_label = LiveCaption(font=style.font(style.FONT_PT))   # follows the eigenvalues; clear of "?"
        self.readout = style.label("")
        # one line, always there: showing or hiding the note must not resize the plot (the blocks follow its size)
        self.reduced_label = style.label("", style.SMALL_PT)
        self.reduced_label.setFixedHeight(self.reduced_label.fontMetrics().lineSpacing() + 2)
        self.blocks = (1, 1)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(self.view, 1)
        box.addWidget(self.reduced_label)
        box.addWidget(self.radius_label)
        box.addWidget(self.readout)
        self.hover = hover.HoverReadout(self.view, self.readout, [(self.plot, self._w_text),
                                                                   (self.eig_plot, self._eig_text)])
        self.reset()

    # ------------------------------------------------------------------------------------------ drawing
    def reset(self) -> None:
        self._W = np.zeros((0, 0))
        self._rho: dict[str, float] = {}
        self._gates: tuple[str, ...] = ()
        self._eigs: dict[str, np.ndarray] = {}
        self._eig_step: int | None = None      # the step of the eigenvalues when not the snapshot's own
        self._shape = None
        self._eig_extent = 1.25
        self.levels = (-1.0, 1.0)
        self.colorbar.setLevels(self.levels)
        self.image.setImage(np.zeros((1, 1)), autoLevels=False, levels=self.levels)
        self.image.setVisible(False)
        self._set_gates((), 0)
        self._eig_title({})
        self._show_zoom(False)
        self.eig_plot.setRange(xRange=(-self._eig_extent, self._eig_extent),
                               yRange=(-self._eig_extent, self._eig_extent), padding=EIG_PAD)
        self._radius_texts = ("", "")
        self.radius_label.setText("")
        self.readout.setText(self.hover.idle_text)

    def render(self, snapshot) -> None:
        W = np.asarray(snapshot.W)
        if W.ndim != 2 or W.size == 0:
            self.image.setVisible(False)
            return
        rows, d = W.shape
        gates = tuple(snapshot.gate_names) or ("s",)
        with np.errstate(invalid="ignore"):
            top = float(np.nanmax(np.abs(W), initial=0.0))      # the largest finite |w| (NaN skipped)
        if not np.isfinite(top):
            finite = np.abs(W[np.isfinite(W)])
            top = float(finite.max()) if finite.size else 0.0
        level = plotting.nice_ceil(top) if top > 0 else self.levels[1]
        if level > self.levels[1]:
            self.levels = (-level, level)
            self.colorbar.setLevels(self.levels)
        self._W = W
        vb = self.plot.vb
        blocks = heatmaps.display_blocks(W.shape, (vb.height(), vb.width()))
        if blocks != self.blocks:
            self.blocks = blocks
            note = heatmaps.reduced_note(W.shape, blocks)
            self.reduced_label.setText(f"W {note}" if note else "")
            self.reduced_label.setToolTip(f"W {note}" if note else "")
        self.image.setImage(heatmaps.reduce_for_display(W, blocks), autoLevels=False, levels=self.levels)
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, d, rows))     # W[r, j] centred on x = j, y = r
        self.image.setVisible(True)
        if self._shape != W.shape or gates != self._gates:
            self._shape = W.shape
            self._set_gates(gates, d)
            self.plot.setRange(xRange=(-0.5, d - 0.5), yRange=(-0.5, rows - 0.5), padding=0)

        self._eigs = {g: np.asarray(snapshot.eigenvalues.get(g, np.zeros(0, complex))) for g in gates}
        extent = self._eig_extent
        for g, ev in self._eigs.items():
            for scatter in (self.eig_scatter[g], self.zoom_scatter[g]):
                scatter.setData(ev.real.astype(np.float64), ev.imag.astype(np.float64))
            if ev.size and np.isfinite(ev).all():
                extent = max(extent, plotting.nice_ceil(1.1 * float(np.abs(ev).max())))
        if extent > self._eig_extent:         # grows only: points never jump because the axes rescaled
            self._eig_extent = extent
            self.eig_plot.setRange(xRange=(-extent, extent), yRange=(-extent, extent), padding=EIG_PAD)
        if (self._eig_extent > ZOOM_ABOVE) != (self.zoom_plot in self.view.ci.items):
            self._show_zoom(self._eig_extent > ZOOM_ABOVE)
        self._eig_ticks()
        self._rho = {g: float(snapshot.spectral_radius.get(g, float("nan"))) for g in gates}
        at, step = int(getattr(snapshot, "eigenvalues_step", -1)), int(snapshot.step)
        self._eig_step = at if 0 <= at != step else None
        self._eig_title(self._rho)
        if snapshot.cell == "rnn":
            over = [block_name(g, len(gates)) for g, r in self._rho.items() if np.isfinite(r) and round(r, 2) > 1.0]
            warn = (f" &nbsp;<span style='color:{self.theme.bad}'><b>\u03c1 &gt; 1: {', '.join(over)}</b></span>"
                    if over else "")
            text = ("\u03c1 = spectral radius, the largest |eigenvalue| (points outside the circle): above 1 the "
                    "state can grow step after step (exploding), well below 1 it fades (vanishing).")
        else:   # in gated cells the sigmoid gates, not W alone, decide whether the state grows or fades
            text, warn = ("\u03c1 = spectral radius of each gate's block of W. In an LSTM or GRU the gates, not "
                          "\u03c1 alone, decide whether the state grows or fades: read \u03c1 as a hint."), ""
        self._radius_texts = (text + warn, "\u03c1 = largest |eigenvalue| (\u201c?\u201d: what it means)" + warn)
        self._show_radius_text()

    def _show_radius_text(self) -> None:
        """The explanation under the plots, or on a short panel (a small screen) one line and the rest in the
        tooltip, so the plots keep their room."""
        full, short = getattr(self, "_radius_texts", ("", ""))
        compact = self.height() < COMPACT_BELOW
        self.radius_label.setText(short if compact and full else full)
        self.radius_label.setToolTip(full if compact else "")

    @property
    def narrow(self) -> bool:
        """On a narrow panel (a small screen) the eigenvalue plot, which the lessons point at, takes the whole
        width; W's heatmap comes back when the panel is wide enough."""
        return self.plot.scene() is None

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._show_radius_text()
        self._fit_zoom()
        want = self.width() < NARROW_BELOW * style.FONT_PT / style.BASE_POINT_SIZE
        if want != self.narrow:
            layout = self.view.ci.layout
            if want:
                self.view.ci.removeItem(self.plot)
                self.plot.hide()
                layout.setColumnStretchFactor(0, 0)      # the empty column gives its room to the eigenvalues
            else:
                self.view.ci.addItem(self.plot, row=0, col=0)
                self.plot.show()
                layout.setColumnStretchFactor(0, 1)
            self.reduced_label.setVisible(not want)      # the note is about W's heatmap: its line goes with it
            QtCore.QTimer.singleShot(0, self, self.refit_axis_titles)       # once the plots have their new sizes

    def _circle(self, plot: pg.PlotItem) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        """The unit circle (dashed, over the eigenvalues' dots, on a halo of the background colour) and the axes
        lines of ``plot``; returns (circle, halo)."""
        th = self.theme
        plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(th.faint, width=1)))
        plot.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(th.faint, width=1)))
        phi = np.linspace(0.0, 2 * np.pi, 361)
        halo = plot.plot(np.cos(phi), np.sin(phi), pen=pg.mkPen(th.background, width=4))
        circle = plot.plot(np.cos(phi), np.sin(phi),
                           pen=pg.mkPen(th.foreground, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        halo.setZValue(29)
        circle.setZValue(30)
        return circle, halo

    def _show_zoom(self, on: bool) -> None:
        """The zoom plot around the unit circle, in a column of its own (the eigenvalues' plot keeps its aspect);
        out of the layout while it is not shown, so that it takes no room."""
        grid = self.view.ci
        if on and self.zoom_plot not in grid.items:
            grid.addItem(self.zoom_plot, row=0, col=2)
        elif not on and self.zoom_plot in grid.items:
            grid.removeItem(self.zoom_plot)
        self.zoom_plot.setVisible(on)
        self.circle_label.setVisible(not on)          # the zoom's title names the circle instead
        grid.layout.setColumnStretchFactor(2, 1 if on else 0)
        self._fit_zoom()
        self._eig_ticks()

    def _eig_ticks(self) -> None:
        """Beside the zoom the eigenvalues' plot is short: its imaginary axis (the real axis's scale, the aspect
        is locked) leaves out its numbers, which no longer fit; otherwise they show."""
        left = self.eig_plot.getAxis("left")
        on = self.zoom_plot not in self.view.ci.items
        if left.style.get("showValues", True) != on:
            left.setStyle(showValues=on)

    def _fit_zoom(self) -> None:
        """The zoom is about square (aspect locked, as high as the row): wider would only take room from the
        eigenvalues' plot, whose title would wrap and squeeze it."""
        self.view.ci.layout.setColumnMaximumWidth(2, max(80, int(self.view.height() * 0.85)))

    def _eig_title(self, rho: dict) -> None:
        """The eigenvalue plot's title is its legend: each block's colour, name and spectral radius."""
        G = len(self._gates) if self._gates else 1
        parts = [f"<span style='color:{style.colour(i)}'>\u25cf <b>{block_name(g, G)}</b></span>&nbsp;"
                 f"\u03c1&nbsp;{_rho_text(rho.get(g, float('nan')))}" for i, g in enumerate(self._gates)]
        lines = [" &nbsp; ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)]     # two gates a line
        # the text below explains \u03c1; one block (an RNN) shares the first line, which wraps only when narrow
        head = "Eigenvalues of W" if self._eig_step is None else f"Eigenvalues of W at step {self._eig_step:,}"
        title = (head + " &nbsp;" + lines[0] if len(parts) == 1 else "<br>".join([head] + lines))
        key = (title, self.theme.name)
        if key != getattr(self, "_eig_title_key", None):    # a new title re-lays the plot out: only on change
            self._eig_title_key = key
            plotting.set_title(self.eig_plot, title, style.FONT_PT + 1, self.theme)

    def _set_cmap(self, cmap: pg.ColorMap) -> None:
        self.cmap = cmap
        self.image.setColorMap(cmap)
        self.colorbar.setColorMap(cmap)

    def _theme_changed(self) -> None:
        th = self.theme
        for circle, halo in ((self.unit_circle, self._halo), (self.zoom_circle, self._zoom_halo)):
            circle.setPen(pg.mkPen(th.foreground, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
            halo.setPen(pg.mkPen(th.background, width=4))
        self.circle_label.setColor(th.foreground)
        for line in self.gate_lines:
            line.setPen(pg.mkPen(th.foreground, width=2))
        for scatter in (*self.eig_scatter.values(), *self.zoom_scatter.values()):
            scatter.setPen(pg.mkPen(th.background, width=0.8))
        self._eig_title(self._rho)

    def _set_gates(self, gates: tuple[str, ...], d: int) -> None:
        """Block separators, gate labels and one scatter per gate: rebuilt only when the cell changes."""
        th = self.theme
        for line in self.gate_lines:
            self.plot.removeItem(line)
        self.gate_lines = []
        for g, scatter in self.eig_scatter.items():
            self.eig_plot.removeItem(scatter)
        for g, scatter in self.zoom_scatter.items():
            self.zoom_plot.removeItem(scatter)
        self.eig_scatter, self.zoom_scatter = {}, {}
        self._gates = gates
        left = self.plot.getAxis("left")
        if not gates or d == 0:
            left.setTicks(None)
            return
        G = len(gates)
        for g in range(1, G):
            line = pg.InfiniteLine(pos=g * d - 0.5, angle=0, pen=pg.mkPen(th.foreground, width=2))
            self.plot.addItem(line)
            self.gate_lines.append(line)
        if G > 1:
            left.setTicks([[(g * d + (d - 1) / 2, block_name(gates[g], G)) for g in range(G)], []])
            plotting.fit_axis_width(left, [block_name(g, G) for g in gates])
        else:
            left.setTicks(None)
            plotting.fit_axis_width(left, [str(d)])
        for i, g in enumerate(gates):
            scatter = DotCloud(size=9, pen=pg.mkPen(th.background, width=0.8), brush=style.colour(i))
            self.eig_plot.addItem(scatter)
            self.eig_scatter[g] = scatter
            zoom = DotCloud(size=7, pen=pg.mkPen(th.background, width=0.8), brush=style.colour(i))
            self.zoom_plot.addItem(zoom)
            self.zoom_scatter[g] = zoom

    # ------------------------------------------------------------------------------------------ hover
    def _w_text(self, x: float, y: float) -> str | None:
        r, j = int(round(y)), int(round(x))
        if self._W.ndim != 2 or not (0 <= r < self._W.shape[0] and 0 <= j < self._W.shape[1]):
            return None
        d = self._W.shape[1]
        G = max(1, len(self._gates))
        name = block_name(self._gates[r // d], G) if self._gates and r // d < len(self._gates) else "W"
        return f"{name}[{r % d}, {j}] = {self._W[r, j]:+.4f}   (row {r} of W: unit {r % d} of block {name})"

    def _eig_text(self, x: float, y: float) -> str | None:
        best, where = None, None
        for g, ev in self._eigs.items():
            if ev.size:
                dist = np.abs(ev - complex(x, y))
                i = int(np.argmin(dist))
                if best is None or dist[i] < best:
                    best, where = dist[i], (g, ev[i])
        if where is None or best > 0.1 * self._eig_extent:
            return None
        g, lam = where
        return (f"{block_name(g, len(self._gates))}: \u03bb = {lam.real:+.4f} {'+' if lam.imag >= 0 else '-'} "
                f"{abs(lam.imag):.4f}i,  |\u03bb| = {abs(lam):.4f}")
