"""The sweep window: choose one or two settings and their values, train the grid in parallel processes, read the
result as a heatmap and as small multiples of the loss curves; click a cell to open that run in the main window.

    [ setting 1 [lr    ] values [0.001, 0.01, 0.1]   setting 2 [hidden] values [8, 16, 32]                ]
    [ epochs [10]   Cluster address [                    ]   Run  Cancel  Save CSV                          ]
    [ [progress ..........]  status                                     show: [final validation loss ▾]    ]
    [ heatmap: rows = setting 1, columns = setting 2, | small multiples: one loss plot per cell, same axes  ]
    [ the value written in each cell, failed cells    |                                                   ]
    [ grey with the reason                            |                                                   ]

The training runs in ``rnnviz.core.explore.sweep`` worker processes (Qt-free, one BLAS thread each), or on the Dask
cluster named in "Cluster address" (``rnnviz.core.explore.sweep_dask``, same rows); this window only polls them on a
timer, so it never freezes, and the small multiples grow while the cells train. Clicking a cell applies that cell's
settings to the main window (which asks before it discards a trained model) so the run can be trained again there:
same seed, so the same numbers; the keyboard focus goes back to the main window (Space trains). Without a main
window, clicking opens a new one. A header shows the base settings; they follow the main window while no sweep runs
(``sweep_base``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rnnviz.core.config import SETTINGS, Config
from rnnviz.core.errors import RnnvizError
from rnnviz.core.explore import sweep, sweep_dask
from rnnviz.core.explore import sweep_results as sr
from rnnviz.gui import style
from rnnviz.gui.fitting import fit_screen
from rnnviz.gui.panels import colormaps, plotting
from rnnviz.gui.windows import sweep_results
from rnnviz.gui.style import apply_theme
from rnnviz.gui.training import busy
from rnnviz.gui.windows.sweep_base import base_text

NONE = "(none)"
FAILED_RGB = (205, 205, 205)
PENDING_RGB = (250, 250, 250)
METRICS = {"val_loss": "final validation loss", "val_accuracy": "final validation accuracy",
           "val_perplexity": "final validation perplexity"}
LOWER_IS_BETTER = {"val_loss": True, "val_accuracy": False, "val_perplexity": True}
MINI_QUANTILE = 0.98    # the small multiples' shared y axis reaches this quantile of the losses (spikes run off)
MINIS_CAPTION = ("Loss of each cell (<span style='color:{train}'>each batch</span>, <span style='color:{val}'>"
                 "validation</span>) against training step; the same axes for all, y up to the 98th percentile "
                 "of the losses, so one spike does not flatten the rest (taller spikes leave the top)")


def shared_range(values) -> tuple[float, float]:
    """The small multiples' y range: from the smallest finite value to their ``MINI_QUANTILE`` quantile; (0, 1)
    for none."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(np.quantile(v, MINI_QUANTILE))
    return (lo, hi) if hi > lo else (lo, lo + max(abs(lo) * 0.1, 1e-6))


def _default_values(cfg: Config, key: str) -> str:
    v = getattr(cfg, key)
    if key == "lr":
        return "0.001, 0.01, 0.1"
    if key == "hidden":
        return ", ".join(str(max(1, int(v * f))) for f in (0.5, 1, 2))
    return str(v)


def first_sentence(text: str) -> str:
    """The first sentence of an error (the fault advice that follows it is in the CSV)."""
    head = text.split(". ")[0]
    return head if head.endswith((".", ")")) else head + "."


def metric_text(metric: str, value: float) -> str:
    if value != value:
        return "–"
    return f"{value:.1%}" if metric == "val_accuracy" else f"{value:.3g}" if abs(value) >= 1000 else f"{value:.3f}"


class SweepWindow(QWidget):
    """Public for tests: ``keys``, ``values`` (line edits), ``epochs``, ``metric_box``, ``run_button``,
    ``cancel_button``, ``progress``, ``status``, ``image`` (RGB heatmap, rows x cols), ``texts`` (cell index ->
    TextItem), ``minis`` (cell index -> (PlotItem, train curve, val curve)), ``runner``, ``cells``, ``grid``."""

    cellOpened = Signal(int)     # the index of a cell whose run was opened in a main window

    def __init__(self, base: Config, main_window: Any = None, processes: int = 0, parent: QWidget | None = None):
        super().__init__(parent)
        apply_theme()
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("rnnviz — sweep")
        self.resize(1500, 900)
        self.base = base
        self.main_window = main_window
        self.processes = processes
        self.runner: sweep.SweepRunner | None = None
        self.cells: list[sweep.Cell] = []
        self.grid: list[tuple[str, list]] = []
        self.opened: list[Any] = []           # main windows opened from cells (no main window given)
        self.close_seconds: float | None = None
        self.texts: dict[int, pg.TextItem] = {}
        self.minis: dict[int, tuple] = {}
        self._running_base: Config | None = None    # the base of the sweep started last
        self._build()
        if main_window is not None:                  # follow the main window's settings (sweep_base)
            main_window.controller.configChanged.connect(self.set_base)
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._poll)

    # --- dialogs (attributes, so tests can replace them) --------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def ask_save_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the sweep as CSV", "sweep.csv", "CSV (*.csv)")
        return path or None

    # --- building -----------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.base_label = QLabel()
        self.base_label.setObjectName("sweepBase")
        self.base_label.setWordWrap(True)
        layout.addWidget(self.base_label)
        names = sorted(SETTINGS)
        top = QHBoxLayout()
        self.keys, self.values = [], []
        for i, (key, default) in enumerate((("lr", None), ("hidden", None))):
            box = QComboBox()
            box.addItems(names if i == 0 else [NONE] + names)
            for j in range(box.count()):
                if box.itemText(j) in SETTINGS:
                    box.setItemData(j, SETTINGS[box.itemText(j)].tip, Qt.ItemDataRole.ToolTipRole)
            box.setCurrentText(key)
            edit = QLineEdit(_default_values(self.base, key))
            edit.setToolTip("Comma-separated values, e.g. 0.001, 0.01, 0.1")
            box.currentTextChanged.connect(lambda k, e=edit: e.setText(_default_values(self.base, k)
                                                                       if k != NONE else ""))
            top.addWidget(QLabel(f"Setting {i + 1}"))
            top.addWidget(box)
            top.addWidget(QLabel("values"))
            top.addWidget(edit, 1)
            self.keys.append(box)
            self.values.append(edit)
        self.epochs = QSpinBox()
        self.epochs.setRange(*SETTINGS["epochs"].range[:2])
        self.epochs.setValue(self.base.epochs)
        self.epochs.setToolTip("Epochs each cell trains")
        layout.addLayout(top)
        second = QHBoxLayout()              # rows of their own: the window fits a 1024x768 screen with room to spare
        second.addWidget(QLabel("epochs"))
        second.addWidget(self.epochs)
        second.addSpacing(12)
        self.cluster = QLineEdit(sweep_dask.scheduler_address(None))
        self.cluster.setPlaceholderText("empty: this machine")
        self.cluster.setToolTip("Address of a Dask scheduler, e.g. tcp://HOST:8786, to train the cells on its "
                                "workers (pip install \"rnnviz[cluster]\"; see docs/cluster.md). Empty: processes "
                                "on this machine.")
        second.addWidget(QLabel("Cluster address"))
        second.addWidget(self.cluster, 1)
        layout.addLayout(second)

        row = QHBoxLayout()
        self.run_button = QPushButton("Run sweep")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = QPushButton("Save CSV…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_csv)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.status = QLabel("Choose settings and values, then Run sweep.")
        self.status.setWordWrap(True)       # a narrow window: two lines rather than a wider window
        self.metric_box = QComboBox()
        self._fill_metrics(self.base.task)
        self.metric_box.currentIndexChanged.connect(lambda _i: self.redraw())
        for w in (self.run_button, self.cancel_button, self.save_button):
            second.addWidget(w)
        layout.addLayout(row)
        row.addWidget(self.progress, 1)
        row.addWidget(self.status, 2)
        row.addWidget(QLabel("show"))
        row.addWidget(self.metric_box)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.heat_view = plotting.graphics_layout()
        self.heat = self.heat_view.addPlot()
        plotting.style_plot(self.heat, None, grid=False)
        self.heat.invertY(True)
        self.heat.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.heat.addItem(self.image)
        self.heat.scene().sigMouseClicked.connect(self._clicked)
        self.mini_view = plotting.graphics_layout()
        minis = QWidget()
        col = QVBoxLayout(minis)
        col.setContentsMargins(0, 0, 0, 0)
        caption = QLabel(MINIS_CAPTION.format(train=style.colour(0), val=style.colour(1)))
        caption.setWordWrap(True)
        caption.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(caption)
        col.addWidget(self.mini_view, 1)
        left = QSplitter(Qt.Orientation.Vertical)        # the grid heatmap above every run's line
        left.addWidget(self.heat_view)
        left.addWidget(sweep_results.attach(self))
        split.addWidget(left)
        split.addWidget(minis)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self.errors = QLabel("")
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #b3261e")
        layout.addWidget(self.errors)
        self.set_base(self.base)

    def set_base(self, config: Config) -> None:
        """The settings the next sweep's cells start from; the epochs box and the values that were still the old
        base's defaults follow them."""
        old, self.base = self.base, config
        if self.runner is None:                      # no results on show yet: the choices follow the base's task
            self._fill_metrics(config.task)
        if self.epochs.value() == old.epochs:
            self.epochs.setValue(config.epochs)
        for box, edit in zip(self.keys, self.values):
            key = box.currentText()
            if key in SETTINGS and edit.text() == _default_values(old, key):
                edit.setText(_default_values(config, key))
        self._show_base()

    def _fill_metrics(self, task: str) -> None:
        """The "show" choices: the final metrics that mean something for ``task`` (``sweep_results.metrics_for``:
        no accuracy for generation, no perplexity otherwise); the one shown stays when it is still offered."""
        keys = sr.metrics_for(task)
        if [self.metric_box.itemData(i) for i in range(self.metric_box.count())] == list(keys):
            return
        current = self.metric_box.currentData()
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        for key in keys:
            self.metric_box.addItem(METRICS[key], key)
        self.metric_box.setCurrentIndex(max(0, self.metric_box.findData(current)))
        self.metric_box.blockSignals(False)

    def shown_task(self) -> str:
        """The task of the sweep on show (the one started last), or of the base before any sweep."""
        return (self._running_base if self.runner is not None and self._running_base is not None else self.base).task

    def _show_base(self) -> None:
        running = self._running_base if self.runner is not None and not self.runner.finished else None
        self.base_label.setText(base_text(self.base, self.main_window is not None, running))

    # --- running ------------------------------------------------------------------------------------
    def set_grid(self, key1: str, values1: str, key2: str | None = None, values2: str = "") -> None:
        """Fill the controls (for tests and callers): ``set_grid("lr", "0.01,0.1", "hidden", "8,16")``."""
        self.keys[0].setCurrentText(key1)
        self.values[0].setText(values1)
        self.keys[1].setCurrentText(key2 or NONE)
        self.values[1].setText(values2 if key2 else "")

    def start(self) -> bool:
        """Parse the controls, expand the grid and start the worker processes. False (with a message) on a
        bad setting or value."""
        if self.runner is not None and not self.runner.finished:
            return False
        try:
            grid = [sweep.parse_grid(f"{self.keys[0].currentText()}={self.values[0].text()}")]
            if self.keys[1].currentText() != NONE:
                grid.append(sweep.parse_grid(f"{self.keys[1].currentText()}={self.values[1].text()}"))
            cells = sweep.expand_grid(self.base.replace(epochs=int(self.epochs.value())), grid)
            runner = self._make_runner(cells)
        except RnnvizError as exc:
            self.status.setText(str(exc))
            self.show_error("Sweep not started", str(exc))
            return False
        self.grid, self.cells = grid, cells
        self._running_base = self.base
        self.runner = runner
        self._fill_metrics(self.base.task)
        self._layout_cells()
        self.runner.start()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.save_button.setEnabled(False)
        self.status.setText(f"Training {len(cells)} cells on {self.runner.describe()}…")
        self._show_base()
        self.timer.start()
        return True

    def _make_runner(self, cells: list[sweep.Cell]) -> Any:
        """Local processes, or the cluster at the "Cluster address" (connecting keeps the window live)."""
        address = self.cluster.text().strip()
        if not address:
            return sweep.SweepRunner(cells, processes=self.processes)
        return busy.run_keeping_window_live(sweep_dask.make_runner, cells, 0, address,
                                            label=f"Connecting to {address}…", parent=self)

    def cancel(self) -> float:
        """Stop the runs now (no process is left). Returns the seconds it took."""
        self.timer.stop()
        seconds = 0.0
        if self.runner is not None and not self.runner.finished:
            seconds = self.runner.cancel()
            self.status.setText(f"Cancelled: {sum(r['status'] == 'ok' for r in self.runner.rows.values())} of "
                                f"{len(self.cells)} cells finished.")
        self._idle()
        self.redraw()
        return seconds

    def _idle(self) -> None:
        self._show_base()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.save_button.setEnabled(bool(self.runner and self.runner.rows))

    def _poll(self) -> None:
        runner = self.runner
        if runner is None:
            return
        if runner.poll():
            self.redraw()
        self.progress.setValue(int(round(1000 * runner.progress)))
        if runner.finished:
            self.timer.stop()
            rows = runner.rows.values()
            failed = sum(r["status"] != "ok" for r in rows)
            self.status.setText(f"Done: {len(self.cells)} cells in {runner.seconds:.1f} s"
                                + (f", {failed} failed (grey)" if failed else "") + ". Click a cell to open it.")
            self._idle()
            self.redraw()

    # --- drawing ------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.grid[0][1]), len(self.grid[1][1]) if len(self.grid) > 1 else 1)

    def _layout_cells(self) -> None:
        for t in self.texts.values():
            self.heat.removeItem(t)
        self.texts.clear()
        self.mini_view.clear()
        self.minis.clear()
        n1, n2 = self.shape
        key1 = self.grid[0][0]
        key2 = self.grid[1][0] if len(self.grid) > 1 else ""
        left, bottom = self.heat.getAxis("left"), self.heat.getAxis("bottom")
        left.setTicks([[(i + 0.5, sweep.format_value(v)) for i, v in enumerate(self.grid[0][1])]])
        bottom.setTicks([[(j + 0.5, sweep.format_value(v)) for j, v in enumerate(self.grid[1][1])]]
                        if key2 else [[(0.5, "")]])
        plotting.set_axis_label(left, key1)
        plotting.set_axis_label(bottom, key2 or " ")
        self.heat.setXRange(0, n2, padding=0.01)
        self.heat.setYRange(0, n1, padding=0.01)
        for cell in self.cells:
            i, j = divmod(cell.index, n2)
            text = pg.TextItem("", anchor=(0.5, 0.5), color="#000000")
            text.setFont(style.font(style.FONT_PT + 3, bold=True))
            text.setPos(j + 0.5, i + 0.5)
            self.heat.addItem(text)
            self.texts[cell.index] = text
            plot = self.mini_view.addPlot(row=i, col=j)
            plotting.style_plot(plot, None)
            plot.setTitle(cell.label(), size=f"{style.SMALL_PT}pt")
            plot.setMouseEnabled(False, False)
            train = plot.plot(pen=pg.mkPen(style.colour(0), width=1.5))
            val = plot.plot(pen=pg.mkPen(style.colour(1), width=2), symbol="o", symbolSize=5,
                            symbolBrush=style.colour(1), symbolPen=None)
            self.minis[cell.index] = (plot, train, val)
        self.redraw()

    def metric_key(self) -> str:
        return str(self.metric_box.currentData())

    def cell_value(self, index: int) -> float:
        row = self.runner.rows.get(index) if self.runner else None
        return float("nan") if row is None or row["status"] != "ok" else float(row[self.metric_key()])

    def redraw(self) -> None:
        if not self.cells or self.runner is None:
            return
        n1, n2 = self.shape
        metric = self.metric_key()
        self.heat.setTitle(f"{METRICS[metric]} (darker = better; ★ = best)", size=f"{style.TITLE_PT}pt")
        values = np.array([self.cell_value(c.index) for c in self.cells]).reshape(n1, n2)
        finite = values[np.isfinite(values)]
        cmap = colormaps.sequential_cmap("light")     # the title says "darker = better" on either theme
        rgb = np.empty((n1, n2, 3), dtype=np.uint8)
        best = None
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            best = float(finite.min() if LOWER_IS_BETTER[metric] else finite.max())
        for cell in self.cells:
            i, j = divmod(cell.index, n2)
            row = self.runner.rows.get(cell.index)
            v = values[i, j]
            text = self.texts[cell.index]
            if row is None:
                rgb[i, j] = PENDING_RGB
                text.setColor(QColor("#5f6368"))
                text.setText(f"{self.runner.fractions.get(cell.index, 0.0):.0%}")
            elif row["status"] == "ok" and not math.isfinite(v):     # finished, but no such number: not grey
                rgb[i, j] = PENDING_RGB
                text.setColor(QColor("#5f6368"))
                text.setText("–")
            elif row["status"] != "ok":
                rgb[i, j] = FAILED_RGB
                text.setColor(QColor("#b3261e"))
                reason = "NaN/Inf" if "NaN" in row["error"] else row["error"].partition(": ")[0][:24]
                text.setText(f"{row['status']}\n{reason}" if row["status"] == "failed" else row["status"])
            else:
                if hi == lo:
                    good = 1.0
                else:
                    good = (hi - v) / (hi - lo) if LOWER_IS_BETTER[metric] else (v - lo) / (hi - lo)
                frac = 0.15 + 0.8 * good
                c = cmap.map(frac, mode=pg.ColorMap.QCOLOR)
                rgb[i, j] = (c.red(), c.green(), c.blue())
                text.setColor(colormaps.text_colour_on(cmap, frac))
                text.setText(metric_text(metric, v) + (" ★" if v == best else ""))
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        self.image.setRect(0, 0, n2, n1)
        self._draw_minis()
        sweep_results.refresh(self)
        failed = [self.runner.rows[c.index] for c in self.cells
                  if c.index in self.runner.rows and self.runner.rows[c.index]["status"] == "failed"]
        self.errors.setText("\n".join(f"{self.cells[r['index']].label()}: {first_sentence(r['error'])}"
                                      for r in failed[:6]))

    def _draw_minis(self) -> None:
        """Every cell's training loss and validation loss on the same axes (those of the cells that worked)."""
        ok_y, max_x = [], 1
        for index, (plot, train, val) in self.minis.items():
            row = self.runner.rows.get(index)
            if row is None:      # still training: its curves so far
                live = self.runner.curves.get(index)
                if live:
                    train.setData(live["train_steps"], live["train_losses"])
                    val.setData(live["val_steps"], live["val_losses"])
                    max_x = max([max_x] + live["train_steps"][-1:])
                    ok_y.extend(v for v in live["train_losses"] + live["val_losses"] if math.isfinite(v))
                continue
            train.setData(row["train_steps"], row["train_losses"])
            val.setData(row["val_steps"], row["val_losses"])
            if row["train_steps"]:
                max_x = max(max_x, row["train_steps"][-1])
            if row["status"] == "ok":
                ok_y.extend(v for v in row["train_losses"] + row["val_losses"] if math.isfinite(v))
            else:
                plot.setTitle(f"<span style='color:#b3261e'>{self.cells[index].label()}: {row['status']}</span>",
                              size=f"{style.SMALL_PT}pt")
                if not getattr(plot, "_failure_note", None):
                    note = pg.TextItem(f"{row['status']} after {row['steps']} steps", color="#b3261e",
                                       anchor=(0.5, 0.5))
                    plot.addItem(note, ignoreBounds=True)
                    plot._failure_note = note
        lo, hi = shared_range(ok_y)
        for plot, _train, _val in self.minis.values():
            plot.setXRange(0, max_x, padding=0.02)
            plot.setYRange(lo, hi, padding=0.05)
            note = getattr(plot, "_failure_note", None)
            if note is not None:
                note.setPos(max_x / 2, (lo + hi) / 2)

    # --- clicking a cell ----------------------------------------------------------------------------
    def cell_at(self, x: float, y: float) -> int | None:
        """The cell under heatmap coordinates (x = column, y = row), or None."""
        if not self.cells:
            return None
        n1, n2 = self.shape
        i, j = int(math.floor(y)), int(math.floor(x))
        return i * n2 + j if 0 <= i < n1 and 0 <= j < n2 else None

    def _clicked(self, event: Any) -> None:
        pos = self.heat.vb.mapSceneToView(event.scenePos())
        index = self.cell_at(pos.x(), pos.y())
        if index is not None:
            self.open_cell(index)

    def open_cell(self, index: int) -> bool:
        """Put the cell's settings in force in the main window (asking before a trained model is discarded), or
        open a new main window with them. The run trains again there: same seed => the same numbers."""
        cfg = self.cells[index].config
        if self.main_window is not None:
            current = self.main_window.controller.config
            changes = {k: v for k, v in cfg.to_dict().items() if getattr(current, k) != v}
            ok = self.main_window._apply(changes, "Could not open this run") if changes else True
            if ok:
                self.main_window.statusBar().showMessage(
                    f"Sweep cell {self.cells[index].label()}: press Space to train it (same seed, same numbers)",
                    15000)
                self.main_window.raise_()
                self.main_window.activateWindow()          # the keys (Space trains) go to the main window
                keys = getattr(self.main_window, "lecture_keys", None)
                if keys is not None:
                    keys.hand_back()
        else:
            from rnnviz.gui.main_window import MainWindow

            win = MainWindow(cfg, title=f"sweep cell {self.cells[index].label()}")
            win.show()
            self.opened.append(win)
            ok = True
        if ok:
            self.cellOpened.emit(index)
        return ok

    def save_csv(self) -> None:
        path = self.ask_save_path()
        if not path or self.runner is None:
            return
        rows = [self.runner.rows[c.index] for c in self.cells if c.index in self.runner.rows]
        try:
            sweep.write_csv(path, rows, [k for k, _ in self.grid])
        except OSError as exc:          # an OutputError names the path itself
            self.show_error("Could not save", str(exc) if exc.strerror is None else f"{path}: {exc.strerror}")
            return
        self.status.setText(f"Saved {path}")

    def closeEvent(self, event: QCloseEvent) -> None:
        import time

        start = time.perf_counter()
        self.cancel()
        self.close_seconds = time.perf_counter() - start
        super().closeEvent(event)


def open_sweep(window: Any) -> SweepWindow:
    """The sweep window for the main window's current settings (Explore menu)."""
    win = SweepWindow(window.controller.config, main_window=window)
    window._sweep_windows = getattr(window, "_sweep_windows", []) + [win]
    fit_screen(win)                     # it opens at a size for a large screen; a 1024x768 projector is smaller
    win.show()
    return win
