"""The main window: the panels in a grid a projector can show at once, the settings dock, menus and shortcuts.

Layout (resizable with splitters)::

    [ fault banner, only after NaN/Inf                                  ]
    [ lesson text of the preset, when there is one                      ]
    [ panel 1 (loss)        | panel 2 (hidden states)                   ]
    [ panel 3 (gradients)   | tabs: confusion, predictions, weights, data ]
    status bar: epoch, step, steps/s, loss, epoch progress

The panels and their default order are ``panels.registry.SPECS``; a preset's ``panels`` come first (an unknown
key is a ConfigError naming the preset file), the first ``FIXED_PLACES`` get a place, the rest share the tabs. Only
visible panels are redrawn; a tab is drawn when it comes to the front. The panels of the tabs behind the front one
are made when first needed (``panel_set.PanelSet``): start-up makes only what the first frame shows. A live frame is drawn one panel per
event-loop turn (``show_live_frame``), so Qt paints each panel before the next is drawn and input, timers and
the window's close are never held up for the whole window's drawing at once.
"""
from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rnnviz.core.config import Config
from rnnviz.core.presets import lesson_about
from rnnviz.gui.banner import make_banner
from rnnviz.gui.controls import ControlsPanel
from rnnviz.gui.failures import failure_message
from rnnviz.gui.icon import app_icon
from rnnviz.gui.panel_set import PanelSet, PanelSlot
from rnnviz.gui.panels.registry import FIXED_PLACES, PANELS, make_panel, preset_order
from rnnviz.gui.status_bar import StatusBar
from rnnviz.gui.style import apply_theme
from rnnviz.gui.training.controller import Controller

MIN_PANEL_SIZE = (200, 150)
# Feature modules under rnnviz.gui.features that add their own menus, docks and shortcuts: each has ``install(window)``,
# called once the window is built (one line each, so features stay out of this file).
EXTENSIONS: tuple[str, ...] = (
    "session_actions",
    "explore_tools",
    "state_space_view",
    "lessons",
    "own_data",
    "help",
    "presentation",
    "race_sweep_menu",
    "process_lost",
    "views",
    "hero",
    "lecture_keys",
    "worked_example",
    "preferences",
    "file_drop",
)






class MainWindow(QMainWindow):
    """The rnnviz window. ``start=False`` builds it without a training thread: for ``render``, and for ``app.run``,
    which starts it (``controller.start()``) once the first frame is painted."""

    frameDrawn = Signal(object)     # a live frame's Snapshot, once every visible panel has drawn it

    def __init__(self, config: Config | None = None, dataset: Any = None, preset: Any = None,
                 title: str | None = None, backend: str = "process", start: bool = True,
                 fps: float = 30.0, interval: float | None = None, factory: str | None = None):
        super().__init__()
        order = preset_order(preset)        # first: a preset naming an unknown panel is refused before anything runs
        apply_theme()
        if preset is not None and config is None:
            config = preset.config
        config = config or Config()
        self.preset = preset
        self.panel_errors: list[str] = []
        self.close_seconds: float | None = None
        self._frame_id = 0
        self._shown: Any = None                    # the Snapshot the panels show now (live or replayed)
        self._drawn: dict[str, int] = {}
        self._spread: tuple[Any, list[str]] | None = None    # the live frame being drawn, and the panels still to do
        self._spread_next: Any = None                          # the newest frame that arrived meanwhile
        # a child timer, not QTimer.singleShot with a callable: a callable still queued when the window is
        # deleted is never released by PySide, and it holds the whole window (found by the lifecycle stress test)
        self._spread_timer = QTimer(self)
        self._spread_timer.setSingleShot(True)
        self._spread_timer.setInterval(0)
        self._spread_timer.timeout.connect(self._spread_step)

        kwargs: dict[str, Any] = {"backend": backend, "fps": fps}
        if interval is not None:
            kwargs["interval"] = interval
        if factory is not None:
            kwargs["factory"] = factory
        self.controller = Controller(config, dataset=dataset, **kwargs)
        ctl = self.controller

        name = title or (preset.title if preset is not None else None)
        self.setWindowTitle(f"rnnviz — {name}" if name else "rnnviz")
        self.setWindowIcon(app_icon())
        self.resize(1600, 1000)

        self._make_actions()
        self._make_panels(order)
        self._make_central()
        self._make_dock()
        self._make_status()
        self._make_menus()

        ctl.frameReady.connect(self.show_live_frame)
        ctl.runningChanged.connect(self._on_running)
        ctl.stateChanged.connect(self._on_state)
        ctl.modelReset.connect(self._on_model_reset)
        ctl.datasetChanged.connect(self._on_dataset)
        ctl.configChanged.connect(self._on_config)
        ctl.faultRaised.connect(self.show_fault)
        ctl.errorRaised.connect(self._on_worker_error)
        self._on_dataset(ctl.dataset)
        self._on_config(ctl.config)
        for module in EXTENSIONS:
            importlib.import_module(f"rnnviz.gui.features.{module}").install(self)
        if start:
            ctl.start()

    # --- building -------------------------------------------------------------------------------------
    def _action(self, text: str, shortcut: str | QKeySequence, tip: str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        key = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({key})")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        self.actions_by_name = {
            "start": self._action("Start", Qt.Key.Key_Space, "Start or pause training", self.toggle_training),
            "step": self._action("Step batch", Qt.Key.Key_S, "Train on one batch, then pause", self.step_batch),
            "epoch": self._action("Step epoch", Qt.Key.Key_E, "Train to the end of the epoch, then pause",
                                  self.step_epoch),
            "reset": self._action("Reset", Qt.Key.Key_R, "New initial weights from the seed (the same seed "
                                  "gives the same weights) and start again", self.reset_model),
            "open": self._action("Open data file…", QKeySequence.StandardKey.Open,
                                 "Train on a file of your own", self.open_file),
            "quit": self._action("Quit", "Ctrl+Q", "Close rnnviz (stops training)", self.close),
        }
        self.actions_by_name["start"].setText("Start")

    def _make_panels(self, order: list[str]) -> None:
        self.order = order
        self.panels = PanelSet(order, make_panel, self._panel_ready)
        self.panels.when_built(self._connect_panel)
        for key in order[:FIXED_PLACES + 1]:        # the fixed places and the front tab: the first frame's
            self.panels[key]

    def _connect_panel(self, key: str, panel: QWidget) -> None:
        # let a small screen (a 1280x800 projector) squeeze a panel rather than push the window off screen
        panel.setMinimumSize(MIN_PANEL_SIZE[0], MIN_PANEL_SIZE[1])
        if key == "hidden" and hasattr(panel, "probeChanged"):
            panel.probeChanged.connect(self.controller.set_probe)
        if key == "predictions" and hasattr(panel, "temperatureChanged"):
            panel.temperatureChanged.connect(self.controller.set_temperature)
        if key == "loss" and hasattr(panel, "restoreBestRequested"):
            panel.restoreBestRequested.connect(self.controller.restore_best)
        if getattr(self, "tabs", None) is not None:      # made after the window: it shows the dataset now
            self._show_dataset(key, panel, self.controller.dataset)

    def _panel_ready(self, key: str, panel: QWidget) -> None:
        """A panel made after start-up: it takes its tab's place and shows the latest snapshot."""
        tabs = getattr(self, "tabs", None)
        if tabs is None:
            return
        for i in range(tabs.count()):
            slot = tabs.widget(i)
            if isinstance(slot, PanelSlot) and slot.key == key:
                current = tabs.currentIndex()
                tabs.blockSignals(True)
                try:
                    tabs.removeTab(i)
                    tabs.insertTab(i, panel, PANELS[key].title)
                    tabs.setCurrentIndex(current)
                finally:
                    tabs.blockSignals(False)
                slot.deleteLater()
                break
        snap = self._shown if self._shown is not None else self.controller.latest
        if snap is not None:        # the moment the other panels show (a replayed one while replaying)
            self._draw(key, panel, snap)

    def _framed(self, key: str) -> QWidget:
        """A panel in a light frame (each panel draws its own title)."""
        box = QFrame()
        box.setObjectName("panelFrame")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.panels[key])
        return box

    def _make_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)

        self.banner, self.banner_label = make_banner("faultText")
        layout.addWidget(self.banner)

        self.lesson = QLabel()
        self.lesson.setObjectName("lessonText")
        self.lesson.setWordWrap(True)
        text = getattr(self.preset, "text", "") if self.preset is not None else ""
        self.lesson.setText(text)
        self.lesson.setVisible(bool(text))
        layout.addWidget(self.lesson)

        fixed = self.order[:FIXED_PLACES]
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for key in self.order[FIXED_PLACES:]:
            self.tabs.addTab(self.panels.peek(key) or PanelSlot(key), PANELS[key].title)
        self.tabs.currentChanged.connect(self._tab_changed)

        top = QSplitter(Qt.Orientation.Horizontal)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        cells = [self._framed(k) for k in fixed] + [self.tabs]
        for i, widget in enumerate(cells):
            (top if i < 2 else bottom).addWidget(widget)
        self.grid = QSplitter(Qt.Orientation.Vertical)
        self.grid.addWidget(top)
        self.grid.addWidget(bottom)
        for s in (top, bottom, self.grid):
            s.setChildrenCollapsible(False)
            s.setHandleWidth(6)
        layout.addWidget(self.grid, 1)
        self.setCentralWidget(central)

    def _make_dock(self) -> None:
        self.controls = ControlsPanel(self.controller.config, actions=self.actions_by_name)
        self.controls.settingChanged.connect(self._on_setting)
        self.controls.openFileRequested.connect(self.open_file)
        self.controls.speedChanged.connect(self.set_speed)
        self.dock = QDockWidget("Settings", self)
        self.dock.setObjectName("settingsDock")
        self.dock.setWidget(self.controls)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.dock.setMinimumWidth(200)          # features.hero gives it a share of the window
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

    def _make_status(self) -> None:
        self.status = StatusBar(self.statusBar())
        self.status_labels, self.progress = self.status.labels, self.status.progress

    def _make_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.actions_by_name["open"])
        file_menu.addSeparator()
        file_menu.addAction(self.actions_by_name["quit"])
        train = menu.addMenu("&Training")
        for key in ("start", "step", "epoch", "reset"):
            train.addAction(self.actions_by_name[key])
        view = self.menu("&View")
        view.addAction(self.dock.toggleViewAction())

    def menu(self, title: str) -> Any:
        """The menu-bar menu called ``title`` (e.g. "&File"), made at the end of the bar when there is none."""
        for action in self.menuBar().actions():
            if action.menu() is not None and action.text() == title:
                return action.menu()
        return self.menuBar().addMenu(title)

    # --- dialogs (instance attributes, so tests can replace them) -------------------------------------
    def confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Start again with a new model?", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def ask_open_file(self) -> str | None:
        """The file dialog (features.own_data: its filters explain the formats)."""
        return self.own_data.ask_file()

    def ask_task(self, path: str) -> str | None:
        """The task dialog (features.own_data): the detected task preselected, why, the settings it will use."""
        return self.own_data.ask_task(path)

    # --- commands -------------------------------------------------------------------------------------
    @Slot()
    def toggle_training(self) -> None:
        self.controller.toggle()

    @Slot()
    def set_speed(self, steps_per_second: float) -> None:
        """Training speed limit in steps per second (0 = full speed); the Speed box shows it."""
        from rnnviz.gui.controls import set_speed_choice

        self.controller.set_speed(steps_per_second)
        set_speed_choice(self.controls.speed, steps_per_second)

    def step_batch(self) -> None:
        self.controller.step_batch()

    @Slot()
    def step_epoch(self) -> None:
        self.controller.step_epoch()

    @Slot()
    def reset_model(self) -> None:
        self.controller.reset()

    @Slot()
    def open_file(self, path: str | None = None) -> None:
        """File ▸ Open data file… (features.own_data: the file, its task, settings chosen for it); ``path``: that
        file without the file dialog (a dropped or recent one)."""
        self.own_data.open(path if isinstance(path, str) and path else None)

    @Slot(str, object)
    def _on_setting(self, key: str, value: Any) -> None:
        self._apply({key: value}, "Setting not used")

    def _apply(self, changes: dict[str, Any], error_title: str) -> bool:
        ctl = self.controller
        ok = False
        try:
            new = ctl.config.replace(**changes)
            ok = ctl.apply_config(new, confirm=self.confirm)
        except Exception as exc:        # a bad file or setting, or anything else: one message, the model stays
            subject = str(changes.get("dataset", ", ".join(changes)))
            self.show_error(error_title, failure_message(subject, exc, "could not be used"))
        if ok and "dataset" in changes:
            self.retitle(str(changes["dataset"]))
        self.controls.set_config(ctl.config)
        self.controls.set_param_count(ctl.n_params)
        return ok

    def retitle(self, dataset: str, name: str | None = None) -> None:
        """The title and the lesson bar after the data in force changed outside a lesson (the dock's Dataset, an
        opened session): the lesson's own title and text only when the window's lesson is about ``dataset``;
        otherwise the title names ``name`` (or the dataset) and the lesson bar is hidden."""
        preset = self.preset
        lesson = lesson_about(preset, dataset)
        self.setWindowTitle(f"rnnviz — {name or (preset.title if lesson else os.path.basename(dataset) or dataset)}")
        if lesson:
            self.lesson.setText(preset.text)
        self.lesson.setVisible(lesson and bool(preset.text))
        lessons = getattr(self, "lessons", None)
        if lessons is not None:
            lessons.sync(self.controller.config)        # the bar and its controls follow the text shown

    # --- from the controller --------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the snapshot shown now again in the visible panels (their sizes changed: a heatmap reduced for a
        small place is drawn again at its new size)."""
        snap = self._shown if self._shown is not None else self.controller.latest
        if snap is not None:
            self.show_snapshot(snap)

    @Slot(object)
    def show_snapshot(self, snap: Any, everything: bool = False) -> None:
        """Draw ``snap`` in the visible panels (all of them with ``everything``) and the status bar."""
        self._frame_id += 1
        self._shown = snap
        minimized = self.isMinimized()
        for key, panel in self.panels.built():
            if everything or (not minimized and panel.isVisible()):
                self._draw(key, panel, snap)
        self._show_status(snap)

    @Slot(object)
    def show_live_frame(self, snap: Any) -> None:
        """Draw a live frame like ``show_snapshot``, but one visible panel per event-loop turn: each panel is
        painted before the next is drawn, so the longest turn is one panel's drawing (about 10 ms), not the whole
        window's (25-50 ms). Every panel of a frame shows the same Snapshot; a frame that arrives meanwhile waits
        for this one to finish (only the newest waits). ``frameDrawn`` follows the last panel."""
        if self._spread is not None:
            self._spread_next = snap
            return
        self._begin_frame(snap)
        self._spread_step()

    def _begin_frame(self, snap: Any) -> None:
        self._frame_id += 1
        self._shown = snap
        self._show_status(snap)
        keys = [] if self.isMinimized() else [k for k, p in self.panels.built() if p.isVisible()]
        self._spread = (snap, keys)

    @Slot()
    def _spread_step(self) -> None:
        if self._spread is None:        # cancelled (a new model, or closing) while a turn was queued
            return
        snap, keys = self._spread
        if keys:
            key = keys.pop(0)
            self._draw(key, self.panels[key], snap)
        if keys:
            self._spread_timer.start()   # the next panel in the next turn, after Qt has painted this one
            return
        self._spread = None
        self.frameDrawn.emit(snap)
        if self._spread_next is not None:
            snap, self._spread_next = self._spread_next, None
            self._begin_frame(snap)
            self._spread_timer.start()

    def _draw(self, key: str, panel: QWidget, snap: Any) -> None:
        try:
            panel.render(snap)
        except Exception as exc:
            message = f"{key}: {type(exc).__name__}: {exc}"
            if message not in self.panel_errors:
                self.panel_errors.append(message)
                traceback.print_exc(file=sys.stderr)
        self._drawn[key] = self._frame_id

    def _tab_index(self, key: str) -> int:
        """The tab of panel ``key`` (or of its slot while it is not made yet); -1 when it is not in the tabs."""
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            if page is self.panels.peek(key) or (isinstance(page, PanelSlot) and page.key == key):
                return i
        return -1

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        if isinstance(page, PanelSlot):
            self.panels[page.key]           # made now: it takes the slot's place and draws the latest snapshot
        snap = self.controller.latest
        if snap is None:
            return
        for key, panel in self.panels.built():
            if panel is self.tabs.widget(index) and self._drawn.get(key) != self._frame_id:
                self._draw(key, panel, snap)

    def _throughput(self, step: int, now: float | None = None) -> float:
        return self.status.throughput(step, now)

    def _show_status(self, snap: Any) -> None:
        self.status.show(snap, self.controller.running)
        # the banner follows the snapshot drawn: a frame of the faulted step that is drawn late (a live frame is
        # spread over several event-loop turns) must not bring it back once training has gone on without a fault
        if snap.fault and self.banner.isHidden():
            self.show_fault(snap.fault)
        elif not snap.fault and not self.banner.isHidden():
            self.banner.hide()

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self.actions_by_name["start"].setText("Pause" if running else "Start")
        if running:
            self.banner.hide()

    @Slot(object)
    def _on_state(self, state: Any) -> None:
        """A ``messages.TrainingState``: the status bar's word for it."""
        self.status.show_state(state)

    @Slot(object)
    def _on_model_reset(self, info: Any) -> None:
        """A ``messages.Configured``: a new model, so every panel starts empty."""
        self.banner.hide()
        for _key, panel in self.panels.built():
            if hasattr(panel, "set_dataset"):
                continue    # it shows the data, not the model: it changes only with the dataset
            try:
                panel.reset()
            except Exception as exc:
                self.panel_errors.append(f"reset: {type(exc).__name__}: {exc}")
                traceback.print_exc(file=sys.stderr)
        self._drawn.clear()
        self._shown = None
        self._spread = self._spread_next = None       # frames of the old model are not drawn any more
        task = info.config.task if hasattr(info.config, "task") else self.controller.config.task
        # confusion matrices are empty for generation: bring the samples to the front instead
        want = "predictions" if task == "generation" else "confusion"
        at = self._tab_index(want)
        if at >= 0:
            other = self._tab_index("confusion" if want == "predictions" else "predictions")
            current = self.tabs.currentIndex()
            if current < 0 or current == other:
                self.tabs.setCurrentIndex(at)       # a panel not made yet is made now (_tab_changed)
        self.controls.set_param_count(self.controller.n_params)

    @Slot(object)
    def _on_dataset(self, dataset: Any) -> None:
        notes = list(getattr(dataset, "notes", []) or [])
        if notes:   # what the loader changed or cut: say it where the lecturer can see it
            self.statusBar().showMessage("Data: " + "; ".join(notes), 15000)
        for key, panel in self.panels.built():      # a panel made later gets the dataset then (_connect_panel)
            self._show_dataset(key, panel, dataset)

    def _show_dataset(self, key: str, panel: QWidget, dataset: Any) -> None:
        """The panels that show the dataset itself (the data view) or count its examples (the probe choice)."""
        if hasattr(panel, "set_probe_count"):
            panel.set_probe_count(len(dataset.val))
        if hasattr(panel, "set_dataset"):
            try:
                panel.set_dataset(dataset)
            except Exception as exc:
                self.panel_errors.append(f"{key}.set_dataset: {type(exc).__name__}: {exc}")
                traceback.print_exc(file=sys.stderr)

    @Slot(object)
    def _on_config(self, config: Config) -> None:
        self.controls.set_config(config)
        self.controls.set_param_count(self.controller.n_params)

    @Slot(str)
    def show_fault(self, message: str) -> None:
        """The banner: what happened and what to try. The panels keep the last snapshot."""
        import html

        self.banner_label.setText(
            "<b>Training paused: the numbers blew up (NaN/Inf) — exploding gradients.</b><br>"
            f"{html.escape(message)}<br><b>Try:</b> turn on gradient clipping (Clip gradients, e.g. 1), "
            "a lower learning rate, or a smaller spectral radius (below 1); then press Space to go on "
            "from the last good weights, or R to start again.")
        self.banner.show()
        self.status_labels["state"].setText("Paused: NaN/Inf")

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self.show_error("Training problem", message)

    # --- closing --------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        start = time.perf_counter()
        self._spread = self._spread_next = None       # no more panels of a frame being drawn
        self._spread_timer.stop()
        self.controller.shutdown(timeout=1.0)
        self.close_seconds = time.perf_counter() - start
        super().closeEvent(event)
