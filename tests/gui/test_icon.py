"""The application icon: installed with the package (``rnnviz.resources.icons``), loads, and is the window's."""
from __future__ import annotations

import fnmatch
import tomllib

import pytest

from helpers import REPO, small_config
from qt_helpers import windows_deleted_here  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("windows_deleted_here")


def test_the_icon_files_are_in_the_installed_package_and_load(qapp):
    from PySide6.QtGui import QImage

    from rnnviz.gui.icon import ICON_FILES, app_icon, icon_path

    for name in ICON_FILES:
        path = icon_path(name)
        assert path.is_file(), path
        assert not QImage(str(path)).isNull(), path          # each file on its own is a picture Qt reads
    icon = app_icon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64 and image.height() == 64
    colours = {image.pixelColor(x, y).name() for x in range(0, 64, 4) for y in range(0, 64, 4)}
    assert len(colours) > 3                                  # a drawing, not a blank square


def test_the_package_data_installs_the_icon_files():
    """What a wheel holds: the package-data patterns of rnnviz.resources.icons match every icon file."""
    from rnnviz.gui.icon import ICON_FILES

    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["rnnviz.resources.icons"]
    for name in ICON_FILES:
        assert (REPO / "resources" / "icons" / name).is_file()
        assert any(fnmatch.fnmatch(name, p) for p in patterns), (name, patterns)


def test_the_application_and_the_window_have_the_icon(qtbot):
    from PySide6.QtWidgets import QApplication

    from rnnviz.gui.icon import app_icon
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="thread", start=False)
    qtbot.addWidget(win)
    assert not win.windowIcon().isNull()
    assert win.windowIcon().pixmap(32, 32).toImage() == app_icon().pixmap(32, 32).toImage()
    app = QApplication.instance()
    before = app.windowIcon()
    try:
        app.setWindowIcon(app_icon())               # what app.run does
        assert not app.windowIcon().isNull()
    finally:
        app.setWindowIcon(before)
    win.close()
