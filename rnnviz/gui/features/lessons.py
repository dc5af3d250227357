"""Lessons in the running window: the "Lessons" menu, the lesson bar (its text and lesson controls such as the
delay slider) and the "Your own data" flow.

A lesson is a preset (``rnnviz.core.presets``). Opening one from the menu puts its settings in force with a new
model (asking first when the current one is trained), shows its text, and puts its panels first (a panel the
registry does not know: the lesson is not opened, the error names its file). A preset with
``action = "open-file"`` has no dataset of its own: it runs the own-data flow (``features.own_data``: the file,
the task dialog, settings chosen for the file); cancelled, everything stays as it was.

``install(window)`` is called by the window (``EXTENSIONS``); ``window.lessons`` is the ``Lessons`` object.
Tests replace ``window.ask_open_file``, ``window.ask_task`` and ``window.confirm``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSlider, QWidget

from rnnviz.core.errors import RnnvizError
from rnnviz.core.presets import Preset, list_presets, load_preset
from rnnviz.gui.fitting import CappedText
from rnnviz.gui.panels.registry import FIXED_PLACES, PANELS, order_for, preset_order

TEXT_LINES = 3          # the lesson text shows at most this many lines (a longer one scrolls)
# lesson-bar sliders: setting -> (label, minimum, maximum, step)
SLIDERS = {"delay": ("Delay L", 5, 100, 5)}
SLIDER_TIPS = {"delay": "Delayed recall: how many distractor tokens follow the token to remember. Longer delays "
                        "make ||dL/ds_t|| vanish before it reaches the first step. A new model (asks when trained)."}


class Lessons:
    """The Lessons menu and bar of one window."""

    def __init__(self, window: Any):
        self.window = window
        self.presets: list[Preset] = list_presets()
        self.actions: dict[str, QAction] = {}
        self.sliders: dict[str, QSlider] = {}
        self.slider_labels: dict[str, QLabel] = {}
        self._make_bar()
        self._make_menu()
        window.controller.configChanged.connect(self.sync)
        self.sync(window.controller.config)

    # --- building -------------------------------------------------------------------------------------
    def _make_menu(self) -> None:
        menu = self.window.menu("&Lessons")
        menu.setToolTipsVisible(True)
        for i, preset in enumerate(self.presets, 1):
            action = QAction(f"&{i}  {preset.title}", self.window)
            action.setToolTip(preset.description or preset.title)
            action.setStatusTip(preset.description or preset.title)
            action.triggered.connect(lambda _checked=False, p=preset: self.open(p))
            menu.addAction(action)
            self.actions[preset.name] = action
        self.menu = menu

    def _make_bar(self) -> None:
        """Move the window's lesson text into a bar that also holds the lesson's controls."""
        w = self.window
        self.bar = QFrame()
        self.bar.setObjectName("lessonBar")
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        layout = w.centralWidget().layout()
        index = layout.indexOf(w.lesson)
        layout.insertWidget(index, self.bar)
        self.text_box = CappedText(w.lesson, lines=TEXT_LINES)     # a long text scrolls, the panels keep the room
        row.addWidget(self.text_box, 1)
        self.controls_box = QWidget()
        self.controls_box.setObjectName("lessonControls")
        box = QHBoxLayout(self.controls_box)
        box.setContentsMargins(0, 0, 0, 0)
        for key, (text, lo, hi, step) in SLIDERS.items():
            label = QLabel()
            label.setObjectName(f"lessonSliderLabel_{key}")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"lessonSlider_{key}")
            slider.setRange(lo, hi)
            slider.setSingleStep(step)
            slider.setPageStep(step * 2)
            slider.setTickInterval(step * 2)
            slider.setTickPosition(QSlider.TickPosition.TicksBelow)
            slider.setTracking(False)          # one new model when the handle is let go, not one per pixel
            slider.setMinimumWidth(160)
            slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Space stays the window's start/pause key
            slider.setToolTip(SLIDER_TIPS[key])
            label.setToolTip(SLIDER_TIPS[key])
            slider.valueChanged.connect(lambda v, k=key: self._slid(k, v))
            slider.sliderMoved.connect(lambda v, k=key, t=text: self.slider_labels[k].setText(f"{t} = {v}"))
            box.addWidget(label)
            box.addWidget(slider)
            self.sliders[key] = slider
            self.slider_labels[key] = label
        row.addWidget(self.controls_box, 0)

    # --- showing ----------------------------------------------------------------------------------------
    def _controls_of(self) -> tuple[str, ...]:
        return tuple(getattr(self.window.preset, "controls", ()) or ())

    def sync(self, config: Any) -> None:
        """Show ``config`` in the lesson controls (no signal); a control shows only for its lesson's dataset."""
        wanted = self._controls_of()
        preset_dataset = getattr(getattr(self.window.preset, "config", None), "dataset", None)
        visible = []
        for key, slider in self.sliders.items():
            on = key in wanted and config.dataset == preset_dataset
            slider.blockSignals(True)
            slider.setValue(int(getattr(config, key)))
            slider.blockSignals(False)
            self.slider_labels[key].setText(f"{SLIDERS[key][0]} = {getattr(config, key)}")
            slider.setVisible(on)
            self.slider_labels[key].setVisible(on)
            visible.append(on)
        self.controls_box.setVisible(any(visible))
        self.bar.setVisible(any(visible) or not self.window.lesson.isHidden())

    def _slid(self, key: str, value: int) -> None:
        w = self.window
        if getattr(w.controller.config, key) != value:
            w._apply({key: int(value)}, "Setting not used")    # asks first when the model is trained
        self.sync(w.controller.config)                         # declined: the slider goes back

    def arrange(self, order: tuple[str, ...] | list[str], source: str = "") -> None:
        """Put the panels ``order`` names first: the first ``FIXED_PLACES`` in the fixed places, the rest in the
        tabs. ConfigError (naming ``source``) for a key the registry does not know."""
        w = self.window
        keys = order_for(tuple(order), source)
        if keys == list(w.order):
            return
        fixed_frames = [w.panels[k].parentWidget() for k in w.order[:FIXED_PLACES]]   # the panelFrame boxes
        n_fixed = len(fixed_frames)
        w.tabs.blockSignals(True)
        try:
            while w.tabs.count():
                w.tabs.removeTab(0)
            for frame, key in zip(fixed_frames, keys[:n_fixed]):
                panel = w.panels[key]
                frame.layout().addWidget(panel)        # reparents it out of its old place
            for key in keys[n_fixed:]:
                w.tabs.addTab(w.panels[key], PANELS[key].title)
            w.tabs.setCurrentIndex(0)
        finally:
            w.tabs.blockSignals(False)
        w.order = keys
        for key in keys[:n_fixed]:      # the fixed places; a tab shows only its current page (showing every
            w.panels[key].show()       # page drew hidden tabs over the current one)
        snap = w.controller.latest
        if snap is not None:
            w.show_snapshot(snap)

    # --- opening ----------------------------------------------------------------------------------------
    def open(self, preset: Preset | str) -> bool:
        """Open the lesson ``preset`` in this window. False when the user said no or the settings failed."""
        w = self.window
        try:
            if isinstance(preset, str):
                preset = load_preset(preset)
            preset_order(preset)            # its panels are known ones, before anything changes
        except RnnvizError as exc:
            w.show_error("Could not open the lesson", str(exc))
            return False
        if preset.action == "open-file":
            return self.open_own_data()
        ctl = w.controller
        if ctl.trained and not w.confirm(
                f"Open the lesson \u201c{preset.title}\u201d? Training starts again with its settings and a new "
                f"model (step {ctl.latest.step} will be lost)."):
            return False
        rebuild = ctl.needs_reset(preset.config) or ctl.config.dataset != preset.config.dataset
        try:
            ok = ctl.apply_config(preset.config, confirm=None)
        except RnnvizError as exc:
            w.show_error("Could not open the lesson", str(exc))
            return False
        if ok and not rebuild:
            ctl.reset()                 # same shape: still start again from the seed's initial weights
        self._show(preset)
        w.controls.set_config(ctl.config)
        w.controls.set_param_count(ctl.n_params)
        return ok

    def _show(self, preset: Preset) -> None:
        w = self.window
        w.preset = preset
        w.setWindowTitle(f"rnnviz \u2014 {preset.title}")
        w.lesson.setText(preset.text)
        w.lesson.setVisible(bool(preset.text))
        if preset.panels:
            self.arrange(preset.panels, preset.source)
        self.sync(w.controller.config)

    def open_own_data(self) -> bool:
        """"Your own data": the own-data flow (features.own_data); False when cancelled or refused."""
        return bool(self.window.own_data.open())

    def on_shown(self) -> None:
        """After the window first shows: a lesson with an action (``rnnviz --preset your-own-data``) runs it."""
        if getattr(self.window.preset, "action", "") == "open-file":
            self.open_own_data()


def install(window: Any) -> None:
    window.lessons = Lessons(window)
