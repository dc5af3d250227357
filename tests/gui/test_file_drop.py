"""Files dropped on the window: real QDragEnterEvent / QDropEvent carrying file URLs, sent where Qt sends them (to the
widget under the cursor: a panel's plot, from which Qt passes them up to the window)."""
from __future__ import annotations

import pytest

from helpers import BAD_FILES, small_config
from qt_helpers import no_leaks, open_window, wait_snapshot, windows_deleted_here  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("windows_deleted_here")


def mime_of(*urls):
    from PySide6.QtCore import QMimeData, QUrl

    mime = QMimeData()
    mime.setUrls([u if isinstance(u, QUrl) else QUrl.fromLocalFile(str(u)) for u in urls])
    return mime


def drag_and_drop(win, mime, target=None) -> bool:
    """Drag ``mime`` over ``target`` (a panel's plot by default) and drop it; True when the drag was accepted."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    target = target or win.panels["loss"].findChildren(pg.GraphicsView)[0].viewport()
    pos = QPoint(target.width() // 2, target.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def data_file(tmp_path):
    path = tmp_path / "reviews.tsv"
    lines = [f"{w} film number {i}\t{'pos' if w == 'good' else 'neg'}" for i in range(30) for w in ("good", "bad")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("no_leaks")
def test_a_dropped_data_file_is_opened_as_file_open_does(qtbot, monkeypatch, tmp_path):
    path = data_file(tmp_path)
    win = open_window(qtbot)
    try:
        asked = []
        monkeypatch.setattr(win, "ask_task", lambda p: asked.append(p) or "classification")
        monkeypatch.setattr(win, "show_error", lambda title, text: pytest.fail(text))
        assert drag_and_drop(win, mime_of(path))
        qtbot.waitUntil(lambda: win.controller.config.dataset == str(path), timeout=10000)
        assert asked == [str(path)] and win.controller.config.task == "classification"
        assert "reviews.tsv" in win.windowTitle()
    finally:
        win.close()


@pytest.mark.usefixtures("no_leaks")
def test_a_dropped_unsupported_file_gives_file_opens_one_line_message(qtbot, monkeypatch):
    path = BAD_FILES / "spreadsheet.xlsx"
    win = open_window(qtbot)
    try:
        old = win.controller.config
        monkeypatch.setattr(win, "ask_task", lambda p: "classification")
        dropped, opened = [], []
        monkeypatch.setattr(win, "show_error", lambda title, text: dropped.append((title, text)))
        assert drag_and_drop(win, mime_of(path))
        qtbot.waitUntil(lambda: len(dropped) == 1, timeout=10000)
        monkeypatch.setattr(win, "show_error", lambda title, text: opened.append((title, text)))
        monkeypatch.setattr(win, "ask_open_file", lambda: str(path))
        win.actions_by_name["open"].trigger()                    # File ▸ Open data file… with the same file
        assert dropped == opened and len(opened) == 1
        title, text = dropped[0]
        assert "\n" not in text and str(path) in text and len(text) < 400
        assert win.controller.config == old
    finally:
        win.close()


@pytest.mark.usefixtures("no_leaks")
def test_a_dropped_session_is_opened(qtbot, tmp_path):
    from rnnviz.core.io.session import save_session
    from rnnviz.core.train.trainer import Trainer

    config = small_config()
    trainer = Trainer(config)
    for _ in range(7):
        trainer.step()
    path = save_session(tmp_path / "lesson.rnnviz.npz", trainer)
    win = open_window(qtbot, config)
    try:
        with qtbot.waitSignal(win.session_actions.opened, timeout=10000) as opened:
            assert drag_and_drop(win, mime_of(path))
        assert opened.args[0].step == 7
        assert wait_snapshot(qtbot, win.controller, lambda s: s.step == 7).step == 7
        assert win.windowTitle() == "rnnviz — lesson.rnnviz.npz"
    finally:
        win.close()


def test_only_local_files_are_taken_and_one_at_a_time(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QUrl

    win = open_window(qtbot, start=False)
    opened = []
    monkeypatch.setattr(win, "open_file", lambda path=None: opened.append(path))
    assert not drag_and_drop(win, mime_of(QUrl("https://example.org/data.tsv")))
    from PySide6.QtCore import QMimeData

    text = QMimeData()
    text.setText("just text")
    assert not drag_and_drop(win, text)
    a, b = tmp_path / "a.tsv", tmp_path / "b.txt"
    assert drag_and_drop(win, mime_of(a, b), target=win)
    qtbot.waitUntil(lambda: opened == [str(a)], timeout=5000)
    assert "One file at a time: opening a.tsv" in win.statusBar().currentMessage()
    win.close()


def test_a_file_dropped_on_a_text_box_opens_it_and_text_still_drops_in(qtbot, monkeypatch, tmp_path):
    """The typed-probe box takes text drops itself: a file dragged over it is opened, not typed into it."""
    from PySide6.QtCore import QMimeData
    from PySide6.QtWidgets import QLineEdit

    win = open_window(qtbot, start=False)
    opened = []
    monkeypatch.setattr(win, "open_file", lambda path=None: opened.append(path))
    box = win.panels["hidden"].findChild(QLineEdit, "probeText")
    assert box is not None and box.acceptDrops() and any(b is box for b in win.file_drop.text_boxes)
    path = tmp_path / "reviews.tsv"
    mime = mime_of(path)
    mime.setText(str(path))                          # file managers offer the path as text too
    assert drag_and_drop(win, mime, target=box)
    qtbot.waitUntil(lambda: opened == [str(path)], timeout=5000)
    assert box.text() == ""
    text = QMimeData()
    text.setText("not good")
    drag_and_drop(win, text, target=box)
    assert opened == [str(path)] and win.file_drop.pending is None
    list(win.panels.values())                        # every panel made, the tabs' too: their text boxes are watched
    boxes = [b for b in win.findChildren(QLineEdit) if b.acceptDrops()]
    assert boxes and all(any(b is w for w in win.file_drop.text_boxes) for b in boxes)
    win.close()
