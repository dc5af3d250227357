"""One panel a module; each has ``render(snapshot)``, ``reset()`` and a ``title``.

Panels are imported lazily (``from rnnviz.gui.panels import LossPanel`` still works): importing one panel's
module never imports the others, so a broken panel cannot take the window's other panels down with it.
``PANELS`` is the tuple of the seven classes in the order the window shows them.
"""
from __future__ import annotations

import importlib

_MODULES = {
    "LossPanel": "loss", "HiddenStatesPanel": "hidden", "GradientFlowPanel": "gradients",
    "ConfusionPanel": "confusion", "WeightsPanel": "weights", "PredictionsPanel": "predictions",
    "DataPanel": "data_view",
}

__all__ = ["PANELS", *_MODULES]


def __getattr__(name: str):
    if name in _MODULES:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    if name == "PANELS":
        return tuple(__getattr__(n) for n in _MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
