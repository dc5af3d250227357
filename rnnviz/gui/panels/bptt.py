"""Slow-motion BPTT panel: the probe's forward pass s_1..s_T, then its backward pass T..1, one timestep at a time.

Every number comes from ``snapshot.probe`` and its ``bptt`` trace (``core.bptt_trace``: checked against the
model's own gradients); the panel only chooses which timestep to show. Position k in 0..2T-1: k < T is forward
step t = k + 1; k >= T is backward step t = 2T - k.

Left: s_t (filled in as the forward pass reaches it) and dL/ds_t (filled in from the end as the backward pass
reaches it) as heatmaps, units x timesteps, the current column framed; below, ||dL/ds_t|| and the one-step factor
||ds_t/ds_{t-1}|| on a log axis. Right: the current step's vectors as bars (s_t or dL/ds_t, and the
pre-activation a_t, or the gates for LSTM / GRU).

On a short panel (a small screen, ``COMPACT_BELOW``) the two heatmaps sit side by side above the curve and the
bars are left out (``bars_note`` says so; the read-out keeps the step's numbers), only the curve's axis counts the
timesteps: two rows of plots instead of three keep a useful height instead of being squashed to nothing.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.panels import colormaps, heatmaps, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.ranges import FollowRange, set_ticks_once, set_title_once

SPEEDS = (0.5, 1, 2, 4, 8, 16)          # timesteps per second the lecturer can choose
COMPACT_BELOW = 520     # panel height (px, at the normal font) below which the compact arrangement is used
BARS_NOTE = "The bars of the step’s vectors show when this panel is taller."
SHORT_VALUE_LABELS = {"rnn": "pre-activation a\u209c", "lstm": "gates i f g o", "gru": "gates r z n"}


def _html(text: str) -> str:
    import html

    return html.escape(text)


class BPTTPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_position(k)``, ``step(n)``, ``play(on)``,
    ``set_speed(steps_per_second)``; ``position``, ``T``.

    A heatmap larger than its plot's pixels is drawn reduced (``heatmaps.set_heatmap``) and ``reduced_label`` says
    so; the bars and the read-out give exact values.

    Items (for tests): ``state_image``, ``grad_image`` (ImageItems, (D, T), or reduced), ``reduced_label``,
    ``norm_curve``, ``factor_curve``, ``vector_bars``, ``pre_bars`` (BarGraphItems), ``readout`` (QLabel),
    ``message``, ``speed_box``, ``timer``; ``compact`` (the short arrangement is in force), ``bars_note``.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.view = self._register(plotting.graphics_layout(th))
        v = self.view
        self.state_plot = v.addPlot(row=0, col=0)
        self.grad_plot = v.addPlot(row=1, col=0)
        self.norm_plot = v.addPlot(row=2, col=0, axisItems={"left": plotting.LogAxis("left")})
        self.vec_plot = v.addPlot(row=0, col=1, rowspan=2)
        self.pre_plot = v.addPlot(row=2, col=1)
        v.ci.layout.setColumnStretchFactor(0, 3)
        v.ci.layout.setColumnStretchFactor(1, 2)
        plotting.style_plot(self.state_plot, "forward: s\u209c", left="unit", grid=False, th=th)
        plotting.style_plot(self.grad_plot, "backward: \u2202L/\u2202s\u209c", left="unit", grid=False, th=th)
        plotting.style_plot(self.norm_plot, "\u2016\u2202L/\u2202s\u209c\u2016 and the one-step factor",
                          bottom="timestep t", th=th)
        plotting.style_plot(self.vec_plot, "at step t", bottom="unit", th=th)
        plotting.style_plot(self.pre_plot, "a\u209c", bottom="unit", th=th)
        self.norm_plot.setLogMode(y=True)
        self.cmap = colormaps.diverging_cmap()
        self.state_image = pg.ImageItem(axisOrder="row-major")
        self.grad_image = pg.ImageItem(axisOrder="row-major")
        for plot, image in ((self.state_plot, self.state_image), (self.grad_plot, self.grad_image)):
            plot.invertY(True)
            image.setColorMap(self.cmap)
            image.setNanPolicy("omit")
            plot.addItem(image)
            plot.setXLink(self.norm_plot)
        self.grad_plot.setYLink(self.state_plot)
        self.frames = []
        for plot in (self.state_plot, self.grad_plot, self.norm_plot):
            # an outline on the heatmaps (the column's colours stay true), a light fill on the curve plot
            alpha = 60 if plot is self.norm_plot else 0
            band = pg.LinearRegionItem(values=(0.5, 1.5), movable=False,
                                       brush=pg.mkBrush(255, 200, 0, alpha), pen=pg.mkPen("#e69500", width=3))
            band.setZValue(10)
            plot.addItem(band)
            self.frames.append(band)
        self._factor_name = ""
        self.norm_curve = self.norm_plot.plot([], [], pen=pg.mkPen(style.colour(0), width=3), symbol="o",
                                              symbolSize=7, symbolBrush=style.colour(0))
        self.factor_curve = self.norm_plot.plot([], [], pen=pg.mkPen(style.colour(3), width=2,
                                                                     style=QtCore.Qt.PenStyle.DashLine),
                                                symbol="s", symbolSize=6, symbolBrush=style.colour(3))
        self.one_line = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(th.faint, width=1))   # log10(1) = 0
        self.norm_plot.addItem(self.one_line)
        self.vector_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=style.colour(0))
        self.vec_plot.addItem(self.vector_bars)
        self.pre_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=style.colour(2))
        self.pre_plot.addItem(self.pre_bars)
        for plot in (self.vec_plot, self.pre_plot):
            plot.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(th.faint)))
            plot.setMouseEnabled(x=False, y=False)
        # ranges that follow the data in steps, not at every frame of the animation (see ranges.py)
        self.norm_range = FollowRange(self.norm_plot, "y")
        # the bars of dL/ds_t shrink by orders of magnitude on the way back (vanishing): no floor on the span
        self.vec_range = FollowRange(self.vec_plot, "y", min_span=1e-300)
        self.pre_range = FollowRange(self.pre_plot, "y", min_span=1e-300)

        # controls: play / pause, step, speed
        def button(text, tip, slot):
            b = QtWidgets.QPushButton(text)
            b.setToolTip(tip)
            b.setFont(style.font())
            b.clicked.connect(slot)
            return b

        self.start_button = button("First", "Back to the first forward step (Home)", self._restart)
        self.back_button = button("\u25c0 Back", "One timestep back (Left)", self._back)
        self.play_button = button("\u25b6 Play", "Play / pause the slow motion (P)", self._toggle_play)
        self.next_button = button("Next \u25b6", "One timestep on (Right)", self._next)
        self.speed_box = QtWidgets.QComboBox()
        self.speed_box.setFont(style.font())
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g} step{'s' if s != 1 else ''}/s", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(2))
        self.speed_box.setToolTip("How many timesteps a second the slow motion shows")
        self.speed_box.currentIndexChanged.connect(self._speed_changed)
        self.phase_label = style.label("", style.TITLE_PT, bold=True)
        row = QtWidgets.QHBoxLayout()
        for w in (self.start_button, self.back_button, self.play_button, self.next_button):
            row.addWidget(w)
        row.addWidget(style.label("Speed"))
        row.addWidget(self.speed_box)
        row.addStretch(1)
        self.readout = style.label("", wrap=True)
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.message = style.label("", wrap=True)
        self.bars_note = style.label(BARS_NOTE, style.SMALL_PT)
        self.bars_note.setVisible(False)
        self.compact = False
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.bars_note)
        self.reduced_label = heatmaps.ReducedNote()   # when s_t has more entries than its plot has pixels
        layout.addWidget(self.reduced_label)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.readout)
        # method names, not bound methods: a dict of bound methods would keep the panel in a reference cycle
        self._keys = {QtCore.Qt.Key.Key_Left: "_back", QtCore.Qt.Key.Key_Right: "_next",
                      QtCore.Qt.Key.Key_Home: "_restart", QtCore.Qt.Key.Key_P: "_toggle_play"}
        for b in (self.start_button, self.back_button, self.play_button, self.next_button):
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)     # the keys stay with the panel
        self.view.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.view.scene().sigMouseClicked.connect(self._take_focus)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._speed_changed()
        self.reset()

    # ------------------------------------------------------------------------------------------ API
    @property
    def T(self) -> int:
        return len(self._tokens)

    def reset(self) -> None:
        self.timer.stop()
        self.play_button.setText("\u25b6 Play")
        self.position = 0
        self._tokens: tuple[str, ...] = ()
        self._probe = None
        self._trace = None
        for image in (self.state_image, self.grad_image):
            image.setVisible(False)
        self.norm_curve.setData([], [])
        self.factor_curve.setData([], [])
        self.vector_bars.setOpts(x=[], height=[])
        self.pre_bars.setOpts(x=[], height=[])
        self.phase_label.setText("")
        self.readout.setText("No probe yet.")
        self.message.setText("")
        for follow in (self.norm_range, self.vec_range, self.pre_range):   # a new model: follow its data again
            follow.resume()

    def render(self, snapshot) -> None:
        probe = snapshot.probe
        if probe is None or np.asarray(probe.states).size == 0:
            self.reset()
            self.readout.setText("No probe: the validation set is empty.")
            return
        trace = getattr(probe, "bptt", None)
        tokens = tuple(probe.tokens)
        if tokens != self._tokens:
            self._tokens = tokens
            self.position = 0
            ticks = [(t + 1, plotting.display_token(tok)[:8]) for t, tok in enumerate(tokens)]
            stride = max(1, int(np.ceil(len(ticks) / 24)))
            self.norm_plot.getAxis("bottom").setTicks([ticks[::stride]])
            self.norm_plot.setXRange(0.5, len(tokens) + 0.5, padding=0)
        self._probe, self._trace = probe, trace
        self._cell = snapshot.cell
        self._relu = snapshot.cell == "rnn" and (snapshot.config or {}).get("activation") == "relu"
        note = {"predicted": "Typed probe without a label: the gradients are those of the loss against the "
                             "model's own predicted class.",
                "next token": "Typed probe: the targets are the next typed tokens.",
                "": "This probe has no label, so it has no gradient: only the forward pass is shown."}
        text = note.get(getattr(probe, "target_from", "label"), "")
        cfg = snapshot.config or {}
        if int(cfg.get("layers", 1) or 1) > 1:
            text += f" The top layer (layer {int(cfg['layers'])}) is shown."
        if cfg.get("bidirectional"):
            text += (" Bidirectional: s\u209c and \u2202L/\u2202s\u209c hold the forward units, then the backward "
                     "ones (which are processed from the end); the one-step factor is the forward direction's.")
        if trace is None and getattr(probe, "target_from", "label"):
            text += " Waiting for the backward trace (it is computed while this tab is shown)."
        self.message.setText(text.strip())
        self.message.setVisible(bool(text.strip()))
        if trace is not None:
            set_title_once(self.pre_plot, SHORT_VALUE_LABELS.get(trace.cell, "a\u209c"), size=f"{style.TITLE_PT}pt",
                           color=self.theme.foreground)
            self._factor_name = trace.factor_label
            self._norm_title()                  # set only when it changed (set_title_once)
        self._draw()

    def _norm_title(self) -> None:
        """The curve's title is its legend (the compact arrangement leaves out how to read the log axis)."""
        tail = "" if self.compact else " &nbsp; (log axis; 1 = grey line)"
        set_title_once(self.norm_plot,
                       f"<span style='color:{style.colour(0)}'>\u25cf \u2016\u2202L/\u2202s\u209c\u2016</span>"
                       f" &nbsp; <span style='color:{style.colour(3)}'>\u25a0 one-step factor "
                       f"{_html(self._factor_name.split(' = ')[0])}</span>{tail}",
                       size=f"{style.TITLE_PT}pt", color=self.theme.foreground)

    def set_position(self, k: int) -> None:
        """Show position k (0..2T-1, clamped)."""
        self.position = int(max(0, min(self._last(), k)))
        self._draw()

    def step(self, n: int = 1) -> None:
        self.set_position(self.position + n)

    def play(self, on: bool) -> None:
        if on and self.position >= self._last():
            self.position = 0
        if on:
            self.timer.start()
        else:
            self.timer.stop()
        self.play_button.setText("\u25ae\u25ae Pause" if on else "\u25b6 Play")   # U+23F8 is missing from common fonts

    def set_speed(self, steps_per_second: float) -> None:
        self.timer.setInterval(max(10, int(round(1000.0 / float(steps_per_second)))))

    def current(self) -> tuple[str, int]:
        """("forward" | "backward", t) with t counted from 0."""
        T = self.T
        if self.position < T:
            return "forward", self.position
        return "backward", 2 * T - 1 - self.position

    # ------------------------------------------------------------------------------------------ drawing
    def _last(self) -> int:
        T = self.T
        has_backward = self._trace is not None
        return max(0, (2 * T if has_backward else T) - 1)

    def _draw(self) -> None:
        probe, trace = self._probe, self._trace
        if probe is None:
            return
        self.position = min(self.position, self._last())
        phase, t = self.current()
        S = np.asarray(probe.states, dtype=np.float64)          # (T, D)
        T, D = S.shape
        lim = float(np.nanmax(np.abs(S))) if self._relu and np.isfinite(S).any() else 1.0
        shown = S.copy()
        if phase == "forward":
            shown[t + 1:] = np.nan                              # not computed yet
        blocks = heatmaps.set_heatmap(self.state_image, shown.T, (-lim, lim))
        self.reduced_label.say("sₜ and ∂L/∂sₜ" if trace is not None else "sₜ", (D, T), blocks)
        self.state_image.setRect(QtCore.QRectF(0.5, -0.5, T, D))
        self.state_image.setVisible(True)
        if trace is not None:
            G = np.asarray(trace.dS, dtype=np.float64)
            g_lim = float(np.nanmax(np.abs(G))) if np.isfinite(G).any() and np.nanmax(np.abs(G)) > 0 else 1.0
            gshown = np.full_like(G, np.nan)
            if phase == "backward":
                gshown[t:] = G[t:]                              # filled in from the end
            heatmaps.set_heatmap(self.grad_image, gshown.T, (-g_lim, g_lim))
            self.grad_image.setRect(QtCore.QRectF(0.5, -0.5, T, D))
            self.grad_image.setVisible(True)
            title = (f"backward \u2202L/\u2202s\u209c \u00b1{g_lim:.2g}" if self.compact else     # one line at half width
                     f"backward: \u2202L/\u2202s\u209c (colour scale \u00b1{g_lim:.2g})")
            set_title_once(self.grad_plot, title, size=f"{style.TITLE_PT}pt", color=self.theme.foreground)
            norms = np.asarray(trace.norms, dtype=np.float64)
            factors = np.asarray(trace.factors, dtype=np.float64)
            lo = t if phase == "backward" else T
            x = np.arange(lo, T) + 1.0
            ok = np.isfinite(factors[lo:])
            shown = plotting.log_safe(norms[lo:]), plotting.log_safe(factors[lo:][ok])
            self.norm_curve.setData(x, shown[0])
            self.factor_curve.setData(x[ok], shown[1])
            self.norm_range.follow(*shown, [1.0])             # and the grey line at 1
        else:
            self.grad_image.setVisible(False)
            self.norm_curve.setData([], [])
            self.factor_curve.setData([], [])
        for band in self.frames:
            band.setRegion((t + 0.5, t + 1.5))
        for plot in (self.state_plot, self.grad_plot):
            plot.setRange(xRange=(0.5, T + 0.5), yRange=(-0.5, D - 0.5), padding=0)
        units = np.arange(D, dtype=np.float64)
        if phase == "backward" and trace is not None:
            vec = np.asarray(trace.dS[t], dtype=np.float64)
            set_title_once(self.vec_plot, f"\u2202L/\u2202s\u209c at t = {t + 1}", size=f"{style.TITLE_PT}pt",
                           color=self.theme.foreground)
            brush = style.colour(3)
        else:
            vec = S[t]
            set_title_once(self.vec_plot, f"s\u209c at t = {t + 1}", size=f"{style.TITLE_PT}pt",
                           color=self.theme.foreground)
            brush = style.colour(0)
        self.vector_bars.setOpts(x=units, height=np.nan_to_num(vec), width=0.8, brush=brush)
        self.vec_range.follow(np.nan_to_num(vec), [0.0])
        pre = np.asarray(probe.preact, dtype=np.float64)
        if pre.ndim == 2 and t < pre.shape[0]:
            self.pre_bars.setOpts(x=np.arange(pre.shape[1], dtype=np.float64), height=np.nan_to_num(pre[t]),
                                  width=0.8)
            self.pre_range.follow(np.nan_to_num(pre[t]), [0.0])
            names = {"lstm": "ifgo", "gru": "rzn"}.get(self._cell, "")
            hidden = pre.shape[1] // max(1, len(names)) if names else pre.shape[1]
            set_ticks_once(self.pre_plot.getAxis("bottom"),
                [[(k * hidden + (hidden - 1) / 2, n) for k, n in enumerate(names)]] if names else None)
        self._readout(phase, t)

    def _readout(self, phase: str, t: int) -> None:
        probe, trace = self._probe, self._trace
        T = self.T
        tok = plotting.display_token(probe.tokens[t]) if t < len(probe.tokens) else "?"
        ident = int(np.asarray(probe.ids)[t]) if t < len(probe.ids) else -1
        s = np.asarray(probe.states[t], dtype=np.float64)
        head = f"x\u209c = \u201c{_html(tok)}\u201d (id {ident})"
        if phase == "forward":
            self.phase_label.setText(f"Forward pass, step t = {t + 1} of {T}")
            text = f"<b>t = {t + 1}</b>: reads {head}; \u2016s\u209c\u2016 = {plotting.fmt(float(np.linalg.norm(s)))}"
            text += ". " if self.compact else (f" (bars top right). Bottom right: "
                                               f"{_html(trace.value_label if trace is not None else 'a_t')}. ")
            if t == T - 1 and trace is not None:
                text += f"Loss L = {plotting.fmt(trace.loss)}: next, the backward pass from t = {T}."
        else:
            self.phase_label.setText(f"Backward pass, step t = {t + 1} of {T}")
            n = float(trace.norms[t])
            direct = float(np.linalg.norm(trace.direct[t]))
            text = (f"<b>t = {t + 1}</b>: {head}; \u2016\u2202L/\u2202s\u209c\u2016 = <b>{plotting.fmt(n)}</b> "
                    f"(from the output at t alone: {plotting.fmt(direct)}). ")
            if t > 0:
                f = float(trace.factors[t])
                if bool(trace.cut[t]):
                    text += "Truncated BPTT: the gradient stops here, nothing reaches s\u209c\u208b\u2081."
                elif np.isfinite(f):
                    text += (f"One step back multiplies it by at most {_html(trace.factor_label)} = "
                             f"<b>{plotting.fmt(f)}</b>.")
                elif trace.factor_note:
                    text += _html(trace.factor_note)
            else:
                text += "The first step: the gradient has flowed back through the whole sequence."
        self.readout.setText(text)

    # ------------------------------------------------------------------------------------------ controls
    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        """Left / Right: one timestep; Home: the first; P: play / pause (when the panel has the focus)."""
        name = self._keys.get(QtCore.Qt.Key(event.key())) if not event.modifiers() else None
        if name is None:
            super().keyPressEvent(event)
            return
        getattr(self, name)()
        event.accept()

    # ------------------------------------------------------------------------------------------ layout
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.arrange(self.height() < COMPACT_BELOW * style.FONT_PT / style.BASE_POINT_SIZE)

    def arrange(self, compact: bool) -> None:
        """The compact arrangement (s_t and dL/ds_t side by side above the curve, no bars column) or the full one
        (s_t above dL/ds_t above the curve, the bars on the right)."""
        if compact == self.compact:
            return
        self.compact = compact
        grid = self.view.ci
        for plot in (self.state_plot, self.grad_plot, self.norm_plot, self.vec_plot, self.pre_plot):
            if plot in grid.items:               # the bars are out of the compact arrangement
                grid.removeItem(plot)
        if compact:
            places = ((self.state_plot, 0, 0, 1, 1), (self.grad_plot, 0, 1, 1, 1), (self.norm_plot, 1, 0, 1, 2))
        else:
            places = ((self.state_plot, 0, 0, 1, 1), (self.grad_plot, 1, 0, 1, 1), (self.norm_plot, 2, 0, 1, 1),
                      (self.vec_plot, 0, 1, 2, 1), (self.pre_plot, 2, 1, 1, 1))
        for plot, row, col, rows, cols in places:
            grid.addItem(plot, row=row, col=col, rowspan=rows, colspan=cols)
        for plot in (self.vec_plot, self.pre_plot):
            plot.setVisible(not compact)
        for plot in (self.state_plot, self.grad_plot):
            plot.showAxis("bottom", not compact)     # the curve's axis below counts the same timesteps
        # linked views of different sizes side by side line up by screen position: in the compact arrangement each
        # heatmap keeps its own range (set with every frame), in the full one they follow the curve's time axis
        for plot in (self.state_plot, self.grad_plot):
            plot.setXLink(None if compact else self.norm_plot)
        self.grad_plot.setYLink(None if compact else self.state_plot)
        grid.layout.setColumnStretchFactor(0, 1 if compact else 3)
        grid.layout.setColumnStretchFactor(1, 1 if compact else 2)
        self.bars_note.setVisible(compact)
        if self._factor_name:
            self._norm_title()
        if self._probe is not None:
            self._draw()                         # the ranges, a title and the read-out's words follow
        QtCore.QTimer.singleShot(0, self, self.refit_axis_titles)

    def _take_focus(self, *args) -> None:
        self.setFocus()

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        super().mousePressEvent(event)

    def _tick(self) -> None:
        if self.position >= self._last():
            self.play(False)
            return
        self.step(1)

    def _toggle_play(self) -> None:
        self.play(not self.timer.isActive())

    def _next(self) -> None:
        self.step(1)

    def _back(self) -> None:
        self.step(-1)

    def _restart(self) -> None:
        self.set_position(0)

    def _speed_changed(self, *args) -> None:
        self.set_speed(float(self.speed_box.currentData() or 2))
