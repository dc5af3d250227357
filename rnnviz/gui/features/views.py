"""The connections of the views that explain one step: the equation, who reaches whom.

- A click on a cell of the Hidden states heatmap shows that unit's equation at that step in the Equation panel
  (its tab comes to the front when it shares the tabs).
- The who-reaches-whom matrix costs one backward pass per step of the probe, so the training process computes it
  only while the Who-reaches-whom panel is on screen (``Controller.set_reach_trace``), as the slow-motion BPTT trace.

``install(window)`` is called by the window (``main_window.EXTENSIONS``); ``window.views`` is the ``Views`` object.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot


class Views(QObject):
    """The equation's clicks and the who-reaches-whom trace of one window."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.reaching = False
        window.panels.when_built(self._connect_panel)      # now, or when a tab's panel is made
        window.tabs.currentChanged.connect(self._sync_reach)
        self._sync_reach()

    def _connect_panel(self, key: str, panel: Any) -> None:
        if key == "hidden" and hasattr(panel, "cellClicked"):
            panel.cellClicked.connect(self.show_equation)

    @Slot(int, int)
    def show_equation(self, t: int, j: int) -> None:
        """The Equation panel writes unit ``j`` at step ``t`` (0-based), and comes to the front."""
        panel = self.window.panels.get("equation")
        if panel is None or not hasattr(panel, "select"):
            return
        panel.select(t, j)
        tabs = self.window.tabs
        if tabs.indexOf(panel) >= 0:
            tabs.setCurrentWidget(panel)

    def reach_visible(self) -> bool:
        """The Who-reaches-whom panel is on screen: in a place of its own, or its tab at the front (not made yet:
        a tab never brought to the front)."""
        panel = self.window.panels.peek("reach")
        tabs = self.window.tabs
        return panel is not None and (tabs.indexOf(panel) < 0 or tabs.currentWidget() is panel)

    @Slot()
    def _sync_reach(self, *args) -> None:
        on = self.reach_visible()
        if on != self.reaching:
            self.reaching = on
            self.window.controller.set_reach_trace(on)


def install(window: Any) -> Views:
    window.views = views = Views(window)
    return views
