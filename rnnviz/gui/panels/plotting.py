"""Plotting helpers every panel shares: axes and their ticks, titles, legends and colour bars, log axes, themes and
small numeric helpers. Colours and fonts come from ``rnnviz.gui.style``; the colour maps are in ``colormaps``, the
reduced heatmaps in ``heatmaps``, the hover read-out in ``hover``.

Panels draw on a white background by default (pyqtgraph's default is black): the window can switch every panel
with ``panel.set_theme("dark")`` later.
"""
from __future__ import annotations

import math
import types
import weakref

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui.style import FONT_PT, SMALL_PT, TITLE_PT, Theme, font, theme

pg.setConfigOptions(antialias=True)

LOG_FLOOR = 1e-12     # zeros on a log axis are drawn here instead of breaking the axis


# ----------------------------------------------------------------------------------------------- plot styling
def set_axis_label(axis: pg.AxisItem, text: str, th: Theme | None = None) -> None:
    """Axis title at a readable size (units belong in ``text``, e.g. "training step"); one longer than its axis
    is shortened with "…" (``fit_axis_title``), never drawn over its neighbours."""
    th = theme(th)
    axis.setLabel(text, **{"font-size": f"{FONT_PT}pt", "color": th.foreground})
    if not getattr(axis, "_rnnviz_fits", False):           # again whenever pyqtgraph redoes the title or it resizes
        axis._rnnviz_fits = True
        ref = weakref.ref(axis)
        redo = type(axis)._updateLabel

        def update_label() -> None:
            a = ref()
            if a is not None:
                redo(a)
                _fit_living(a)
        axis._updateLabel = update_label
        axis.geometryChanged.connect(lambda: ref() is not None and _fit_living(ref()))
    fit_axis_title(axis)


def _in_living_scene(item: QtWidgets.QGraphicsItem) -> bool:
    """Whether ``item``'s scene still exists. A scene being destroyed (its view closed) deletes its items one by
    one; their layouts (QGraphicsLayout: not QObjects, so Python cannot know they are gone) must not be touched
    then. The scene is a QObject whose Python side is marked deleted before its items go."""
    try:
        scene = item.scene()
    except RuntimeError:            # the item itself is already deleted
        return False
    return scene is not None and shiboken6.isValid(scene)


def _fit_living(axis: pg.AxisItem) -> None:
    """``fit_axis_title``, except while the axis's plot is being destroyed (its parts are deleted one by one)."""
    if not _in_living_scene(axis):
        return
    try:
        fit_axis_title(axis)
    except RuntimeError:            # "Internal C++ object already deleted"
        pass


def fit_axis_title(axis: pg.AxisItem) -> bool:
    """Shorten ``axis``'s title with "…" to the length of the axis when it is longer (its font as set). True when
    shortened. Runs when the axis changes size; call it after changing the title's font."""
    label = axis.label
    if not axis.labelText or not label.isVisible():
        return False
    vertical = axis.orientation in ("left", "right")
    length = axis.geometry().height() if vertical else axis.geometry().width()
    room = length - 6
    label.setHtml(axis.labelString())
    if length <= 0 or label.boundingRect().width() <= room:       # not laid out yet, or it fits
        return False
    if room < 20:                   # too short for even a shortened title: none, rather than one over its neighbours
        label.setHtml("")
        return True
    text = axis.labelText
    size = str(axis.labelStyle.get("font-size", f"{FONT_PT}pt"))
    f = QtGui.QFont(label.font())
    if size.endswith("pt"):
        f.setPointSizeF(float(size[:-2]))
    margin = 2 * label.document().documentMargin()
    elided = QtGui.QFontMetricsF(f).elidedText(text, QtCore.Qt.TextElideMode.ElideRight, room - margin - 2)
    axis.labelText = elided
    try:
        label.setHtml(axis.labelString())
    finally:
        axis.labelText = text
    axis.resizeEvent(None)          # centre the shorter title again
    return True


def style_axis(axis: pg.AxisItem, th: Theme | None = None) -> None:
    th = theme(th)
    # major ticks only: fewer marks to read from the back row, and pyqtgraph's grid lines for minor ticks cost
    # ~30 ms a frame to paint when the x range grows every frame
    axis.setStyle(tickFont=font(FONT_PT), tickTextOffset=4, maxTickLevel=0)
    axis.enableAutoSIPrefix(False)       # never "(x1e-3)" next to a label
    axis.setPen(th.foreground)
    axis.setTextPen(th.foreground)
    if axis.orientation in ("top", "bottom"):     # a label at an end may reach this far past the axis (px)
        axis.setStyle(hideOverlappingLabels=int(QtGui.QFontMetricsF(font(FONT_PT)).horizontalAdvance("000") / 2))
    axis.tickSpacing = types.MethodType(_spacing_for_three, axis)
    axis.tickStrings = types.MethodType(_exact_tick_strings, axis)


def _exact_tick_strings(axis: pg.AxisItem, values, scale: float, spacing: float) -> list[str]:
    """pyqtgraph's tick labels with as many decimals as the values need (it takes them from the spacing alone,
    which wrote 1.25 as "1.2" and 2.5 as "2")."""
    if axis.logMode:
        return pg.AxisItem.tickStrings(axis, values, scale, spacing)
    scaled = [v * scale for v in values]
    places = 0
    while places < 8 and any(abs(round(v * 10 ** places) - v * 10 ** places) > 1e-6 * max(1.0, abs(v) * 10 ** places)
                             for v in scaled):
        places += 1
    return [f"{v:g}" if (abs(v) < 0.001 and v != 0) or abs(v) >= 10000 else f"{v:.{places}f}" for v in scaled]


MIN_TICKS = 3       # tick labels every numeric axis shows, when its length leaves room for them


def _nice_below(spacing: float) -> float:
    """The next smaller step of the 1, 2, 2.5, 5 x 10^k series."""
    k = math.floor(math.log10(spacing) + 1e-9)
    m = spacing / 10.0 ** k
    return (0.5 if m < 1.5 else 1.0 if m < 2.2 else 2.0 if m < 3 else 2.5) * 10.0 ** k


def _nice_above(spacing: float) -> float:
    """The next larger step of the 1, 2, 2.5, 5 x 10^k series."""
    k = math.floor(math.log10(spacing) + 1e-9)
    m = spacing / 10.0 ** k
    return (2.0 if m < 1.5 else 2.5 if m < 2.2 else 5.0 if m < 3.5 else 10.0) * 10.0 ** k


def _spacing_for_three(axis: pg.AxisItem, minVal: float, maxVal: float, size: float) -> list:
    """pyqtgraph's tick spacing, coarser where its labels would overlap on a vertical axis, then made finer (1, 2,
    2.5, 5 steps) until at least ``MIN_TICKS`` labels can be drawn (a label that would stick out of the axis is not
    drawn: a short axis showed one or two), as long as they fit; else the same steps shifted by half (50, 150, 250
    instead of 100, 200) when that gives more."""
    levels = pg.AxisItem.tickSpacing(axis, minVal, maxVal, size)
    if not levels or axis._tickSpacing is not None or size <= 0 or not maxVal > minVal:
        return levels
    lo, hi = minVal, maxVal
    spacing, offset = levels[0]
    metrics = QtGui.QFontMetricsF(axis.style.get("tickFont") or font())
    vertical = axis.orientation in ("left", "right")
    per_px = (hi - lo) / size

    def label_px(step: float) -> float:
        if vertical:
            return metrics.height() * 0.8
        return max(metrics.horizontalAdvance(f"{v:g}") for v in (lo, hi, step, hi - step))

    reach = axis.style["hideOverlappingLabels"]         # how far a label may stick out (pyqtgraph's rule;
    reach = 15 if reach is False else 0 if reach is True else int(reach)    # with a grid, not at all)
    if axis.grid is not False:
        reach = 0

    def drawable(step: float, shift: float = 0.0) -> int:
        margin = max(0.0, label_px(step) / 2 - reach) * per_px
        return max(0, math.floor((hi - margin - offset - shift) / step + 1e-9)
                   - math.ceil((lo + margin - offset - shift) / step - 1e-9) + 1)

    gap = 1.0 if vertical else metrics.horizontalAdvance("  ")
    for _ in range(4 if vertical else 0):   # pyqtgraph's step stacks labels (a large font, a short axis): coarser
        if (label_px(spacing) + gap) * per_px <= spacing:
            break
        spacing = _nice_above(spacing)
    for _ in range(4):
        if drawable(spacing) >= MIN_TICKS:
            break
        finer = _nice_below(spacing)
        if (label_px(finer) + gap) * per_px > finer:        # neighbouring labels would overlap
            break
        spacing = finer
    mantissa = spacing / 10.0 ** math.floor(math.log10(spacing) + 1e-9)
    if drawable(spacing) < MIN_TICKS and round(mantissa) in (1, 2, 5) and drawable(spacing, spacing / 2) >= MIN_TICKS:
        offset += spacing / 2        # the ends' labels would stick out: 50, 150, 250 instead of 100, 200
    return [(spacing, offset)] + [level for level in levels[1:] if level[0] < spacing]


def _relaxed_update_min(label: pg.LabelItem) -> None:
    """LabelItem.updateMin without the minimum width: a long title never forces the layout wider than the panel
    (which pushed colour bars and axes out of sight). Instead it wraps onto more lines at the width it has, and
    the title row of its plot grows to hold them (``fit_title``). Nothing while the plot is being destroyed (its
    layout goes first; an error raised inside Qt's resize event there crashed the interpreter)."""
    if not _in_living_scene(label):
        return
    try:
        fit_title(label)
    except RuntimeError:            # "Internal C++ object already deleted": the plot is going away
        return
    r = label.itemRect()
    label.setMinimumWidth(0)
    label.setMinimumHeight(r.height())
    label._sizeHint = {
        QtCore.Qt.SizeHint.MinimumSize: (0, r.height()),
        QtCore.Qt.SizeHint.PreferredSize: (0, r.height()),
        QtCore.Qt.SizeHint.MaximumSize: (-1, -1),
        QtCore.Qt.SizeHint.MinimumDescent: (0, 0),
    }
    label.updateGeometry()


TITLE_PAD = 6       # px of the title row beyond its text


def fit_title(label: pg.LabelItem) -> bool:
    """Wrap ``label``'s text (a plot title) at the width the label has, centred line by line, and make its plot's
    title row tall enough for the lines (never lower than the row height set for the title). True when wrapped.
    Rotated labels and labels not yet laid out (width under 40 px) are left alone."""
    item = label.item
    width = label.geometry().width()
    if label.angle or width < 40:
        return False
    item.setTextWidth(-1)
    natural = item.boundingRect().width()
    wrapped = natural > width + 0.5
    if wrapped:
        item.setTextWidth(width)
        option = item.document().defaultTextOption()
        if option.alignment() != QtCore.Qt.AlignmentFlag.AlignHCenter:
            option.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter)
            option.setWrapMode(QtGui.QTextOption.WrapMode.WordWrap)      # never inside a word
            item.document().setDefaultTextOption(option)
    bounds = label.itemRect()
    bounds.moveCenter(label.rect().center())                    # as LabelItem.resizeEvent centres it
    item.setPos(bounds.topLeft() - label.itemRect().topLeft() + item.pos())
    plot = getattr(label, "_rnnviz_plot", None)
    if plot is not None and label.isVisible():
        base = getattr(label, "_rnnviz_row", None)
        current = plot.layout.rowMinimumHeight(0)
        if base is None or current != getattr(label, "_rnnviz_row_set", None):
            base = label._rnnviz_row = current                  # the height the plot's setTitle chose
        need = max(base, bounds.height() + TITLE_PAD) if base > 0 else 0
        if need != current:
            label._rnnviz_row_set = need
            label.setMaximumHeight(need)
            plot.layout.setRowFixedHeight(0, need)
    return wrapped


def relax_label(label: pg.LabelItem, plot: pg.PlotItem | None = None) -> pg.LabelItem:
    """Make ``label`` (the title of ``plot``) wrap instead of widening the layout (``fit_title``)."""
    label._rnnviz_plot = plot
    label.updateMin = types.MethodType(_relaxed_update_min, label)
    label.updateMin()
    return label


def fit_axis_width(axis: pg.AxisItem, labels: list[str]) -> None:
    """Make a vertical axis wide enough for ``labels`` now (pyqtgraph widens it only after a paint, and until then
    hides the labels that do not fit: the first frame showed every third class name)."""
    metrics = QtGui.QFontMetricsF(axis.style["tickFont"] or font())
    widest = max((metrics.horizontalAdvance(s) for s in labels), default=0.0)
    label_space = metrics.height() + 6 if axis.label.isVisible() else 0
    axis.setWidth(int(np.ceil(widest + axis.style["tickTextOffset"][0] + abs(axis.style["tickLength"]) + label_space + 6)))


def style_plot(plot: pg.PlotItem, title: str | None = None, left: str | None = None, bottom: str | None = None,
               grid: bool = True, th: Theme | None = None) -> pg.PlotItem:
    """Readable fonts, labelled axes, a title and a light grid; no mouse menu clutter."""
    th = theme(th)
    relax_label(plot.titleLabel, plot)
    for name in ("left", "bottom"):
        style_axis(plot.getAxis(name), th)
    if title:
        plot.setTitle(title, size=f"{TITLE_PT}pt", color=th.foreground)
    if left:
        set_axis_label(plot.getAxis("left"), left, th)
    if bottom:
        set_axis_label(plot.getAxis("bottom"), bottom, th)
    if grid:
        plot.showGrid(x=True, y=True, alpha=th.grid_alpha)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    return plot


def set_title(plot: pg.PlotItem, html: str, pt: float = TITLE_PT, th: Theme | None = None) -> None:
    """A plot title that may span several lines (``<br>``); the title row grows to fit (``fit_title``). The row's
    height is set again only when the number of lines or the size changes: setting it on every new text (a title
    with live numbers) re-laid the plot out twice a frame, first at this height, then at the wrapped text's."""
    th = theme(th)
    plot.setTitle(html, size=f"{pt}pt", color=th.foreground)
    lines = html.count("<br>") + 1
    h = int(8 + lines * pt * 1.75)
    label = plot.titleLabel
    if getattr(label, "_rnnviz_title_h", None) != h:
        label._rnnviz_title_h = h
        label.setMaximumHeight(h)
        plot.layout.setRowFixedHeight(0, h)
        if getattr(label, "_rnnviz_plot", None) is not None:      # a relaxed title: its wrapped lines' height
            label._rnnviz_row = label._rnnviz_row_set = h
            fit_title(label)


def make_legend(plot: pg.PlotItem, th: Theme | None = None, offset=(-10, 10), columns: int = 1) -> pg.LegendItem:
    th = theme(th)
    legend = plot.addLegend(offset=offset, labelTextSize=f"{SMALL_PT + 1}pt", labelTextColor=th.foreground,
                            brush=pg.mkBrush(th.legend_brush), pen=pg.mkPen(th.faint), colCount=columns)
    return legend


def make_colorbar(image: pg.ImageItem, plot: pg.PlotItem | None, cmap: pg.ColorMap, levels: tuple[float, float],
                  label_text: str, th: Theme | None = None) -> pg.ColorBarItem:
    """A non-interactive colour bar showing ``levels`` of ``cmap``, inserted right of ``plot`` when given
    (else the caller adds it to a layout itself, e.g. to keep several plots' data areas aligned)."""
    th = theme(th)
    bar = pg.ColorBarItem(values=levels, colorMap=cmap, interactive=False, width=16, colorMapMenu=False)
    bar.setImageItem(image, insert_in=plot)
    style_axis(bar.axis, th)
    bar.axis.setWidth(58)
    set_axis_label(bar.getAxis("left"), label_text, th)
    for key in ("left", "top", "bottom"):
        bar.getAxis(key).setPen(th.foreground)
    return bar


def reserve_colorbar_space(plot: pg.PlotItem, bar: pg.ColorBarItem) -> None:
    """An empty column in ``plot`` as wide as ``bar`` is beside its own plot, so stacked plots line up."""
    spacer = pg.GraphicsWidget()
    spacer.setFixedWidth(bar.preferredWidth())
    plot.layout.addItem(spacer, 2, 5)
    plot.layout.setColumnFixedWidth(4, 5)


def make_dense(curve: pg.PlotDataItem, samples_per_pixel: float = 1.0, method: str = "peak") -> pg.PlotDataItem:
    """Settings for a curve of up to 100k points: downsampling to about one sample per pixel (pyqtgraph's
    default of 5 made antialiased noisy curves cost tens of ms to paint) and clipping to the visible x range.
    "peak" keeps spikes (noisy data); "mean" suits already-smooth curves (half the vertices)."""
    curve.opts["autoDownsampleFactor"] = float(samples_per_pixel)
    curve.setDownsampling(auto=True, method=method)
    curve.setClipToView(True)
    return curve


def apply_theme(view: pg.GraphicsView, th: Theme) -> None:
    """Re-colour everything in ``view``: background, axes, titles, legends."""
    view.setBackground(th.background)
    scene = view.scene()
    if scene is None:
        return
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            style = dict(item.labelStyle)
            style["color"] = th.foreground
            item.labelStyle = style
            item.setPen(th.foreground)
            item.setTextPen(th.foreground)
        elif isinstance(item, pg.LegendItem):
            item.opts["labelTextColor"] = pg.mkColor(th.foreground)
            item.setBrush(pg.mkBrush(th.legend_brush))
            item.setPen(pg.mkPen(th.faint))
        elif isinstance(item, pg.LabelItem):             # titles and legend entries (coloured spans stay)
            item.setAttr("color", th.foreground)
            item.setText(item.text)
        elif isinstance(item, pg.TextItem) and item.fill.style() != QtCore.Qt.BrushStyle.NoBrush:
            item.fill = pg.mkBrush(th.legend_brush)     # labels on lines keep their colour, get the new fill
            item.update()


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def pow10_text(log_value: float, power: bool | None = None) -> str:
    """A tick label for 10**log_value: '0.01', '1', '100' near 1, '10\u207b\u2075' or '2\u00b710\u207b\u2075' far away
    (``power=True`` forces the power form, except for 1)."""
    k = math.floor(log_value + 1e-9)
    m = int(round(10 ** (log_value - k)))
    if m == 10:
        k, m = k + 1, 1
    if power is None:
        power = not -2 <= k <= 3
    if not power or (k == 0 and m == 1):
        return f"{m * 10.0 ** k:.{max(0, -k)}f}"
    p = "10" + str(k).translate(_SUPERSCRIPT)
    return p if m == 1 else f"{m}\u00b7{p}"


class LogAxis(pg.AxisItem):
    """A log axis labelled at powers of ten, thinned so labels never overlap; when that gives fewer than
    ``MIN_TICKS`` labels, also at 3 (or 2 and 5, ...) times them as far as they fit, or else at 3 (2, 5) times them
    instead (0.03, 0.3, 3); unlabelled minor ticks at 2..9 when there is room."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._labelled: np.ndarray = np.zeros(0)

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        if not (np.isfinite(minVal) and np.isfinite(maxVal)) or maxVal <= minVal:
            return []
        text_h = QtGui.QFontMetricsF(self.style.get("tickFont") or font(FONT_PT)).height()
        label_px = max(2.2 * FONT_PT, 1.4 * text_h) if self.orientation in ("left", "right") else 6 * FONT_PT
        max_labels = max(2, int(size / label_px))
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        decades = np.arange(lo, hi + 1, dtype=np.float64)
        reach = text_h / 2 + 1 if self.orientation in ("left", "right") else 0.5 * FONT_PT
        margin = reach * (maxVal - minVal) / size                # a label this close to an end is not drawn
        drawable = [d for d in decades if minVal + margin <= d <= maxVal - margin]
        step = max(1, math.ceil(len(drawable) / max_labels))
        first = 0.0 if 0.0 in drawable else (drawable[0] if drawable else lo)   # keep "1" when it is in view
        major = [d for d in decades if minVal - 1e-9 <= d <= maxVal + 1e-9 and int(d - first) % step == 0]
        mults = np.log10(np.arange(2, 10))
        # fewer than MIN_TICKS labels: add 3, then 2 and 5, then 2, 3, 5, 7 times the decades (as many as fit)
        if len([d for d in major if minVal + margin <= d <= maxVal - margin]) < MIN_TICKS:
            best = major
            for mults_try in ((3,), (2, 5), (2, 3, 5, 7)):
                extra = {d + np.log10(m) for d in decades for m in mults_try}
                trial = sorted(set(major) | {v for v in extra if minVal <= v <= maxVal})
                inside = [d for d in trial if minVal + margin <= d <= maxVal - margin]
                if len(inside) > max_labels:
                    break                                          # they would overlap
                best = trial
                if len(inside) >= MIN_TICKS:
                    break
            major = best
            # still too few: one label a decade at 3 (or 2, or 5) times the powers of ten, when that gives more
            for m in (3, 2, 5):
                if len([d for d in major if minVal + margin <= d <= maxVal - margin]) >= MIN_TICKS or step != 1:
                    break
                series = [d + np.log10(m) for d in decades if minVal <= d + np.log10(m) <= maxVal]
                if len([d for d in series if minVal + margin <= d <= maxVal - margin]) >= MIN_TICKS:
                    major = series
        self._labelled = np.array(major)
        px_per_decade = size / (maxVal - minVal)
        minor = []
        if step == 1 and px_per_decade > 40 and self.style["maxTickLevel"] >= 1:
            minor = [d + m for d in decades for m in mults if minVal <= d + m <= maxVal
                     and not np.isclose(self._labelled, d + m).any()]
        return [(float(step), major), (None, minor)]

    def logTickStrings(self, values, scale, spacing):
        power = any(not -2 <= math.floor(v + 1e-9) <= 3 for v in self._labelled)   # one notation per axis
        out = []
        for v in values:
            labelled = self._labelled.size and np.isclose(self._labelled, v, atol=1e-6).any()
            out.append(pow10_text(v, power) if labelled else "")
        return out


class LazyMenuViewBox(pg.ViewBox):
    """pyqtgraph's ViewBox with its right-click menu (``ViewBoxMenu``: a dozen widgets per plot, a good part of a
    window's start-up) made when it is first asked for, not with the plot. The menu itself is pyqtgraph's."""

    def __init__(self, *args, **kwargs):
        enable = kwargs.pop("enableMenu", True)
        super().__init__(*args, enableMenu=False, **kwargs)
        self.state["enableMenu"] = enable

    def _lazy_menu(self):
        if self.menu is None and self.menuEnabled():
            from pyqtgraph.graphicsItems.ViewBox.ViewBoxMenu import ViewBoxMenu

            self.menu = ViewBoxMenu(self)
            self.updateViewLists()
        return self.menu

    def getMenu(self, ev):                      # noqa: N802 (pyqtgraph name)
        return self._lazy_menu()

    def getContextMenus(self, event):           # noqa: N802 (pyqtgraph name)
        return self._lazy_menu().actions() if self.menuEnabled() else []


class GraphicsLayout(pg.GraphicsLayoutWidget):
    """``pg.GraphicsLayoutWidget`` whose ``addPlot`` gives each plot a ``LazyMenuViewBox`` unless told otherwise
    (pyqtgraph binds ``addPlot`` to its central layout per instance, so it is bound again here)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addPlot = self._add_plot

    def _add_plot(self, *args, **kwargs):
        kwargs.setdefault("viewBox", LazyMenuViewBox())
        return self.ci.addPlot(*args, **kwargs)


def graphics_layout(th: Theme | None = None) -> pg.GraphicsLayoutWidget:
    th = theme(th)
    view = GraphicsLayout()
    view.setBackground(th.background)
    view.ci.setContentsMargins(4, 4, 4, 4)
    return view


# -------------------------------------------------------------------------------------------------- numbers
def nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= x (x > 0); 1 for x <= 0 or non-finite."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    exp = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        v = m * 10.0 ** exp
        if v >= x * (1 - 1e-12):
            return float(v)
    return float(10.0 ** (exp + 1))


def log_safe(a: np.ndarray, floor: float = LOG_FLOOR) -> np.ndarray:
    """Values ready for a log axis: <= 0 becomes ``floor``, +inf a huge value, NaN stays NaN (a gap)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.nan_to_num(a, nan=np.nan, posinf=1e12, neginf=floor)
    return np.maximum(out, floor, where=~np.isnan(out), out=out)


def ema(values: np.ndarray, alpha: float, start: float | None = None) -> np.ndarray:
    """Exponential moving average y_t = (1-alpha) y_{t-1} + alpha x_t, y_0 = x_0 (or continue from ``start``).

    Vectorised in chunks (exact up to rounding): 100k points in ~2 ms. NaN inputs leave the average unchanged.
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.empty_like(x)
    if x.size == 0:
        return out
    finite = np.isfinite(x)
    if start is None or not np.isfinite(start):
        first = np.flatnonzero(finite)
        start = x[first[0]] if first.size else np.nan
    beta = 1.0 - alpha
    chunk = max(8, min(512, int(30.0 / max(-math.log(beta), 1e-9)))) if 0 < alpha < 1 else 512
    j = np.arange(chunk, dtype=np.float64)
    decay_pow = beta ** (j + 1)              # beta^(j+1)
    inv = beta ** (-j)                       # beta^(-i)
    fwd = beta ** j                          # beta^j
    prev = float(start)
    for lo in range(0, x.size, chunk):
        xs = x[lo : lo + chunk]
        n = xs.size
        fin = finite[lo : lo + chunk]
        if fin.all():
            y = decay_pow[:n] * prev + alpha * fwd[:n] * np.cumsum(inv[:n] * xs)
        else:                                # rare (a NaN loss): do it step by step
            y = np.empty(n)
            for i in range(n):
                prev = beta * prev + alpha * xs[i] if fin[i] else prev
                y[i] = prev
        out[lo : lo + n] = y
        prev = float(y[-1])
    return out


def fmt(v: float, digits: int = 4) -> str:
    """A number for a read-out: NaN as 'n/a'."""
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.{digits}g}"


def display_token(tok: str) -> str:
    """Tokens as they should appear on an axis or in a table (spaces and newlines made visible)."""
    return tok.replace(" ", "\u2423").replace("\n", "\u21b5").replace("\t", "\u21e5") if tok else "\u2205"
