"""Colours and fonts for a projector: a light background, dark text, large enough type, thick lines.

``apply_theme()`` must run before the panels make their plots (pyqtgraph reads its options when a plot is
created); ``MainWindow`` calls it first thing. Calling it again does nothing new.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

BACKGROUND = "#ffffff"
FOREGROUND = "#202124"
ACCENT = "#1a73e8"
FAULT = "#b3261e"
BASE_POINT_SIZE = 11

STYLE = f"""
QMainWindow {{ background: #f4f5f7; }}
QFrame#panelFrame {{ background: {BACKGROUND}; border: 1px solid #d0d4da; border-radius: 4px; }}
QFrame#faultBanner {{ background: {FAULT}; border-radius: 4px; }}
QFrame#faultBanner QLabel {{ color: white; font-size: {BASE_POINT_SIZE + 1}pt; }}
QLabel#lessonText {{ background: #e8f0fe; color: #174ea6; border-radius: 4px; padding: 6px 10px; }}
QLabel#paramCount {{ font-weight: bold; padding: 4px 2px; }}
QGroupBox {{ font-weight: bold; margin-top: 14px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 6px; padding: 0 3px; }}
QTabBar::tab {{ padding: 5px 14px; font-size: {BASE_POINT_SIZE + 1}pt; }}
QTabBar::tab:selected {{ font-weight: bold; }}
QStatusBar QLabel {{ padding: 0 8px; }}
"""

_applied = False


def apply_theme(app: QApplication | None = None) -> None:
    """Set pyqtgraph's colours and the application's font and style sheet (once)."""
    global _applied
    app = app or QApplication.instance()
    pg.setConfigOptions(background=BACKGROUND, foreground=FOREGROUND, antialias=True)
    if app is None or _applied:
        return
    _applied = True
    font = QFont(app.font())
    if font.pointSizeF() < BASE_POINT_SIZE:
        font.setPointSizeF(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(STYLE)
