"""Drop a file on the window to open it: a saved session (``.npz``) as File ▸ Open session… does, any other file
as File ▸ Open data file… does (the same task question, the same one-line message for a file rnnviz cannot use).

``open_path(window, path)`` is that choice, also used by File ▸ Open recent. The drop itself is handled by an
event filter on the window: drag events over a panel that does not take drops reach the window (Qt passes them
up to the first parent that accepts drops). Text boxes take drops of text themselves, so the filter sits on them
too and takes the drags that carry files (text still drops into them). The file is opened after the drop has
finished (a dialog inside a drop handler would hold the dragging application).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject, QTimer
from PySide6.QtWidgets import QLineEdit

SESSION_SUFFIXES = (".npz",)      # a session (``*.rnnviz.npz``); everything else is offered as data


def is_session(path: str) -> bool:
    return path.lower().endswith(SESSION_SUFFIXES)


def open_path(window: Any, path: str) -> bool:
    """Open ``path`` in ``window``: a session, or a data file (which asks for its task as File ▸ Open does)."""
    if is_session(path):
        return bool(window.session_actions.open_session(path))
    window.open_file(path)
    return True


def dropped_files(mime: QMimeData | None) -> list[str]:
    """The local files a drag carries (URLs of other kinds are not files rnnviz can open)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class FileDrop(QObject):
    """The window's drop target: ``window.file_drop`` after ``install``."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.pending: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._open_pending)
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        self.text_boxes: list[QLineEdit] = []     # the typed probe, the spin boxes' and editable lists' text
        self._watch(window)
        when_built = getattr(window.panels, "when_built", None)
        if when_built is not None:                 # a panel made later (a tab first brought to the front)
            when_built(lambda _key, panel: self._watch(panel))

    def _watch(self, widget: Any) -> None:
        for box in widget.findChildren(QLineEdit):
            if box.acceptDrops() and not any(box is b for b in self.text_boxes):
                box.installEventFilter(self)
                self.text_boxes.append(box)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        files = dropped_files(event.mimeData())
        if not files:
            if obj is not self.window:
                return False                 # text dropped into a text box: the box's own
            event.ignore()
            return True
        event.acceptProposedAction()
        if kind == QEvent.Type.Drop:
            if len(files) > 1:
                self.window.statusBar().showMessage(
                    f"One file at a time: opening {Path(files[0]).name}, not the other {len(files) - 1}", 10000)
            self.pending = files[0]
            self._timer.start()
        return True

    def _open_pending(self) -> None:
        path, self.pending = self.pending, None
        if path:
            open_path(self.window, path)


def install(window: Any) -> None:
    window.file_drop = FileDrop(window)
