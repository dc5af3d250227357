"""The state-space panel's frames are computed by the training process only while the panel is shown (a forward
pass over the validation examples and a PCA per frame): this feature sends ``messages.SetStateSpace`` whenever
that changes (its tab comes to the front or leaves it; a panel with a place of its own is always shown).
``install(window)`` is called once the window is built (``main_window.EXTENSIONS``)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot

KEY = "statespace"


def shown(window: Any, key: str) -> bool:
    """Panel ``key`` is on screen: it has a place of its own, or it is the tab at the front (a panel not made yet
    is a tab that has never been at the front)."""
    panel = window.panels.peek(key)
    tabs = window.tabs
    return panel is not None and (tabs.indexOf(panel) < 0 or tabs.currentWidget() is panel)


class StateSpaceSync(QObject):
    """Keeps the training loop's state-space frames on exactly while the panel is shown."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.on = False
        window.tabs.currentChanged.connect(self.sync)
        self.sync()

    @Slot()
    def sync(self, *args: Any) -> None:
        on = shown(self.window, KEY)
        if on != self.on:
            self.on = on
            self.window.controller.set_state_space(on)


def install(window: Any) -> StateSpaceSync:
    window.state_space_sync = sync = StateSpaceSync(window)
    return sync
