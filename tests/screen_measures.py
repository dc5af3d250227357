"""Measuring a window as a person sees it: plot sizes, the tick labels each axis draws, texts that do not fit
(plot titles, axis titles, labels, status-bar fields) and texts drawn over curves. Used by the layout tests and
handy from a script (``python -c "import screen_measures"`` with tests/ on the path)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QAbstractButton, QLabel, QSizePolicy, QWidget


def drawn_ticks(axis: pg.AxisItem) -> list[tuple[QRectF, str]]:
    """The tick labels ``axis`` draws now: (rectangle in scene coordinates, text), empty texts left out."""
    if not axis.isVisible() or not axis.style.get("showValues", True) or axis.geometry().isEmpty():
        return []
    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if not specs:
        return []
    return [(axis.mapRectToScene(QRectF(rect)), text) for rect, _flags, text in specs[2] if str(text).strip()]


def wanted_ticks(axis: pg.AxisItem, least: int = 3) -> int:
    """Tick labels ``axis`` should show: ``least``, or for set ticks (categories) all of its labels in view when
    there are fewer."""
    if axis._tickLevels is None:
        return least
    lo, hi = sorted(axis.range)
    inside = [s for level in axis._tickLevels[:1] for v, s in level if str(s).strip() and lo <= v <= hi]
    return min(least, len(inside))


def few_ticks(m: "PlotMeasure") -> dict:
    """Axis -> (drawn, wanted) for the axes of ``m`` that show fewer tick labels than they should."""
    return {a: (len(t), m.wanted.get(a, 3)) for a, t in m.ticks.items() if len(t) < m.wanted.get(a, 3)}


def title_clipped(plot: pg.PlotItem) -> bool:
    """The plot's title does not fit its row (too wide, or wrapped into more lines than the row holds)."""
    label = plot.titleLabel
    if not label.isVisible() or not label.text or not str(label.text).strip():
        return False
    text = label.itemRect()
    room = label.geometry()
    return text.width() > room.width() + 1 or text.height() > room.height() + 1


def axis_title_clipped(axis: pg.AxisItem) -> bool:
    """The axis title is longer than its axis."""
    if not axis.isVisible() or not axis.label.isVisible() or not axis.labelText:
        return False
    long = axis.label.boundingRect().width()
    room = axis.geometry().height() if axis.orientation in ("left", "right") else axis.geometry().width()
    return long > room


def label_clipped(label: QLabel) -> bool:
    """A visible QLabel whose text does not fit it (a word-wrapped one: not in its height)."""
    if not label.isVisible() or not label.text():
        return False
    if label.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored:
        return False            # a hover read-out: shortened with "…" as it is set, whole in its tooltip
    if hasattr(label, "clipped"):
        return label.clipped()
    if label.wordWrap():
        return label.heightForWidth(label.width()) > label.height() + 1
    hint = label.sizeHint().width()
    return hint > label.width() + 1


@dataclass
class PlotMeasure:
    panel: str
    title: str
    width: float                    # the data area (ViewBox), px
    height: float
    ticks: dict = field(default_factory=dict)        # axis name -> drawn tick texts
    wanted: dict = field(default_factory=dict)       # axis name -> how many tick labels it should show (3, or all
                                                     # of a categorical axis's labels when it has fewer)
    title_clipped: bool = False
    axis_titles_clipped: list = field(default_factory=list)
    texts_over_curves: list = field(default_factory=list)


def plain(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", str(html or "")).replace("&nbsp;", " ").strip()


def curve_rects(plot: pg.PlotItem) -> list[QRectF]:
    """Scene rectangles of each curve's visible points (the data the texts must leave free)."""
    rects = []
    for item in plot.listDataItems():
        if not item.isVisible():
            continue
        x, y = item.getData()
        if x is None or len(x) == 0:
            continue
        x, y = np.asarray(x, float), np.asarray(y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            continue
        pts = [plot.vb.mapViewToScene(pg.Point(float(a), float(b))) for a, b in zip(x[ok], y[ok])]
        xs, ys = [p.x() for p in pts], [p.y() for p in pts]
        rect = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)).intersected(plot.vb.sceneBoundingRect())
        rects.append(rect)
    return rects


def texts_in(plot: pg.PlotItem) -> list[tuple[str, QRectF]]:
    """Texts drawn inside the plot's data area: TextItems and the labels of lines (scene rectangles)."""
    out = []
    for item in plot.vb.addedItems:
        if not item.isVisible():
            continue
        if isinstance(item, pg.TextItem) and item.toPlainText().strip():
            out.append((item.toPlainText(), item.mapRectToScene(item.boundingRect())))
        label = getattr(item, "label", None)
        if isinstance(item, pg.InfiniteLine) and label is not None and label.isVisible() and \
                label.toPlainText().strip():
            out.append((label.toPlainText(), label.mapRectToScene(label.boundingRect())))
    return out


def plots_of(widget: QWidget) -> list[pg.PlotItem]:
    plots = []
    for view in widget.findChildren(pg.GraphicsView):
        if not view.isVisible() or view.scene() is None:
            continue
        plots += [i for i in view.scene().items() if isinstance(i, pg.PlotItem) and i.isVisible()
                  and i.scene() is not None]
    return plots


def measure_plots(widget: QWidget, name: str = "") -> list[PlotMeasure]:
    out = []
    for plot in plots_of(widget):
        vb = plot.vb.sceneBoundingRect()
        m = PlotMeasure(name, plain(plot.titleLabel.text)[:40], vb.width(), vb.height())
        for key in ("left", "bottom", "right"):
            axis = plot.getAxis(key)
            if axis.isVisible() and axis.style.get("showValues", True):
                m.ticks[key] = [t for _r, t in drawn_ticks(axis)]
                m.wanted[key] = wanted_ticks(axis)
            if axis_title_clipped(axis):
                m.axis_titles_clipped.append(key)
        m.title_clipped = title_clipped(plot)
        curves = curve_rects(plot)
        for text, rect in texts_in(plot):
            if any(rect.intersects(c) for c in curves):
                m.texts_over_curves.append(text)
        out.append(m)
    return out


def clipped_labels(widget: QWidget) -> list[str]:
    """Texts of the visible labels and buttons in ``widget`` that do not fit."""
    out = [lab.text()[:40] for lab in widget.findChildren(QLabel) if label_clipped(lab)]
    for button in widget.findChildren(QAbstractButton):
        if button.isVisible() and button.text():
            need = QFontMetricsF(button.font()).horizontalAdvance(button.text().replace("&", ""))
            if need + 8 > button.width():
                out.append(f"button {button.text()}")
    return out


def status_clipped(window) -> list[str]:
    return [f"{key}: {lab.text()}" for key, lab in window.status_labels.items()
            if lab.isVisible() and lab.clipped()]
