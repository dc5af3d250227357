"""The banner above the panels: a line of rich text and a Dismiss button, in the fault banner's look (style.py)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


def make_banner(text_name: str) -> tuple[QFrame, QLabel]:
    """A hidden banner frame (object name ``faultBanner``) and its wrapping rich-text label (object name
    ``text_name``); Dismiss hides the frame without taking the keyboard focus (Space still trains)."""
    frame = QFrame()
    frame.setObjectName("faultBanner")
    row = QHBoxLayout(frame)
    row.setContentsMargins(12, 8, 8, 8)
    label = QLabel()
    label.setObjectName(text_name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    row.addWidget(label, 1)
    dismiss = QPushButton("Dismiss")
    dismiss.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    dismiss.clicked.connect(frame.hide)
    row.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
    frame.hide()
    return frame, label
