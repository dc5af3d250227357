"""Hidden-states panel: the probe's states s_t as a heatmap, timesteps left to right, one row per hidden unit."""
from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.fitting import FittingLabel
from rnnviz.gui.panels import colormaps, heatmaps, hover, plotting
from rnnviz.gui.panels.base import TASK_CLASSIFICATION, Panel

BOUNDED = (-1.0, 1.0)     # tanh, sigmoid, LSTM and GRU states all lie in [-1, 1]
MAX_TOKEN_CHARS = 10      # longer tokens are shortened on the axis (the hover shows them whole)
KEPT_CHARS = (7, 5, 4, 3)  # a token that must be labelled is shortened to these lengths in turn until it fits
EDGE_PX = 30              # a label may reach this far past either end of the axis (the axis is told so)


def tick_stride(labels: list[str], pixels: float, font: QtGui.QFont | None = None) -> int:
    """Label every ``stride``-th position so that no two labels overlap on an axis ``pixels`` long."""
    if not labels:
        return 1
    metrics = QtGui.QFontMetricsF(font or style.font())
    widths = np.array([metrics.horizontalAdvance(s) for s in labels])
    gap = metrics.horizontalAdvance(" ")
    per_step = max(pixels / len(labels), 1e-6)
    # labels are centred on their timestep: neighbours i and i+stride fit when half of each plus a gap fits between
    for stride in range(1, len(labels)):
        need = (widths[:-stride] + widths[stride:]) / 2 + gap
        if need.size == 0 or need.max() <= stride * per_step:
            return stride
    return max(1, len(labels))


def pick_ticks(labels: list[str], pixels: float, keep=frozenset(), font: QtGui.QFont | None = None) -> list[int]:
    """The positions to label on an axis ``pixels`` long (labels centred on their positions, none overlapping):
    every position in ``keep`` first (a list in its own order of importance, e.g. the step where the answer is
    read, then the words a lesson points at; a set in index order), then every ``tick_stride``-th one, then any
    other, each when it does not overlap a label already chosen."""
    if not labels:
        return []
    metrics = QtGui.QFontMetricsF(font or style.font())
    widths = np.array([metrics.horizontalAdvance(s) for s in labels])
    gap = metrics.horizontalAdvance(" ")
    per_step = max(pixels / len(labels), 1e-6)
    chosen: list[int] = []

    def fits(i: int) -> bool:
        centre = (i + 0.5) * per_step          # the axis draws a label at most EDGE_PX past either end
        inside = centre - widths[i] / 2 >= -EDGE_PX and centre + widths[i] / 2 <= pixels + EDGE_PX
        return inside and all(abs(i - j) * per_step >= (widths[i] + widths[j]) / 2 + gap for j in chosen)

    for i in (list(keep) if isinstance(keep, (list, tuple)) else sorted(keep)):
        if 0 <= i < len(labels) and i not in chosen and fits(i):
            chosen.append(i)
    stride = tick_stride(labels, pixels, font)
    for i in list(range(0, len(labels), stride)) + list(range(len(labels))):
        if i not in chosen and fits(i):
            chosen.append(i)
    return sorted(chosen)


def token_labels(tokens, pixels: float, keep=(), font: QtGui.QFont | None = None) -> list[tuple[int, str]]:
    """(position, text) of the token axis's labels (``pick_ticks`` on the shortened tokens). Characters whose
    labels are thinned out carry their timestep ("5:e"): the letters of every k-th step side by side read as a
    string that is not the probe's."""
    numbered = False

    def text(i: int, n: int = MAX_TOKEN_CHARS) -> str:
        return f"{i + 1}:{short(tokens[i], n)}" if numbered else short(tokens[i], n)

    labels = [text(i) for i in range(len(tokens))]
    shown = pick_ticks(labels, pixels, keep, font)
    if len(shown) < len(labels) and all(len(plotting.display_token(t)) == 1 for t in tokens
                                        if not str(t).startswith("<")):
        numbered = True                        # characters, thinned
        labels = [text(i) for i in range(len(tokens))]
        shown = pick_ticks(labels, pixels, keep, font)
    for n in KEPT_CHARS:                       # a position that must be labelled and is not: shorten the kept
        if all(i in shown for i in keep if 0 <= i < len(labels)):
            break
        labels = [text(i, n) if i in keep else lab for i, lab in enumerate(labels)]
        shown = pick_ticks(labels, pixels, keep, font)
    return [(i, labels[i]) for i in shown]


def short(tok: str, n: int = MAX_TOKEN_CHARS) -> str:
    tok = plotting.display_token(tok)
    return tok if len(tok) <= n else tok[: n - 1] + "\u2026"


class HiddenStatesPanel(Panel):
    """Public API: ``probeChanged(int)`` (validation index chosen by the user), ``render(snapshot)``, ``reset()``,
    ``set_probe_count(n)`` (size of the validation set: the spin box's range), ``set_theme(name)``.

    ``set_key_tokens(tokens)``: the words a lesson points at; the token axis always labels them, and before them
    the step where the answer is read (classification: the last); thinned characters carry their timestep.

    s_t larger than the plot's pixels is drawn reduced (``heatmaps.set_heatmap``) and ``reduced_label`` says so;
    the read-out gives exact entries.

    Items (for tests): ``image`` (ImageItem, row-major (D, T), or reduced), ``colorbar``, ``plot``, ``probe_spin``,
    ``source_label``, ``reduced_label``, ``readout``.
    """

    probeChanged = QtCore.Signal(int)
    probeTextChanged = QtCore.Signal(str)   # a typed probe sentence ("" = back to the validation example)
    cellClicked = QtCore.Signal(int, int)   # (t, unit), both 0-based: a click on a cell of the heatmap

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0)
        plotting.style_plot(self.plot, "Hidden states s\u209c of the probe", left="hidden unit",
                          bottom="timestep t (token read)", grid=False, th=th)
        self.plot.invertY(True)                      # unit 0 at the top, like the rows of s_t
        self.plot.setMouseEnabled(x=True, y=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setNanPolicy("omit")              # a NaN state (a fault) is left blank, not painted as a value
        self.plot.addItem(self.image)
        self.levels = BOUNDED
        self.cmap = colormaps.diverging_cmap()
        self.image.setColorMap(self.cmap)
        self.colorbar = plotting.make_colorbar(self.image, self.plot, self.cmap, self.levels, "state value s", th)
        self.split_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(th.foreground, width=2, style=QtCore.Qt.PenStyle.DashLine),
                                          label="\u25b2 forward  \u25bc backward",
                                          labelOpts=dict(position=0.01, anchors=[(0, 0.5), (0, 0.5)],
                                                         color=th.foreground, fill=th.background))
        self.split_line.setVisible(False)
        self.plot.addItem(self.split_line)
        self.plot.vb.sigResized.connect(self._update_ticks)
        # token labels never overlap (pick_ticks sees to that); the first and last may reach EDGE_PX past the ends
        self.plot.getAxis("bottom").setStyle(hideOverlappingLabels=EDGE_PX)

        self.probe_spin = QtWidgets.QSpinBox()
        self.probe_spin.setRange(0, 9999)
        self.probe_spin.setKeyboardTracking(False)   # emit on Enter / arrows, not per typed digit
        self.probe_spin.setFont(style.font())
        self.probe_spin.setToolTip("Which validation example to look inside")
        self.probe_spin.valueChanged.connect(self._spin_changed)
        self.source_label = style.label("")
        self.readout = style.label("")
        top = QtWidgets.QHBoxLayout()
        probe_label = FittingLabel("Probe: validation example", min_text="Probe:")
        probe_label.setFont(style.font())
        top.addWidget(probe_label)
        top.addWidget(self.probe_spin)
        self.probe_text = QtWidgets.QLineEdit()     # typed probe: Enter sends it, empty = validation
        self.probe_text.setObjectName("probeText")
        self.probe_text.setFont(style.font())
        self.probe_text.setPlaceholderText("or type a sentence, Enter")
        self.probe_text.setClearButtonEnabled(True)
        self.probe_text.setToolTip("Type your own probe and press Enter: it is cut into tokens as the data was "
                                   "(unknown words read as <unk>) and followed as training goes on. Empty + Enter "
                                   "goes back to the validation example.")
        self.probe_text.returnPressed.connect(self._text_entered)
        self.probe_text.setMinimumWidth(200)
        top.addWidget(self.probe_text, 2)
        # what is shown, on a line of its own (wrapped, never cut); hidden when the spin box already says it
        self.source_label.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.source_label)
        layout.addWidget(self.view, 1)
        self.reduced_label = heatmaps.ReducedNote()   # when s_t has more entries than the plot has pixels
        layout.addWidget(self.reduced_label)
        layout.addWidget(self.readout)
        self.hover = hover.HoverReadout(self.view, self.readout, [(self.plot, self._text_at)])
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.reset()

    # ------------------------------------------------------------------------------------------ API
    def set_key_tokens(self, tokens) -> None:
        """Always label these tokens (compared without case) on the token axis."""
        self._key_tokens = {str(t).lower() for t in tokens or ()}
        self._update_ticks()

    def set_probe_count(self, n: int) -> None:
        """The validation set has ``n`` examples: the spin box offers 0 .. n-1."""
        self.probe_spin.blockSignals(True)
        self.probe_spin.setRange(0, max(0, int(n) - 1))
        self.probe_spin.blockSignals(False)
        self.probe_spin.setEnabled(n > 0)

    def reset(self) -> None:
        self._tokens: tuple[str, ...] = ()
        self._task = None                 # the task of the probe shown (``config["task"]``)
        self._states = np.zeros((0, 0))
        self._relu_level = 1.0
        self.levels = BOUNDED
        self.image.setImage(np.zeros((1, 1)), autoLevels=False, levels=self.levels)
        self.image.setVisible(False)
        self.colorbar.setLevels(self.levels)
        self.plot.getAxis("bottom").setTicks([[]])
        self.source_label.setText("no probe yet")
        self.source_label.setVisible(True)
        self.readout.setText(self.hover.idle_text)

    def render(self, snapshot) -> None:
        probe = snapshot.probe
        if probe is None or np.asarray(probe.states).size == 0:
            self.image.setVisible(False)
            self.source_label.setText("no probe: the validation set is empty")
            self.source_label.setVisible(True)
            return
        states = np.asarray(probe.states, dtype=np.float64)     # (T, D)
        T, D = states.shape
        levels = self._levels_for(snapshot, states)
        if levels != self.levels:
            self.levels = levels
            self.colorbar.setLevels(levels)
        blocks = heatmaps.set_heatmap(self.image, states.T, self.levels)      # (D, T): rows = units
        self.reduced_label.say("sₜ", (D, T), blocks)
        self.image.setRect(QtCore.QRectF(0.5, -0.5, T, D))   # timestep t centred on x = t, unit u on y = u
        self.image.setVisible(True)
        if self._states.shape != states.shape:
            self.plot.setRange(xRange=(0.5, T + 0.5), yRange=(-0.5, D - 0.5), padding=0)
        self._states = states
        cfg = snapshot.config or {}
        if tuple(probe.tokens) != self._tokens or cfg.get("task") != self._task:
            self._tokens, self._task = tuple(probe.tokens), cfg.get("task")
            self._update_ticks()
        d = int(cfg.get("hidden", D))
        self.split_line.setVisible(bool(cfg.get("bidirectional", False)) and D == 2 * d)
        self.split_line.setValue(d - 0.5)
        self._sync_source(probe.source, getattr(probe, "target_from", "label"))

    def _set_cmap(self, cmap: pg.ColorMap) -> None:
        self.cmap = cmap
        self.image.setColorMap(cmap)
        self.colorbar.setColorMap(cmap)

    def _theme_changed(self) -> None:
        th = self.theme
        self.split_line.setPen(pg.mkPen(th.foreground, width=2, style=QtCore.Qt.PenStyle.DashLine))
        self.split_line.label.setColor(th.foreground)

    # ------------------------------------------------------------------------------------------ helpers
    def _levels_for(self, snapshot, states: np.ndarray) -> tuple[float, float]:
        """Fixed [-1, 1] for bounded cells; for relu a symmetric level that only ever grows (never jumps)."""
        cfg = snapshot.config or {}
        if snapshot.cell == "rnn" and cfg.get("activation") == "relu":
            finite = np.abs(states[np.isfinite(states)])
            if finite.size:
                self._relu_level = max(self._relu_level, plotting.nice_ceil(float(np.percentile(finite, 99))))
            return (-self._relu_level, self._relu_level)
        return BOUNDED

    def _sync_source(self, source: str, target_from: str = "label") -> None:
        note = {"predicted": " (no label: gradients w.r.t. the predicted class)",
                "next token": " (gradients: next typed token)", "": " (no label: no gradient)"}.get(target_from, "")
        self.source_label.setText(f"showing: {source or 'probe'}{note if source == 'typed' else ''}")
        self.source_label.setVisible(not (source or "").startswith("validation #"))
        self.source_label.setToolTip(self.source_label.text() + ("" if source != "typed" else
                                     "\nA typed sentence has no true label: its gradient flow (Slow-motion BPTT "
                                     "tab) is taken against the model's own prediction, or the next typed token "
                                     "for generation."))
        m = re.search(r"#(\d+)", source or "")
        if m and not self.probe_spin.hasFocus():
            self.probe_spin.blockSignals(True)
            self.probe_spin.setValue(int(m.group(1)))
            self.probe_spin.blockSignals(False)

    def _text_entered(self) -> None:
        self.probeTextChanged.emit(self.probe_text.text())

    def _spin_changed(self, value: int) -> None:
        self.probe_text.clear()         # a validation example replaces any typed probe
        self.probeChanged.emit(int(value))

    def _update_ticks(self, *args) -> None:
        tokens = self._tokens
        axis = self.plot.getAxis("bottom")
        if not tokens:
            axis.setTicks([[]])
            return
        width = self.plot.vb.width()
        if width < 50:
            width = max(self.width() - 140, 300)
        # first the step where the answer is read (classification: the true last one), then the lesson's words
        keep = [len(tokens) - 1] if self._task == TASK_CLASSIFICATION else []
        keep += [i for i, t in enumerate(tokens) if t.lower() in getattr(self, "_key_tokens", ())]
        axis.setTicks([[(t + 1, text) for t, text in token_labels(tokens, width, keep, axis.style["tickFont"])]])

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(t, unit), 0-based, of the heatmap cell at view coordinates (x, y); None outside the states."""
        t, u = int(round(x)) - 1, int(round(y))
        T, D = self._states.shape
        return (t, u) if 0 <= t < T and 0 <= u < D else None

    def _clicked(self, event) -> None:
        pos = event.scenePos()
        if not self.plot.vb.sceneBoundingRect().contains(pos):
            return
        p = self.plot.vb.mapSceneToView(pos)
        cell = self.cell_at(p.x(), p.y())
        if cell is not None:
            self.cellClicked.emit(*cell)

    def _text_at(self, x: float, y: float) -> str | None:
        if self._states.size == 0:
            return None
        t, u = int(round(x)) - 1, int(round(y))
        T, D = self._states.shape
        if not (0 <= t < T and 0 <= u < D):
            return None
        tok = self._tokens[t] if t < len(self._tokens) else "?"
        return (f"t = {t + 1}, token \u201c{plotting.display_token(tok)}\u201d, unit {u}: s = {self._states[t, u]:+.4f}"
                "  (click: its equation)")
