"""The sweep window's results beside its grid heatmap: a parallel-coordinates plot of every run and the importance
of each swept setting (``rnnviz.core.explore.sweep_results`` computes both; this module only draws them).

    [ lr (log)    hidden    final val loss    final val accuracy ]   one line per run, coloured by the metric
    [   |           |            |                  |            ]   shown (darker = better), failed runs grey
    [ importance: lr ████████████ 92%   hidden █ 3%               ]   and dashed, at "failed" on the metric axes

Clicking near a run's line emits ``runClicked(index)``; the sweep window offers to race it against the current
settings. Hovering names the run under the mouse.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from rnnviz.core.explore import sweep_results as sr
from rnnviz.core.explore.sweep import format_value
from rnnviz.gui import style
from rnnviz.gui.panels import colormaps, plotting

FAILED_COLOUR = (150, 150, 150, 200)
PICK_PIXELS = 12           # a click this close (vertically, in pixels) to a run's line picks it


class SweepResults(QWidget):
    """Public for tests: ``lines`` (run index -> PlotDataItem through its axis positions), ``axes`` (the
    ``sweep_results.Axis`` list drawn), ``bars`` (BarGraphItem), ``ranking`` ((setting, share) largest first),
    ``importance_label``, ``readout``; ``run_at(x, y)`` the run nearest to a point of the plot."""

    runClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        th = style.theme("light")
        self.view = plotting.graphics_layout(th)
        self.plot = self.view.addPlot(row=0, col=0)
        plotting.style_plot(self.plot, "Every run: its settings \u2192 its final metrics (click a line: race it)",
                            grid=False, th=th)
        self.plot.hideAxis("left")
        self.plot.setMouseEnabled(False, False)
        bottom = self.plot.getAxis("bottom")
        bottom.setStyle(tickFont=style.font(style.FONT_PT, bold=True), tickLength=0, tickTextOffset=6,
                       hideOverlappingLabels=False)
        bottom.setHeight(int(2.2 * style.FONT_PT * 1.5) + 6)     # the axes' names, descenders included
        self.imp = self.view.addPlot(row=1, col=0)
        plotting.style_plot(self.imp, None, grid=False, th=th)
        self.imp.setMouseEnabled(False, False)
        self.imp.hideAxis("bottom")
        self.imp.hideAxis("left")
        self.imp.invertY(True)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=style.colour(0))
        self.imp.addItem(self.bars)
        self.importance_label = QLabel("")
        self.importance_label.setWordWrap(True)
        self.readout = QLabel("Hover over a line to name its run.")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.view, 1)
        box.addWidget(self.importance_label)
        box.addWidget(self.readout)
        self.lines: dict[int, pg.PlotDataItem] = {}
        self.axes: list[sr.Axis] = []
        self.rows: list[dict] = []
        self.ranking: list[tuple[str, float]] = []
        self._decor: list[Any] = []
        self._bar_texts: list[pg.TextItem] = []
        self._highlight: int | None = None
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._moved)

    # --- drawing ------------------------------------------------------------------------------------
    def show_rows(self, grid: list[tuple[str, list]], rows: list[dict], task: str, metric: str) -> None:
        """Draw the finished ``rows`` (any order) of a sweep over ``grid``; ``metric`` colours the lines and is
        the one whose variance the importance ranking explains."""
        rows = sorted(rows, key=lambda r: r["index"])
        self.rows = rows
        self.axes = axes = sr.parallel_axes(grid, rows, task) if rows else []
        for item in self._decor:
            self.plot.removeItem(item)
        self._decor.clear()
        for line in self.lines.values():
            self.plot.removeItem(line)
        self.lines.clear()
        th = style.theme("light")
        for i, axis in enumerate(axes):
            rule = pg.InfiniteLine(pos=i, angle=90, pen=pg.mkPen(th.foreground, width=1.5))
            self.plot.addItem(rule)
            self._decor.append(rule)
            for pos, text in axis.ticks:
                item = pg.TextItem(text, anchor=(0, 0.5), color=th.bad if text == "failed" else th.foreground,
                                   fill=pg.mkBrush(255, 255, 255, 200))
                item.setFont(style.font(style.SMALL_PT + 1))
                item.setPos(i + 0.02, pos)
                item.setZValue(30)
                self.plot.addItem(item, ignoreBounds=True)
                self._decor.append(item)
        self.plot.getAxis("bottom").setTicks([[(i, a.label) for i, a in enumerate(axes)]])
        self.plot.setXRange(-0.3, max(len(axes) - 1, 1) + 0.5, padding=0)     # room for the names at both ends
        self.plot.setYRange(sr.FAILED_AT - 0.06, 1.06, padding=0)
        metric_axis = next((a for a in axes if a.key == metric), None)
        lower_better = metric != "val_accuracy"
        cmap = colormaps.sequential_cmap("light")
        x = np.arange(len(axes), dtype=np.float64)
        for r, row in enumerate(rows):
            y = np.array([a.positions[r] for a in axes], dtype=np.float64)
            failed = row["status"] != "ok" or (metric_axis is not None and metric_axis.positions[r] == sr.FAILED_AT)
            if failed:
                pen = pg.mkPen(FAILED_COLOUR, width=1.5, style=Qt.PenStyle.DashLine)
            else:
                p = float(metric_axis.positions[r]) if metric_axis is not None else 0.5
                good = 1.0 - p if lower_better else p
                pen = pg.mkPen(cmap.map(0.3 + 0.7 * good, mode=pg.ColorMap.QCOLOR), width=2.5)
            line = pg.PlotDataItem(x, y, pen=pen, symbol="o", symbolSize=6, symbolPen=None,
                                   symbolBrush=pen.color())
            line.setZValue(5 if failed else 10)
            self.plot.addItem(line)
            self.lines[int(row["index"])] = line
        self._draw_importance([k for k, _ in grid], rows, metric)

    def _draw_importance(self, keys: list[str], rows: list[dict], metric: str) -> None:
        for t in self._bar_texts:
            self.imp.removeItem(t)
        self._bar_texts.clear()
        n = sr.finished_runs(rows, metric)
        self.ranking = sr.importance(rows, keys, metric) if n > 1 else []     # no bars from fewer than two runs
        shares = [s for _, s in self.ranking]
        self.bars.setOpts(x0=[0.0] * len(shares), y=list(range(len(shares))), width=shares, height=0.6)
        th = style.theme("light")
        for i, (key, share) in enumerate(self.ranking):
            text = pg.TextItem(f"{key}  {share:.0%}", anchor=(0, 0.5), color=th.foreground)
            text.setFont(style.font(style.FONT_PT, bold=True))
            text.setPos(share + 0.01, i)
            self.imp.addItem(text, ignoreBounds=True)
            self._bar_texts.append(text)
        self.imp.setXRange(0, 1.35, padding=0)
        self.imp.setYRange(-0.6, max(len(shares), 1) - 0.4, padding=0)
        name = sr.METRIC_NAMES.get(metric, metric)
        finished = sum(r["status"] == "ok" for r in rows)
        if n > 1:
            text = (f"Importance: the share of the variance of the {name} explained by each setting alone "
                    f"(\u03a3 n\u1d65 (mean\u1d65 \u2212 mean)\u00b2 / \u03a3 (y \u2212 mean)\u00b2, over the {n} runs "
                    "that finished; the rest is the settings' interaction).")
        elif finished > n:
            text = (f"Importance: needs the {name} of at least two runs; {finished} runs finished, "
                    f"{n} with a {name}.")
        else:
            text = f"Importance: needs at least two runs that finished ({finished} so far)."
        self.importance_label.setText(text)

    # --- picking a run ------------------------------------------------------------------------------
    def run_at(self, x: float, y: float) -> int | None:
        """The run whose line passes nearest (vertically, within PICK_PIXELS) to the plot point (x, y)."""
        if not self.lines or not self.axes:
            return None
        px = self.plot.vb.viewPixelSize()[1] or 1e-3
        best, where = None, PICK_PIXELS * px
        for index, line in self.lines.items():
            xs, ys = line.getData()
            if xs is None or not (xs[0] - 0.05 <= x <= xs[-1] + 0.05):
                continue
            d = abs(float(np.interp(x, xs, ys)) - y)
            if d < where:
                best, where = index, d
        return best

    def describe(self, index: int) -> str:
        row = next(r for r in self.rows if r["index"] == index)
        settings = ", ".join(f"{k}={format_value(v)}" for k, v in row["settings"].items())
        if row["status"] != "ok":
            return f"{settings}: {row['status']}"
        metrics = [f"val loss {row['val_loss']:.3f}"]
        acc = row.get("val_accuracy", float("nan"))
        if isinstance(acc, float) and math.isfinite(acc):
            metrics.append(f"accuracy {acc:.1%}")
        return f"{settings}: " + ", ".join(metrics)

    def _view_point(self, pos: Any) -> tuple[float, float] | None:
        if not self.plot.vb.sceneBoundingRect().contains(pos):
            return None
        p = self.plot.vb.mapSceneToView(pos)
        return p.x(), p.y()

    def _clicked(self, event: Any) -> None:
        point = self._view_point(event.scenePos())
        index = self.run_at(*point) if point else None
        if index is not None:
            self.runClicked.emit(index)

    def _moved(self, pos: Any) -> None:
        point = self._view_point(pos)
        index = self.run_at(*point) if point else None
        self.set_highlight(index)

    def set_highlight(self, index: int | None) -> None:
        """Thicken run ``index``'s line and name it under the plot (None: no run)."""
        if index == self._highlight:
            return
        for i in (self._highlight, index):
            line = self.lines.get(i) if i is not None else None
            if line is not None:
                pen = pg.mkPen(line.opts["pen"])
                pen.setWidthF(pen.widthF() * (2.0 if i == index else 0.5))
                line.setPen(pen)
                line.setZValue(line.zValue() + (20 if i == index else -20))
        self._highlight = index
        self.readout.setText(f"{self.describe(index)} \u2014 click to race it against the current settings"
                             if index is not None else "Hover over a line to name its run.")


# --- the sweep window's side ----------------------------------------------------------------------------
def attach(window: Any) -> SweepResults:
    """Make the results widget of sweep window ``window`` (``window.results``); clicking a run offers its race."""
    window.results = results = SweepResults()
    results.runClicked.connect(lambda index: offer_race(window, index))
    return results


def refresh(window: Any) -> None:
    """Draw the sweep window's finished runs (again only when a run finished or the metric changed)."""
    runner = window.runner
    if runner is None or not window.grid:
        return
    rows = [runner.rows[c.index] for c in window.cells if c.index in runner.rows]
    key = (tuple((r["index"], r["status"]) for r in rows), window.metric_key(), id(runner))
    if key == getattr(window, "_results_key", None):
        return
    window._results_key = key
    window.results.show_rows(window.grid, rows, window.shown_task(), window.metric_key())


def ask_race(window: Any, text: str) -> bool:
    """Yes / no: race this run? (tests replace ``window.ask_race``)."""
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(window, "Race this run?", text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def offer_race(window: Any, index: int) -> Any:
    """Ask whether to open run ``index`` in the A/B race against the current settings; the race window or None."""
    cell = window.cells[index]
    current = window.main_window.controller.config if window.main_window is not None else window.base
    try:
        b = sr.race_config(current, cell.settings)
    except Exception as exc:          # ConfigError: the run's settings are the current ones
        window.show_error("Nothing to race", f"Run {cell.label()} has the current settings already: "
                          f"there is nothing for B to change ({exc}).")
        return None
    from rnnviz.core.explore.race import differences_text

    ask = getattr(window, "ask_race", None) or (lambda text: ask_race(window, text))
    if not ask(f"Open run {cell.label()} in the A/B race?\n\nA = the current settings, B = A with "
               f"{differences_text(current, b)}."):
        return None
    return race_run(window, current, b)


def race_run(window: Any, a: Any, b: Any) -> Any:
    """Open the race window of A = ``a`` against B = ``b`` (owned by the main window when there is one)."""
    if window.main_window is not None:
        from rnnviz.gui.windows.race import show_race

        return show_race(window.main_window, a, b)
    from rnnviz.gui.windows.race import RaceWindow

    race = RaceWindow(a, b)
    window.opened.append(race)
    race.show()
    return race
