"""Confusion panel: the validation confusion matrix with the count in every cell, per-class accuracy beside it."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.core.snapshot import confusion_members
from rnnviz.gui import style
from rnnviz.gui.fitting import FittingLabel
from rnnviz.gui.panels import base, colormaps, hover, plotting
from rnnviz.gui.panels.base import Panel

NO_MATRIX = ("No confusion matrix for generation: the model predicts the next token out of the whole "
             "vocabulary.\nWatch the loss / perplexity and the sampled text instead.")


MATRIX_TITLE, BARS_TITLE = "Validation confusion matrix", "Per class"
BAR_RANGE = (-0.12, 1.12)    # the per-class plot's x range: accuracy 0..1 and room for the end labels
BAR_THREE_TICKS_PX = 80      # narrower than this (px, at the normal font), the accuracy axis shows 0 and 1 alone
ROW_LINES = 1.3         # a matrix row lower than this many lines of text costs the plots their titles


def _row_fractions(conf: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows without examples stay NaN)."""
    rows = conf.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, conf / np.where(rows > 0, rows, 1.0), np.nan)


def _short(name: str, n: int) -> str:
    return name if len(name) <= n else name[: max(1, n - 1)] + "\u2026"


class ConfusionPanel(Panel):
    """Public API: ``render(snapshot)``, ``reset()``, ``set_normalised(bool)``, ``set_theme(name)``.

    The cell colour is always the fraction of the true class (row), on fixed levels [0, 1], so colours mean the
    same thing at every step; the cell text is the count, or the fraction when "row-normalised" is ticked.

    Items (for tests): ``image`` (ImageItem, (k, k)), ``cell_text`` (k x k list of TextItems), ``bars``
    (BarGraphItem of per-class accuracy), ``normalise_check``, ``accuracy_label``, ``stack`` (page 0 = matrix,
    page 1 = the generation message), ``message``.
    """

    LEVELS = (0.0, 1.0)
    exampleChosen = QtCore.Signal(int)   # validation example picked from a clicked cell's list (-> the probe)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        th = self.theme
        self.view = self._register(plotting.graphics_layout(th))
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0)
        self.bar_plot: pg.PlotItem = self.view.addPlot(row=0, col=1)
        self.view.ci.layout.setColumnStretchFactor(0, 3)
        self.view.ci.layout.setColumnStretchFactor(1, 1)
        plotting.style_plot(self.plot, MATRIX_TITLE, left="true class", bottom="predicted class", grid=False, th=th)
        plotting.style_plot(self.bar_plot, BARS_TITLE, bottom="accuracy", th=th)
        self.compact = False            # the plots' titles dropped to give the matrix's rows their height
        self._title_px = 30
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.bar_plot.setMouseEnabled(x=False, y=False)
        self.bar_plot.invertY(True)                  # rows line up with the matrix's rows
        self.bar_plot.setYLink(self.plot)
        self.bar_plot.getAxis("left").setStyle(showValues=False, tickLength=0)
        self.bar_plot.getAxis("left").setWidth(4)
        self.bar_plot.setXRange(*BAR_RANGE, padding=0)      # room for the 0 and 1 labels at the ends
        self.bar_plot.showGrid(x=True, y=False, alpha=th.grid_alpha)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.cell_text: list[list[pg.TextItem]] = []
        self._set_cmap(colormaps.sequential_cmap(th))
        self.plot.addItem(self.image)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=style.colour(0), pen=None)
        self.bar_plot.addItem(self.bars)
        self.plot.vb.sigResized.connect(self._fit_text)
        self.bar_plot.vb.sigResized.connect(self._bar_resized)

        self.normalise_check = QtWidgets.QCheckBox("row-normalised")
        self.normalise_check.setToolTip("Show each cell as a fraction of its true class (its row)")
        self.normalise_check.setFont(style.font())
        self.normalise_check.toggled.connect(self._normalised_toggled)
        self.accuracy_label = FittingLabel(min_text="100.0\u00a0%")   # shorter wordings on a narrow panel
        self.accuracy_label.setFont(style.font(style.TITLE_PT, True))
        self.readout = style.label("")
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(self.accuracy_label, 1)
        controls.addWidget(self.normalise_check)
        page = QtWidgets.QWidget()
        page_layout = QtWidgets.QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addLayout(controls)
        page_layout.addWidget(self.view, 1)
        page_layout.addWidget(self.readout)
        # clicking a cell lists the validation examples behind its count; one click makes one the probe
        self.examples_title = style.label("", wrap=True)
        self.examples_list = QtWidgets.QListWidget()
        self.examples_list.setObjectName("confusionExamples")
        self.examples_list.setFont(style.font())
        self.examples_list.setToolTip("Click an example to make it the probe (Hidden states, Predictions, BPTT)")
        self.examples_list.itemClicked.connect(self._example_clicked)
        self.examples_list.itemActivated.connect(self._example_clicked)
        self.examples_box = QtWidgets.QWidget()
        box_layout = QtWidgets.QVBoxLayout(self.examples_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        self.close_list = QtWidgets.QPushButton("Close list")
        self.close_list.setFont(style.font())
        self.close_list.clicked.connect(self.hide_cell)
        title_row = QtWidgets.QHBoxLayout()
        title_row.addWidget(self.examples_title, 1)
        title_row.addWidget(self.close_list, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        box_layout.addLayout(title_row)
        box_layout.addWidget(self.examples_list, 1)
        self.examples_box.setMaximumHeight(190)
        self.examples_box.setVisible(False)
        page_layout.addWidget(self.examples_box)
        self._val_tokens: list = []
        self._cells: dict = {}
        self._open_cell: tuple[int, int] | None = None
        self.view.scene().sigMouseClicked.connect(self._scene_clicked)
        self.message = style.label(NO_MATRIX, style.TITLE_PT, wrap=True)
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(page)
        self.stack.addWidget(self.message)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.stack)
        self.hover = hover.HoverReadout(self.view, self.readout, [(self.plot, self._cell_info),
                                                                   (self.bar_plot, self._bar_info)])
        self.bar_text: list[pg.TextItem] = []
        self._numbered = False
        self._left_labels: list[str] = []
        self._left_every = 1
        self.reset()
        self._bar_resized()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._update_compact()

    def _update_compact(self) -> None:
        """Drop the plots' titles when, with them, the matrix's rows would be lower than a line of text (a short
        panel on a small screen, many classes) or when the matrix is narrower than its title's line (the titles
        would wrap into each other); the accuracy line above the plots says what they show."""
        k = len(self._classes)
        title_px = self._title_px
        if not self.compact:
            title_px = self._title_px = max(30, self.plot.layout.rowMinimumHeight(0))
        axis_px = self.plot.getAxis("bottom").height() or 45
        line = QtGui.QFontMetricsF(self.plot.getAxis("left").style["tickFont"] or style.font()).height()
        title_font = QtGui.QFontMetricsF(style.font(style.TITLE_PT))
        too_low = k > 0 and (self.view.height() - axis_px - title_px) / k < ROW_LINES * line
        too_narrow = 0 < self.plot.vb.width() < title_font.horizontalAdvance(MATRIX_TITLE)    # it would wrap
        compact = too_low or too_narrow
        if compact != self.compact:
            self.compact = compact
            for plot, title in ((self.plot, MATRIX_TITLE), (self.bar_plot, BARS_TITLE)):
                if compact:
                    plot.setTitle(None)
                else:
                    plot.setTitle(title, size=f"{style.TITLE_PT}pt", color=self.theme.foreground)

    # ------------------------------------------------------------------------------------------ API
    @property
    def normalised(self) -> bool:
        return self.normalise_check.isChecked()

    def set_normalised(self, on: bool) -> None:
        self.normalise_check.setChecked(bool(on))

    def reset(self) -> None:
        self._key = None
        self._cells, self._open_cell = {}, None
        self.examples_box.setVisible(False)
        self._classes: tuple[str, ...] = ()
        self._conf = np.zeros((0, 0), dtype=np.int64)
        self._frac = np.zeros((0, 0))
        self._per_class = np.zeros(0)
        self._build_cells(())
        self.image.setImage(np.zeros((1, 1)), autoLevels=False, levels=self.LEVELS)
        self.image.setVisible(False)
        self.bars.setOpts(x0=[], y=[], width=[], height=0.7)
        self.accuracy_label.setText("Overall accuracy: \u2013", "Accuracy \u2013", "\u2013")
        self.readout.setText(self.hover.idle_text)
        self.stack.setCurrentIndex(0)

    def render(self, snapshot) -> None:
        conf = np.asarray(snapshot.confusion)
        if snapshot.task == base.TASK_GENERATION or conf.size == 0:
            self.stack.setCurrentIndex(1)
            return
        self.stack.setCurrentIndex(0)
        acc = np.asarray(snapshot.per_class_accuracy, dtype=np.float64)
        val_acc = np.asarray(snapshot.val_accuracy, dtype=np.float64)
        val_steps = np.asarray(snapshot.val_steps)
        key = (conf.tobytes(), conf.shape, acc.tobytes(), val_acc[-1:].tobytes(), val_steps[-1:].tobytes(),
               tuple(snapshot.classes))
        if key == self._key:        # the matrix changes only at an evaluation: nothing to redraw in between
            return
        self._key = key
        self._cells = getattr(snapshot, "confusion_examples", {}) or {}
        k = conf.shape[0]
        classes = tuple(snapshot.classes[:k]) if len(snapshot.classes) >= k else tuple(str(i) for i in range(k))
        if classes != self._classes:
            self._build_cells(classes)
            self._update_compact()
        wider = len(str(int(conf.max()))) != (len(str(int(self._conf.max()))) if self._conf.size else 0)
        self._conf = conf
        self._frac = _row_fractions(conf)
        if wider:
            self._fit_text()
        self.image.setImage(np.nan_to_num(self._frac, nan=0.0), autoLevels=False, levels=self.LEVELS)
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, k, k))    # cell (i, j) centred on x = j, y = i
        self.image.setVisible(True)
        self._update_texts()
        if self._open_cell is not None:
            self.show_cell(*self._open_cell)

        self._per_class = acc
        self.bars.setOpts(x0=np.zeros(k), y=np.arange(k, dtype=np.float64), width=np.nan_to_num(acc[:k], nan=0.0),
                          height=0.7)
        self._place_bar_texts()
        if val_acc.size and np.isfinite(val_acc[-1]):
            at = f" (step {int(snapshot.val_steps[-1])})" if len(snapshot.val_steps) else ""
            pct = f"{100 * val_acc[-1]:.1f}\u00a0%"
            self.accuracy_label.setText(f"Overall accuracy: {pct}{at}", f"Accuracy {pct}{at}", f"Accuracy {pct}", pct)
        else:
            self.accuracy_label.setText("Overall accuracy: \u2013 (no evaluation yet)", "No evaluation yet",
                                        "Accuracy \u2013", "\u2013")

    def _bar_resized(self, *args) -> None:
        """Ticks 0, 0.5, 1 on the accuracy axis (0 and 1 alone when it is too narrow for three), then the texts."""
        narrow = self.bar_plot.vb.width() < BAR_THREE_TICKS_PX * style.FONT_PT / style.BASE_POINT_SIZE
        values = (0.0, 1.0) if narrow else (0.0, 0.5, 1.0)
        self.bar_plot.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in values],
                                                  [] if narrow else [(v, "") for v in (0.25, 0.75)]])
        self._place_bar_texts()

    def _place_bar_texts(self) -> None:
        """Each class's accuracy as a percentage at its bar: inside a long bar (white), after a short one; a text
        that would not fit between the bar and the plot's edge is left out (the bar and the hover still give it),
        never drawn cut ("00%" for 100 %)."""
        acc = self._per_class
        lo, hi = BAR_RANGE
        px_per_unit = self.bar_plot.vb.width() / (hi - lo)
        for i, item in enumerate(self.bar_text):
            a = acc[i] if i < acc.size else np.nan
            inside = np.isfinite(a) and a > 0.6
            text = f"{100 * a:.0f}%" if np.isfinite(a) else "n/a"
            room = ((a - 0.02 - lo) if inside else (hi - np.nan_to_num(a) - 0.02)) * px_per_unit
            margin = 2 * item.textItem.document().documentMargin()      # the text item's own padding
            fits = QtGui.QFontMetricsF(item.textItem.font()).horizontalAdvance(text) + margin <= room
            item.setText(text if fits else "")
            item.setAnchor((1.0, 0.5) if inside else (0.0, 0.5))
            item.setColor("#ffffff" if inside else self.theme.foreground)
            item.setPos((a - 0.02) if inside else (np.nan_to_num(a) + 0.02), i)

    def _set_cmap(self, cmap: pg.ColorMap) -> None:
        self.cmap = cmap
        self.image.setColorMap(cmap)
        # black or white text for each of 256 cell colours, whichever contrasts more
        self._ink = [c.name() for c in colormaps.text_colours_on(cmap, [i / 255 for i in range(256)])]
        self._shown = [[None] * len(row) for row in self.cell_text]
        self._update_texts()                  # the counts take the new ink at once

    def _theme_changed(self) -> None:
        self._key = None                      # redraw everything at the next render (the bar labels' colour)
        self._shown = [[None] * len(row) for row in self.cell_text]

    # ------------------------------------------------------------------------------------------ cells
    def _build_cells(self, classes: tuple[str, ...]) -> None:
        """(Re)create the k x k text items: only when the classes change, never per frame."""
        for row in self.cell_text:
            for item in row:
                self.plot.removeItem(item)
        for item in self.bar_text:
            self.bar_plot.removeItem(item)
        self._classes = classes
        k = len(classes)
        self.cell_text = []
        for i in range(k):
            row = []
            for j in range(k):
                item = pg.TextItem("", anchor=(0.5, 0.5))
                item.setPos(j, i)
                self.plot.addItem(item)
                row.append(item)
            self.cell_text.append(row)
        self._shown = [[None] * k for _ in range(k)]
        self.bar_text = []
        for i in range(k):
            item = pg.TextItem("", anchor=(0.0, 0.5), color=self.theme.foreground)
            item.setPos(0.0, i)
            self.bar_plot.addItem(item)
            self.bar_text.append(item)
        if k:
            self.plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0)
        self._fit_text()

    def _normalised_toggled(self, on: bool) -> None:
        self._fit_text()
        self._update_texts()

    def _update_texts(self) -> None:
        k = len(self.cell_text)
        if k == 0 or self._conf.shape != (k, k):
            return
        many = k > 10
        for i in range(k):
            for j in range(k):
                n = int(self._conf[i, j])
                f = self._frac[i, j]
                if self.normalised:
                    text = "\u2013" if not np.isfinite(f) else (f"{f:.2f}".lstrip("0") if many and f < 1 else f"{f:.2f}")
                    if many and n == 0:
                        text = ""
                else:
                    text = "" if (many and n == 0) else str(n)
                colour = self._ink[int(round(255 * (f if np.isfinite(f) else 0.0)))]
                if self._shown[i][j] != (text, colour):       # TextItem updates are the expensive part
                    self._shown[i][j] = (text, colour)
                    item = self.cell_text[i][j]
                    item.setText(text)
                    item.setColor(colour)

    def _fit_text(self, *args) -> None:
        """Cell text and axis names sized to the cells (legible from the back row, never overlapping)."""
        self._update_compact()
        k = len(self._classes)
        if k == 0:
            for name in ("left", "bottom"):
                self.plot.getAxis(name).setTicks([[]])
            self._left_labels = []
            return
        vb = self.plot.vb
        w, h = vb.width(), vb.height()
        if w < 20 or h < 20:
            w, h = 500.0, 360.0
        cell_w, cell_h = w / k, h / k
        digits = len(str(int(self._conf.max()))) if self._conf.size else 1     # the widest text in a cell
        digits = max(digits, 4 if self.normalised else 0)                      # "0.95"
        px = int(np.clip(min(cell_h * 0.45, cell_w * 0.32), 10, 24))
        f = style.font()
        f.setPixelSize(px)
        f.setBold(k <= 10)
        widest = QtGui.QFontMetricsF(f).horizontalAdvance("8" * digits)
        if widest > 0.92 * cell_w:                                # smaller only where a count would not fit
            f.setPixelSize(max(7, int(px * 0.92 * cell_w / widest)))
        for row in self.cell_text:
            for item in row:
                item.setFont(f)
        bf = style.font()
        bf.setPixelSize(int(np.clip(cell_h * 0.4, 9, 16)))
        for item in self.bar_text:
            item.setFont(bf)
        self._place_bar_texts()
        char_px = style.FONT_PT * 0.75
        x_chars = max(1, int(cell_w / char_px) - 1)
        names = self._classes
        bottom, left = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        numbered = any(len(c) > x_chars for c in names)
        if numbered:      # names do not fit under the columns: number them, and name the numbers on the left
            bottom.setTicks([[(j, str(j)) for j in range(k)]])
            left_labels = [f"{_short(c, 14)}  {i}" for i, c in enumerate(names)]
        else:
            bottom.setTicks([[(j, c) for j, c in enumerate(names)]])
            left_labels = [_short(c, 14) for c in names]
        line = QtGui.QFontMetricsF(left.style["tickFont"] or style.font()).height()
        every = max(1, int(np.ceil(line / max(cell_h, 1.0))))    # rows too short for a name each: every n-th
        if (left_labels, every) != (self._left_labels, self._left_every):
            self._left_labels, self._left_every = left_labels, every
            left.setTicks([[(i, s) for i, s in enumerate(left_labels) if i % every == 0]])
            plotting.fit_axis_width(left, left_labels)
        if numbered != self._numbered:
            self._numbered = numbered
            plotting.set_axis_label(bottom, "predicted class (numbered as on the left)" if numbered
                                  else "predicted class", self.theme)

    # ------------------------------------------------------------------------------------------ hover
    def _cell_info(self, x: float, y: float) -> str | None:
        i, j = int(round(y)), int(round(x))
        k = self._conf.shape[0]
        if not (0 <= i < k and 0 <= j < k):
            return None
        row = int(self._conf[i].sum())
        frac = self._frac[i, j]
        pct = f"{100 * frac:.1f} %" if np.isfinite(frac) else "n/a"
        return (f"true \u201c{self._classes[i]}\u201d, predicted \u201c{self._classes[j]}\u201d: "
                f"{int(self._conf[i, j])} of {row} examples ({pct})")

    def _bar_info(self, x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < min(len(self._classes), self._per_class.size):
            return None
        a = self._per_class[i]
        acc = f"{100 * a:.1f} %" if np.isfinite(a) else "n/a (no validation examples of this class)"
        return f"class \u201c{self._classes[i]}\u201d: accuracy {acc}"

    # ------------------------------------------------------------------------------------------ clicks
    def set_examples(self, tokens: list) -> None:
        """The validation examples' tokens (``dataset.val.tokens``), to list the sentences behind a cell."""
        self._val_tokens = list(tokens)

    def members(self, i: int, j: int) -> list[tuple[int, int]]:
        """(validation example, position) of every target of true class i predicted as j, last evaluation."""
        return confusion_members(self._cells, i, j)

    def show_cell(self, i: int, j: int) -> None:
        """List the examples behind cell (i, j): sentence, and for labelling the token's position."""
        k = self._conf.shape[0]
        if not (0 <= i < k and 0 <= j < k):
            return
        self._open_cell = (i, j)
        rows = self.members(i, j)
        self.examples_list.clear()
        for ex, pos in rows:
            toks = [plotting.display_token(t) for t in self._val_tokens[ex]] if ex < len(self._val_tokens) else []
            if pos >= 0 and pos < len(toks):
                word = toks[pos]
                toks[pos] = f"[{word}]"
                text = f"#{ex}, token {pos + 1} \u201c{word}\u201d: {' '.join(toks)}"
            else:
                text = f"#{ex}: {' '.join(toks)}"
            item = QtWidgets.QListWidgetItem(text if len(text) <= 200 else text[:199] + "\u2026")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, (ex, pos))
            self.examples_list.addItem(item)
        what = "tokens" if rows and rows[0][1] >= 0 else "examples"
        self.examples_title.setText(
            f"true \u201c{self._classes[i]}\u201d, predicted \u201c{self._classes[j]}\u201d: "
            f"{len(rows)} validation {what} (count {int(self._conf[i, j])}); click one to make it the probe")
        self.examples_box.setVisible(True)

    def hide_cell(self) -> None:
        self._open_cell = None
        self.examples_box.setVisible(False)

    def _scene_clicked(self, event) -> None:
        if self.stack.currentIndex() != 0 or self._conf.size == 0:
            return
        pos = event.scenePos()
        if not self.plot.vb.sceneBoundingRect().contains(pos):
            return
        p = self.plot.vb.mapSceneToView(pos)
        self.show_cell(int(round(p.y())), int(round(p.x())))

    def _example_clicked(self, item) -> None:
        ex, _pos = item.data(QtCore.Qt.ItemDataRole.UserRole)
        self.exampleChosen.emit(int(ex))
