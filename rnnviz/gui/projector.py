"""Presentation (projector) mode for any window: every font and tick 1.3x larger, every line twice as thick, the
hover read-outs and the window's chrome (dock, menu bar, status bar: what the host names) hidden, full screen, and
each panel's own change (``Panel.set_projector``: the heatmaps' strong colour maps). F11 or Ctrl+P goes in and out.
The main window (``features.presentation``, with its theme menu) and the A/B race window use this one engine.

Scaling is done in place on the panels' existing items (so other features' connections to the panels survive);
each change records how to undo it, and leaving runs the undos in reverse. Items a panel makes while the mode is
on (a new model's curves) are scaled by ``refresh`` (call it after the panels drew a frame); the panels' own text
sizes come from ``style.FONT_PT`` / ``TITLE_PT`` / ``SMALL_PT``, which are scaled while the mode is on.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from rnnviz.gui import style
from rnnviz.gui import style as theme_mod
from rnnviz.gui.panels import hover

FONT_SCALE = 1.3
SYMBOL_SCALE = 1.25
LINE_SCALE = 2.0
KEYS = ("F11", "Ctrl+P")
_MARK = "_rnnviz_presented"


def _scaled_font(f: QFont, k: float) -> QFont:
    g = QFont(f)
    if g.pointSizeF() > 0:
        g.setPointSizeF(g.pointSizeF() * k)
    elif g.pixelSize() > 0:
        g.setPixelSize(int(round(g.pixelSize() * k)))
    return g


def _size_text(size: Any, k: float) -> Any:
    """'13pt' -> '20.8pt' (pyqtgraph's LabelItem sizes); other values unchanged."""
    if isinstance(size, str) and size.endswith("pt"):
        try:
            return f"{float(size[:-2]) * k:.1f}pt"
        except ValueError:
            return size
    return size


def _thick(pen: Any, k: float) -> Any:
    p = pg.mkPen(pen)
    p.setWidthF(max(p.widthF(), 1.0) * k)
    return p


class Projector:
    """Presentation mode of ``window``. ``panels()``: the widgets to scale (panels, or any widget holding plots);
    ``chrome()``: the widgets to hide; ``redraw()``: draw the newest data again. ``action``: the F11 / Ctrl+P
    QAction (added to the window)."""

    def __init__(self, window: QWidget, panels: Callable[[], Iterable[QWidget]],
                 chrome: Callable[[], Iterable[QWidget]] = lambda: (), redraw: Callable[[], None] | None = None):
        self.window = window
        self.panels = lambda: list(panels())
        self.chrome = lambda: [w for w in chrome() if w is not None]
        self.redraw = redraw
        self.on = False
        self.fullscreen = True          # False for offscreen renders (the size is chosen by the caller)
        self._undo: list[Callable[[], None]] = []
        self._saved: dict[str, Any] = {}
        act = QAction("Presentation mode", window)
        act.setCheckable(True)
        act.setShortcuts([QKeySequence(k) for k in KEYS])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setToolTip("Projector mode: large fonts and ticks, thick lines, no settings dock, full screen, "
                       "strong colours (F11 or Ctrl+P; the same key goes back)")
        act.triggered.connect(lambda _c=False: self.toggle())
        window.addAction(act)
        self.action = act

    def theme_name(self) -> str:
        return style.current["theme"]

    # --- on and off -------------------------------------------------------------------------------------
    def toggle(self) -> None:
        self.leave() if self.on else self.enter()

    def enter(self) -> None:
        if self.on:
            return
        w = self.window
        app = QApplication.instance()
        self._saved = {
            "consts": (style.FONT_PT, style.TITLE_PT, style.SMALL_PT),
            "chrome": [(c, not c.isHidden()) for c in self.chrome()],
            "app_font": QFont(app.font()) if app else None,
            "state": w.windowState(),
        }
        self.on = True
        style.FONT_PT, style.TITLE_PT, style.SMALL_PT = (v * FONT_SCALE for v in self._saved["consts"])
        if app is not None:
            app.setFont(_scaled_font(app.font(), FONT_SCALE))
        theme_mod.set_widget_theme(self.theme_name(), FONT_SCALE, window=w)
        for widget, _shown in self._saved["chrome"]:
            widget.hide()            # the room for the plots; every key (Space, S, E, R, F11...) still works
        self._hide_readouts()
        self._scale_all()
        self._set_projector(True)
        if self.fullscreen and w.isVisible():
            w.showFullScreen()
        self.action.setChecked(True)
        self._redraw()

    def leave(self) -> None:
        if not self.on:
            return
        w = self.window
        for undo in reversed(self._undo):
            try:
                undo()
            except RuntimeError:        # the item was deleted meanwhile (a new model's curves)
                pass
        self._undo.clear()
        self._unmark()
        self.on = False
        style.FONT_PT, style.TITLE_PT, style.SMALL_PT = self._saved["consts"]
        app = QApplication.instance()
        if app is not None and self._saved.get("app_font") is not None:
            app.setFont(self._saved["app_font"])
        theme_mod.set_widget_theme(self.theme_name(), 1.0, window=w)
        self._set_projector(False)
        for widget, shown in self._saved["chrome"]:
            widget.setVisible(shown)
        if self.fullscreen and w.isFullScreen():
            w.setWindowState(self._saved["state"])
        self.action.setChecked(False)
        self._redraw()

    # --- scaling items ----------------------------------------------------------------------------------
    def _record(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def _views(self, panel: QWidget) -> list[pg.GraphicsView]:
        return ([panel] if isinstance(panel, pg.GraphicsView) else []) + panel.findChildren(pg.GraphicsView)

    def _scale_all(self) -> None:
        for panel in self.panels():
            self._scale_widgets(panel)
            for view in self._views(panel):
                self._scale_scene(view)

    def _hide_readouts(self) -> None:
        """The hover read-outs ("Hover over a plot for exact values.") give their line to the plots: a room
        cannot read a value under the lecturer's mouse anyway."""
        from PySide6.QtWidgets import QLabel

        for panel in self.panels():
            for label in panel.findChildren(QLabel):
                if hover.is_readout(label) and not label.isHidden():
                    label.hide()            # again after a panel re-shows it (the Predictions page switch)
                    if not getattr(label, "_rnnviz_readout_hidden", False):
                        label._rnnviz_readout_hidden = True
                        self._record(lambda lab=label: (lab.show(), delattr(lab, "_rnnviz_readout_hidden")))

    def _scale_widgets(self, panel: QWidget) -> None:
        for widget in [panel] + panel.findChildren(QWidget):
            if getattr(widget, _MARK, False) or not widget.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                continue
            old = QFont(widget.font())
            widget.setFont(_scaled_font(old, FONT_SCALE))
            setattr(widget, _MARK, True)
            self._record(lambda w=widget, f=old: w.setFont(f))

    def _scale_scene(self, view: pg.GraphicsView) -> None:
        scene = view.scene()
        if scene is None:
            return
        k, lk = FONT_SCALE, LINE_SCALE
        for item in scene.items():
            if getattr(item, _MARK, False):
                continue
            setattr(item, _MARK, True)
            if isinstance(item, pg.AxisItem):
                self._scale_axis(item)
            elif isinstance(item, pg.LabelItem):
                old = dict(item.opts)
                if "size" in old:
                    item.setText(item.text, size=_size_text(old["size"], k))
                    self._record(lambda it=item, o=old: it.setText(it.text, size=o["size"]))
            elif isinstance(item, pg.PlotDataItem):
                pen, size = item.opts.get("pen"), item.opts.get("symbolSize")
                if pen is not None:
                    item.setPen(_thick(pen, lk))
                    self._record(lambda it=item, p=pg.mkPen(pen): it.setPen(p))
                if item.opts.get("symbol") is not None and size:
                    item.setSymbolSize(size * SYMBOL_SCALE)
                    self._record(lambda it=item, s=size: it.setSymbolSize(s))
            elif isinstance(item, pg.InfiniteLine):
                pen = pg.mkPen(item.pen)
                item.setPen(_thick(pen, lk))
                self._record(lambda it=item, p=pen: it.setPen(p))
            elif isinstance(item, pg.TextItem):
                old = QFont(item.textItem.font())
                item.setFont(_scaled_font(old, k))
                self._record(lambda it=item, f=old: it.setFont(f))
            elif isinstance(item, pg.ScatterPlotItem) and not isinstance(item.parentItem(), pg.PlotDataItem):
                size = item.opts.get("size")
                if size:
                    item.setSize(size * SYMBOL_SCALE)
                    self._record(lambda it=item, s=size: it.setSize(s))

    def _scale_axis(self, axis: pg.AxisItem) -> None:
        k = FONT_SCALE
        style = dict(axis.style)
        offset = int(style["tickTextOffset"][0 if axis.orientation in ("left", "right") else 1])
        tick_font = style.get("tickFont") or QFont()
        axis.setStyle(tickFont=_scaled_font(tick_font, k), tickLength=int(round(style["tickLength"] * k)),
                      tickTextOffset=int(round(offset * k)))
        label_style = dict(axis.labelStyle)
        if "font-size" in label_style:
            axis.labelStyle = {**label_style, "font-size": _size_text(label_style["font-size"], k)}
            axis._updateLabel()
        pen = pg.mkPen(axis.pen())
        axis.setPen(_thick(pen, LINE_SCALE))
        fw, fh = axis.fixedWidth, axis.fixedHeight
        if fw is not None:
            axis.setWidth(int(round(fw * k)))
        if fh is not None:
            axis.setHeight(int(round(fh * k)))

        def undo(a=axis, s=style, ls=label_style, p=pen, fw=fw, fh=fh, off=offset):
            a.setStyle(tickFont=s.get("tickFont"), tickLength=s["tickLength"], tickTextOffset=off)
            a.labelStyle = ls
            a._updateLabel()
            a.setPen(p)
            a.setTextPen(a.textPen())
            if fw is not None:
                a.setWidth(fw)
            if fh is not None:
                a.setHeight(fh)
        self._record(undo)

    def _unmark(self) -> None:
        for panel in self.panels():
            for widget in [panel] + panel.findChildren(QWidget):
                if getattr(widget, _MARK, False):
                    delattr(widget, _MARK)
            for view in self._views(panel):
                if view.scene() is not None:
                    for item in view.scene().items():
                        if getattr(item, _MARK, False):
                            delattr(item, _MARK)

    # --- what each panel changes itself ------------------------------------------------------------------
    def _set_projector(self, on: bool) -> None:
        """Each panel's own change (its registry spec's ``projector``: e.g. strong colour maps on the heatmaps)."""
        for panel in self.panels():
            if hasattr(panel, "set_projector"):
                panel.set_projector(on)

    # --- after the panels draw ----------------------------------------------------------------------------
    def _fit_titles(self) -> None:
        """pyqtgraph's setTitle fixes the title row at 30 px: let large titles have the height they need."""
        for panel in self.panels():
            for view in self._views(panel):
                if view.scene() is None:
                    continue
                for item in view.scene().items():
                    if isinstance(item, pg.PlotItem) and item.titleLabel.isVisible():
                        need = item.titleLabel.item.boundingRect().height() + 6
                        if item.layout.rowMinimumHeight(0) < need:
                            item.titleLabel.setMaximumHeight(need)
                            item.layout.setRowFixedHeight(0, need)

    def _fit_axis_labels(self) -> None:
        """A vertical axis title longer than its (now shorter) plot would run into the next plot's: make it
        smaller until it fits, never below the normal (unscaled) SMALL_PT; leaving restores the sizes with the
        axis's other styles."""
        floor = self._saved.get("consts", (0, 0, style.SMALL_PT))[2]
        for panel in self.panels():
            for view in self._views(panel):
                if view.scene() is None:
                    continue
                for axis in view.scene().items():
                    if not (isinstance(axis, pg.AxisItem) and axis.orientation in ("left", "right")
                            and axis.label.isVisible() and "font-size" in axis.labelStyle):
                        continue
                    room = axis.geometry().height() - 4
                    width = axis.label.boundingRect().width()
                    size = float(str(axis.labelStyle["font-size"])[:-2])
                    if room > 0 and width > room and size > floor:
                        new = max(floor, size * room / width)
                        axis.labelStyle = {**axis.labelStyle, "font-size": f"{new:.1f}pt"}
                        axis._updateLabel()

    def refresh(self, _snap: Any = None) -> None:
        """After the panels drew a frame: scale the items they have just made, give titles their height."""
        if self.on:
            self._scale_all()
            self._hide_readouts()
            self._fit_titles()
            self._fit_axis_labels()

    def after_reset(self, _info: Any = None) -> None:
        """Connect to the host's new-model signal: the panels made new items, scaled once they exist."""
        if self.on:
            QTimer.singleShot(0, self._rescale_new)

    def _rescale_new(self) -> None:
        if self.on:
            self._scale_all()
            self._fit_titles()

    def _redraw(self) -> None:
        """The host draws its newest data twice (the second time every plot has its new size)."""
        if self.redraw is not None:
            self.redraw()
            self.refresh()
            self.redraw()
        self.refresh()
