"""File ▸ Save session…, Open session…, Export ▸ (window / each panel as PNG or SVG, metrics as CSV), and
Edit ▸ Copy settings, installed into the window by ``install(window)`` (see ``main_window.EXTENSIONS``).

Saving runs where the Trainer lives (the worker thread, or the training subprocess), between two training steps,
so it can happen while training runs; the worker answers with a ``SessionResult`` event. Opening checks the whole file
and the data it names here first (``core.session``), so a bad file shows one message and changes nothing; only
then does the worker rebuild its Trainer from the file, and the panels redraw the restored history.
The dialogs (``ask_save_path``, ``ask_open_path``) are attributes tests can replace.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog

from rnnviz.core.config import DATA_FIELDS
from rnnviz.core.errors import RnnvizError
from rnnviz.core.live.messages import OpenSession, SaveSession, SessionResult
from rnnviz.gui.failures import failure_message
from rnnviz.gui.panels.registry import PANELS

SESSION_FILTER = "rnnviz sessions (*.rnnviz.npz *.npz);;All files (*)"
IMAGE_FILTER = "PNG image (*.png);;SVG vector image (*.svg)"
CSV_FILTER = "CSV table (*.csv)"


class SessionActions(QObject):
    """The window's session and export commands. ``window.session_actions`` after ``install``.

    Signals (for tests and the status bar): ``saved`` / ``opened`` with the worker's ``messages.SessionResult``
    (path, step) once it has done it, ``failed(str)`` with the message shown.
    """

    saved = Signal(object)
    opened = Signal(object)
    failed = Signal(str)

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.last_export: Path | None = None
        self.controller.worker.sessionEvent.connect(self._on_session_event)

    # --- dialogs (replaceable) ------------------------------------------------------------------------
    def ask_save_path(self, title: str, filters: str, suggested: str) -> str | None:
        path, chosen = QFileDialog.getSaveFileName(self.window, title, suggested, filters)
        if path and not Path(path).suffix and "(*." in chosen:      # no extension typed: the filter's
            path += "." + chosen.split("(*.", 1)[1].split(")")[0].split()[0]
        return path or None

    def ask_open_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a session", "", SESSION_FILTER)
        return path or None

    def _message(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _error(self, title: str, message: str) -> None:
        self.failed.emit(message)
        self.window.show_error(title, message)

    # --- sessions -------------------------------------------------------------------------------------
    @Slot()
    def save_session(self, path: str | None = None) -> bool:
        """Ask the worker to save the session (between two steps, training goes on). False when cancelled."""
        if path is None:
            snap = self.controller.latest
            step = int(snap.step) if snap is not None else 0
            path = self.ask_save_path("Save the session", SESSION_FILTER, f"session-step{step}.rnnviz.npz")
        if not path:
            return False
        self.controller.send(SaveSession(str(path)))
        self._message(f"Saving the session to {path}…")
        return True

    @Slot()
    def open_session(self, path: str | None = None) -> bool:
        """Open a session: check it (and its data) here, then rebuild the model in the worker. On any problem one
        message and nothing changes. True when the worker was asked to open it."""
        from rnnviz.core.io.session import load_session, load_session_data, restore_trainer

        path = path or self.ask_open_path()
        if not path:
            return False
        ctl, win = self.controller, self.window
        try:
            session = load_session(path)
            same_data = all(getattr(ctl.config, k) == getattr(session.config, k) for k in DATA_FIELDS)
            dataset = ctl.dataset if same_data else load_session_data(session)
            restore_trainer(session, dataset)          # every check the worker will make, made here first
        except Exception as exc:                       # whatever the file does, the window keeps its model
            self._error("Could not open the session", failure_message(str(path), exc))
            return False
        if ctl.trained and not win.confirm(f"Open {Path(path).name} (step {session.step})? The model trained "
                                           f"here (step {ctl.latest.step}) is replaced; save it first to keep it."):
            return False
        config = session.config
        if dataset is not ctl.dataset:
            ctl.dataset = dataset
            ctl.datasetChanged.emit(dataset)
        ctl.config = config
        ctl.n_params = session.arrays["optim/m"].size
        self._notes = session.notes                   # said with "opened" (an old file was checked less strictly)
        ctl.send(OpenSession(str(path), dataset))
        ctl.configChanged.emit(config)
        win.retitle(config.dataset, Path(path).name)
        return True

    @Slot(object)
    def _on_session_event(self, event: SessionResult) -> None:
        if not event.ok:
            what = "save" if event.action == "save" else "open"
            self._error(f"Could not {what} the session", event.message)
            return
        if event.action == "save":
            self._message(f"Session saved: {event.path} (step {event.step})")
            self.saved.emit(event)
        else:
            notes = "; ".join(getattr(self, "_notes", []))
            self._message(f"Session opened: {event.path} (step {event.step}); press Space to go on"
                          + (f". Note: {notes}" if notes else ""), 15000 if notes else 8000)
            self.opened.emit(event)

    # --- export ---------------------------------------------------------------------------------------
    def export_view(self, key: str | None = None, path: str | None = None) -> Path | None:
        """The whole window (``key`` None) or one panel as PNG or SVG (by the file's extension)."""
        win = self.window
        widget = win if key is None else win.panels[key]
        name = "window" if key is None else key
        path = path or self.ask_save_path(f"Export {'the window' if key is None else name + ' panel'}",
                                          IMAGE_FILTER, f"rnnviz-{name}.png")
        if not path:
            return None
        try:
            if key is not None and win.controller.latest is not None and not widget.isVisible():
                widget.render(win.controller.latest)    # a panel in a hidden tab: bring it up to date first
            from rnnviz.gui.features import export      # loaded on first use, not at start-up

            export.export_widget(widget, path, title=f"rnnviz — {name}", plots_only=key is not None)
        except (RnnvizError, OSError) as exc:
            self._error("Export failed", str(exc))
            return None
        self.last_export = Path(path)
        self._message(f"Exported {path}")
        return self.last_export

    def export_metrics(self, path: str | None = None) -> Path | None:
        """Loss per step and validation metrics per evaluation as CSV (the numbers of the newest snapshot)."""
        snap = self.controller.latest
        path = path or self.ask_save_path("Export the metrics", CSV_FILTER, "rnnviz-metrics.csv")
        if not path:
            return None
        try:
            from rnnviz.gui.features import export

            n = export.write_metrics_csv(snap, path)
        except RnnvizError as exc:
            self._error("Export failed", str(exc))
            return None
        self.last_export = Path(path)
        self._message(f"Exported {n} rows to {path}")
        return self.last_export

    @Slot()
    def copy_settings(self) -> str:
        """The settings in force as a preset TOML on the clipboard; returns the text."""
        from rnnviz.core.io.session import settings_toml

        preset = getattr(self.window, "preset", None)
        text = settings_toml(self.controller.config, getattr(preset, "title", None))
        QApplication.clipboard().setText(text)
        self._message("Settings copied as a preset (TOML): paste them into a .toml file or a message")
        return text


def _add(window: Any, menu: Any, before: Any, text: str, tip: str, slot: Any, shortcut: str | None = None,
         name: str | None = None) -> QAction:
    action = QAction(text, window)
    action.setStatusTip(tip)
    action.setToolTip(tip)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        window.addAction(action)
    action.triggered.connect(lambda checked=False: slot())
    if before is not None:
        menu.insertAction(before, action)
    else:
        menu.addAction(action)
    if name:
        window.actions_by_name[name] = action
    return action


def install(window: Any) -> SessionActions:
    """Add the session, export and copy-settings commands to the window's File and Edit menus."""
    actions = SessionActions(window)
    window.session_actions = actions
    file_menu = window.menu("&File")
    before = window.actions_by_name.get("quit")
    if before is not None and before not in file_menu.actions():
        before = None
    _add(window, file_menu, before, "Save session…", "Save settings, vocabulary, weights, optimiser state and the "
         "whole history in one file (while training too); open it later to go on exactly there",
         actions.save_session, "Ctrl+Shift+S", "save_session")
    _add(window, file_menu, before, "Open session…", "Reopen a saved session: its plots come back and training goes "
         "on where it stopped", actions.open_session, "Ctrl+Shift+O", "open_session")
    sub = file_menu.addMenu("Export")
    sub.setToolTipsVisible(True)
    if before is not None:
        file_menu.insertMenu(before, sub)
    _add(window, sub, None, "Whole window (PNG or SVG)…", "The window as you see it, as a PNG picture or SVG vector "
         "drawing", lambda: actions.export_view(None), name="export_window")
    sub.addSeparator()
    for key in window.order:
        title = PANELS[key].title
        _add(window, sub, None, f"{title} panel (PNG or SVG)…", f"The {title} panel's plots as PNG or SVG",
             lambda k=key: actions.export_view(k), name=f"export_{key}")
    window.panels.when_built(lambda key, panel: _add_to_context_menus(key, panel, actions))   # now or when made
    sub.addSeparator()
    _add(window, sub, None, "Metrics (CSV)…", "Training loss per step and validation loss / accuracy per "
         "evaluation, as a table", actions.export_metrics, name="export_metrics")
    if before is not None:
        file_menu.insertSeparator(before)
    edit = window.menu("&Edit")
    _add(window, edit, None, "Copy settings", "Put the settings in force on the clipboard as a preset file "
         "(TOML, [settings] section)", actions.copy_settings, "Ctrl+Shift+C", "copy_settings")
    if _has_menu(window, "&Training"):              # File, Edit, Training, … as usual
        window.menuBar().insertMenu(window.menu("&Training").menuAction(), edit)
    return actions


def _add_to_context_menus(key: str, panel: Any, actions: SessionActions) -> None:
    """Right-click on a panel's plots: "Export this panel (PNG or SVG)…" beside pyqtgraph's own Export."""
    for view in getattr(panel, "_views", ()):
        scene = view.scene()
        if scene is None or not isinstance(getattr(scene, "contextMenu", None), list):
            continue
        action = QAction("Export this panel (PNG or SVG)…", scene)
        action.triggered.connect(lambda checked=False, k=key: actions.export_view(k))
        scene.contextMenu.insert(0, action)


def _has_menu(window: Any, title: str) -> bool:
    return any(a.menu() is not None and a.text() == title for a in window.menuBar().actions())
