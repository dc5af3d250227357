"""Widgets that give way on a small screen (a 1024x768 projector) instead of pushing the window wider.

``FittingLabel``: a one-line label that asks for the width of the widest text it has shown (so a number that
changes every frame does not re-lay the window out: the width only grows, and only when a text needs more), may
be squeezed down to ``min_text``, and then shows a shorter wording its caller gave (``setText(text, *shorter)``)
or only the first whole words and "…" (a number is never shown cut; the whole text goes in its tooltip).
``clipped()`` says whether what it shows now is cut. With ``whole=True`` (a field of numbers) it is never squeezed
below its shortest wording (the widest such seen): its neighbours without ``whole`` (a long message) give way.

``CappedText``: a word-wrapped label at most a few lines high; a longer text scrolls, and its ``more_button``
("▾ more" / "▴ less") shows it whole (up to ``WHOLE_SHARE`` of the window's height) or a few lines again.

``LiveCaption``: a word-wrapped caption whose text changes with every frame (a step number in it). It draws its
text itself at a height fixed to what the text needs at its width, and asks its panel for a new layout only when
that height changes (a QLabel asks on every new text: 2 ms a frame in the state-space panel of a big model).

``fit_screen(window)``: a top-level window no larger than its screen's free area (called before it first shows:
the main, race and sweep windows open at a size for a large screen).
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QFont, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QToolButton,
    QWidget,
)

WHOLE_SHARE = 0.45      # a CappedText shown whole takes at most this share of its window's height (then scrolls)
MORE, LESS = "\u25be more", "\u25b4 less"


def fit_screen(window: QWidget) -> None:
    """Shrink top-level ``window`` to the free area of its screen (the desktop less panels and task bars) where it
    is larger, and move it inside that area; a full-screen or maximised window is left as it is."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None or window.isFullScreen() or window.isMaximized():
        return
    free = screen.availableGeometry()
    if window.width() > free.width() or window.height() > free.height():
        window.resize(min(window.width(), free.width()), min(window.height(), free.height()))
        window.move(free.topLeft())


class FittingLabel(QLabel):
    """A plain-text, one-line QLabel that elides instead of growing past its room (see the module docstring)."""

    def __init__(self, text: str = "", min_text: str = "", tip: str = "", parent: QWidget | None = None,
                 whole: bool = False):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._min_text = min_text
        self._tip = tip
        self._widest = 0
        self._whole = whole
        self._shortest = 0              # whole: the widest shortest wording shown (px), the least room it takes
        self._shorter: tuple[str, ...] = ()
        self.setText(text)
        self.setToolTip(tip)

    # --- text ---------------------------------------------------------------------------------------
    def setText(self, text: str, *shorter: str) -> None:  # noqa: N802 - Qt's name
        """Show ``text``, or where it does not fit the first of the ``shorter`` wordings that does (the same
        facts in fewer words: "Epochs 4/6" for "Epochs done 4/6")."""
        text = str(text)
        self._shorter = tuple(str(t) for t in shorter)
        if self._whole:
            least = self.fontMetrics().horizontalAdvance((text, *self._shorter)[-1])
            if least > self._shortest:
                self._shortest = least
                self.updateGeometry()
        if text == self.text():
            self.update()
            return
        width = self.fontMetrics().horizontalAdvance(text)
        grow = width > self._widest
        self._widest = max(self._widest, width)
        super().setText(text)          # QLabel re-lays out when its hint changes; ours only grows (below)
        self.setToolTip(f"{text}\n{self._tip}" if self._tip and text else (text or self._tip))
        if grow:
            self.updateGeometry()
        self.update()

    def set_tip(self, tip: str) -> None:
        self._tip = tip
        self.setToolTip(f"{self.text()}\n{tip}" if tip and self.text() else (self.text() or tip))

    def forget_width(self) -> None:
        """Ask only for the room the current text needs (e.g. after a new model: old wide texts are gone)."""
        self._widest = self.fontMetrics().horizontalAdvance(self.text())
        if self._whole:
            self._shortest = self.fontMetrics().horizontalAdvance((self.text(), *self._shorter)[-1])
        self.updateGeometry()

    # --- sizes --------------------------------------------------------------------------------------
    def _margins(self) -> int:
        m = self.contentsMargins()
        return m.left() + m.right() + 2 * self.margin() + 2 * self.indent() * (self.indent() > 0)

    def sizeHint(self) -> QSize:  # noqa: N802
        base = super().sizeHint()
        fm = self.fontMetrics()
        width = max(self._widest, fm.horizontalAdvance(self.text()), fm.horizontalAdvance(self._min_text))
        return QSize(width + self._margins() + 2, base.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        base = super().minimumSizeHint()
        least = max(self.fontMetrics().horizontalAdvance(self._min_text or "\u2026"), self._shortest)
        return QSize(least + self._margins() + 2, base.height())

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (event.Type.FontChange, event.Type.StyleChange):   # presentation mode, a theme
            self.forget_width()

    # --- drawing ------------------------------------------------------------------------------------
    def room(self) -> int:
        """The width (px) the text has."""
        return self.contentsRect().width() - 2 * self.margin()

    def clipped(self) -> bool:
        """True when neither the text nor any of its shorter wordings fits its room (it is shown elided)."""
        fm, room = self.fontMetrics(), self.room()
        return all(fm.horizontalAdvance(t) > room for t in (self.text(), *self._shorter))

    def shown_text(self) -> str:
        """The text or the first shorter wording that fits, else the shortest one elided (``_elided``)."""
        fm, room = self.fontMetrics(), max(self.room(), 0)
        for text in (self.text(), *self._shorter):
            if fm.horizontalAdvance(text) <= room:
                return text
        return self._elided((self.text(), *self._shorter)[-1])

    def _elided(self, text: str) -> str:
        """The text, or as many of its first words as fit followed by "…" (whole words only: "Loss 0.01…" would
        read as a number; "Loss…" cannot be misread), or "…" alone."""
        room, fm = max(self.room(), 0), self.fontMetrics()
        words = text.split(" ")
        for n in range(len(words) - 1, 0, -1):
            shown = " ".join(words[:n]).rstrip(",;:") + "\u2026"
            if fm.horizontalAdvance(shown) <= room:
                return shown
        return "\u2026"

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        opt = QStyleOption()
        opt.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, opt, painter, self)
        rect = self.contentsRect().adjusted(self.margin(), 0, -self.margin(), 0)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), self.shown_text())
        painter.end()


class CappedText(QScrollArea):
    """A word-wrapped ``label`` shown at most ``lines`` lines high (of its own font); a longer text scrolls, and
    ``more_button`` (for the caller's layout; shown only when the text needs more room, or while it is whole)
    shows it whole, up to ``WHOLE_SHARE`` of the window's height, and back. A click on the text does the same.
    It follows the label: hidden when the label is hidden. The lesson text stays readable without taking a fifth
    of a small projector's screen, and its last sentence (what to do next) is one click away."""

    expandedChanged = Signal(bool)

    def __init__(self, label: QLabel, lines: int = 3, parent: QWidget | None = None):
        super().__init__(parent)
        self.label, self.lines = label, int(lines)
        self.expanded = False
        self.more_button = QToolButton()
        self.more_button.setObjectName("moreText")
        self.more_button.setText(MORE)
        self.more_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)    # the keys stay with the window
        self.more_button.setAutoRaise(True)
        self.more_button.clicked.connect(self.toggle)
        self.more_button.setVisible(False)
        label.setWordWrap(True)
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.viewport().setAutoFillBackground(False)
        self.setAutoFillBackground(False)
        self.setVisible(not label.isHidden())
        label.installEventFilter(self)

    # --- whole or capped ------------------------------------------------------------------------------
    def set_expanded(self, on: bool) -> None:
        """The whole text (``True``, up to ``WHOLE_SHARE`` of the window's height) or ``lines`` lines."""
        on = bool(on)
        if on == self.expanded:
            return
        self.expanded = on
        self.updateGeometry()
        self._sync_button()
        self.expandedChanged.emit(on)

    def toggle(self) -> None:
        self.set_expanded(not self.expanded)

    def needs_more(self) -> bool:
        """The text is longer than ``lines`` lines at the present width."""
        return self._full(self.viewport().width() or self.width()) > self._lines_cap()

    def _sync_button(self) -> None:
        self.more_button.setText(LESS if self.expanded else MORE)
        self.more_button.setToolTip("Show the lesson text in a few lines again" if self.expanded else
                                    "Show the whole text (it is longer than the bar)")
        self.more_button.setVisible(not self.label.isHidden() and (self.expanded or self.needs_more()))

    # --- sizes ----------------------------------------------------------------------------------------
    def _lines_cap(self) -> int:
        """``lines`` whole lines and the label's top padding (px)."""
        m = self.label.contentsMargins()
        return self.label.fontMetrics().lineSpacing() * self.lines + m.top() + self.label.margin()

    def _full(self, width: int) -> int:
        """The height (px) of the whole text at ``width`` without its bottom padding."""
        m = self.label.contentsMargins()
        return self.label.heightForWidth(max(width, 1)) - m.bottom() - self.label.margin()

    def cap(self) -> int:
        """The most height the text gets (px): ``lines`` whole lines and the label's top padding (a text that
        needs more scrolls, and no line is shown cut); shown whole: ``WHOLE_SHARE`` of the window's height."""
        lines = self._lines_cap()
        if not self.expanded:
            return lines
        return max(lines, int(self.window().height() * WHOLE_SHARE))

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        # at the width the label keeps beside a scroll bar: a text that fits without one is never cut by one
        full = self.label.heightForWidth(max(width - self.verticalScrollBar().sizeHint().width(), 1))
        m = self.label.contentsMargins()
        return full if full <= self.cap() + m.bottom() + self.label.margin() else self.cap()

    def sizeHint(self) -> QSize:  # noqa: N802
        width = max(self.width(), 200)
        return QSize(self.label.sizeHint().width(), self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(100, min(self.label.fontMetrics().lineSpacing() + 12, self.cap()))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._sync_button()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        kind = event.type()
        if obj is self.label and kind in (event.Type.Show, event.Type.Hide, event.Type.ShowToParent,
                                          event.Type.HideToParent):
            self.setVisible(not self.label.isHidden())
            self._sync_button()
        elif obj is self.label and kind in (event.Type.FontChange, event.Type.StyleChange, event.Type.Resize):
            self.updateGeometry()
            self._sync_button()
        elif obj is self.label and kind == event.Type.MouseButtonRelease and (self.expanded or self.needs_more()):
            self.toggle()
        return False


class LiveCaption(QWidget):
    """A word-wrapped caption (rich text, or plain after ``setTextFormat(Qt.TextFormat.PlainText)``) in ``font``, as
    high as its text needs at its width: ``setText(text)``, ``text()``. It draws its text itself: a QLabel tells its layout
    its size may have changed on every new text, and the whole window was laid out and painted again for it (2 ms a
    frame in the state-space panel of a big model); this one does so only when its number of lines changes."""

    def __init__(self, text: str = "", font: QFont | None = None):
        super().__init__()
        self._doc = QTextDocument(self)
        self._doc.setDocumentMargin(0)
        self._text: str | None = None
        self._rich = True
        if font is not None:
            self.setFont(font)
        self._doc.setDefaultFont(self.font())
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        return self._text or ""

    def setTextFormat(self, fmt: Qt.TextFormat) -> None:     # noqa: N802 (Qt's name)
        self._rich = fmt != Qt.TextFormat.PlainText
        text, self._text = self._text, None
        self.setText(text or "")

    def setText(self, text: str) -> None:     # noqa: N802
        if text == self._text:
            return
        self._text = text
        if self._rich:
            self._doc.setHtml(text)
        else:
            self._doc.setPlainText(text)
        self._fit_height()
        self.update()

    def changeEvent(self, event) -> None:     # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._doc.setDefaultFont(self.font())
            self._fit_height()

    def resizeEvent(self, event) -> None:     # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    def sizeHint(self) -> QSize:     # noqa: N802
        return QSize(0, self.minimumHeight())

    def minimumSizeHint(self) -> QSize:     # noqa: N802
        return QSize(0, self.minimumHeight())

    def setContentsMargins(self, left: int, top: int, right: int, bottom: int) -> None:     # noqa: N802
        """Room kept free around the text (a "?" button in the panel's corner)."""
        super().setContentsMargins(left, top, right, bottom)
        self._fit_height()
        self.update()

    def _fit_height(self) -> None:
        m = self.contentsMargins()
        self._doc.setTextWidth(max(1, self.width() - m.left() - m.right()))
        need = max(math.ceil(self._doc.size().height()), self.fontMetrics().lineSpacing()) + m.top() + m.bottom()
        if need != self.minimumHeight() or need != self.maximumHeight():
            self.setFixedHeight(need)

    def paintEvent(self, event) -> None:     # noqa: N802
        painter = QPainter(self)
        m = self.contentsMargins()
        painter.translate(m.left(), m.top())
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, self.palette().color(QPalette.ColorRole.WindowText))
        self._doc.documentLayout().draw(painter, context)
        painter.end()
