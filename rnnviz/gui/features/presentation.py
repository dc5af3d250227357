"""Presentation (projector) mode of the main window, and the light / dark theme.

F11 or Ctrl+P switches presentation mode on and off (the engine is ``rnnviz.gui.projector``, which the A/B race
window uses too): every font and tick 1.3x larger, every line twice as thick, the settings dock, menu bar and
status bar hidden (the keys still work), full screen, and each panel's own change (``Panel.set_projector``, as its
registry spec says). The same key restores everything as it was. View ▸ Theme ▸ Light / Dark recolours every panel
(``Panel.set_theme``) and the Qt widgets (the style sheet).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup

from rnnviz.gui import style
from rnnviz.gui import style as theme_mod
from rnnviz.gui.projector import FONT_SCALE, KEYS, LINE_SCALE, SYMBOL_SCALE, Projector

__all__ = ["FONT_SCALE", "KEYS", "LINE_SCALE", "SYMBOL_SCALE", "Presentation", "install"]


class Presentation(Projector):
    """Presentation mode and theme switching for the main window."""

    def __init__(self, window: Any):
        super().__init__(window, panels=lambda: [p for _k, p in window.panels.built()],   # made so far (refresh
                                                                                          # scales later ones)
                         chrome=lambda: (window.dock, window.menuBar(), window.statusBar()),
                         redraw=self._draw_latest)
        self.theme = style.theme().name
        view = window.menu("&View")
        view.addSeparator()
        view.addAction(self.action)
        theme_menu = view.addMenu("Theme")
        group = QActionGroup(window)
        group.setExclusive(True)
        self.theme_actions: dict[str, QAction] = {}
        for name, text in (("light", "Light"), ("dark", "Dark")):
            a = QAction(text, window)
            a.setCheckable(True)
            a.setChecked(name == self.theme)
            a.setToolTip(f"{text} background for every panel and the window")
            a.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(a)
            theme_menu.addAction(a)
            self.theme_actions[name] = a
        window.actions_by_name["presentation"] = self.action
        window.controller.modelReset.connect(self.after_reset)
        window.frameDrawn.connect(self.refresh)

    def theme_name(self) -> str:
        return self.theme

    def _draw_latest(self) -> None:
        snap = self.window.controller.latest
        if snap is not None:
            self.window.show_snapshot(snap, everything=True)

    # --- theme --------------------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        """Light or dark for every panel, the pyqtgraph defaults and the Qt widgets."""
        th = style.theme(name)
        self.theme = th.name
        style.set_default_theme(th.name)
        theme_mod.set_widget_theme(th.name, FONT_SCALE if self.on else 1.0, window=self.window)
        for panel in self.window.panels.values():
            panel.set_theme(th.name)
        self.theme_actions[th.name].setChecked(True)
        self._redraw()


def install(window: Any) -> None:
    window.presentation = Presentation(window)
