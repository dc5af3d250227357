"""The core's tests use no Qt: no import of Qt, pyqtgraph, the window or the Qt test helpers, anywhere in a file
(function-level imports included), and no Qt fixture. (The core's own code is held to the same by the
import-linter contracts in pyproject.toml, run by test_architecture.py.)"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "rnnviz.gui", "qt_helpers", "pytestqt")
QT_FIXTURES = {"qtbot", "qapp", "qtmodeltester", "no_leaks"}


def _imports(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


@pytest.mark.parametrize("path", sorted(HERE.glob("*.py")), ids=lambda p: p.name)
def test_no_qt_in_core_tests(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [m for m in _imports(tree) if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN)]
    assert not bad, f"{path.name} imports {bad}: move that test to tests/gui"
    fixtures = {a.arg for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                for a in node.args.args} & QT_FIXTURES
    assert not fixtures, f"{path.name} uses the Qt fixture(s) {sorted(fixtures)}: move that test to tests/gui"


def test_the_scan_sees_a_function_level_import(tmp_path):
    source = "def test_x(qtbot):\n    from rnnviz.gui.main_window import MainWindow\n"
    tree = ast.parse(source)
    assert "rnnviz.gui.main_window" in _imports(tree)
