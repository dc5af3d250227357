"""The one style module: colours and fonts of the panels (``Theme``, light for a projector, dark for a screen) and
of the Qt widgets (style sheet, palette).

``apply_theme()`` must run before the panels make their plots (pyqtgraph reads its options when a plot is
created); ``MainWindow`` calls it first thing. Calling it again does nothing new. Fonts are at least 10 pt so a
lecture hall can read them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#ffffff"
FOREGROUND = "#202124"
ACCENT = "#1a73e8"
FAULT = "#b3261e"
BASE_POINT_SIZE = 11
FONT_PT = 11          # ticks, labels, tables
TITLE_PT = 13         # plot titles
SMALL_PT = 10         # the smallest text we ever draw


# ------------------------------------------------------------------------------------------------------ themes
@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    faint: str          # secondary text, the raw (unsmoothed) loss curve, grid
    legend_brush: tuple
    grid_alpha: float
    good: str           # correct predictions
    bad: str            # wrong predictions / warnings
    bad_background: str


LIGHT = Theme("light", "#ffffff", "#1a1a1a", "#9aa7b8", (255, 255, 255, 220), 0.25,
              "#1a7f37", "#c62828", "#ffdede")
DARK = Theme("dark", "#16181c", "#e8e8e8", "#5f6b7a", (22, 24, 28, 220), 0.3,
             "#5cd67a", "#ff6b6b", "#5a2626")
THEMES = {"light": LIGHT, "dark": DARK}
_default_theme = LIGHT


def theme(name: str | Theme | None = None) -> Theme:
    """The theme called ``name`` (or the default one)."""
    if name is None:
        return _default_theme
    if isinstance(name, Theme):
        return name
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; known: {', '.join(THEMES)}")
    return THEMES[name]


def set_default_theme(name: str) -> None:
    """Theme used by panels created from now on."""
    global _default_theme
    _default_theme = theme(name)


# Colour-blind-friendly categorical colours (Tableau 10 order, dark enough on white, bright enough on dark).
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# ------------------------------------------------------------------------------------------------------ fonts
def font(pt: float = FONT_PT, bold: bool = False, mono: bool = False) -> QtGui.QFont:
    f = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont) if mono else QtGui.QFont()
    f.setPointSizeF(pt)
    f.setBold(bold)
    return f


def label(text: str = "", pt: float = FONT_PT, bold: bool = False, wrap: bool = False) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    lab.setFont(font(pt, bold))
    lab.setWordWrap(wrap)
    return lab


# Qt widget colours per theme (the panels' own colours: THEMES below)
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
    if name == "dark":      # the generic widget colours come from the palette (a style-sheet rule per widget
        # class made every theme switch restyle the whole window for seconds); only named widgets here
        sheet += f"""
QFrame#faultBanner, QFrame#faultBanner QLabel {{ background: {FAULT}; color: white; }}
QTabBar::tab:selected {{ background: {c['panel']}; }}
QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid #9aa0a6; border-radius: 2px;
                        background: {c['base']}; }}
QCheckBox::indicator:checked {{ background: {c['highlight']}; border-color: {c['highlight']}; }}
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


def set_widget_theme(name: str, scale: float = 1.0, app: QApplication | None = None, window: Any = None) -> None:
    """Switch the Qt widgets to theme ``name`` ("light" or "dark") at font ``scale`` (1 = normal).

    The style sheet goes on ``window`` when given (restyling one window takes ~0.2 s here; the whole application
    ~1 s, and seconds on a busy machine); the palette (cheap) on the application.
    """
    th = theme(name)          # raises ValueError for an unknown name
    app = app or QApplication.instance()
    pg.setConfigOptions(background=th.background, foreground=th.foreground)
    changed = th.name != current["theme"]
    current.update(theme=th.name, scale=float(scale))
    if app is not None and (changed or "palette" not in _saved):
        _saved.setdefault("palette", QPalette(app.palette()))
        app.setPalette(dark_palette() if th.name == "dark" else _saved["palette"])
    sheet = "" if th.name == "light" and scale == 1.0 else style_sheet(th.name, scale)
    if window is not None:
        window.setStyleSheet(sheet)
    elif app is not None:
        app.setStyleSheet(sheet or STYLE)


_saved: dict = {}


def dark_palette() -> QPalette:
    """Qt's colours for the dark theme (window, text, fields, buttons, selection, disabled text)."""
    c = WIDGET_COLOURS["dark"]
    pal = QPalette()
    role = QPalette.ColorRole
    for r, colour in ((role.Window, c["window"]), (role.WindowText, c["text"]), (role.Base, c["base"]),
                      (role.AlternateBase, c["panel"]), (role.Text, c["text"]), (role.Button, c["button"]),
                      (role.ButtonText, c["text"]), (role.ToolTipBase, c["base"]), (role.ToolTipText, c["text"]),
                      (role.Highlight, c["highlight"]), (role.HighlightedText, "#000000"),
                      (role.PlaceholderText, "#8a9099"), (role.BrightText, "#ffffff"), (role.Link, c["highlight"]),
                      (role.Light, "#3a3f47"), (role.Midlight, "#2f343b"), (role.Mid, "#2a2e35"),
                      (role.Dark, "#101216"), (role.Shadow, "#000000")):
        pal.setColor(r, QColor(colour))
    for r in (role.Text, role.ButtonText, role.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor("#6b7280"))
    return pal
