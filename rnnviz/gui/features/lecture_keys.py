"""The lecture keys work whatever widget has the focus: Space (start / pause), S (one batch), E (one epoch),
R (reset), Z (enlarge the next panel), F11 / Ctrl+P (presentation mode) and Ctrl+B (slow-motion BPTT).

Qt lets the focused widget claim a key before the window's shortcuts see it (a ShortcutOverride event it
accepts): a number box claims S and Space, the typed-probe box claims every letter, so after typing a probe and
pressing Enter, Space typed a space instead of training. Here an event filter on the application decides for the
widgets of one window:

- while typing in a text box (a line edit, an editable list or an editable text area) the box keeps the keys that
  type something (Space, S, E, R, Z); F11, Ctrl+P and Ctrl+B still go to the window;
- a number box keeps only E, and only when it reads exponents (the learning rate's 1e-3) and its text would take
  it; Space, S, R and Z are the window's;
- every other widget (buttons, lists, tabs, sliders, plots) leaves all the lecture keys to the window;
- Enter (or Return) in a text or number box does what it does there (send the typed probe, take the number) and
  then hands the focus back to the window, so the next Space trains.

``install(window)`` makes ``window.lecture_keys``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

K = Qt.Key
TYPED_KEYS = {K.Key_Space: " ", K.Key_S: "s", K.Key_E: "e", K.Key_R: "r", K.Key_Z: "z"}  # the single-key lecture keys
WINDOW_KEYS = {(K.Key_F11, Qt.KeyboardModifier.NoModifier), (K.Key_P, Qt.KeyboardModifier.ControlModifier),
               (K.Key_B, Qt.KeyboardModifier.ControlModifier)}
ENTER = (K.Key_Return, K.Key_Enter)
IGNORED = Qt.KeyboardModifier.KeypadModifier


def _modifiers(event: QKeyEvent) -> Qt.KeyboardModifier:
    return event.modifiers() & ~IGNORED


def spin_box_of(widget: QWidget | None) -> QAbstractSpinBox | None:
    """The number box ``widget`` is (or whose text field it is), else None."""
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return widget
        if not isinstance(widget, QLineEdit):
            return None
        widget = widget.parentWidget()
    return None


def is_text_box(widget: QWidget | None) -> bool:
    """A box the user types free text into (not a number box)."""
    if widget is None or spin_box_of(widget) is not None:
        return False
    if isinstance(widget, QLineEdit):
        return not widget.isReadOnly()
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return False


def number_box_takes(box: QAbstractSpinBox, char: str) -> bool:
    """The number box would take ``char`` typed at its cursor: only "e" (an exponent), when its validator says
    the text with it is still a number being typed."""
    if char != "e":
        return False
    edit = box.findChild(QLineEdit)
    if edit is None:
        return False
    text, pos = edit.text(), edit.cursorPosition()
    if edit.hasSelectedText():
        start = edit.selectionStart()
        text, pos = text[:start] + text[start + len(edit.selectedText()):], start
    new = text[:pos] + char + text[pos:]
    state = box.validate(new, pos + 1)
    state = state[0] if isinstance(state, tuple) else state
    return state != QValidator.State.Invalid


class LectureKeys(QObject):
    """The event filter of one window (see the module docstring). ``handed_back`` counts Enter hand-backs."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.handed_back = 0
        # a child timer, not QTimer.singleShot with a callable (a queued callable would keep the window alive)
        self._give_back = QTimer(self)
        self._give_back.setSingleShot(True)
        self._give_back.setInterval(0)
        self._give_back.timeout.connect(self.hand_back)
        central = window.centralWidget()
        if central is not None:
            central.setFocusPolicy(Qt.FocusPolicy.ClickFocus)     # a click on empty space takes the focus back
        QApplication.instance().installEventFilter(self)

    def _ours(self, obj: QObject) -> bool:
        if not isinstance(obj, QWidget):
            return False
        top = obj.window()
        if isinstance(top, QDockWidget) and top.parentWidget() is not None:     # a floating settings dock
            top = top.parentWidget().window()
        return top is self.window

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or not self._ours(obj):
            return False
        key, mods = event.key(), _modifiers(event)
        if kind == QEvent.Type.KeyPress:
            if key in ENTER and (is_text_box(obj) or spin_box_of(obj) is not None):
                self._give_back.start()              # after the box has taken the Enter
            return False
        if (key, mods) in WINDOW_KEYS:
            return True                              # not claimed by the widget: the window's shortcut runs
        if key not in TYPED_KEYS or mods not in (Qt.KeyboardModifier.NoModifier,
                                                 Qt.KeyboardModifier.ShiftModifier):
            return False
        if is_text_box(obj):
            return False                             # typing: the box keeps the letter
        box = spin_box_of(obj)
        if box is not None and number_box_takes(box, TYPED_KEYS[key]):
            return False
        return True

    def hand_back(self) -> None:
        """The focus to the window (its central widget), so the lecture keys reach their shortcuts."""
        central = self.window.centralWidget()
        if central is not None and self.window.isVisible():
            central.setFocus(Qt.FocusReason.OtherFocusReason)
            self.handed_back += 1


def install(window: Any) -> LectureKeys:
    window.lecture_keys = LectureKeys(window)
    return window.lecture_keys
