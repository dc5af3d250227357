"""One panel a module; each has ``render(snapshot)``, ``reset()`` and a ``title`` (``base.Panel``).

Panels are imported lazily (``from rnnviz.gui.panels import LossPanel`` works): importing one panel's module never
imports the others, so a broken panel cannot take the window's other panels down with it. ``registry.PANELS`` is
the one list of them; ``PANEL_CLASSES`` here is the tuple of their classes in the window's default order.
"""
from __future__ import annotations

import importlib

from rnnviz.gui.panels.registry import DEFAULT_ORDER, PANELS

_CLASSES = {cls: module for module, cls in PANELS.values()}

__all__ = ["PANEL_CLASSES", *_CLASSES]


def __getattr__(name: str):
    if name in _CLASSES:
        return getattr(importlib.import_module(f"{__name__}.{_CLASSES[name]}"), name)
    if name == "PANEL_CLASSES":
        return tuple(__getattr__(PANELS[key][1]) for key in DEFAULT_ORDER)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
