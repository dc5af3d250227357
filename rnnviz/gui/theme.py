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

# Qt widget colours per theme (the panels' own colours are in panels/common.py THEMES)
WIDGET_COLOURS = {
    "light": {"window": "#f4f5f7", "panel": BACKGROUND, "border": "#d0d4da", "text": FOREGROUND,
              "lesson_bg": "#e8f0fe", "lesson_fg": "#174ea6", "base": "#ffffff", "button": "#eceef1",
              "highlight": ACCENT},
    "dark": {"window": "#0f1115", "panel": "#16181c", "border": "#3a3f47", "text": "#e8e8e8",
             "lesson_bg": "#1d2b44", "lesson_fg": "#cfe0ff", "base": "#1e2126", "button": "#2a2e35",
             "highlight": "#8ab4f8"},
}


def style_sheet(name: str = "light", scale: float = 1.0) -> str:
    """The application style sheet for theme ``name``; ``scale`` enlarges its font sizes (presentation mode)."""
    c = WIDGET_COLOURS[name]
    pt = BASE_POINT_SIZE * scale
    sheet = f"""
QMainWindow {{ background: {c['window']}; }}
QFrame#panelFrame {{ background: {c['panel']}; border: 1px solid {c['border']}; border-radius: 4px; }}
QFrame#faultBanner {{ background: {FAULT}; border-radius: 4px; }}
QFrame#faultBanner QLabel {{ color: white; font-size: {pt + 1:.0f}pt; }}
QLabel#lessonText {{ background: {c['lesson_bg']}; color: {c['lesson_fg']}; border-radius: 4px; padding: 6px 10px;
                     font-size: {pt:.0f}pt; }}
QLabel#paramCount {{ font-weight: bold; padding: 4px 2px; }}
QGroupBox {{ font-weight: bold; margin-top: 14px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 6px; padding: 0 3px; }}
QTabBar::tab {{ padding: 5px 14px; font-size: {pt + 1:.0f}pt; }}
QTabBar::tab:selected {{ font-weight: bold; }}
QStatusBar QLabel {{ padding: 0 8px; font-size: {pt:.0f}pt; }}
"""
    if name == "dark":
        sheet += f"""
QWidget {{ background: {c['window']}; color: {c['text']}; }}
QFrame#panelFrame, QFrame#panelFrame QWidget {{ background: {c['panel']}; }}
QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QTableWidget, QTableView, QListView, QLineEdit {{
    background: {c['base']}; color: {c['text']}; border: 1px solid {c['border']}; }}
QHeaderView::section {{ background: {c['button']}; color: {c['text']}; border: 1px solid {c['border']}; }}
QToolButton, QPushButton {{ background: {c['button']}; color: {c['text']}; border: 1px solid {c['border']};
                            border-radius: 3px; padding: 3px 8px; }}
QToolButton:hover, QPushButton:hover {{ border-color: {c['highlight']}; }}
QMenuBar, QMenu {{ background: {c['panel']}; color: {c['text']}; }}
QMenu::item:selected, QMenuBar::item:selected {{ background: {c['highlight']}; color: #000000; }}
QTabBar::tab {{ background: {c['window']}; color: {c['text']}; }}
QTabBar::tab:selected {{ background: {c['panel']}; }}
QToolTip {{ background: {c['base']}; color: {c['text']}; border: 1px solid {c['border']}; }}
QFrame#faultBanner, QFrame#faultBanner QLabel {{ background: {FAULT}; color: white; }}
QLabel#lessonText {{ background: {c['lesson_bg']}; color: {c['lesson_fg']}; }}
"""
    return sheet


STYLE = style_sheet("light")

_applied = False
current = {"theme": "light", "scale": 1.0}


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


def set_widget_theme(name: str, scale: float = 1.0, app: QApplication | None = None) -> None:
    """Switch the Qt widgets to theme ``name`` ("light" or "dark") at font ``scale`` (1 = normal)."""
    from .panels import common

    th = common.theme(name)          # raises ValueError for an unknown name
    app = app or QApplication.instance()
    pg.setConfigOptions(background=th.background, foreground=th.foreground)
    current.update(theme=th.name, scale=float(scale))
    if app is not None:
        app.setStyleSheet(style_sheet(th.name, scale))
