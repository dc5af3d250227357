"""What the window remembers between runs: its size and place (and the settings dock's), the theme, presentation
mode, the last lesson or data file, and the recent files (File ▸ Open recent). Edit ▸ Reset preferences forgets
them all.

They live in ``QSettings`` in INI format at the user's place (on Linux ``~/.config/rnnviz/rnnviz.ini``): ``store()``.
Every value read is checked: a missing, corrupt or out-of-range value (or an unreadable file) is the default, never
an error. A remembered file that no longer exists is left out with a message in the status bar, not a dialog.

Nothing is read or written until ``restore()`` (``app.run`` calls it for the interactive window): a window built
for ``rnnviz render`` or a test neither takes the user's preferences nor changes them.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings
from PySide6.QtGui import QAction

from rnnviz.core.config import from_dict
from rnnviz.core.data.suggest import suggest
from rnnviz.core.errors import RnnvizError
from rnnviz.core.presets import builtin_names
from rnnviz.gui import style
from rnnviz.gui.features.file_drop import open_path

ORGANISATION = APPLICATION = "rnnviz"
RECENT_LIMIT = 8                  # entries in File ▸ Open recent
MAX_VALUE_CHARS = 100_000         # a remembered value longer than this is not one rnnviz wrote
MESSAGE_MS = 10000


def store() -> QSettings:
    """The preferences file (INI format, so ``QSettings.setPath`` moves it: tests put it in a temporary folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


@dataclass
class Remembered:
    """The preferences as read, each value checked (a bad one is the default)."""

    geometry: QByteArray | None = None
    dock_state: QByteArray | None = None
    theme: str = "light"
    presentation: bool = False
    lesson: str | None = None           # the last lesson (a built-in preset name), or
    data: Any = None                    # the settings of the last data file (a Config)
    recent: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)     # values left out, for the status bar


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_VALUE_CHARS else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(value) if isinstance(value, str) else None


def _bytes(value: Any) -> QByteArray | None:
    if isinstance(value, (bytes, bytearray)):
        value = QByteArray(bytes(value))
    return value if isinstance(value, QByteArray) and 0 < value.size() <= MAX_VALUE_CHARS else None


def _paths(value: Any) -> list[str]:
    """A list of file paths: INI gives one remembered entry as a plain string, anything else is ignored."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    out: list[str] = []
    for item in items:
        text = _text(item)
        if text is not None and text not in out and "\0" not in text:
            out.append(text)
    return out[:RECENT_LIMIT]


def read(settings: QSettings) -> Remembered:
    """The checked preferences of ``settings``; an unreadable file reads as the defaults."""
    r = Remembered()
    if settings.status() != QSettings.Status.NoError:
        r.problems.append("the preferences file could not be read; using the defaults")
        return r
    r.geometry = _bytes(settings.value("window/geometry"))
    r.dock_state = _bytes(settings.value("window/state"))
    theme = _text(settings.value("look/theme"))
    r.theme = theme if theme in style.THEMES else "light"
    r.presentation = bool(_flag(settings.value("look/presentation")))
    kind = _text(settings.value("last/kind"))
    if kind == "lesson":
        name = _text(settings.value("last/lesson"))
        if name in builtin_names():
            r.lesson = name
        elif name:
            r.problems.append(f"the last lesson {name[:40]!r} is not one of rnnviz's lessons")
    elif kind == "data":
        try:
            r.data = from_dict(json.loads(_text(settings.value("last/settings")) or "null"))
        except (ValueError, TypeError, RnnvizError):
            r.problems.append("the settings of the last data file could not be read")
    r.recent = _paths(settings.value("recent/files"))
    return r


class Preferences(QObject):
    """The remembered preferences of one window: ``window.preferences`` after ``install``."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.active = False                         # True once ``restore`` ran: from then on it remembers
        self.default_size = window.size()
        self.default_dock_state = window.saveState()
        self.recent: list[str] = []
        self._noted_data: str | None = None
        self.recent_menu = self._make_recent_menu()
        edit = window.menu("&Edit")
        edit.addSeparator()
        reset = QAction("Reset preferences", window)
        reset.setStatusTip("Forget the remembered window size, theme, presentation mode, last lesson or file and "
                           "recent files; the window goes back to its defaults")
        reset.triggered.connect(lambda _c=False: self.reset())
        edit.addAction(reset)
        window.actions_by_name["reset_preferences"] = reset
        window.controller.configChanged.connect(self._on_config)
        window.installEventFilter(self)

    # --- the File ▸ Open recent menu --------------------------------------------------------------------
    def _make_recent_menu(self) -> Any:
        """File ▸ Open recent, just below File ▸ Open data file…"""
        file_menu = self.window.menu("&File")
        menu = file_menu.addMenu("Open recent")
        menu.setObjectName("recentMenu")
        menu.setToolTipsVisible(True)
        actions = file_menu.actions()
        open_action = self.window.actions_by_name.get("open")
        if open_action in actions and actions.index(open_action) + 1 < len(actions) - 1:
            file_menu.insertMenu(actions[actions.index(open_action) + 1], menu)
        self._fill_recent(menu)
        return menu

    def _fill_recent(self, menu: Any = None) -> None:
        menu = menu or self.recent_menu
        menu.clear()
        for path in self.recent:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_recent(p))
        if not self.recent:
            empty = menu.addAction("(none yet)")
            empty.setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear recent files")
        clear.setEnabled(bool(self.recent))
        clear.triggered.connect(lambda _c=False: self.set_recent([]))

    def set_recent(self, paths: list[str]) -> None:
        self.recent = _paths(paths)
        if self.active:
            settings = store()
            settings.setValue("recent/files", self.recent)
            settings.sync()
        self._fill_recent()

    def add_recent(self, path: str | os.PathLike) -> None:
        """Put ``path`` first in the recent files (remembered once the preferences are active)."""
        path = os.path.abspath(os.fspath(path))
        self.set_recent([path] + [p for p in self.recent if p != path])

    def open_recent(self, path: str) -> bool:
        """Open a recent file; one that is gone is dropped from the list with a status-bar message."""
        if not os.path.isfile(path):
            self.set_recent([p for p in self.recent if p != path])
            self._message(f"{Path(path).name} is no longer there ({path}): removed from the recent files")
            return False
        return open_path(self.window, path)

    # --- restoring ----------------------------------------------------------------------------------------
    def restore(self, theme: str | None = None, presentation: bool = False, resume: bool = False) -> Remembered:
        """Take the remembered preferences, then remember from now on. ``theme`` / ``presentation`` given on the
        command line win over the remembered ones; ``resume`` opens the last lesson or data file."""
        w = self.window
        r = read(store())
        self.active = True
        notes = list(r.problems)
        if r.geometry is not None and not w.restoreGeometry(r.geometry):
            notes.append("the remembered window size could not be used")
        if r.dock_state is not None and not w.restoreState(r.dock_state):
            notes.append("the remembered dock layout could not be used")
        kept = [p for p in r.recent if os.path.isfile(p)]
        gone = [p for p in r.recent if p not in kept]
        if gone:
            notes.append(f"recent file(s) no longer there, left out: {', '.join(Path(p).name for p in gone)}")
            self.set_recent(kept)           # forgotten in the file too
        else:                               # as remembered: nothing to write at start-up
            self.recent = kept
            self._fill_recent()
        chosen = theme or r.theme
        if chosen != w.presentation.theme:
            w.presentation.set_theme(chosen)
        if presentation or r.presentation:
            w.presentation.enter()
        if resume:
            notes += self._resume(r)
        if notes:
            self._message("Preferences: " + "; ".join(notes))
        return r

    def _resume(self, r: Remembered) -> list[str]:
        """Open the last lesson or data file; what could not be opened is a note, not a dialog."""
        w = self.window
        if r.lesson is not None:
            if r.lesson != getattr(w.preset, "name", None):
                w.lessons.open(r.lesson)
            return []
        if r.data is None:
            return []
        path = str(r.data.dataset)
        if not os.path.isfile(path):
            return [f"the last data file is no longer there, left out: {path}"]
        changes = {f.name: getattr(r.data, f.name) for f in dataclasses.fields(r.data)}
        if w._apply(changes, "Could not open the last data file"):
            try:        # the lesson bar and title speak of the file, as after File ▸ Open data file…
                w.own_data.show(suggest(path, r.data.task), w.controller.config)
            except RnnvizError:
                pass    # the file was opened; only its description is missing
        return []

    # --- remembering --------------------------------------------------------------------------------------
    def _on_config(self, config: Any) -> None:
        """A data file put in force goes first in the recent files."""
        path = str(config.dataset)
        if path != self._noted_data and os.path.isfile(path):
            self._noted_data = path
            self.add_recent(path)

    def last(self) -> tuple[str, str] | None:
        """What to open next time: ("lesson", name) when a built-in lesson's data are in force, ("data", settings
        as JSON) when a data file is, else None (the remembered one stays)."""
        w = self.window
        config = w.controller.config
        preset = w.preset
        name = getattr(preset, "name", None)
        if (preset is not None and not getattr(preset, "action", "") and name in builtin_names()
                and preset.config.dataset == config.dataset):
            return "lesson", name
        if os.path.isfile(str(config.dataset)):
            return "data", json.dumps(config.to_dict())
        return None

    def save(self) -> None:
        """Remember the window as it is now (when the window closes)."""
        if not self.active:
            return
        w = self.window
        settings = store()
        if not w.presentation.on:        # full screen is presentation mode's, not a size to come back to
            settings.setValue("window/geometry", w.saveGeometry())
            settings.setValue("window/state", w.saveState())
        settings.setValue("look/theme", w.presentation.theme)
        settings.setValue("look/presentation", bool(w.presentation.on))
        last = self.last()
        if last is not None:
            kind, value = last
            settings.setValue("last/kind", kind)
            settings.remove("last/lesson" if kind == "data" else "last/settings")
            settings.setValue("last/lesson" if kind == "lesson" else "last/settings", value)
        settings.setValue("recent/files", self.recent)
        settings.sync()

    def reset(self) -> None:
        """Forget every preference and put the window back to its defaults (it remembers again from now on)."""
        w = self.window
        if w.presentation.on:
            w.presentation.leave()
        if w.presentation.theme != "light":
            w.presentation.set_theme("light")
        if w.isVisible():
            w.showNormal()
        w.restoreState(self.default_dock_state)
        w.resize(self.default_size)
        self.recent = []
        self._fill_recent()
        settings = store()
        settings.clear()
        settings.sync()
        self._message("Preferences reset: default window size, light theme, no recent files")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.save()
        return False

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, MESSAGE_MS)


def install(window: Any) -> None:
    window.preferences = Preferences(window)
