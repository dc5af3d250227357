"""The settings dock: data, model and training settings in groups, the run buttons and the parameter count.

Every control says in its tooltip what it changes. The widget computes nothing: a user's edit is emitted as
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

from rnnviz.core.config import ACTIVATIONS, CELLS, GENERATED, INITS, OPTIMIZERS, TASKS, Config

OPEN_FILE = "Open file…"

DATASET_TIPS = {
    "negation": "Short movie-review sentences whose sentiment flips with 'not': does the RNN remember the 'not'?",
    "names": "Surnames -> language of origin, read one character at a time",
    "pos": "Part-of-speech tagging: one tag for every word (a label at every step)",
    "delayed-recall": "Remember the first token across a delay of distractors: the vanishing-gradient lesson",
    "chars": "Character-level text generation: predict the next character",
}

TIPS = {
    "dataset": "What the network learns from: a built-in generated dataset, or a file of your own "
               "(Open file…: .tsv/.csv text<TAB>label, .conllu, token<TAB>tag, or plain .txt). "
               "Changing it builds a new model.",
    "task": "What the output means: classification (one label per sequence), labelling (one label per token) "
            "or generation (predict the next token). Changing it builds a new model.",
    "n_examples": "How many examples a generated dataset has (80% train, 20% validation). New model.",
    "delay": "Delayed recall only: the number of distractor tokens between the token to remember and the answer. "
             "Longer delays make gradients vanish. New model.",
    "cell": "The recurrent cell: vanilla RNN s_t = g(U x_t + W s_(t-1) + b), or gated LSTM / GRU that keep "
            "gradients alive over long sequences. New model.",
    "activation": "g() of the vanilla RNN cell: tanh, sigmoid or relu (LSTM and GRU use their own gates). "
                  "New model.",
    "hidden": "d, the size of the hidden state s_t (number of hidden units). New model.",
    "layers": "How many recurrent layers are stacked (the hidden states of one are the inputs of the next). "
              "New model.",
    "bidirectional": "Add a second RNN that reads each sequence backwards; outputs see both directions. "
                     "Not for generation. New model.",
    "init": "How W (and U, V) start: uniform, normal, xavier, orthogonal or identity. New model.",
    "spectral_radius": "If above 0: rescale W so its largest |eigenvalue| is this. Above 1, signals and gradients "
                       "tend to explode; below 1 they vanish. 'off' keeps the initialiser's W. New model.",
    "optimizer": "The update rule: sgd, momentum, rmsprop, adam or adagrad. New model (optimiser state restarts).",
    "lr": "Learning rate: the size of each update. Changes the running model at once, without a reset.",
    "batch_size": "Examples per training step; one step averages their gradients. New model.",
    "clip": "Global gradient-norm clipping: gradients longer than this are scaled down to it, which tames "
            "exploding gradients. 'off' = no clipping. Changes the running model at once.",
    "bptt": "Truncated backpropagation through time: gradients flow back at most this many steps. "
            "'full' = through the whole sequence. New model.",
    "epochs": "How many passes over the training data before training stops. Changes the running model at once.",
    "seed": "Random seed of the initial weights and the data order: the same seed gives the same run. "
            "New model.",
}

TASK_BY_EXTENSION = {".conllu": "labelling", ".txt": "generation", ".tsv": "classification",
                     ".csv": "classification"}


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
    box.setMinimumContentsLength(10)
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

        # --- data ------------------------------------------------------------------------------------
        data = QGroupBox("Data")
        form = self._form(data)
        ds = _combo(list(GENERATED))
        for i, name in enumerate(GENERATED):
            ds.setItemData(i, DATASET_TIPS.get(name, name), Qt.ItemDataRole.ToolTipRole)
            ds.setItemData(i, name, Qt.ItemDataRole.UserRole)
        ds.insertSeparator(ds.count())
        ds.addItem(OPEN_FILE, OPEN_FILE)
        ds.activated.connect(self._dataset_picked)
        self._add(form, "dataset", "Dataset", ds)
        task = _combo(TASKS)
        task.activated.connect(lambda _i: self._emit("task", task.currentText()))
        self._add(form, "task", "Task", task)
        self._add(form, "n_examples", "Examples", self._spin(10, 20_000, step=100))
        self._add(form, "delay", "Delay", self._spin(0, 1000))
        layout.addWidget(data)

        # --- model -----------------------------------------------------------------------------------
        model = QGroupBox("Model")
        form = self._form(model)
        for key, label, items in (("cell", "Cell", CELLS), ("activation", "Activation", ACTIVATIONS)):
            box = _combo([c.upper() if key == "cell" else c for c in items])
            for i, value in enumerate(items):
                box.setItemData(i, value, Qt.ItemDataRole.UserRole)
            box.activated.connect(lambda _i, k=key, b=box: self._emit(k, b.currentData()))
            self._add(form, key, label, box)
        self._add(form, "hidden", "Hidden size d", self._spin(1, 1024))
        self._add(form, "layers", "Layers", self._spin(1, 8))
        bidir = QCheckBox("read both directions")
        bidir.clicked.connect(lambda on: self._emit("bidirectional", bool(on)))
        self._add(form, "bidirectional", "Bidirectional", bidir)
        init = _combo(INITS)
        init.activated.connect(lambda _i: self._emit("init", init.currentText()))
        self._add(form, "init", "Init of W", init)
        self._add(form, "spectral_radius", "Spectral radius",
                  self._dspin(0.0, 100.0, 0.1, decimals=2, special="off"))
        layout.addWidget(model)

        # --- training --------------------------------------------------------------------------------
        training = QGroupBox("Training")
        form = self._form(training)
        opt = _combo(OPTIMIZERS)
        opt.activated.connect(lambda _i: self._emit("optimizer", opt.currentText()))
        self._add(form, "optimizer", "Optimiser", opt)
        lr = ScientificSpinBox()
        lr.setRange(1e-6, 10.0)
        self._add(form, "lr", "Learning rate", lr)
        self._add(form, "batch_size", "Batch size", self._spin(1, 100000))
        self._add(form, "clip", "Clip gradients", self._dspin(0.0, 1e6, 0.5, decimals=2, special="off"))
        self._add(form, "bptt", "Truncated BPTT", self._spin(0, 100000, special="full"))
        self._add(form, "epochs", "Epochs", self._spin(1, 100000))
        self._add(form, "seed", "Seed", self._spin(0, 2**31 - 1))
        layout.addWidget(training)
        layout.addStretch(1)

        self.set_config(self._config)

    # --- building helpers ---------------------------------------------------------------------------
    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(4)
        return form

    def _add(self, form: QFormLayout, key: str, label: str, widget: QWidget) -> None:
        widget.setObjectName(key)
        widget.setToolTip(TIPS[key])
        text = QLabel(label)
        text.setToolTip(TIPS[key])
        text.setBuddy(widget)
        form.addRow(text, widget)
        self.widgets[key] = widget
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.setKeyboardTracking(False)   # apply on Enter / arrows, not on every typed digit
            widget.valueChanged.connect(lambda v, k=key: self._emit(k, v))
            widget.editingFinished.connect(self._give_back_focus)

    @staticmethod
    def _spin(lo: int, hi: int, step: int = 1, special: str | None = None) -> QSpinBox:
        box = QSpinBox()
        box.setRange(lo, hi)
        box.setSingleStep(step)
        if special:
            box.setSpecialValueText(special)
        return box

    @staticmethod
    def _dspin(lo: float, hi: float, step: float, decimals: int, special: str | None = None) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        if special:
            box.setSpecialValueText(special)
        return box

    def _give_back_focus(self) -> None:
        # after Enter in a number box, the window's single-key shortcuts (Space, S, E, R) work again
        w = self.focusWidget()
        if w is not None and self.window() is not None:
            self.window().setFocus(Qt.FocusReason.OtherFocusReason)

    # --- edits ----------------------------------------------------------------------------------------
    def _emit(self, key: str, value: Any) -> None:
        if self._updating:
            return
        if isinstance(self.widgets.get(key), QDoubleSpinBox):
            value = float(value)
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
