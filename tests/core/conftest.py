"""Tests of the Qt-free core. They must run where no screen and no Qt exist, so they may not use Qt:
``test_core_tests_are_qt_free.py`` checks their imports and fixtures, and the fixture below fails a core test
that brings Qt into a process that did not have it (as when ``tests/core`` runs on its own)."""
import sys

import pytest

QT = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")


def _qt_loaded() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in QT)


@pytest.fixture(autouse=True)
def no_qt_in_core():
    before = _qt_loaded()
    yield
    if not before:
        after = _qt_loaded()
        assert not after, f"a core test imported {after[:3]}: the core must not need Qt"
