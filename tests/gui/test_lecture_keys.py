"""The lecture keys (Space, S, E, R, Z, F11, Ctrl+B) work whatever widget has the focus, except while typing in a text
box; Enter in a text box hands the focus back. Real key events (QTest, through Qt's shortcut map) are sent to the
focused widget; the actions' own slots are replaced by counters, so no key starts anything slow."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from qt_helpers import no_leaks, open_window  # noqa: F401  (no_leaks is a fixture)

pytest.importorskip("pytestqt")

K, M = Qt.Key, Qt.KeyboardModifier
KEYS = {"Space": (K.Key_Space, M.NoModifier), "S": (K.Key_S, M.NoModifier), "E": (K.Key_E, M.NoModifier),
        "R": (K.Key_R, M.NoModifier), "Z": (K.Key_Z, M.NoModifier), "F11": (K.Key_F11, M.NoModifier),
        "Ctrl+B": (K.Key_B, M.ControlModifier)}


@pytest.fixture
def window(qtbot, no_leaks):
    win = open_window(qtbot)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    hits: dict[str, int] = {}
    for name in KEYS:
        action = next(a for a in win.actions() if QKeySequence(name) in a.shortcuts())
        action.triggered.disconnect()                  # counted instead of run
        action.triggered.connect(lambda _c=False, n=name: hits.__setitem__(n, hits.get(n, 0) + 1))
    win.hits = hits
    yield win
    win.close()


def press(qtbot, win, widget, name) -> bool:
    """Send the key to ``widget`` (which has the focus); True when the window's action ran."""
    before = win.hits.get(name, 0)
    key, mods = KEYS[name]
    qtbot.keyClick(widget, key, mods)
    return win.hits.get(name, 0) == before + 1


def focusable(win) -> list[QWidget]:
    out = []
    for w in win.findChildren(QWidget):
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisible() and w.isEnabled() and w.window() is win:
            out.append(w)
    return out


def focus(qtbot, w) -> bool:
    w.setFocus(Qt.FocusReason.OtherFocusReason)
    QApplication.processEvents()
    return QApplication.focusWidget() is w


def test_every_focusable_widget_leaves_the_lecture_keys_to_the_window(qtbot, window):
    from rnnviz.gui.features.lecture_keys import is_text_box, spin_box_of

    win = window
    checked, failures = set(), []
    for index in range(win.tabs.count()):              # every tab page in turn, so its widgets are visible
        win.tabs.setCurrentIndex(index)
        for w in focusable(win):
            if w in checked or is_text_box(w) or not focus(qtbot, w):
                continue
            checked.add(w)
            for name in KEYS:
                if name == "E" and spin_box_of(w) is not None and w.objectName() == "lr":
                    continue                          # the learning rate box types exponents (tested below)
                if not focus(qtbot, w) or not press(qtbot, win, w, name):
                    failures.append(f"{type(w).__name__}:{w.objectName()} {name}")
    kinds = {type(w).__name__ for w in checked}
    assert {"QSpinBox", "QDoubleSpinBox", "ScientificSpinBox", "QComboBox", "QCheckBox", "QTabBar"} <= kinds, kinds
    assert failures == []


def test_typing_in_the_probe_box_keeps_letters_and_enter_hands_the_focus_back(qtbot, window):
    win = window
    box = win.panels["hidden"].probe_text
    assert focus(qtbot, box)
    for name in ("S", "E", "R", "Space"):
        assert not press(qtbot, win, box, name), name          # typed, not a lecture key
    assert box.text() == "ser "
    assert press(qtbot, win, box, "F11") and press(qtbot, win, box, "Ctrl+B")   # no letters: still the window's
    sent = []
    win.panels["hidden"].probeTextChanged.connect(sent.append)
    qtbot.keyClick(box, K.Key_Return)
    assert sent == ["ser "]                                    # Enter still sends the probe...
    qtbot.waitUntil(lambda: not box.hasFocus(), timeout=3000)  # ...and hands the focus back
    target = QApplication.focusWidget()
    assert target is win.centralWidget()
    assert press(qtbot, win, target, "Space") and press(qtbot, win, target, "S")


def test_number_boxes_keep_an_exponent_only_and_enter_hands_back(qtbot, window):
    win = window
    lr = win.controls.widgets["lr"]
    assert focus(qtbot, lr)
    lr.lineEdit().end(False)
    assert not press(qtbot, win, lr, "E")                      # 0.01e... : an exponent being typed
    assert press(qtbot, win, lr, "S") and press(qtbot, win, lr, "Space")
    hidden = win.controls.widgets["hidden"]
    assert focus(qtbot, hidden)
    assert press(qtbot, win, hidden, "E")                      # a whole-number box has no exponent
    qtbot.keyClick(hidden, K.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.centralWidget(), timeout=3000)
    assert press(qtbot, win, win.centralWidget(), "R")


def test_a_click_on_the_window_background_takes_the_focus_back(qtbot, window):
    win = window
    box = win.panels["hidden"].probe_text
    assert focus(qtbot, box)
    qtbot.mouseClick(win.centralWidget(), Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is win.centralWidget()
    assert press(qtbot, win, win.centralWidget(), "Space")
