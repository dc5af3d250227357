"""The one list of panels: which exist, in which default order, and how the window makes one.

A panel whose module fails to import is replaced by a ``MissingPanel`` that says why, so the window still works.
"""
from __future__ import annotations

import importlib
import traceback
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

# key: (module under rnnviz.gui.panels, class name)
PANELS = {
    "loss": ("loss", "LossPanel"),
    "hidden": ("hidden", "HiddenStatesPanel"),
    "gradients": ("gradients", "GradientFlowPanel"),
    "confusion": ("confusion", "ConfusionPanel"),
    "predictions": ("predictions", "PredictionsPanel"),
    "weights": ("weights", "WeightsPanel"),
    "data": ("data_view", "DataPanel"),
    "bptt": ("bptt", "BPTTPanel"),
}
DEFAULT_ORDER = ("loss", "hidden", "gradients", "confusion", "predictions", "weights", "data", "bptt")


class MissingPanel(QLabel):
    """Stands in for a panel whose module failed to import, saying why (the window still works)."""

    def __init__(self, title: str, error: str):
        super().__init__(f"{title}: not available\n{error}")
        self.title = title
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def render(self, snapshot: Any) -> None:
        pass

    def reset(self) -> None:
        pass


def make_panel(key: str) -> QWidget:
    module, name = PANELS[key]
    try:
        cls = getattr(importlib.import_module(f"rnnviz.gui.panels.{module}"), name)
        return cls()
    except Exception as exc:  # a broken panel must not take the whole window down
        traceback.print_exc()
        return MissingPanel(key, f"{type(exc).__name__}: {exc}")
