"""Explore menu entries of the A/B race and the sweep (installed by the main window's EXTENSIONS hook).

Explore ▸ A/B race…  asks what B changes ("cell=lstm", several separated by spaces or commas), then opens the
                      race window with A = the window's current settings.
Explore ▸ Sweep…      opens the sweep window on the current settings; clicking a cell applies it here.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog

from rnnviz.core.errors import RnnvizError


def ask_b_changes(window: Any) -> str | None:
    cfg = window.controller.config
    default = "cell=lstm" if cfg.cell == "rnn" else "cell=rnn"
    text, ok = QInputDialog.getText(
        window, "A/B race: what does B change?",
        "A is the current model. B is A with these settings changed\n"
        "(key=value, several separated by spaces), e.g. cell=lstm  or  lr=0.001 hidden=64:", text=default)
    return text if ok else None


def open_race(window: Any, text: str | None = None) -> Any:
    """Open the race window for ``text`` ("cell=lstm hidden=64"); a bad setting shows one clear message."""
    from rnnviz.core.explore.race import b_config
    from rnnviz.gui.windows.race import show_race

    text = ask_b_changes(window) if text is None else text
    if not text:
        return None
    a = window.controller.config
    try:
        b = b_config(a, text.replace(",", " ").split())
    except RnnvizError as exc:
        window.show_error("A/B race not started", str(exc))
        return None
    return show_race(window, a, b)


def open_sweep(window: Any) -> Any:
    """The Sweep dialog (the sweep window's modules are loaded when it is first opened, not at start-up)."""
    from rnnviz.gui.windows.sweep_window import open_sweep as _open

    return _open(window)


def install(window: Any) -> None:
    menu = window.menu("&Explore")
    race = QAction("A/B race…", window)
    race.setStatusTip("Train the current settings (A) and a changed copy (B) side by side from the same start")
    race.triggered.connect(lambda: open_race(window))
    sweep = QAction("Sweep…", window)
    sweep.setStatusTip("Train a grid of one or two settings in parallel and compare the results")
    sweep.triggered.connect(lambda: open_sweep(window))
    menu.addAction(race)
    menu.addAction(sweep)
    window.actions_by_name["race"] = race
    window.actions_by_name["sweep"] = sweep
    window._race_sweep_closer = _Closer(window)
    window.installEventFilter(window._race_sweep_closer)


class _Closer(QObject):
    """Closes the race and sweep windows (stopping their training) when the main window closes."""

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() == QEvent.Type.Close:
            for w in getattr(obj, "_race_windows", []) + getattr(obj, "_sweep_windows", []):
                w.close()
        return False
