"""The A/B race window: two configurations trained side by side from the same start.

    [ header: what B changes ("cell: rnn → lstm"), what both share (seed, data, batch order, initial weights) ]
    [ Start/Pause · Reset · Speed · A: step, val · B: step, val                                             ]
    [ loss: A blue, B orange (faint raw, bold smoothed, dots = validation) | validation accuracy A and B     ]
    [ A: gradient flow ‖∂L/∂s_t‖ + hidden states s_t       | B: gradient flow + hidden states               ]

Each side has its own Controller (process backend: a training subprocess each, so the window never freezes);
B's worker is told to take A's initial weights where shapes match (``core.race``). The panels are the main
window's own classes, one instance per side; only the overlay plots are drawn here. F11 / Ctrl+P: presentation
mode, the main window's own engine (``gui.projector``). The window fits a 1024x768 screen: texts wrap or elide.
"""
from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rnnviz.core.config import Config
from rnnviz.core.explore import race
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.live.messages import ShareWeights
from rnnviz.core.presets import lesson_about
from rnnviz.gui import style
from rnnviz.gui.controls import LECTURE_SPEED
from rnnviz.gui.fitting import FittingLabel, fit_screen
from rnnviz.gui.panels import plotting
from rnnviz.gui.panels.gradients import GradientFlowPanel
from rnnviz.gui.panels.hidden import HiddenStatesPanel
from rnnviz.gui.panels.loss import smoothing_weight
from rnnviz.gui.projector import Projector
from rnnviz.gui.style import apply_theme
from rnnviz.gui.training.controller import Controller, load_dataset

SIDE_BOTH_MIN = 440     # px (at the normal font) a side needs to show its gradient flow and hidden states both
COLOURS = {"A": "#1f77b4", "B": "#ff7f0e"}      # blue, orange (the palette's first and fourth colours)
FAINT = {"A": (31, 119, 180, 70), "B": (255, 127, 14, 80)}


class SideSplit(QSplitter):
    """One side's gradient flow above its hidden states. A short side (a 1024x768 projector, presentation mode)
    gives all its room to the gradient flow, the race's point: the hidden states fold away (drag the handle to
    bring them back); a tall one shows both again."""

    def __init__(self):
        super().__init__(Qt.Orientation.Vertical)
        self.folded = False

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        total = sum(self.sizes())
        if total <= 0:
            return
        short = self.height() < SIDE_BOTH_MIN * style.FONT_PT / style.BASE_POINT_SIZE
        if short and not self.folded:
            self.folded = True
            self.setSizes([total, 0])
        elif not short and self.folded:
            self.folded = False
            self.setSizes([total // 2, total - total // 2])


def data_name(cfg: Config) -> str:
    """The data as the header names them: a built-in dataset's name, a file's name (its path is in the tooltip)."""
    return os.path.basename(cfg.dataset) or cfg.dataset


def race_title(preset: Any, cfg: Config) -> str:
    """The window title's subject, as the main window's: the lesson's title while the race is on the lesson's own
    data (``presets.lesson_about``), else the data's name (a dataset chosen in the dock, a file opened)."""
    return preset.title if lesson_about(preset, cfg.dataset) else data_name(cfg)


def describe(cfg: Config) -> str:
    """A short summary of a configuration for the header."""
    cell = f"{cfg.cell} ({cfg.activation})" if cfg.cell == "rnn" else cfg.cell
    data = data_name(cfg) + (f" delay {cfg.delay}" if cfg.dataset == "delayed-recall" else "")
    return f"{cell}, d={cfg.hidden}, {cfg.optimizer} lr {cfg.lr:g}, {data}"


def data_tip(*configs: Config) -> str:
    """The tooltip of a header that names data files: their full paths ("" for built-in datasets)."""
    paths = list(dict.fromkeys(c.dataset for c in configs if data_name(c) != c.dataset))
    return "\n".join(f"Data file: {p}" for p in paths)


class RaceWindow(QMainWindow):
    """Train ``config_a`` (A) and ``config_b`` (B) side by side. ``start=False`` builds it without training
    threads (for ``render_race``). Public for tests: ``controllers`` {"A", "B"}, ``panels`` {("gradients"|"hidden",
    side)}, ``raw``, ``smooth``, ``val``, ``acc`` (curves by side), ``header``, ``sharing``, ``latest``."""

    def __init__(self, config_a: Config, config_b: Config, dataset: Any = None, dataset_b: Any = None,
                 backend: str = "process", start: bool = True, title: str | None = None, **ctl_kwargs: Any):
        super().__init__()
        apply_theme()
        self.close_seconds: float | None = None
        dataset = dataset if dataset is not None else load_dataset(config_a)
        if dataset_b is None:
            dataset_b = dataset if race.same_data(config_a, config_b) else load_dataset(config_b)
        self.controllers = {"A": Controller(config_a, dataset=dataset, backend=backend, **ctl_kwargs),
                            "B": Controller(config_b, dataset=dataset_b, backend=backend, **ctl_kwargs)}
        self.configs = {side: ctl.config for side, ctl in self.controllers.items()}
        self.sharing = race.plan_sharing(self.configs["A"], self.configs["B"], dataset)
        self.latest: dict[str, Any] = {"A": None, "B": None}
        self.setWindowTitle(f"rnnviz — A/B race{' — ' + title if title else ''}")
        self.resize(1600, 1000)
        self._build(dataset, dataset_b)
        for side, ctl in self.controllers.items():
            ctl.frameReady.connect(lambda snap, s=side: self.show_snapshot(s, snap))
            ctl.modelReset.connect(lambda _info, s=side: self._on_reset(s))
            ctl.runningChanged.connect(self._on_running)
            ctl.faultRaised.connect(lambda msg, s=side: self.status[s].setText(f"{s}: NaN/Inf — paused"))
        self.presentation = Projector(self, panels=lambda: [self.view, self.sides, *self.panels.values()],
                                      redraw=self._redraw)
        for ctl in self.controllers.values():
            ctl.modelReset.connect(self.presentation.after_reset)
        self._share()
        if start:
            for ctl in self.controllers.values():
                ctl.start()

    # --- building -------------------------------------------------------------------------------------
    def header_html(self) -> str:
        a, b = self.configs["A"], self.configs["B"]
        same = [f"seed {a.seed}" if a.seed == b.seed else f"seeds {a.seed} / {b.seed}"]
        if race.same_batch_order(a, b):
            same.append("the same data and batch order")
        elif race.same_data(a, b):
            same.append("the same data, batches of different size")
        else:
            same.append("different data (so a different batch order)")
        return (f"<span style='font-size:{style.TITLE_PT + 2:.0f}pt'>"
                f"<b><span style='color:{COLOURS['A']}'>■ A</span></b>: "
                f"{describe(a)}"
                f" &nbsp;&nbsp; <b><span style='color:{COLOURS['B']}'>■ B</span></b> = A with "
                f"<b>{race.differences_text(a, b)}</b></span><br>"
                f"Both: {', '.join(same)}; {self.sharing.text()}.")

    def _build(self, dataset: Any, dataset_b: Any) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        self.header = QLabel(self.header_html())
        self.header.setObjectName("raceHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setToolTip(data_tip(self.configs["A"], self.configs["B"]))
        layout.addWidget(self.header)

        row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start or pause both (Space)")
        self.start_button.clicked.connect(self.toggle)
        reset = QPushButton("Reset")
        reset.setToolTip("Both start again from the same initial weights (R)")
        reset.clicked.connect(self.reset)
        from rnnviz.gui.controls import SPEEDS

        self.speed = QComboBox()
        for text, rate in SPEEDS:
            self.speed.addItem(text, rate)
        self.speed.setToolTip("Steps per second for each of A and B ('full speed': as fast as each can go)")
        self.speed.activated.connect(lambda _i: self.set_speed(float(self.speed.currentData())))
        for w in (self.start_button, reset, QLabel("Speed"), self.speed):
            row.addWidget(w)
        self.status = {}
        for side in ("A", "B"):
            label = FittingLabel(f"{side}: –", min_text=f"{side}: step 0000")
            label.setStyleSheet(f"color: {COLOURS[side]}; font-weight: bold; padding-left: 18px")
            self.status[side] = label
            row.addWidget(label, 1)
        layout.addLayout(row)
        for key, text, slot in (("toggle", Qt.Key.Key_Space, self.toggle), ("reset", Qt.Key.Key_R, self.reset)):
            act = QAction(key, self)
            act.setShortcut(QKeySequence(text))
            act.triggered.connect(slot)
            self.addAction(act)

        self.view = plotting.graphics_layout()
        self.loss_plot = self.view.addPlot(row=0, col=0, axisItems={"left": plotting.LogAxis("left")})
        self.acc_plot = self.view.addPlot(row=0, col=1)
        self.view.ci.layout.setColumnStretchFactor(0, 3)
        self.view.ci.layout.setColumnStretchFactor(1, 2)
        plotting.style_plot(self.loss_plot, "Loss: faint = each batch, bold = smoothed, dots = validation",
                          left="cross-entropy (nats)", bottom="training step")
        task = self.controllers["A"].config.task
        self.metric_name = "val. perplexity" if task == "generation" else "val. accuracy"
        plotting.style_plot(self.acc_plot, f"Validation {'perplexity' if task == 'generation' else 'accuracy'}",
                          left=self.metric_name, bottom="training step")
        if task != "generation":
            self.acc_plot.setYRange(-0.05, 1.05, padding=0)
        self.acc_plot.setXLink(self.loss_plot)
        self.raw, self.smooth, self.val, self.acc = {}, {}, {}, {}
        diff = race.differences(self.configs["A"], self.configs["B"])
        names: list[str] = []
        for side in ("A", "B"):
            col = COLOURS[side]
            self.raw[side] = self.loss_plot.plot(pen=pg.mkPen(FAINT[side], width=1))
            self.smooth[side] = self.loss_plot.plot(pen=pg.mkPen(col, width=3.5))
            self.val[side] = self.loss_plot.plot(pen=None, symbol="o", symbolSize=9, symbolBrush=col,
                                                 symbolPen=pg.mkPen("w"))
            plotting.make_dense(self.raw[side])
            name = f"{side}: " + ", ".join(f"{k}={race._fmt(va if side == 'A' else vb)}" for k, va, vb in diff)
            self.acc[side] = self.acc_plot.plot(pen=pg.mkPen(col, width=3), symbol="o", symbolSize=8,
                                                symbolBrush=col, symbolPen=None, name=name)
            names.append(f"<span style='color:{col}'>\u2501&nbsp;{name.replace(' ', '&nbsp;')}</span>")
        # the title is the legend: a legend box sat on the curves
        self.acc_plot.setTitle(f"Validation {'perplexity' if task == 'generation' else 'accuracy'}: " + " ".join(names),
                               size=f"{style.TITLE_PT}pt", color=style.theme().foreground)
        self.view.setMinimumHeight(180)

        self.panels: dict[tuple[str, str], Any] = {}
        self.side_splits: list[QSplitter] = []
        sides = QSplitter(Qt.Orientation.Horizontal)
        for side, ds in (("A", dataset), ("B", dataset_b)):
            box = QFrame()
            box.setObjectName("panelFrame")
            box.setStyleSheet(f"QFrame#panelFrame {{ border: 3px solid {COLOURS[side]}; border-radius: 4px; }}")
            col = QVBoxLayout(box)
            col.setContentsMargins(4, 4, 4, 4)
            title = QLabel(f"<b>{side}</b>: {describe(self.configs[side])}")
            title.setStyleSheet(f"color: {COLOURS[side]}")
            title.setFont(style.font(style.TITLE_PT))
            title.setWordWrap(True)
            title.setToolTip(data_tip(self.configs[side]))
            col.addWidget(title)
            split = SideSplit()
            self.side_splits.append(split)
            grad, hidden = GradientFlowPanel(), HiddenStatesPanel()
            # the race compares the flow through time; the per-parameter norms would squeeze it off a projector
            grad.show_params = False
            grad.arrange(False, True)
            hidden.set_probe_count(len(ds.val))
            hidden.probeChanged.connect(self.set_probe)          # both sides look at the same example
            if hasattr(hidden, "probeTextChanged") and hasattr(Controller, "set_probe_text"):
                hidden.probeTextChanged.connect(self.set_probe_text)
            for p in (grad, hidden):
                p.setMinimumSize(200, 150)
                split.addWidget(p)
            split.setStretchFactor(0, 1)
            split.setStretchFactor(1, 1)
            split.setSizes([500, 500])
            col.addWidget(split, 1)
            self.panels[("gradients", side)] = grad
            self.panels[("hidden", side)] = hidden
            sides.addWidget(box)
        self.sides = sides
        grid = QSplitter(Qt.Orientation.Vertical)
        grid.addWidget(self.view)
        grid.addWidget(sides)
        grid.setStretchFactor(0, 2)
        grid.setStretchFactor(1, 3)
        grid.setSizes([400, 600])
        layout.addWidget(grid, 1)
        self.setCentralWidget(central)

    def _share(self) -> None:
        """B takes A's initial weights where shapes match (queued before any step, again after a reset)."""
        self.controllers["B"].worker.send(ShareWeights(self.controllers["A"].config))

    # --- commands -------------------------------------------------------------------------------------
    @Slot()
    def toggle(self) -> None:
        running = any(c.running for c in self.controllers.values())
        for ctl in self.controllers.values():
            ctl.pause() if running else ctl.start_training()

    @Slot()
    def reset(self) -> None:
        for ctl in self.controllers.values():
            ctl.reset()
        self._share()

    @Slot(int)
    def set_probe(self, index: int) -> None:
        """Both A and B show validation example ``index`` (so their hidden states can be compared)."""
        for side, ctl in self.controllers.items():
            spin = self.panels[("hidden", side)].probe_spin
            if spin.value() != index:
                spin.blockSignals(True)
                spin.setValue(index)
                spin.blockSignals(False)
            ctl.set_probe(index)

    @Slot(str)
    def set_probe_text(self, text: str) -> None:
        """A typed probe sentence goes to both sides."""
        for ctl in self.controllers.values():
            ctl.set_probe_text(text)

    def set_speed(self, steps_per_second: float) -> None:
        """Both train at most ``steps_per_second`` (0 = each as fast as it can); the Speed box shows it."""
        from rnnviz.gui.controls import set_speed_choice

        for ctl in self.controllers.values():
            ctl.set_speed(steps_per_second)
        set_speed_choice(self.speed, steps_per_second)

    @Slot(bool)
    def _on_running(self, _running: bool) -> None:
        running = any(c.running for c in self.controllers.values())
        self.start_button.setText("Pause" if running else "Start")

    def _on_reset(self, side: str) -> None:
        self.latest[side] = None
        for kind in ("gradients", "hidden"):
            self.panels[(kind, side)].reset()
        for curves in (self.raw, self.smooth, self.val, self.acc):
            curves[side].setData([], [])
        if all(snap is None for snap in self.latest.values()):      # both start again: no old ranges
            self.loss_plot.setXRange(0, 10, padding=0)
            self.acc_plot.setXRange(0, 10, padding=0)
            for plot in (self.loss_plot, self.acc_plot):
                plot.enableAutoRange(axis="x", enable=True)

    # --- drawing --------------------------------------------------------------------------------------
    def _redraw(self) -> None:
        """Everything again (presentation mode on or off): the header at the font size now in force, each side's
        newest snapshot."""
        self.header.setText(self.header_html())
        for side, snap in self.latest.items():
            if snap is not None:
                self.show_snapshot(side, snap)

    def show_snapshot(self, side: str, snap: Any) -> None:
        """Draw one side's Snapshot: its curves in the overlays, its gradient and hidden-state panels."""
        self.latest[side] = snap
        steps = np.asarray(snap.train_steps, dtype=np.float64)
        loss = np.asarray(snap.train_loss, dtype=np.float64)
        self.raw[side].setData(steps, plotting.log_safe(loss))
        smooth = plotting.ema(loss, smoothing_weight(loss.size)) if loss.size else loss
        self.smooth[side].setData(steps, plotting.log_safe(smooth))
        vs = np.asarray(snap.val_steps, dtype=np.float64)
        self.val[side].setData(vs, plotting.log_safe(np.asarray(snap.val_loss, dtype=np.float64)))
        metric = snap.val_perplexity if snap.task == "generation" else snap.val_accuracy
        self.acc[side].setData(vs, np.asarray(metric, dtype=np.float64))
        for kind in ("gradients", "hidden"):
            self.panels[(kind, side)].render(snap)
        self.status[side].setText(*self.status_texts(side, snap))
        self.presentation.refresh()

    @staticmethod
    def status_text(side: str, snap: Any) -> str:
        return RaceWindow.status_texts(side, snap)[0]

    @staticmethod
    def status_texts(side: str, snap: Any) -> tuple[str, ...]:
        """The status line of one side, then shorter wordings of it for a narrow window (the same numbers)."""
        parts, short = [f"step {snap.step}"], [f"step {snap.step}"]
        if len(snap.val_loss):
            loss = f"{float(snap.val_loss[-1]):.3f}"
            parts.append(f"val loss {loss}")
            short.append(f"loss {loss}")
            acc = float(snap.val_accuracy[-1]) if len(snap.val_accuracy) else float("nan")
            if acc == acc:
                parts.append(f"acc {acc:.1%}")
                short.append(f"{acc:.1%}")
        fault = " — NaN/Inf, paused" if snap.fault else ""
        return (f"{side}: {', '.join(parts)}{fault}", f"{side}: {', '.join(short)}{fault}")

    # --- closing --------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        start = time.perf_counter()
        for ctl in self.controllers.values():
            ctl.shutdown(timeout=1.0)
        self.close_seconds = time.perf_counter() - start
        super().closeEvent(event)


def render_race(config_a: Config, config_b: Config, steps: int, out: Any, size: tuple[int, int] = (1600, 1000),
                title: str | None = None, presentation: bool = False) -> Any:
    """Train A and B ``steps`` steps headless (``core.race.make_pair``: shared weights, same batches), draw both
    in the race window offscreen (in presentation mode with ``presentation``) and save it as a PNG. Returns the
    path."""
    from rnnviz.core.errors import TrainingFault
    from rnnviz.gui.pictures import save_png
    from rnnviz.gui.windows.render import _application, _settle, delete_closed

    app = _application()
    apply_theme(app)
    ta, tb, _sharing = race.make_pair(config_a, config_b)
    for t in (ta, tb):
        for _ in range(int(steps)):
            try:
                t.step()
            except TrainingFault:
                break
    window = RaceWindow(ta.config, tb.config, dataset=ta.dataset, dataset_b=tb.dataset, start=False, title=title)
    try:
        window.resize(int(size[0]), int(size[1]))
        window.show()
        _settle(app)
        snaps = {"A": build_snapshot(ta), "B": build_snapshot(tb)}
        for i in range(3 if presentation else 2):
            for side, snap in snaps.items():
                window.show_snapshot(side, snap)
            if presentation and i == 0:
                window.presentation.fullscreen = False       # the picture keeps the size asked for
                window.presentation.enter()
            _settle(app)
        return save_png(window.grab(), out)
    finally:
        window.presentation.leave()      # module-wide font sizes go back as they were
        window.close()
        window.deleteLater()
        app.processEvents()
        delete_closed(app)


def show_race(window: Any, a: Config, b: Config) -> RaceWindow:
    """Open the race of A = ``a`` against B = ``b`` beside main window ``window``: on its data, at its Speed, and
    closed with it (``features.race_sweep_menu``)."""
    race = RaceWindow(a, b, dataset=window.controller.dataset, title=race_title(window.preset, a))
    race.set_speed(float(getattr(window.controller, "speed", 0.0)))    # the main window's Speed box
    window._race_windows = [w for w in getattr(window, "_race_windows", []) if w.isVisible()] + [race]
    fit_screen(race)
    race.show()
    return race


def run_race(config_a: Config, config_b: Config, title: str | None = None, presentation: bool = False) -> int:
    """``rnnviz race``: the race window until it is closed."""
    import sys

    from PySide6.QtWidgets import QApplication

    from rnnviz.gui.interrupt import CloseOnInterrupt

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("rnnviz")
    apply_theme(app)
    with CloseOnInterrupt() as interrupt:          # Ctrl+C in the terminal closes the window cleanly
        window = interrupt.window = RaceWindow(config_a, config_b, title=title)
        window.set_speed(LECTURE_SPEED)       # as the main window opens: slow enough to follow both
        app.aboutToQuit.connect(lambda: [c.shutdown() for c in window.controllers.values()])
        fit_screen(window)                      # a 1024x768 projector: the window fits its screen
        window.show()
        if presentation:
            window.presentation.enter()
        return interrupt.run_event_loop(app)
