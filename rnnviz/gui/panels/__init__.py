"""One panel a module; each is a ``base.Panel`` with ``render(snapshot)``, ``reset()``, ``set_theme(name)`` and
``set_projector(on)``; ``registry.SPECS`` is the one list of them.

Panels are imported lazily (``from rnnviz.gui.panels import LossPanel`` works): importing one panel's module never
imports the others, so a broken panel cannot take the window's other panels down with it. ``PANEL_CLASSES`` is the
tuple of their classes in the registry's (the window's default) order.
"""
from __future__ import annotations

from rnnviz.gui.panels.registry import SPECS

_SPECS = {spec.cls: spec for spec in SPECS}

__all__ = ["PANEL_CLASSES", *_SPECS]


def __getattr__(name: str):
    if name in _SPECS:
        return _SPECS[name].load()
    if name == "PANEL_CLASSES":
        return tuple(spec.load() for spec in SPECS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
