"""The panel contract: every panel is a ``Panel`` with ``render(snapshot)``, ``reset()``, ``set_theme(name)`` and
``set_projector(on)``; its title and what it changes in presentation mode come from its ``registry.PanelSpec``."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from rnnviz.core.config import TASKS
from rnnviz.gui import style
from rnnviz.gui.panels import registry
from rnnviz.gui.panels.hover import is_readout
from rnnviz.gui.panels.colormaps import heatmap_cmap
from rnnviz.gui.panels.plotting import apply_theme, fit_axis_title
from rnnviz.gui.style import FONT_PT, Theme, font, theme

SHORT_BELOW = 300       # panel height (px, at the normal font) below which the hover read-out gives its line away

TASK_CLASSIFICATION, TASK_LABELLING, TASK_GENERATION = TASKS


class Panel(QtWidgets.QWidget):
    """Base of every panel: ``title``, ``render(snapshot)``, ``reset()``, ``set_theme(name)``, ``set_projector(on)``."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.theme = theme()
        self.projector = False          # presentation mode (set_projector)
        self._views: list[pg.GraphicsView] = []
        self.setFont(font(FONT_PT))

    @property
    def spec(self) -> registry.PanelSpec:
        return registry.spec_of(type(self))

    @property
    def title(self) -> str:
        return self.spec.title

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A short panel (a small screen) gives its hover read-out's line to the plots."""
        super().resizeEvent(event)
        short = self.height() < SHORT_BELOW * style.FONT_PT / style.BASE_POINT_SIZE
        for label in self.findChildren(QtWidgets.QLabel):
            if is_readout(label):
                label.setMaximumHeight(0 if short else 16777215)

    def refit_axis_titles(self) -> None:
        """Shorten every axis title that is longer than its axis again (``plotting.fit_axis_title`` runs when an
        axis changes size; a plot put back into a layout at the size it had when it left does not)."""
        for view in self._views:
            if view.scene() is not None:
                for item in view.scene().items():
                    if isinstance(item, pg.AxisItem):
                        fit_axis_title(item)

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
        self._recolour()
        self._theme_changed()

    def set_projector(self, on: bool) -> None:
        """Presentation mode on or off: what the panel changes itself, as its spec's ``projector`` says (a heatmap
        takes the strong version of its colour map). The fonts and lines of every panel are scaled by
        ``features.presentation``."""
        self.projector = bool(on)
        self._recolour()

    def _recolour(self) -> None:
        kind = self.spec.projector
        if kind:
            self._set_cmap(heatmap_cmap(kind, self.projector, self.theme))

    def _set_cmap(self, cmap: pg.ColorMap) -> None:
        """Show the panel's heatmap in ``cmap``: every panel whose spec has a ``projector`` colour map has one."""
        raise NotImplementedError(f"{type(self).__name__}: its spec names a projector colour map, but it has no "
                                  "_set_cmap")

    def _theme_changed(self) -> None:
        """Hook for panel-specific colours (text items, table highlights)."""
