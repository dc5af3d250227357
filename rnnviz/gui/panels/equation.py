"""Equation panel: the cell's equation for one hidden unit at one step, written with the probe's real numbers.

A click on a cell of the hidden-state heatmap (``features.views``) or the step and unit boxes choose (t, j); the
panel writes s_t[j] = tanh(U[j, x_t] + sum_k W[j, k] s_{t-1}[k] + b[j]) (the LSTM's and GRU's gate equations
likewise), the output y_t = softmax(V s_t + c) and dL/ds_t[j]. Every number is computed by ``rnnviz.core.equation``
from the Snapshot's probe; the panel only lays the lines out.
"""
from __future__ import annotations

import html

from PySide6 import QtWidgets

from rnnviz.core.equation import lines, unit_equation
from rnnviz.gui import style
from rnnviz.gui.panels.base import Panel

HINT = "Click a cell of the Hidden states heatmap, or choose the step and the unit here."


class EquationPanel(Panel):
    """Public API: ``select(t, j)`` (0-based step and unit), ``render(snapshot)``, ``reset()``, ``set_theme``.

    Items (for tests): ``text`` (QTextBrowser), ``step_box``, ``unit_box``, ``decimals_box``, ``lines`` (the
    (kind, HTML) lines shown, ``core.equation.lines``), ``message`` (why nothing is shown, or "")."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.t, self.j = 0, 0
        self.lines: list[tuple[str, str]] = []
        self.message = ""
        self._snapshot = None
        self._view = None
        self.step_box = QtWidgets.QSpinBox()
        self.unit_box = QtWidgets.QSpinBox()
        self.decimals_box = QtWidgets.QSpinBox()
        self.decimals_box.setRange(2, 6)
        self.decimals_box.setValue(3)
        for box, tip in ((self.step_box, "timestep t (1 = the first token)"), (self.unit_box, "hidden unit j"),
                         (self.decimals_box, "decimals shown")):
            box.setFont(style.font())
            box.setToolTip(tip)
            box.setKeyboardTracking(False)
        self.step_box.setRange(1, 1)
        self.unit_box.setRange(0, 0)
        self.step_box.valueChanged.connect(self._boxes_changed)
        self.unit_box.valueChanged.connect(self._boxes_changed)
        self.decimals_box.valueChanged.connect(self._redraw)
        row = QtWidgets.QHBoxLayout()
        for text, box in (("t", self.step_box), ("unit j", self.unit_box), ("dec.", self.decimals_box)):
            row.addWidget(style.label(text))
            row.addWidget(box)
        row.addStretch(1)
        self.setToolTip(HINT)
        self.text = QtWidgets.QTextBrowser()
        self.text.setFont(style.font(style.FONT_PT, mono=True))
        self.text.setLineWrapMode(QtWidgets.QTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.text, 1)
        self.reset()

    # ------------------------------------------------------------------------------------------ API
    def select(self, t: int, j: int) -> None:
        """Show unit ``j`` at step ``t`` (both 0-based)."""
        self.t, self.j = max(0, int(t)), max(0, int(j))
        for box, value in ((self.step_box, self.t + 1), (self.unit_box, self.j)):
            box.blockSignals(True)
            box.setMaximum(max(box.maximum(), value))
            box.setValue(value)
            box.blockSignals(False)
        self._redraw()

    def reset(self) -> None:
        self._snapshot = None
        self._view = None
        self.lines = []
        self.message = "no probe yet. " + HINT
        self.text.setHtml(f"<p>{self.message}</p>")

    def render(self, snapshot) -> None:
        # the fields the equation needs, read once (a replayed or live Snapshot is kept for the boxes' changes)
        self._snapshot = snapshot
        self._view = (snapshot.probe, snapshot.cell, snapshot.config or {}, snapshot.task, snapshot.classes)
        probe = snapshot.probe
        if probe is not None:
            T = len(probe.tokens)
            cfg = snapshot.config or {}
            d = int(cfg.get("hidden", 1)) * (2 if cfg.get("bidirectional", False) else 1)
            for box, hi in ((self.step_box, max(T, 1)), (self.unit_box, max(d - 1, 0))):
                box.blockSignals(True)
                box.setRange(box.minimum(), hi)
                box.blockSignals(False)
        self._redraw()

    # ------------------------------------------------------------------------------------------ drawing
    def _boxes_changed(self, *args) -> None:
        self.t, self.j = self.step_box.value() - 1, self.unit_box.value()
        self._redraw()

    def _redraw(self, *args) -> None:
        view = self._view
        self.lines, self.message = [], ""
        if view is None or view[0] is None:
            self.message = "no probe: the validation set is empty" if view is not None else "no probe yet"
        else:
            probe, cell, cfg, task, classes = view
            d = int(cfg.get("hidden", 1))
            T = len(probe.tokens)
            if self.j >= d and bool(cfg.get("bidirectional", False)) and self.j < 2 * d:
                self.message = (f"unit {self.j} belongs to the backward direction: this view writes the forward "
                                f"direction's units 0 \u2026 {d - 1}")
            elif self.j >= d:
                self.message = f"the model has {d} hidden units: choose j from 0 to {d - 1}"
            elif self.t >= T:
                self.message = f"the probe has {T} steps: choose t from 1 to {T}"
            elif not probe.params:
                self.message = probe.params_note or "this snapshot carries no parameters"
            else:
                eq = unit_equation(probe, cell, str(cfg.get("activation", "tanh")), task, classes, self.t, self.j)
                self.lines = lines(eq, self.decimals_box.value())
        self.text.setHtml(self._html())

    def _html(self) -> str:
        th = self.theme
        if self.message:
            return f"<p style='color:{th.foreground}'>{html.escape(self.message)}</p>"
        colours = {"head": th.foreground, "eq": th.foreground, "value": style.colour(0) if th.name == "light"
                   else "#8ab4f8", "note": th.faint}
        out = []
        for kind, text in self.lines:
            weight = "bold" if kind in ("head", "value") else "normal"
            gap = "8px" if kind == "head" else "2px"
            out.append(f"<div style='color:{colours[kind]}; font-weight:{weight}; margin-bottom:{gap}; "
                       f"white-space:pre-wrap'>{text}</div>")
        return "".join(out)

    def _theme_changed(self) -> None:
        self.text.setStyleSheet(f"background:{self.theme.background}; color:{self.theme.foreground}")
        self._redraw()

