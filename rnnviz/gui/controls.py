"""The settings dock: data, model and training settings in groups, the run buttons and the parameter count.

The settings part is generated from the registry (core.config.SETTINGS): ``DOCK`` lists the settings shown; each
one's widget (check box, list or number box), range, step, label and tooltip come from its Setting, and its role
puts it in the Data, Model or Training group. The widget computes nothing: a user's edit is emitted as
``settingChanged(name, value)``, and the window decides (a live change, or a new model after asking).
``set_config`` shows a Config without emitting anything.
"""
from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rnnviz.core.config import GENERATED, SETTINGS, Config, Setting

OPEN_FILE = "Open file…"

DATASET_TIPS = {
    "negation": "Short movie-review sentences whose sentiment flips with 'not': does the RNN remember the 'not'?",
    "names": "Surnames -> language of origin, read one character at a time",
    "pos": "Part-of-speech tagging: one tag for every word (a label at every step)",
    "delayed-recall": "Remember the first token across a delay of distractors: the vanishing-gradient lesson",
    "chars": "Character-level text generation: predict the next character",
    "dogs": "The word 'dogs', one letter at a time, each tagged with the next letter: the RNN articles' worked example",
}

# the settings the dock shows, in groups by role (Data / Model / Training); everything else about them (widget,
# range, choices, label, tooltip) comes from the registry, core.config.SETTINGS
DOCK = ("dataset", "task", "n_examples", "delay", "cell", "activation", "hidden", "layers", "bidirectional", "init",
        "spectral_radius", "forget_bias", "start_weights", "optimizer", "lr", "batch_size", "clip", "bptt", "epochs",
        "seed")
GROUPS = (("Data", ("data",)), ("Model", ("model",)), ("Training", ("training", "live")))


LECTURE_SPEED = 50.0  # training steps per second when the window opens: slow enough to follow every panel
SPEEDS = (("full speed", 0.0), ("200 steps/s", 200.0), ("50 steps/s", 50.0), ("10 steps/s", 10.0),
          ("2 steps/s", 2.0))


class ScientificSpinBox(QDoubleSpinBox):
    """A number box for learning rates: accepts 0.001, 1e-3 and 1E-3; the arrows multiply or divide by 2."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)            # the value is kept exactly; the text is formatted below

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        stripped = text.strip().replace(",", ".")
        if not stripped:
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            ok_partial = all(c in "0123456789.eE+-" for c in stripped)
            return (QValidator.State.Intermediate if ok_partial else QValidator.State.Invalid), text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(min(self.maximum(), max(self.minimum(), self.value() * (2.0 ** steps))))


QSPINBOX_MAX = 2**31 - 1   # QSpinBox holds a C int; larger whole numbers go in a QDoubleSpinBox with no decimals


def number_box(setting: Setting) -> QSpinBox | QDoubleSpinBox:
    """A number box with the setting's range (an exclusive lower bound: the smallest value shown above it), step,
    decimals and the special text for its lowest value."""
    lo, hi, inclusive = setting.range
    box: QSpinBox | QDoubleSpinBox
    if setting.log_steps:
        box = ScientificSpinBox()
    elif setting.type is int and hi <= QSPINBOX_MAX:
        box = QSpinBox()
    else:
        box = QDoubleSpinBox()
        box.setDecimals(0 if setting.type is int else 2)
    if setting.decimals is not None and isinstance(box, QDoubleSpinBox):
        box.setDecimals(setting.decimals)
    if not inclusive:
        lo = lo + (1 if isinstance(box, QSpinBox) else 10.0 ** -box.decimals())
    box.setRange(lo, hi)
    if setting.step is not None:
        box.setSingleStep(setting.step)
    if setting.special:
        box.setSpecialValueText(setting.special)
    return box


def set_speed_choice(box: QComboBox, rate: float) -> None:
    """Show ``rate`` in the speed box without emitting."""
    index = max(0, box.findData(float(rate)))
    box.blockSignals(True)
    box.setCurrentIndex(index)
    box.blockSignals(False)


def _combo(items: tuple[str, ...] | list[str]) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(7)      # a narrow dock (a 1024 px screen) still shows the choice
    return box


class ControlsPanel(QWidget):
    """The dock's contents. Signals carry the user's edits; the window applies them."""

    settingChanged = Signal(str, object)   # a Config field and its new value
    openFileRequested = Signal()           # the user picked "Open file…"
    speedChanged = Signal(float)           # training steps per second, 0 = as fast as possible

    def __init__(self, config: Config | None = None, actions: dict[str, QAction] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("controls")
        self.widgets: dict[str, QWidget] = {}
        self.buttons: dict[str, QToolButton] = {}
        self._config = config or Config()

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        inner = QWidget()
        scroll.setWidget(inner)
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        # --- run -------------------------------------------------------------------------------------
        run = QGroupBox("Run")
        grid = QGridLayout(run)
        grid.setSpacing(4)
        for i, key in enumerate(("start", "step", "epoch", "reset")):
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Space must reach the window's shortcut
            button.setMinimumHeight(30)
            if actions and key in actions:
                button.setDefaultAction(actions[key])
            self.buttons[key] = button
            grid.addWidget(button, i // 2, i % 2)
        self.params_label = QLabel()
        self.params_label.setObjectName("paramCount")
        self.params_label.setToolTip("Number of trainable numbers (weights and biases) of the model these "
                                     "settings build; it updates as you change the settings")
        grid.addWidget(self.params_label, 2, 0, 1, 2)
        self.speed = QComboBox()
        for text, rate in SPEEDS:
            self.speed.addItem(text, rate)
        self.speed.setToolTip("How fast training runs. Slow it down to follow the panels step by step in a "
                              "lecture; 'full speed' trains as fast as this computer can.")
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.activated.connect(lambda _i: self.speedChanged.emit(float(self.speed.currentData())))
        grid.addWidget(QLabel("Speed"), 3, 0)
        grid.addWidget(self.speed, 3, 1)
        layout.addWidget(run)

        # --- settings, by role -----------------------------------------------------------------------
        for title, roles in GROUPS:
            group = QGroupBox(title)
            form = self._form(group)
            for key in DOCK:
                if SETTINGS[key].role in roles:
                    self._add(form, key, self._dataset_box() if key == "dataset" else self._widget(SETTINGS[key]))
            layout.addWidget(group)
        layout.addStretch(1)
        # never narrower than its contents (it scrolls only up and down): a narrow dock cut buttons and boxes off
        scroll.setMinimumWidth(inner.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())

        self.set_config(self._config)

    # --- building helpers ---------------------------------------------------------------------------
    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)   # a narrow dock: the field under its label
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(4)
        return form

    def _add(self, form: QFormLayout, key: str, widget: QWidget) -> None:
        setting = SETTINGS[key]
        widget.setObjectName(key)
        widget.setToolTip(setting.tip)
        text = QLabel(setting.label)
        text.setToolTip(setting.tip)
        text.setBuddy(widget)
        form.addRow(text, widget)
        self.widgets[key] = widget
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.setKeyboardTracking(False)   # apply on Enter / arrows, not on every typed digit
            widget.valueChanged.connect(lambda v, k=key: self._emit(k, v))
            # Enter hands the focus back to the window (features.lecture_keys), so Space trains again

    def _dataset_box(self) -> QComboBox:
        """The built-in datasets, each with its own tooltip, then "Open file…"; a file opened is added above it."""
        box = _combo(list(GENERATED))
        for i, name in enumerate(GENERATED):
            box.setItemData(i, DATASET_TIPS.get(name, name), Qt.ItemDataRole.ToolTipRole)
            box.setItemData(i, name, Qt.ItemDataRole.UserRole)
        box.insertSeparator(box.count())
        box.addItem(OPEN_FILE, OPEN_FILE)
        box.activated.connect(self._dataset_picked)
        return box

    def _widget(self, setting: Setting) -> QWidget:
        """The control of ``setting``: a check box (true/false), a list (choices) or a number box (a range)."""
        key = setting.name
        if setting.type is bool:
            check = QCheckBox(setting.check_text)
            check.clicked.connect(lambda on: self._emit(key, bool(on)))
            return check
        if setting.choices:
            box = _combo([c.upper() if setting.capitals else c for c in setting.choices])
            for i, value in enumerate(setting.choices):
                box.setItemData(i, value, Qt.ItemDataRole.UserRole)
            box.activated.connect(lambda _i: self._emit(key, box.currentData()))
            return box
        return number_box(setting)

    # --- edits ----------------------------------------------------------------------------------------
    def _emit(self, key: str, value: Any) -> None:
        if self._updating:
            return
        if isinstance(self.widgets.get(key), (QSpinBox, QDoubleSpinBox)):
            value = SETTINGS[key].type(value)     # a whole number shown in a QDoubleSpinBox comes back as 3.0
        if getattr(self._config, key) == value:
            return
        self.settingChanged.emit(key, value)

    _updating = False

    def _dataset_picked(self, index: int) -> None:
        box: QComboBox = self.widgets["dataset"]  # type: ignore[assignment]
        value = box.itemData(index, Qt.ItemDataRole.UserRole)
        if value == OPEN_FILE:
            self._show_dataset(self._config.dataset)   # the choice stays the old one until a file loads
            self.openFileRequested.emit()
        elif value:
            self._emit("dataset", value)

    # --- showing a Config -----------------------------------------------------------------------------
    def _show_dataset(self, dataset: str) -> None:
        box: QComboBox = self.widgets["dataset"]  # type: ignore[assignment]
        index = box.findData(dataset, Qt.ItemDataRole.UserRole)
        if index < 0:   # a file: add it above the separator's "Open file…"
            index = box.count() - 1
            box.insertItem(index, os.path.basename(dataset) or dataset, dataset)
            box.setItemData(index, dataset, Qt.ItemDataRole.ToolTipRole)
        box.blockSignals(True)
        box.setCurrentIndex(index)
        box.blockSignals(False)

    def set_config(self, config: Config) -> None:
        """Show ``config`` in every control without emitting a change."""
        self._config = config
        self._updating = True
        try:
            self._show_dataset(config.dataset)
            for key, widget in self.widgets.items():
                if key == "dataset":
                    continue
                value = getattr(config, key)
                widget.blockSignals(True)
                if isinstance(widget, QComboBox):
                    i = widget.findData(value, Qt.ItemDataRole.UserRole)
                    widget.setCurrentIndex(i if i >= 0 else widget.findText(str(value)))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                    widget.setValue(value)
                widget.blockSignals(False)
            self.widgets["activation"].setEnabled(config.cell == "rnn")
            self.widgets["delay"].setEnabled(config.dataset == "delayed-recall")
            self.widgets["n_examples"].setEnabled(config.dataset in GENERATED)
            self.widgets["bidirectional"].setEnabled(config.task != "generation")
        finally:
            self._updating = False

    def set_param_count(self, n: int | None) -> None:
        self.params_label.setText("Parameters: –" if not n else f"Parameters: {n:,}")
