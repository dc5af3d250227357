"""One panel a module; each has ``render(snapshot)``, ``reset()`` and a ``title``.

``PANELS`` lists the panel classes in the order the window shows them.
"""
from .confusion import ConfusionPanel
from .data_view import DataPanel
from .gradients import GradientFlowPanel
from .hidden import HiddenStatesPanel
from .loss import LossPanel
from .predictions import PredictionsPanel
from .weights import WeightsPanel

PANELS = (LossPanel, HiddenStatesPanel, GradientFlowPanel, ConfusionPanel, WeightsPanel, PredictionsPanel, DataPanel)

__all__ = ["PANELS", "LossPanel", "HiddenStatesPanel", "GradientFlowPanel", "ConfusionPanel", "WeightsPanel",
           "PredictionsPanel", "DataPanel"]
