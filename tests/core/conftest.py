"""Tests of the Qt-free core: each fails if it (or the code it runs) imports Qt or pyqtgraph."""
import sys

import pytest

QT = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")


def _qt_loaded() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in QT)


@pytest.fixture(autouse=True)
def no_qt_in_core():
    """The core runs headless: a core test that brings Qt into the process fails (checked when Qt was not loaded
    before it, i.e. when tests/core runs first, as ``testpaths`` orders it)."""
    before = _qt_loaded()
    yield
    if not before:
        after = _qt_loaded()
        assert not after, f"a core test imported {after[:3]}: the core must not need Qt"
