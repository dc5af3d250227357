"""The one list of panels: ``SPECS``. Everything else reads it: the window (which panels, in which order, the tab
titles), the "?" help, presentation mode, the lessons' panel choices and the panel tests.

Each ``PanelSpec`` says where the panel's class lives (imported only when a panel is made, so a broken panel module
cannot take the others down: ``make_panel`` shows a ``MissingPanel`` saying why), its title, its "?" text, which
``Snapshot`` fields its ``render`` reads, and what it changes in presentation mode. The order of ``SPECS`` is the
window's default order; a preset's ``panels`` come first instead (``order_for``), the first ``FIXED_PLACES`` of an
order get a place of their own and the others share the tabs.
"""
from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from rnnviz.core.errors import ConfigError
from rnnviz.gui.panels import help_texts

FIXED_PLACES = 3          # panels with a place of their own in the window; the rest of an order share the tabs
# what a panel changes in presentation mode besides the fonts and lines every panel gets (presentation.py):
PROJECTOR_CHANGES = {
    "": "nothing of its own",
    "diverging": "its heatmap takes the strong diverging colour map (white only very near 0)",
    "sequential": "its heatmap takes the strong sequential colour map, and the cell text its ink on it",
}


@dataclass(frozen=True)
class PanelSpec:
    """One panel. ``module`` is under ``rnnviz.gui.panels``; ``help(config)`` is the "?" text (HTML) for the
    settings in force; ``reads`` are the ``rnnviz.core.snapshot.Snapshot`` fields ``render`` uses (nothing else of
    a Snapshot; a test renders Snapshots whose other fields explode when touched); ``projector`` is a key of
    ``PROJECTOR_CHANGES`` (``Panel.set_projector`` does it); ``room`` the least (width, height) px, at the normal
    font, at which its plots can be read: such a view takes the big place of a small window when it comes to the
    front (``features.hero``); (0, 0): any place will do."""

    key: str
    module: str
    cls: str
    title: str
    help: Callable[[Any], str]
    reads: tuple[str, ...]
    projector: str = ""
    room: tuple[int, int] = (0, 0)

    def load(self) -> type:
        """The panel's class (imports its module)."""
        return getattr(importlib.import_module(f"{__package__}.{self.module}"), self.cls)


SPECS: tuple[PanelSpec, ...] = (
    PanelSpec("loss", "loss", "LossPanel", "Loss", help_texts.loss,
              ("task", "train_steps", "train_loss", "val_steps", "val_loss", "val_accuracy", "val_perplexity",
               "markers", "val_loss_per_token", "overfitting", "best_step")),
    PanelSpec("hidden", "hidden", "HiddenStatesPanel", "Hidden states", help_texts.hidden,
              ("probe", "cell", "config"), projector="diverging"),
    PanelSpec("gradients", "gradients", "GradientFlowPanel", "Gradient flow", help_texts.gradients,
              ("grad_norms", "grad_norms_last", "clip", "grad_flow", "grad_flow_steps", "param_grad_steps",
               "param_grad_norms", "markers", "grad_norms_c", "step", "grad_norms_step", "grad_norms_align",
               "grad_norms_count", "grad_norms_examples")),
    PanelSpec("confusion", "confusion", "ConfusionPanel", "Confusion matrix", help_texts.confusion,
              ("task", "confusion", "per_class_accuracy", "val_accuracy", "val_steps", "classes",
               "confusion_examples"), projector="sequential"),
    PanelSpec("predictions", "predictions", "PredictionsPanel", "Predictions", help_texts.predictions,
              ("task", "probe", "classes", "sample_text", "sample_temperature", "sample_step", "sample_prompt")),
    PanelSpec("weights", "weights", "WeightsPanel", "Weights", help_texts.weights,
              ("W", "gate_names", "eigenvalues", "spectral_radius", "cell", "step", "eigenvalues_step"), projector="diverging"),
    PanelSpec("data", "data_view", "DataPanel", "Data", help_texts.data, ()),      # shows the Dataset instead
    PanelSpec("bptt", "bptt", "BPTTPanel", "Slow-motion BPTT", help_texts.bptt, ("probe", "cell", "config"),
              room=(520, 470)),
    PanelSpec("statespace", "state_space", "StateSpacePanel", "State space", help_texts.state_space,
              ("state_space", "task", "probe"), room=(440, 340)),
    PanelSpec("gates", "gates", "GatesPanel", "Gates", help_texts.gates,
              ("cell", "probe", "gate_saturation_steps", "gate_saturation"), projector="sequential",
              room=(440, 400)),
    PanelSpec("reach", "reach", "ReachPanel", "Who reaches whom", help_texts.reach, ("probe", "task"),
              room=(440, 340)),
    PanelSpec("equation", "equation", "EquationPanel", "Equation", help_texts.equation,
              ("probe", "cell", "config", "task", "classes")),
)
PANELS: dict[str, PanelSpec] = {spec.key: spec for spec in SPECS}     # the same specs by key


def spec_of(cls: type) -> PanelSpec:
    """The spec of a panel class (or of the registered class it derives from)."""
    for klass in cls.__mro__:
        for spec in SPECS:
            if klass.__name__ == spec.cls and klass.__module__ == f"{__package__}.{spec.module}":
                return spec
    raise KeyError(f"{cls.__name__} is not in rnnviz.gui.panels.registry.SPECS")


def order_for(first: Sequence[str] = (), source: str = "") -> list[str]:
    """Every panel key once: ``first`` (a preset's ``panels``) first, the others in the order of ``SPECS``.

    A key that names no panel, or one listed twice, is a one-line ConfigError naming ``source`` (the preset file)
    and the known keys."""
    where = f"{source}: " if source else ""
    for i, key in enumerate(first):
        if key not in PANELS:
            raise ConfigError("lesson.panels", f"{where}unknown panel {key!r}; known panels: {', '.join(PANELS)}")
        if key in first[:i]:
            raise ConfigError("lesson.panels", f"{where}panel {key!r} is listed twice")
    return list(first) + [key for key in PANELS if key not in first]


def preset_order(preset: Any) -> list[str]:
    """``order_for`` a preset (its ``panels`` and its file); the default order for no preset."""
    if preset is None:
        return order_for()
    return order_for(tuple(preset.panels), preset.source or preset.name)


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

    def set_theme(self, name: Any) -> None:
        pass

    def set_projector(self, on: bool) -> None:
        pass


def make_panel(key: str) -> QWidget:
    spec = PANELS[key]
    try:
        return spec.load()()
    except Exception as exc:  # a broken panel must not take the whole window down
        traceback.print_exc()
        return MissingPanel(spec.title, f"{type(exc).__name__}: {exc}")
