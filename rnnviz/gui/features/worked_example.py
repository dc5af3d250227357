"""Help ▸ Worked example: the articles' "dogs" example (W_X, W_H, W_Y; a_1, h_1, y_1…) as numbers a student can
read, computed when the dialog opens by the core's own model (``core.nn.worked_example``), never typed in.

``install(window)`` adds the menu entry; ``window.worked_example.open()`` shows the dialog and returns it.
"""
from __future__ import annotations

import html
from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from rnnviz.core.nn.worked_example import VOCAB, WORD, matrices, worked_example
from rnnviz.gui import style

DECIMALS = 2            # as the articles print them
PAGE_WIDTH = 900        # px of text at the normal font: the step table's rows on one line each
MARGIN = 60             # the dialog's frame, margins and scroll bar around the text


def vector_text(v: Iterable[float], decimals: int = DECIMALS) -> str:
    """[0.54, 0.20, 0.72]: a vector as the dialog shows it."""
    return "[" + ", ".join(f"{float(x):.{decimals}f}" for x in v) + "]"


def _matrix(name: str, alias: str, m: np.ndarray, rows: Iterable[str], cols: Iterable[str], role: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr><th>" + html.escape(r) + "</th>" + "".join(f"<td>{x:.1f}</td>" for x in row) + "</tr>"
                   for r, row in zip(rows, m))
    return (f"<td valign='top' style='padding-right:24px'><b>{name}</b> (rnnviz: <b>{alias}</b>, {role})"
            f"<table cellspacing='0' cellpadding='4' border='1'><tr><th></th>{head}</tr>{body}</table></td>")


def example_html(word: str = WORD) -> str:
    """The dialog's page: the equations, the three matrices and every number of each timestep."""
    ex = worked_example(word)
    W_X, W_H, W_Y = matrices()
    hidden = [str(i + 1) for i in range(W_H.shape[0])]          # hidden units 1..3
    mats = ("<table><tr>"
            + _matrix("W_X", "U", W_X, hidden, VOCAB, "input → hidden")
            + _matrix("W_H", "W", W_H, hidden, hidden, "hidden → hidden")
            + _matrix("W_Y", "V", W_Y, VOCAB, hidden, "hidden → output")
            + "</tr></table>")
    def bold_target(s) -> str:
        return "[" + ", ".join(f"<b>{x:.{DECIMALS}f}</b>" if VOCAB[i] == s.target else f"{x:.{DECIMALS}f}"
                               for i, x in enumerate(s.y)) + "]"

    # one column per timestep, as the network is unrolled; one row per quantity
    quantities = (
        ("reads x<sub>t</sub>", lambda s: f"“{html.escape(s.char)}” {vector_text(s.x, 0)}"),
        ("a<sub>t</sub> = W_X x<sub>t</sub> + W_H h<sub>t−1</sub>", lambda s: vector_text(s.a)),
        ("h<sub>t</sub> = tanh(a<sub>t</sub>)", lambda s: vector_text(s.h)),
        ("z<sub>t</sub> = W_Y h<sub>t</sub>", lambda s: vector_text(s.z)),
        ("y<sub>t</sub> = softmax(z<sub>t</sub>) over " + ", ".join(VOCAB), bold_target),
        ("next character", lambda s: f"“{html.escape(s.target)}”"),
        ("−log y<sub>t</sub>[next]", lambda s: f"{s.loss:.3f}"),
    )
    head = "<tr><th></th>" + "".join(f"<th>t = {s.t}</th>" for s in ex.steps) + "</tr>"
    body = "".join(f"<tr><th align='left'>{label}</th>"
                   + "".join(f"<td style='white-space:nowrap'>{cell(s)}</td>" for s in ex.steps) + "</tr>"
                   for label, cell in quantities)
    steps = f"<table cellspacing='0' cellpadding='5' border='1'>{head}{body}</table>"
    return (
        f"<h2>Worked example: an RNN reads “{html.escape(word)}”</h2>"
        "<p>A vanilla RNN with three hidden units reads the word one character at a time and predicts the next "
        "character. The vocabulary is " + ", ".join(f"“{c}”" for c in VOCAB) + "; x<sub>t</sub> is the one-hot "
        "vector of the character read, h<sub>0</sub> = 0, and the biases are 0. Rows 1–3 of the matrices are the "
        "three hidden units.</p>"
        "<p style='font-family:monospace'>a<sub>t</sub> = W_X x<sub>t</sub> + W_H h<sub>t−1</sub>"
        " &nbsp;&nbsp; h<sub>t</sub> = tanh(a<sub>t</sub>) &nbsp;&nbsp; y<sub>t</sub> = softmax(W_Y h<sub>t</sub>)"
        "<br>in rnnviz's notation: s<sub>t</sub> = tanh(U x<sub>t</sub> + W s<sub>t−1</sub> + b), "
        "y<sub>t</sub> = softmax(V s<sub>t</sub> + c)</p>"
        + mats + "<h3>Step by step</h3>" + steps
        + f"<p>Loss of the sequence (the sum over t): <b>{ex.loss:.3f}</b>. The probability of the right next "
        "character is in bold. With t = 1 (“d”), W_X x<sub>1</sub> is the first column of W_X, and "
        "W_H h<sub>0</sub> = 0.</p>"
        "<p><i>Every number here is computed as the dialog opens, by the same model code rnnviz trains with "
        f"(rounded to {DECIMALS} decimals). The lesson “Worked example: dogs” starts training from these "
        "matrices.</i></p>")


class WorkedExampleDialog(QDialog):
    def __init__(self, parent: Any = None, word: str = WORD):
        super().__init__(parent)
        self.setWindowTitle(f"Worked example: an RNN reads “{word}”")
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setObjectName("workedExample")
        self.browser.setOpenLinks(False)
        self.browser.setHtml(example_html(word))
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.fit()

    def fit(self) -> None:
        """Wide enough for the step table on one line per row (wider with presentation mode's larger fonts), within
        the screen; as tall as the page."""
        scale = max(1.0, self.font().pointSizeF() / style.BASE_POINT_SIZE)
        screen = (self.parentWidget() or self).screen().availableGeometry()
        text_width = min(PAGE_WIDTH * scale, screen.width() * 0.95 - MARGIN)
        doc = self.browser.document()
        doc.setTextWidth(text_width)
        height = doc.size().height() + 110
        self.resize(int(text_width + MARGIN), int(min(height, screen.height() * 0.9)))

    def text(self) -> str:
        """What the dialog shows, as plain text (for tests)."""
        return self.browser.toPlainText()


class WorkedExample:
    def __init__(self, window: Any):
        self.window = window
        self.dialog: WorkedExampleDialog | None = None
        action = QAction("Worked example: an RNN reads “dogs”…", window)
        action.setStatusTip("The articles' example with every number: W_X, W_H, W_Y, then a_t, h_t and y_t "
                            "for each character")
        action.triggered.connect(lambda _c=False: self.open())
        window.menu("&Help").addAction(action)
        window.actions_by_name["worked_example"] = action
        self.action = action

    def open(self) -> WorkedExampleDialog:
        """Show the dialog (not modal: training and the keys go on in the window) and return it."""
        if self.dialog is None:
            self.dialog = WorkedExampleDialog(self.window)
            self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        else:
            self.dialog.fit()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def install(window: Any) -> None:
    window.worked_example = WorkedExample(window)
