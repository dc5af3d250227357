"""Thousands of same-coloured dots drawn in one call (the state-space panel's states).

pyqtgraph's ScatterPlotItem keeps a style record per point and looks each one up in its symbol atlas on every
``setData``: for the 20 000 states of a big model's state-space frame that took most of the panel's refresh.
A ``DotCloud`` keeps the points as two arrays and paints one pre-drawn dot (an antialiased disc of ``size``
pixels, with an outline when given a pen) at each of them with one ``QPainter.drawPixmapFragments`` call, as ScatterPlotItem does for
its cached symbols, whatever the zoom (pixel mode). Measured on the 5 000 states of the big model's frame: a wide
round pen's ``drawPoints`` took 10-15 ms a paint, the fragments about 1 ms. It has the parts of a plot item the panel and its legend use: ``setData``, ``getData``,
``setBrush`` / ``setPen`` / ``setSize``, ``dataBounds`` / ``pixelPadding`` (auto-range) and ``opts`` (the legend's sample draws a dot of its brush).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from pyqtgraph.Qt.internals import PrimitiveArray     # pyqtgraph's array of QPainter.PixmapFragment
from PySide6 import QtCore, QtGui


class DotCloud(pg.GraphicsObject):
    """Dots of one colour: ``DotCloud(size=6, brush=colour, pen=None)`` (``pen``: an outline); ``setData(x, y)``
    (NaN points are not drawn)."""

    def __init__(self, size: float = 6.0, brush=None, pen=None):
        super().__init__()
        self.opts = {"pen": pen, "brush": fn.mkBrush(brush), "symbol": "o", "size": float(size)}
        self._x = self._y = np.zeros(0)
        self._xy = np.zeros((0, 2))               # the finite points
        self._bounds = QtCore.QRectF()
        self._rect: QtCore.QRectF | None = None   # boundingRect, until the data or the view's scale changes
        self._dot: tuple[float, QtGui.QPixmap] | None = None     # (device pixel ratio, the dot drawn for it)
        self._fragments = PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)

    def setData(self, x, y) -> None:     # noqa: N802 (pyqtgraph's name)
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self._x, self._y = x, y
        keep = np.isfinite(x) & np.isfinite(y)
        self._xy = np.column_stack([x[keep], y[keep]])                       # (n, 2)
        self.prepareGeometryChange()
        self._rect = None
        if len(self._xy):
            lo, hi = self._xy.min(axis=0), self._xy.max(axis=0)
            self._bounds = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._bounds = QtCore.QRectF()
        self.informViewBoundsChanged()
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:     # noqa: N802
        return self._x, self._y

    def setBrush(self, brush) -> None:     # noqa: N802
        self.opts["brush"] = fn.mkBrush(brush)
        self._dot = None
        self.update()

    def setPen(self, pen) -> None:     # noqa: N802
        self.opts["pen"] = pen
        self._dot = None
        self.update()

    def setSize(self, size: float) -> None:     # noqa: N802
        self.opts["size"] = float(size)
        self._dot = None
        self.prepareGeometryChange()
        self._rect = None
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):     # noqa: N802
        if not len(self._xy):
            return None, None
        r = self._bounds
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def pixelPadding(self) -> float:     # noqa: N802
        return self.opts["size"] / 2

    def boundingRect(self) -> QtCore.QRectF:     # noqa: N802
        """The data's rectangle and half a dot of pixels around it, in data units (kept until the data or the
        view's scale changes: the scene asks for it many times a paint)."""
        if self._rect is None:
            if not len(self._xy):
                self._rect = QtCore.QRectF()
            else:
                px, py = self.pixelVectors()
                pad_x = 0.0 if px is None else px.length() * self.pixelPadding()
                pad_y = 0.0 if py is None else py.length() * self.pixelPadding()
                self._rect = self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)
        return self._rect

    def viewTransformChanged(self) -> None:     # noqa: N802 (the pixel padding changes with the zoom)
        self.prepareGeometryChange()
        self._rect = None

    def _dot_pixmap(self, dpr: float) -> QtGui.QPixmap:
        """The dot, drawn once for the screen's device pixel ratio (and again when it or the brush changes)."""
        if self._dot is None or self._dot[0] != dpr:
            side = int(np.ceil(self.opts["size"] * dpr)) + 2
            pixmap = QtGui.QPixmap(side, side)
            pixmap.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(pixmap)
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            pen = self.opts["pen"]
            if pen is None:
                p.setPen(QtCore.Qt.PenStyle.NoPen)
            else:
                outline = QtGui.QPen(fn.mkPen(pen))
                outline.setWidthF(outline.widthF() * dpr)
                p.setPen(outline)
            p.setBrush(self.opts["brush"])
            radius = self.opts["size"] * dpr / 2
            p.drawEllipse(QtCore.QPointF(side / 2, side / 2), radius, radius)
            p.end()
            self._dot = (dpr, pixmap)
        return self._dot[1]

    def paint(self, painter: QtGui.QPainter, option=None, widget=None) -> None:
        n = len(self._xy)
        if not n:
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        dot = self._dot_pixmap(dpr)
        xy = fn.transformCoordinates(painter.transform(), self._xy.T)        # (2, n) in device pixels
        painter.save()
        painter.resetTransform()
        self._fragments.resize(n)
        frags = self._fragments.ndarray()                                    # (n, 10)
        frags[:, 0:2] = np.clip(xy.T, -2 ** 30, 2 ** 30)                     # the centre of each dot
        frags[:, 2:6] = [0, 0, dot.width(), dot.height()]                    # the whole pixmap
        frags[:, 6:10] = [1 / dpr, 1 / dpr, 0.0, 1.0]                        # scale x, y, rotation, opacity
        painter.drawPixmapFragments(*self._fragments.drawargs(), dot)
        painter.restore()
