"""The application's icon: a recurrent network unrolled over three timesteps (x_t up into s_t, s_{t-1} across into
s_t, s_t up to y_t), drawn in ``resources/icons/rnnviz.svg`` and installed with the package as
``rnnviz.resources.icons``; ``rnnviz.png`` is the same picture at 256 px for a Qt without its SVG plugin."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_FILES = ("rnnviz.svg", "rnnviz.png")     # preferred first


def icon_path(name: str = ICON_FILES[0]) -> Path:
    """Where the installed package holds the icon file ``name``."""
    return Path(str(resources.files("rnnviz.resources") / "icons" / name))


def app_icon() -> QIcon:
    """The icon for the QApplication and every window: the SVG, else the PNG; a null QIcon when neither loads."""
    for name in ICON_FILES:
        path = icon_path(name)
        if path.is_file():
            icon = QIcon(str(path))
            if not icon.pixmap(32, 32).isNull():
                return icon
    return QIcon()
