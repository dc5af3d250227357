"""The "?" on every panel: the equation the panel draws, in the seed notation, and what to look for.

The texts are the panels' own (``PanelSpec.help`` in ``panels.registry``, written in ``panels.help_texts``); they
depend on the settings in force (the cell's equations, the task's output), so they are made when "?" is clicked:
``help_text(key, config)``. ``install(window)`` puts a small "?" button in the bottom-right corner of each panel;
``window.help.show`` shows a text (a QMessageBox; tests replace it).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QToolButton, QWidget

from rnnviz.gui.fitting import LiveCaption
from rnnviz.gui.panels.hover import is_readout
from rnnviz.gui.panels.registry import PANELS


def help_text(key: str, config: Any) -> str:
    """The "?" text (HTML) of panel ``key`` for the settings ``config``."""
    return PANELS[key].help(config)


class _Corner(QObject):
    """Keeps a button in its panel's bottom-right corner (beside the hover read-out) when the panel resizes."""

    def __init__(self, panel: QWidget, button: QToolButton):
        super().__init__(panel)
        self.panel, self.button = panel, button
        panel.installEventFilter(self)
        self.place()

    def place(self) -> None:
        self.button.adjustSize()
        room = self.button.width() + 4            # the read-out beside it ends before it (its text was covered)
        beside = [w for w in self.panel.findChildren(QLabel) if is_readout(w)] + self.panel.findChildren(LiveCaption)
        for label in beside:                      # the read-out and a live caption end before it
            if label.contentsMargins().right() != room:
                label.setContentsMargins(0, 0, room, 0)
        self.button.move(max(0, self.panel.width() - self.button.width() - 2),
                         max(0, self.panel.height() - self.button.height() - 2))
        self.button.raise_()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.place()
        return False


class _Buttons(Mapping):
    """Panel key -> its "?" button, for every panel of the window: asking for the button of a panel not made yet
    makes the panel (``panel_set.PanelSet``), which gives it its button."""

    def __init__(self, window: Any):
        self.window = window
        self.made: dict[str, QToolButton] = {}

    def __getitem__(self, key: str) -> QToolButton:
        self.window.panels[key]
        return self.made[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.window.panels)

    def __len__(self) -> int:
        return len(self.window.panels)

    def __contains__(self, key: object) -> bool:
        return key in self.window.panels


class Help:
    """The "?" buttons of one window."""

    def __init__(self, window: Any):
        self.window = window
        self.buttons = _Buttons(window)
        self.box: QMessageBox | None = None
        self.show: Callable[[str, str], None] = self._message_box     # replaceable in tests
        window.panels.when_built(self._add_button)      # a panel made later (a tab) gets its button then

    def _add_button(self, key: str, panel: Any) -> None:
        button = QToolButton(panel)
        button.setObjectName(f"help_{key}")
        button.setText("?")
        button.setToolTip(f"What the {PANELS[key].title} panel draws, its equation, and what to look for")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setCursor(Qt.CursorShape.WhatsThisCursor)
        button.clicked.connect(lambda _c=False, k=key: self.explain(k))
        _Corner(panel, button)
        self.buttons.made[key] = button

    def explain(self, key: str) -> str:
        """Show the help of panel ``key`` for the settings in force; returns the text shown."""
        text = help_text(key, self.window.controller.config)
        self.show(PANELS[key].title, text)
        return text

    def _message_box(self, title: str, text: str) -> None:
        box = QMessageBox(self.window)
        box.setWindowTitle(f"{title}: what it shows")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(text)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowModality(Qt.WindowModality.NonModal)
        self.box = box
        box.open()


def install(window: Any) -> None:
    window.help = Help(window)
