"""Loss panel: training loss per step (raw and smoothed), validation loss, and validation accuracy (perplexity
for generation) at each evaluation, on two plots that share the training-step axis.

Losses are in nats per sequence (``core.snapshot.LOSS_UNIT``), the axis says so; the read-out adds the validation
loss per token. When the core finds the model memorising (``Snapshot.overfitting``), a note above the plots says
since which step and what helps, with a button back to the best weights (``restoreBestRequested``)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.core.snapshot import LOSS_PER_TOKEN, LOSS_UNIT
from rnnviz.gui import style
from rnnviz.gui.panels import base, hover, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.markers import MarkerLines
from rnnviz.gui.panels.ranges import FollowRange


def smoothing_weight(n: int) -> float:
    """EMA weight of the newest point for a curve of ``n`` points.

    An EMA lags by about 1/alpha points; a fixed alpha = 0.03 made the smoothed curve trail 33 steps behind the
    batch losses in a 300-step lesson. So the window is about 1 % of the history (a lag no one sees), rounded to a
    power of two so it changes rarely (then the curve is recomputed), and at least 4 points.
    """
    window = max(4, 2 ** int(np.floor(np.log2(max(n, 1) / 100.0))) if n >= 400 else 4)
    return 2.0 / (window + 1.0)


SHORT_BELOW = 330      # panel height (px) below which the memorising note is its finding and the button only (the
                       # numbers and what helps in tooltips): on a small screen it left the plots 5 px
NARROW_BELOW = 360     # panel width (px, at the normal font) below which the title-legend takes its short form


class LossPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_log_y(bool)``, ``set_theme(name)``,
    ``restoreBestRequested()`` (the "best weights" button).

    Items (for tests): ``raw_curve``, ``smooth_curve``, ``val_curve`` on ``loss_plot``; ``metric_curve`` on
    ``metric_plot``; ``log_check``; ``readout`` (QLabel) filled by ``hover`` (HoverReadout); ``overfit_box`` with
    ``overfit_label``, ``helps_label`` and ``best_button``.
    """

    restoreBestRequested = QtCore.Signal()
    AXIS_NAMES = (f"loss, {LOSS_UNIT}", LOSS_UNIT, "nats/seq", "nats")    # the longest that fits is shown

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        self.loss_plot: pg.PlotItem = self.view.addPlot(row=0, col=0, axisItems={"left": plotting.LogAxis("left")})
        self.metric_plot: pg.PlotItem = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        plotting.style_plot(self.loss_plot, None, left=self.AXIS_NAMES[0], th=th)
        plotting.style_plot(self.metric_plot, None, left="val. accuracy", bottom="training step", th=th)
        self.metric_plot.setXLink(self.loss_plot)
        self.metric_plot.enableAutoRange(x=False)      # the shared step axis follows the loss plot's data only
        # ranges that follow the data in steps, not every frame (see ranges.py)
        self.x_range = FollowRange(self.loss_plot, "x", min_span=10.0)    # at least 10 training steps wide
        self.y_range = FollowRange(self.loss_plot, "y")
        self.metric_range = FollowRange(self.metric_plot, "y")
        for p in (self.loss_plot, self.metric_plot):
            p.getAxis("left").setWidth(78)            # both plots' data areas line up
        self.loss_plot.getAxis("bottom").setStyle(showValues=False)

        self.raw_curve = self.loss_plot.plot(pen=pg.mkPen(th.faint, width=1), name="batch loss")
        self.smooth_curve = self.loss_plot.plot(pen=pg.mkPen(style.colour(0), width=2.5),
                                                name="batch loss (smoothed)")
        self.val_curve = self.loss_plot.plot(pen=pg.mkPen(style.colour(1), width=2), symbol="o", symbolSize=8,
                                             symbolBrush=style.colour(1), symbolPen=None, name="validation loss")
        plotting.make_dense(self.raw_curve)
        plotting.make_dense(self.smooth_curve, 0.5, "mean")   # smooth already: few vertices for the thick pen

        self.metric_curve = self.metric_plot.plot(pen=pg.mkPen(style.colour(2), width=2), symbol="o",
                                                  symbolSize=8, symbolBrush=style.colour(2), symbolPen=None)
        self._metric_is_accuracy = True
        self._metric_names = ("val. accuracy", "accuracy", "acc.")
        self._set_metric_axis(accuracy=True)
        for p in (self.loss_plot, self.metric_plot):    # a short panel: shorter axis titles, never overlapping
            p.vb.sigResized.connect(self._fit_axis_titles)
        self._title()         # the title is the legend: a legend box covered the curves on small panels
        # live setting changes: labelled lines on the loss plot, the same lines unlabelled below
        self.markers = MarkerLines(self.loss_plot, th)
        self.metric_markers = MarkerLines(self.metric_plot, th, labelled=False)

        self.log_check = QtWidgets.QCheckBox("log scale (loss)")
        self.log_check.setFont(style.font())
        self.log_check.toggled.connect(self.set_log_y)
        self.readout = style.label("", style.FONT_PT)
        self.readout.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(self.log_check)
        controls.addSpacing(16)
        controls.addWidget(self.readout, 1)
        # the memorising note: the finding on top (wrapped), then what helps and the button on one row; on a short
        # panel one row: a short finding and the button
        self.overfit_box = QtWidgets.QFrame()
        self.overfit_box.setObjectName("overfitNote")
        self._note = note = QtWidgets.QGridLayout(self.overfit_box)
        note.setContentsMargins(4, 0, 4, 0)
        note.setSpacing(2)
        note.setColumnStretch(0, 1)
        self.overfit_label = style.label("", style.FONT_PT, wrap=True)
        self.overfit_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.helps_label = style.label("", style.SMALL_PT, wrap=True)
        self.best_button = QtWidgets.QPushButton("Back to the best weights")
        self.best_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)      # Space stays the window's key
        self.best_button.clicked.connect(self.restoreBestRequested)
        note.addWidget(self.overfit_label, 0, 0, 1, 2)
        note.addWidget(self.helps_label, 1, 0)
        note.addWidget(self.best_button, 1, 1)
        self.overfit_box.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.overfit_box)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        self.hover = hover.HoverReadout(self.view, self.readout,
                                         [(self.loss_plot, self._loss_text), (self.metric_plot, self._metric_text)])
        self.reset()

    # ------------------------------------------------------------------------------------------ drawing
    def reset(self) -> None:
        self._empty = True
        self.loss_plot.setXRange(0, 100, padding=0.02)
        self._steps = np.zeros(0)
        self._loss = np.zeros(0)
        self._smooth = np.zeros(0)
        self._alpha = 0.0
        self._val_steps = np.zeros(0)
        self._val_loss = np.zeros(0)
        self._val_per_token = np.zeros(0)
        self._metric = np.zeros(0)
        self._overfit = None
        self.overfit_box.hide()
        for c in (self.raw_curve, self.smooth_curve, self.val_curve, self.metric_curve):
            c.setData([], [])
        self.markers.clear()
        self.metric_markers.clear()
        self.readout.setText(self.hover.idle_text)
        self.y_range.clear()                           # a new run: no old loss range, follow the data again
        self.metric_range.resume()

    def render(self, snapshot) -> None:
        steps = np.asarray(snapshot.train_steps, dtype=np.float64)
        loss = np.asarray(snapshot.train_loss, dtype=np.float64)
        if (steps.size == 0) != self._empty:     # before the first step: a sensible axis instead of 0..1
            self._empty = steps.size == 0
            if self._empty:
                self.loss_plot.setXRange(0, 100, padding=0.02)
            else:
                self.loss_plot.enableAutoRange(x=True)
        self._smooth = self._smoothed(steps, loss)
        self._steps, self._loss = steps, loss
        shown = plotting.log_safe(loss), plotting.log_safe(self._smooth)
        self.raw_curve.setData(steps, shown[0])
        self.smooth_curve.setData(steps, shown[1])

        self._val_steps = np.asarray(snapshot.val_steps, dtype=np.float64)
        self._val_loss = np.asarray(snapshot.val_loss, dtype=np.float64)
        per_token = np.asarray(getattr(snapshot, "val_loss_per_token", ()), dtype=np.float64)
        self._val_per_token = per_token if per_token.shape == self._val_loss.shape else np.full_like(
            self._val_loss, np.nan)
        shown += (plotting.log_safe(self._val_loss),)
        self.val_curve.setData(self._val_steps, shown[2])

        accuracy = snapshot.task != base.TASK_GENERATION
        if accuracy != self._metric_is_accuracy:
            self._set_metric_axis(accuracy)
        self._metric = np.asarray(snapshot.val_accuracy if accuracy else snapshot.val_perplexity, dtype=np.float64)
        self.metric_curve.setData(self._val_steps, self._metric)
        if self.metric_plot.vb.state["autoRange"][0] is not False:    # auto-range on there: the shared axis follows
            self.metric_plot.enableAutoRange(x=False)
            self.loss_plot.enableAutoRange(x=True)
        if steps.size:
            self.x_range.follow(steps, self._val_steps)
        self.y_range.follow(*shown)
        if not accuracy:
            self.metric_range.follow(self._metric)
        self.markers.set(getattr(snapshot, "markers", ()))
        self.metric_markers.set(getattr(snapshot, "markers", ()))
        self._show_overfitting(getattr(snapshot, "overfitting", None), int(getattr(snapshot, "best_step", -1)))

    def _show_overfitting(self, found, best_step: int) -> None:
        """The note above the plots: what the core found (``Snapshot.overfitting``), its numbers, what helps; on a
        short panel (``SHORT_BELOW``) the finding and the button, the rest in their tooltips."""
        key = (found, best_step, self._short())
        if key == self._overfit:
            return
        self._overfit = key
        if found is None:
            self.overfit_box.hide()
            return
        short = key[2]
        numbers = (f"validation {found.best_loss:.3g} \u2192 {found.latest_loss:.3g}, training "
                   f"{found.train_then:.3g} \u2192 {found.train_now:.3g}")
        warning = "\u26a0 memorising the training set" if short else f"\u26a0 {found.message}"
        warning = f"<span style='color:{self.theme.bad}'><b>{warning}</b></span>"
        self.overfit_label.setText(warning if short else f"{warning} ({numbers})")
        self.overfit_label.setToolTip(f"{found.message} ({numbers}). {found.detail}" if short else found.detail)
        self._note.removeWidget(self.overfit_label)
        self._note.removeWidget(self.best_button)
        self._note.addWidget(self.overfit_label, 0, 0, 1, 1 if short else 2)
        self._note.addWidget(self.best_button, 0 if short else 1, 1)
        self.helps_label.setText("What helps: " + ", ".join(what for what, _how in found.remedies[:-1]) + ", or")
        self.helps_label.setToolTip(f"{found.detail}.\n" + "\n".join(f"{what}: {how}"
                                                                      for what, how in found.remedies))
        self.helps_label.setVisible(not short)
        self.best_button.setText(f"the weights of step {best_step}" if best_step >= 0 else "the best weights")
        self.best_button.setToolTip(self.helps_label.toolTip() if short else found.remedies[-1][1])
        self.best_button.setEnabled(best_step >= 0)
        self.overfit_box.show()

    def _short(self) -> bool:
        return self.height() < SHORT_BELOW

    def _smoothed(self, steps: np.ndarray, loss: np.ndarray) -> np.ndarray:
        """EMA of the loss, extended incrementally while the history only grows (recomputed after decimation
        or when the smoothing window changes)."""
        alpha = smoothing_weight(steps.size)
        n = self._steps.size
        if alpha == self._alpha and 0 < n <= steps.size and self._smooth.size == n and steps[0] == self._steps[0] \
                and steps[n - 1] == self._steps[n - 1] and loss[n - 1] == self._loss[n - 1]:
            if steps.size == n:
                return self._smooth
            tail = plotting.ema(loss[n:], alpha, start=self._smooth[-1])
            return np.concatenate([self._smooth, tail])
        self._alpha = alpha
        return plotting.ema(loss, alpha)

    def _set_metric_axis(self, accuracy: bool) -> None:
        self._metric_is_accuracy = accuracy
        axis = self.metric_plot.getAxis("left")
        if accuracy:
            self._metric_names = ("val. accuracy", "accuracy", "acc.")
            self._fit_axis_titles()
            self.metric_range.forget()                 # accuracy: a fixed axis
            self.metric_plot.enableAutoRange(y=False)
            self.metric_plot.setYRange(-0.1, 1.1, padding=0)
            axis.setTicks([[(v, f"{v:g}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]])
        else:
            self._metric_names = ("val. perplexity", "perplexity", "ppl.")
            self._fit_axis_titles()
            axis.setTicks(None)
            self.metric_plot.enableAutoRange(y=True)

    def _fit_axis_titles(self, *args) -> None:
        """The longest of each axis's names that fits beside its plot (the vertical titles of the two stacked
        plots ran into each other on a 1280x800 screen)."""
        for plot, names in ((self.loss_plot, self.AXIS_NAMES),
                            (self.metric_plot, self._metric_names)):
            axis = plot.getAxis("left")
            room = plot.vb.height()
            metrics = QtGui.QFontMetricsF(style.font())
            fits = [n for n in names if metrics.horizontalAdvance(n) + 8 <= room] if room > 0 else []
            name = fits[0] if fits else names[-1]
            if axis.labelText != name:
                plotting.set_axis_label(axis, name, self.theme)

    def set_log_y(self, on: bool) -> None:
        """Log-scale the loss axis (the accuracy plot stays linear)."""
        if self.log_check.isChecked() != bool(on):
            self.log_check.setChecked(bool(on))        # re-enters through toggled
            return
        self.loss_plot.setLogMode(y=bool(on))
        self.loss_plot.enableAutoRange(y=True)

    def _theme_changed(self) -> None:
        self._overfit = None                    # the note is drawn again in the new colours
        self.raw_curve.setPen(pg.mkPen(self.theme.faint, width=1))
        self._title()
        self.markers.set_theme(self.theme)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._narrow() != getattr(self, "_titled_narrow", None):
            self._title()
        if self._overfit is not None and self._overfit[2] != self._short():
            self._show_overfitting(*self._overfit[:2])

    def _narrow(self) -> bool:
        return self.width() < NARROW_BELOW * style.FONT_PT / style.BASE_POINT_SIZE

    def _title(self) -> None:
        """The legend as the title; on a narrow panel without "Loss:" (the y axis says it), and "per batch" is
        "batch"; lines break between the entries, never inside one."""
        self._titled_narrow = narrow = self._narrow()
        spans = [(self.theme.faint, "\u2501 batch" if narrow else "\u2501 per batch"),
                 (style.colour(0), "\u2501 smoothed"), (style.colour(1), "\u25cf validation")]
        plotting.set_title(self.loss_plot, ("" if narrow else "Loss: &nbsp;") + " &nbsp;".join(
            f"<span style='color:{c}'>{t.replace(' ', '&nbsp;')}</span>" for c, t in spans), style.TITLE_PT - 1,
            self.theme)

    # ------------------------------------------------------------------------------------------ hover
    def _loss_text(self, x: float, y: float) -> str | None:
        if self._steps.size == 0:
            return None
        i = int(np.clip(np.searchsorted(self._steps, x), 0, self._steps.size - 1))
        if i > 0 and abs(self._steps[i - 1] - x) < abs(self._steps[i] - x):
            i -= 1
        text = (f"step {int(self._steps[i])}: batch loss {plotting.fmt(self._loss[i])}, "
                f"smoothed {plotting.fmt(self._smooth[i])}")
        j = self._nearest_eval(x)
        if j is not None:
            text += f"  |  validation (step {int(self._val_steps[j])}): loss {self._val_text(j)}"
        return text

    def _val_text(self, j: int) -> str:
        """"125.3 nats per sequence = 1.958 nats per token" (per token only when it differs)."""
        text = f"{plotting.fmt(self._val_loss[j])} {LOSS_UNIT}"
        per_token = self._val_per_token[j] if j < self._val_per_token.size else np.nan
        if np.isfinite(per_token) and not np.isclose(per_token, self._val_loss[j]):
            text += f" = {plotting.fmt(per_token)} {LOSS_PER_TOKEN}"
        return text

    def _metric_text(self, x: float, y: float) -> str | None:
        j = self._nearest_eval(x)
        if j is None:
            return None
        name = "accuracy" if self._metric_is_accuracy else "perplexity"
        value = plotting.fmt(self._metric[j])
        if not self._metric_is_accuracy and j < self._val_per_token.size:
            value += f" = exp({plotting.fmt(self._val_per_token[j])} {LOSS_PER_TOKEN})"
        return f"validation at step {int(self._val_steps[j])}: {name} {value}, loss {self._val_text(j)}"

    def _nearest_eval(self, x: float) -> int | None:
        if self._val_steps.size == 0:
            return None
        return int(np.argmin(np.abs(self._val_steps - x)))
