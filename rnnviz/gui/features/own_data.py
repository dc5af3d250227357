"""Your own data in the window: File ▸ Open data file…, Lessons ▸ Your own data and the dataset list's "Open
file…" all come here.

The flow: the file dialog (``window.ask_open_file``), then the task dialog (``window.ask_task``) with the task the
file's shape shows preselected, why, and the settings it will use (``rnnviz.core.data.suggest``: the registry
defaults with settings chosen for this file, never the previous lesson's), then a new model with exactly those
settings (asking first when the current model is trained). The lesson bar and the title then speak of the file:
its name, its task and the settings chosen, with the reason for each in the bar's tooltip.

``install(window)`` makes ``window.own_data`` (an ``OwnData``). Tests replace ``window.ask_open_file`` and
``window.ask_task``; ``TaskDialog`` can be built and read without showing it.
"""
from __future__ import annotations

import html
import os
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from rnnviz.core.config import GENERATED, SETTINGS, TASKS, Config
from rnnviz.core.data.suggest import Suggestion, suggest
from rnnviz.core.errors import RnnvizError
from rnnviz.core.presets import load_preset

OWN_DATA_PRESET = "your-own-data"
ERROR_TITLE = "Could not use this file"
# the file dialog's filters: what each format holds (the task is decided from the file itself, not the filter)
FILE_FILTERS = (
    "Data files (*.tsv *.csv *.conllu *.txt)",
    "text<TAB>label per line: classification (*.tsv *.csv)",
    "CoNLL-U, FORM and UPOS columns: labelling (*.conllu)",
    "token<TAB>tag per line, blank line between sentences: labelling (*.tsv *.txt)",
    "plain text, learnt one character at a time: generation (*.txt)",
    "All files (*)",
)
TASK_TEXT = {
    "classification": "classification — one label for each line's text",
    "labelling": "labelling — one tag for every token (sentence by sentence)",
    "generation": "generation — predict the next character of the text",
}
WORDS = {"tokenize": {"word": "word tokens", "char": "characters"},
         "lowercase": {False: "upper and lower case kept", True: "lower-cased"}}


def ask_file_dialog(window: Any) -> str | None:
    path, _ = QFileDialog.getOpenFileName(window, "Your own data: pick a file (rnnviz proposes a task for it)", "",
                                          ";;".join(FILE_FILTERS))
    return path or None


def settings_html(choice: Suggestion) -> str:
    """The chosen settings as an HTML table: setting, value, why."""
    rows = "".join(
        f"<tr><td><b>{html.escape(SETTINGS[key].label)}</b></td><td>&nbsp;{html.escape(str(value))}&nbsp;</td>"
        f"<td>{html.escape(choice.reasons[key])}</td></tr>"
        for key, value in choice.settings.items() if key != "task")
    rest = "Everything else: the defaults (Settings dock)."
    return f"<table cellspacing='2'>{rows}</table><p>{rest}</p>"


def short_settings(config: Config, choice: Suggestion) -> str:
    """"word tokens, max. length 60, hidden size d 32, 12 epochs": the chosen settings as in force."""
    parts = []
    for key in choice.settings:
        if key == "task":
            continue
        value = getattr(config, key)
        words = WORDS.get(key, {}).get(value)
        if key == "epochs":
            words = f"{value} epochs"
        parts.append(words or f"{SETTINGS[key].label.lower()} {value}")
    return ", ".join(parts)


def panels_for(order: tuple[str, ...], task: str) -> tuple[str, ...]:
    """The own-data lesson's panels for ``task``: generation has no confusion matrix; its sampled text
    (predictions) is what the lesson bar asks to watch, so it takes the big place (as in the characters lesson)
    and the confusion matrix goes behind the other tabs."""
    if task != "generation":
        return tuple(order)
    sampled = "predictions"         # the sampled text
    absent = "confusion"            # no confusion matrix for generation
    return (sampled,) + tuple(key for key in order if key != sampled and key != absent)


class TaskDialog(QDialog):
    """"What should the network learn?": the three tasks, the detected one preselected, why, and the settings the
    chosen task will use (they follow the choice). Items (for tests): ``buttons`` (task -> QRadioButton),
    ``why`` and ``table`` (QLabels), ``choice`` (the Suggestion for the task chosen)."""

    def __init__(self, path: str, detected: Suggestion | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = path
        self.detected = detected or suggest(path)
        self.choice = self.detected
        self.setWindowTitle("What should the network learn?")
        self.setMinimumWidth(720)
        layout = QVBoxLayout(self)
        head = QLabel(f"<b>{html.escape(os.path.basename(path))}</b>")
        layout.addWidget(head)
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setText(f"rnnviz looked at the file: {html.escape(self.detected.shape)}.<br>"
                         f"Suggested task: <b>{self.detected.detected_task}</b>.")
        layout.addWidget(self.why)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for task in TASKS:
            button = QRadioButton(TASK_TEXT[task] + ("   (suggested)" if task == self.detected.detected_task
                                                     else ""))
            button.setObjectName(f"task_{task}")
            self.group.addButton(button)
            self.buttons[task] = button
            layout.addWidget(button)
            button.toggled.connect(lambda on, t=task: on and self._chose(t))
        layout.addWidget(QLabel("<b>Settings it will use</b> (the defaults, with these chosen for this file):"))
        self.table = QLabel()
        self.table.setWordWrap(True)
        self.table.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.table, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText("Train on it")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.buttons[self.detected.task].setChecked(True)
        self._show(self.detected)

    @property
    def task(self) -> str:
        return self.choice.task

    def _chose(self, task: str) -> None:
        if task != self.choice.task:
            self._show(self.detected if task == self.detected.task else suggest(self.path, task))

    def _show(self, choice: Suggestion) -> None:
        self.choice = choice
        problem = (f"<p style='color:#b3261e'>As {choice.task}: {html.escape(choice.problem)}</p>"
                   if choice.problem else "")
        self.table.setText(problem + settings_html(choice))


class OwnData:
    """The own-data flow of one window."""

    def __init__(self, window: Any):
        self.window = window
        self.choice: Suggestion | None = None      # what the file in force was given
        self._detected: Suggestion | None = None   # the last file looked at (the task dialog reuses it)
        if window.preset is None and window.controller.config.dataset not in GENERATED:
            # opened on a file from the command line (``rnnviz --data F``): say what it is
            try:
                config = window.controller.config
                self.show(suggest(config.dataset, config.task), config)
            except RnnvizError:
                pass

    def look(self, path: str) -> Suggestion:
        """The suggestion for ``path`` (DataError for a file that cannot be read)."""
        if self._detected is None or self._detected.path != path:
            self._detected = suggest(path)
        return self._detected

    def ask_file(self) -> str | None:
        """The file dialog; the path, or None when cancelled."""
        return ask_file_dialog(self.window)

    def ask_task(self, path: str) -> str | None:
        """The task dialog; the chosen task, or None when cancelled."""
        dialog = TaskDialog(path, self.look(path), self.window)
        return dialog.task if dialog.exec() == QDialog.DialogCode.Accepted else None

    def open(self, path: str | None = None) -> bool:
        """Pick a file (unless ``path``), choose its task, train on it with the settings chosen for it. False
        when cancelled, refused (one message) or the user kept the trained model."""
        w = self.window
        path = path or w.ask_open_file()
        if not path:
            return False
        try:
            detected = self.look(path)
        except RnnvizError as exc:
            w.show_error(ERROR_TITLE, str(exc))
            return False
        task = w.ask_task(path)
        if not task:
            return False
        try:
            choice = detected if task == detected.task else suggest(path, task)
            new = choice.config
        except RnnvizError as exc:
            w.show_error(ERROR_TITLE, str(exc))
            return False
        current = w.controller.config
        changes = {k: v for k, v in new.to_dict().items() if getattr(current, k) != v}
        if not w._apply(changes, ERROR_TITLE):
            return False
        self.show(choice, w.controller.config)
        return True

    def show(self, choice: Suggestion, config: Config) -> None:
        """The lesson bar, title and panels speak of the file: its task, why, and the settings in force."""
        w = self.window
        self.choice = choice
        try:
            preset = load_preset(OWN_DATA_PRESET)
        except RnnvizError:
            preset = None
        w.preset = preset
        name = os.path.basename(choice.path) or choice.path
        w.setWindowTitle(f"rnnviz \u2014 {name}")
        watch = "the sampled text" if config.task == "generation" else "the confusion matrix"
        w.lesson.setText(
            f"<b>Your data: {html.escape(name)}</b> \u2014 {config.task}"
            f"{': ' + html.escape(choice.shape) if config.task == choice.detected_task else ''}. "
            f"Settings chosen for it: {html.escape(short_settings(config, choice))} (hover for why). "
            f"Press Space and watch the loss and {watch}.")
        w.lesson.setToolTip("\n".join(choice.lines()))
        w.lesson.setVisible(True)
        lessons = getattr(w, "lessons", None)
        if lessons is not None:
            if preset is not None and preset.panels:
                lessons.arrange(panels_for(preset.panels, config.task), preset.source)
            lessons.sync(config)


def install(window: Any) -> OwnData:
    window.own_data = OwnData(window)
    return window.own_data
