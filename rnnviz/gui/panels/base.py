"""The panel contract: every panel is a ``Panel`` with a ``title``, ``render(snapshot)``, ``reset()`` and
``set_theme(name)``."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from rnnviz.core.config import TASKS
from rnnviz.gui.panels.plotting import apply_theme
from rnnviz.gui.style import FONT_PT, Theme, font, theme

TASK_CLASSIFICATION, TASK_LABELLING, TASK_GENERATION = TASKS


class Panel(QtWidgets.QWidget):
    """Base of every panel: ``title``, ``render(snapshot)``, ``reset()``, ``set_theme(name)``."""

    title = ""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.theme = theme()
        self._views: list[pg.GraphicsView] = []
        self.setFont(font(FONT_PT))

    def _register(self, view: pg.GraphicsView) -> pg.GraphicsView:
        self._views.append(view)
        return view

    def render(self, snapshot) -> None:  # noqa: D401 - shadows QWidget.render on purpose (the panel contract)
        raise NotImplementedError

    def reset(self) -> None:
        """Forget everything drawn (a new model)."""

    def set_theme(self, name: str | Theme) -> None:
        self.theme = theme(name)
        for view in self._views:
            apply_theme(view, self.theme)
        self._theme_changed()

    def _theme_changed(self) -> None:
        """Hook for panel-specific colours (text items, table highlights)."""
