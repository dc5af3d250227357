"""Help ▸ Worked example: the dialog shows the articles' numbers, computed (never typed) by the core model."""
from __future__ import annotations

import numpy as np

import pytest

from helpers import small_config
from qt_helpers import windows_deleted_here  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("windows_deleted_here")


def shown_rows(text: str) -> list[list[str]]:
    """The step-by-step table as the dialog shows it, one column per timestep: per timestep, the cells
    reads, a, h, z, y, next, loss."""
    lines = text.splitlines()
    start = lines.index("t = 1")
    n = 0
    while lines[start + n] == f"t = {n + 1}":
        n += 1
    rows = []                                   # each row: its label, then one cell per timestep
    at = start + n
    while at + n < len(lines) and lines[at] and not lines[at].startswith("Loss of the sequence"):
        rows.append(lines[at + 1:at + 1 + n])
        at += n + 1
    return [list(col) for col in zip(*rows)]


def fmt(v) -> str:
    return "[" + ", ".join(f"{x:.2f}" for x in v) + "]"


def test_the_dialog_shows_the_articles_numbers(qtbot):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="thread", start=False)
    qtbot.addWidget(win)
    help_menu = [a for a in win.menuBar().actions() if a.text() == "&Help"][0].menu()
    assert win.actions_by_name["worked_example"] in help_menu.actions()
    win.actions_by_name["worked_example"].trigger()
    dialog = win.worked_example.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.width() <= dialog.screen().availableGeometry().width()      # it fits a small projector
    rows = shown_rows(dialog.text())
    assert len(rows) == 3 and all(len(r) == 7 for r in rows)
    reads, a, h, z, y, nxt, _loss = rows[0]
    # the articles: "d" is [1, 0, 0, 0], a1 = [0.6, 0.2, 0.9], h1 ≈ [0.54, 0.20, 0.72], y1 ≈ [0.32, 0.21, 0.24, 0.22]
    assert reads == "“d” [1, 0, 0, 0]" and nxt == "“o”"
    assert a == "[0.60, 0.20, 0.90]"
    assert h == "[0.54, 0.20, 0.72]"
    assert y == "[0.32, 0.21, 0.24, 0.22]"
    # every step against a hand loop over the articles' matrices
    W_X = np.array([[0.6, 0.8, 0.4, 0.8], [0.2, 0.2, 0.8, 0.7], [0.9, 0.8, 0.1, 0.2]])
    W_H = np.array([[0.1, 0.5, 0.1], [0.5, 0.9, 0.3], [0.3, 0.2, 0.1]])
    W_Y = np.array([[0.9, 0.8, 0.3], [0.2, 0.3, 0.4], [0.6, 0.9, 0.1], [0.5, 0.0, 0.3]])
    hs = np.zeros(3)
    total = 0.0
    for row, (ch, target) in zip(rows, [(0, 1), (1, 2), (2, 3)], strict=True):
        av = W_X[:, ch] + W_H @ hs
        hs = np.tanh(av)
        zv = W_Y @ hs
        yv = np.exp(zv) / np.exp(zv).sum()
        total += -np.log(yv[target])
        assert row[1:5] == [fmt(av), fmt(hs), fmt(zv), fmt(yv)]
        assert row[6] == f"{-np.log(yv[target]):.3f}"
    assert f"Loss of the sequence (the sum over t): {total:.3f}." in dialog.text()
    for name in ("W_X", "W_H", "W_Y"):      # the matrices, as the articles print them
        assert name in dialog.text()
    cells = dialog.text().split("W_X (rnnviz: U, input → hidden)")[1].split("Step by step")[0]
    shown = [float(c) for c in cells.split() if c.replace(".", "").isdigit() and "." in c]
    assert shown == list(W_X.ravel()) + list(W_H.ravel()) + list(W_Y.ravel())
    dialog.close()
    win.close()
