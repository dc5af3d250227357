"""Predictions panel: what the model says about the probe.

classification: class probabilities as bars (prediction highlighted, true class marked);
labelling:      the probe sentence token by token with true and predicted tags, wrong ones in red;
generation:     text sampled at the last evaluation, its prompt (the start of validation example 0, given to the
                model, not sampled) underlined in another colour, and a temperature slider.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui import style
from rnnviz.gui.panels import base, hover, plotting
from rnnviz.gui.panels.base import Panel

IGNORE = -100          # rnnviz.core.data.batch.IGNORE (no target at this position)
PAGES = {base.TASK_CLASSIFICATION: 0, base.TASK_LABELLING: 1, base.TASK_GENERATION: 2}
TABLE_HEADERS = ("t", "token", "true tag", "predicted", "p(predicted)")


BAR_TITLE = "Class probabilities for the probe"
UNTITLED_BELOW = 300           # panel height (px, at the normal font) below which the bar plot has no title
PROMPT_COLOUR = style.colour(4)  # generation: the prompt (purple: apart from the text on both themes)
PROB_HEADROOM = 0.12           # the bars' y range reaches this far above 1 (the true-class marker)


class PredictionsPanel(Panel):
    """Public API: ``temperatureChanged(float)`` (slider, 0-2), ``render(snapshot)``, ``reset()``,
    ``set_temperature(float)`` (no signal), ``set_theme(name)``.

    Items (for tests): ``stack`` (page 0 classification, 1 labelling, 2 generation); ``bars`` (BarGraphItem),
    ``true_marker`` (TextItem over the true class), ``caption``; ``table`` (QTableWidget, one row per token);
    ``sample_box`` (QPlainTextEdit), ``temp_slider`` (0..200 = temperature x 100), ``temp_label``.
    """

    temperatureChanged = QtCore.Signal(float)

    def _fit_probability_axis(self, *_args) -> None:
        """Probability ticks 0, 0.25 .. 1 where the plot is tall enough, else 0, 0.5, 1 (or 0, 1), with room below 0
        and above 1 for their labels (a label sticking out of the plot is not drawn); the axis title "probability",
        or "p" when the axis is shorter than the word."""
        height = self.plot.vb.height()
        axis = self.plot.getAxis("left")
        metrics = QtGui.QFontMetricsF(axis.style.get("tickFont") or style.font())     # presentation mode: larger
        half = metrics.height() / 2 + 1                                     # px a label reaches past its tick
        if height <= 2.5 * half:                                           # no room for two labels
            return
        span = (1.0 + PROB_HEADROOM) / (1.0 - half / height)               # the y range's length, in probability
        below, above = half / height * span, max(PROB_HEADROOM, half / height * span)
        px = height / span                                                  # px per unit of probability
        step = next((st for st in (0.25, 0.5) if st * px >= 1.4 * metrics.height()), 1.0)
        title = "probability" if metrics.horizontalAdvance("probability") + 8 <= height else "p"
        key = (step, title, round(below, 3), round(metrics.height(), 1))
        if key != self._prob_axis:
            self._prob_axis = key
            self.plot.setYRange(-below, 1.0 + above, padding=0)
            axis.setTicks([[(v, f"{v:g}") for v in np.arange(0.0, 1.0 + 1e-9, step)]])
            plotting.set_axis_label(axis, title, self.theme)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.caption = style.label("", style.FONT_PT + 1, wrap=True)
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.stack = QtWidgets.QStackedWidget()

        # --- classification
        self.view = self._register(plotting.graphics_layout(th))
        self.plot: pg.PlotItem = self.view.addPlot()
        self._untitled = False
        plotting.style_plot(self.plot, BAR_TITLE, left="probability",
                          bottom="class", th=th)
        self.plot.showGrid(x=False, y=True, alpha=th.grid_alpha)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setYRange(0.0, 1.0 + PROB_HEADROOM, padding=0)
        self.plot.vb.sigResized.connect(self._fit_probability_axis)
        self._prob_axis: tuple | None = None
        self._fit_probability_axis()
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=th.faint)
        self.plot.addItem(self.bars)
        self.true_marker = pg.TextItem("\u25bc true", anchor=(0.5, 1.0), color=th.good)
        self.true_marker.setFont(style.font(style.FONT_PT, bold=True))
        self.true_marker.setVisible(False)
        self.plot.addItem(self.true_marker)
        self.stack.addWidget(self.view)

        # --- labelling
        self.table = QtWidgets.QTableWidget(0, len(TABLE_HEADERS))
        self.table.setHorizontalHeaderLabels(TABLE_HEADERS)
        self.table.setFont(style.font(style.FONT_PT + 1))
        self.table.horizontalHeader().setFont(style.font(style.FONT_PT, bold=True))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.stack.addWidget(self.table)

        # --- generation
        gen = QtWidgets.QWidget()
        gl = QtWidgets.QVBoxLayout(gen)
        gl.setContentsMargins(0, 0, 0, 0)
        self.sample_box = QtWidgets.QPlainTextEdit()
        self.sample_box.setReadOnly(True)
        self.sample_box.setFont(style.font(style.FONT_PT + 2, mono=True))
        self.sample_box.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.temp_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.temp_slider.setRange(0, 200)
        self.temp_slider.setSingleStep(5)
        self.temp_slider.setPageStep(25)
        self.temp_slider.setTickInterval(25)
        self.temp_slider.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.temp_slider.setValue(100)
        self.temp_slider.valueChanged.connect(self._slider_moved)
        self.temp_label = style.label("temperature 1.00")
        self.temp_label.setMinimumWidth(170)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.temp_label)
        row.addWidget(self.temp_slider, 1)
        hint = style.label("0 = always the most likely next token; 1 = sample the model's probabilities; "
                            "2 = flatter, more random", style.SMALL_PT, wrap=True)
        gl.addWidget(style.label("Text sampled from the model at the last evaluation", style.TITLE_PT, bold=True))
        gl.addWidget(self.sample_box, 1)
        gl.addLayout(row)
        gl.addWidget(hint)
        self.stack.addWidget(gen)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)
        self.readout = style.label("")
        layout.addWidget(self.readout)
        self.hover = hover.HoverReadout(self.view, self.readout, [(self.plot, self._bar_text)])
        self.reset()

    # ------------------------------------------------------------------------------------------ API
    def set_temperature(self, t: float) -> None:
        """Move the slider without emitting (e.g. to follow the trainer's temperature)."""
        self.temp_slider.blockSignals(True)
        self.temp_slider.setValue(int(round(np.clip(t, 0.0, 2.0) * 100)))
        self.temp_slider.blockSignals(False)
        self._show_temperature(self.temp_slider.value() / 100.0)

    def reset(self) -> None:
        self._classes: tuple[str, ...] = ()
        self._probs = np.zeros(0)
        self.bars.setOpts(x=[], height=[], width=0.7)
        self.true_marker.setVisible(False)
        self.table.setRowCount(0)
        self.sample_box.setPlainText("")
        self._sample_shown: tuple[str, str] | None = None
        self.caption.setText("No probe yet.")
        self.readout.setText(self.hover.idle_text)

    def render(self, snapshot) -> None:
        page = PAGES.get(snapshot.task, 0)
        if self.stack.currentIndex() != page:
            self.stack.setCurrentIndex(page)
        self.readout.setVisible(page == 0)
        if page == 2:
            self._render_generation(snapshot)
            return
        probe = snapshot.probe
        if probe is None:
            self.caption.setText("No probe: the validation set is empty.")
            return
        if page == 0:
            self._render_classification(snapshot, probe)
        else:
            self._render_labelling(snapshot, probe)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A short panel (a small place on a 1024x768 screen) gives the bar plot's title row to the bars: the
        caption above says what they are."""
        super().resizeEvent(event)
        short = self.height() < UNTITLED_BELOW * style.FONT_PT / style.BASE_POINT_SIZE
        if short != self._untitled:
            self._untitled = short
            if short:
                self.plot.setTitle(None)
            else:
                self.plot.setTitle(BAR_TITLE, size=f"{style.TITLE_PT}pt", color=self.theme.foreground)

    def _theme_changed(self) -> None:
        self.true_marker.setColor(self.theme.good)
        self._sample_shown = None                # the sample box is drawn again at the next render
        self._classes = ()                       # bar colours and captions are redrawn at the next render

    # ------------------------------------------------------------------------------------------ pages
    def _render_classification(self, snapshot, probe) -> None:
        th = self.theme
        self._fit_probability_axis()         # the tick font may have changed (presentation mode)
        probs = np.asarray(probe.probs, dtype=np.float64).reshape(-1)
        k = probs.size
        classes = tuple(snapshot.classes[:k]) if len(snapshot.classes) >= k else tuple(map(str, range(k)))
        if classes != self._classes:
            self._classes = classes
            per_char = style.FONT_PT * 0.75
            width = max(self.plot.vb.width(), 300.0)
            n = max(3, int(width / max(k, 1) / per_char) - 1)
            self.plot.getAxis("bottom").setTicks(
                [[(i, c if len(c) <= n else c[: n - 1] + "\u2026") for i, c in enumerate(classes)]])
            self.plot.setXRange(-0.6, k - 0.4, padding=0)
        self._probs = probs
        pred = int(np.asarray(probe.predicted))
        true = int(np.asarray(probe.target))
        brushes = [pg.mkBrush(style.colour(0) if i == pred else th.faint) for i in range(k)]
        pens = [pg.mkPen(th.good, width=3) if i == true else pg.mkPen(None) for i in range(k)]
        self.bars.setOpts(x=np.arange(k, dtype=np.float64), height=np.nan_to_num(probs), width=0.7,
                          brushes=brushes, pens=pens)
        if 0 <= true < k:
            self.true_marker.setPos(true, float(np.nan_to_num(probs[true])) + 0.01)
            self.true_marker.setVisible(True)
        else:
            self.true_marker.setVisible(False)
        toks = " ".join(plotting.display_token(t) for t in probe.tokens)
        if len(toks) > 160:
            toks = toks[:159] + "\u2026"
        if 0 <= true < k:
            ok = pred == true
            verdict = (f"<span style='color:{th.good if ok else th.bad}'><b>{'correct' if ok else 'wrong'}</b></span>"
                       f" &nbsp; true: <b>{classes[true]}</b>, predicted: <b>{classes[pred]}</b> "
                       f"(p = {probs[pred]:.2f})")
        else:
            verdict = f"predicted: <b>{classes[pred]}</b> (p = {probs[pred]:.2f})"
        self.caption.setText(f"<i>{probe.source}</i>: \u201c{_html(toks)}\u201d<br>{verdict}")

    def _render_labelling(self, snapshot, probe) -> None:
        th = self.theme
        tokens = list(probe.tokens)
        target = np.asarray(probe.target).reshape(-1)
        pred = np.asarray(probe.predicted).reshape(-1)
        probs = np.asarray(probe.probs, dtype=np.float64)
        classes = snapshot.classes
        T = len(tokens)
        if self.table.rowCount() != T:
            self.table.setRowCount(T)
        bad_fg, bad_bg = QtGui.QColor(th.bad), QtGui.QColor(th.bad_background)
        normal_fg = QtGui.QColor(th.foreground)
        no_bg = QtGui.QBrush()
        correct = total = 0
        for t in range(T):
            tgt = int(target[t]) if t < target.size else IGNORE
            p = int(pred[t]) if t < pred.size else -1
            has_target = tgt != IGNORE
            wrong = has_target and p != tgt
            total += has_target
            correct += has_target and not wrong
            pp = probs[t, p] if probs.ndim == 2 and 0 <= p < probs.shape[1] and t < probs.shape[0] else np.nan
            values = (str(t + 1), plotting.display_token(tokens[t]),
                      _name(classes, tgt) if has_target else "\u2013", _name(classes, p), plotting.fmt(pp, 2))
            for c, text in enumerate(values):
                item = self.table.item(t, c)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                    self.table.setItem(t, c, item)
                item.setText(text)
                if c >= 3 and wrong:
                    item.setForeground(bad_fg)
                    item.setBackground(bad_bg)
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                else:
                    item.setForeground(normal_fg)
                    item.setBackground(no_bg)
                    f = item.font()
                    f.setBold(False)
                    item.setFont(f)
        score = f"{correct} / {total} tags correct" if total else "no tags to check"
        colour = th.good if total and correct == total else (th.bad if total else th.foreground)
        self.caption.setText(f"<i>{probe.source}</i>: <span style='color:{colour}'><b>{score}</b></span>"
                             f" &nbsp; (wrong predictions in red)")

    def _render_generation(self, snapshot) -> None:
        """The sample, its prompt (given, not sampled) underlined in the prompt colour; the caption names the prompt
        and the step the text was sampled at (the last evaluation, not the snapshot's step)."""
        text, prompt, step = snapshot.sample_text or "", str(snapshot.sample_prompt), int(snapshot.sample_step)
        prompt = prompt if text.startswith(prompt) else ""
        if (text, prompt) != self._sample_shown:
            self._sample_shown = (text, prompt)
            self._show_sample(text, prompt)
        if not self.temp_slider.isSliderDown():
            self.set_temperature(float(snapshot.sample_temperature))
        if not text:
            self.caption.setText("No sample yet: one is drawn at each evaluation.")
            return
        when = f"step {step}, " if step >= 0 else ""
        sampled = f"sampled at {when}temperature {snapshot.sample_temperature:.2f}"
        if not prompt:
            self.caption.setText(sampled[0].upper() + sampled[1:])
            return
        shown = prompt.replace("\n", "\u21b5").replace("\t", "\u21e5")        # line breaks made visible
        self.caption.setText(f"<span style='color:{PROMPT_COLOUR}'><u><b>prompt</b></u>: \u201c{_html(shown)}"
                             f"\u201d</span> (from validation example 0), then {sampled}")

    def _show_sample(self, text: str, prompt: str) -> None:
        """The sample box: ``text`` with its first ``len(prompt)`` characters in the prompt format."""
        self.sample_box.setPlainText(text if text else "(no sample yet: one is drawn at each evaluation)")
        if not (text and prompt):
            return
        cursor = QtGui.QTextCursor(self.sample_box.document())
        cursor.setPosition(0)
        cursor.setPosition(len(prompt.encode("utf-16-le")) // 2, QtGui.QTextCursor.MoveMode.KeepAnchor)  # Qt counts UTF-16
        cursor.setCharFormat(self.prompt_format())

    def prompt_format(self) -> QtGui.QTextCharFormat:
        """How the prompt looks in the sample box: underlined, bold, in ``PROMPT_COLOUR``."""
        fmt = QtGui.QTextCharFormat()
        fmt.setForeground(QtGui.QColor(PROMPT_COLOUR))
        fmt.setFontUnderline(True)
        fmt.setFontWeight(QtGui.QFont.Weight.Bold)
        return fmt

    # ------------------------------------------------------------------------------------------ helpers
    def _slider_moved(self, value: int) -> None:
        t = value / 100.0
        self._show_temperature(t)
        self.temperatureChanged.emit(t)

    def _show_temperature(self, t: float) -> None:
        self.temp_label.setText(f"temperature {t:.2f}" + ("  (greedy)" if t == 0 else ""))

    def _bar_text(self, x: float, y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < self._probs.size or abs(x - i) > 0.4:
            return None
        name = self._classes[i] if i < len(self._classes) else str(i)
        return f"class \u201c{name}\u201d: p = {self._probs[i]:.4f}"


def _name(classes, i: int) -> str:
    return classes[i] if 0 <= i < len(classes) else str(i)


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
