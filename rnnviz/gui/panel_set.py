"""The window's panels by key, each made when it is first needed.

A panel in a tab that has never been brought to the front costs start-up time (its plots, their axes and menus)
and shows nothing, so ``MainWindow`` makes the panels with a place of their own and the front tab at once and the
others when they are first asked for: ``panels[key]``, ``panels.get(key)``, ``values()`` and ``items()`` make
what they return, as a dict of every panel would hold it. What must not make a panel (drawing a frame into the
panels that exist, asking whether one is shown) uses ``built()`` and ``peek(key)``.

Whatever is done to each panel once (connecting its signals, its "?" button, the dataset it shows) is a
``when_built(fn)`` hook: ``fn(key, panel)`` runs for the panels made so far and for each one made later, so a
panel made late gets the same as one made at start-up.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

Hook = Callable[[str, Any], None]


class PanelSlot(QWidget):
    """Holds a tab's place until its panel is made (a tab's page is made when the tab first comes to the front)."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.setObjectName(f"slot_{key}")


class PanelSet(Mapping):
    """key -> panel, in the window's first order; a panel is made by ``make(key)`` on first access.

    ``ready(key, panel)`` runs after the ``when_built`` hooks of a newly made panel (the window puts it in its
    tab and draws the latest snapshot in it).
    """

    def __init__(self, keys: list[str], make: Callable[[str], Any], ready: Hook | None = None):
        self._keys = list(keys)
        self._made: dict[str, Any] = {}
        self._make = make
        self._ready = ready
        self._hooks: list[Hook] = []

    def __getitem__(self, key: str) -> Any:
        panel = self._made.get(key)
        if panel is None:
            if key not in self._keys:
                raise KeyError(key)
            panel = self._made[key] = self._make(key)
            for hook in list(self._hooks):
                hook(key, panel)
            if self._ready is not None:
                self._ready(key, panel)
        return panel

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:          # without making the panel
        return key in self._keys

    def peek(self, key: str) -> Any:
        """The panel ``key`` when it has been made, else None (never makes one)."""
        return self._made.get(key)

    def built(self) -> list[tuple[str, Any]]:
        """(key, panel) of the panels made so far, in the window's first order."""
        return [(k, self._made[k]) for k in self._keys if k in self._made]

    def when_built(self, hook: Hook) -> None:
        """Run ``hook(key, panel)`` for every panel made so far, and for each panel made from now on."""
        self._hooks.append(hook)
        for key, panel in self.built():
            hook(key, panel)
