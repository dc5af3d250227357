"""The hover read-out: exact values under the mouse, in a line under the plots (so nothing is covered)."""
from __future__ import annotations

import weakref
from typing import Callable, Iterable

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

READOUT = "rnnvizReadout"       # the Qt property that marks a hover read-out label


def is_readout(label: QtWidgets.QLabel) -> bool:
    """``label`` is a panel's hover read-out (presentation mode gives its line to the plots)."""
    return bool(label.property(READOUT))


class HoverReadout:
    """Shows exact values under the mouse in a QLabel (outside the plots, so nothing is covered).

    ``targets``: pairs ``(plot_item, text_at)``, where ``text_at(x, y)`` gets view coordinates (log10 on log axes)
    and returns the text or None. All plots must share one scene (one GraphicsView).
    """

    def __init__(self, view: pg.GraphicsView, out: QtWidgets.QLabel, targets: Iterable[tuple],
                 idle_text: str = "Hover over a plot for exact values."):
        self.out = out
        self.targets: list[tuple] = []
        for plot, text_at in targets:
            self.add(plot, text_at)
        self.idle_text = idle_text
        out.setText(idle_text)
        # the read-out never makes its panel wider: a long text is shortened with "…" (whole in the tooltip)
        out.setProperty(READOUT, True)
        out.setMinimumWidth(1)
        out.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        # A plain object with a direct connection: text_at is cheap, so no rate limit is needed. Both a
        # pg.SignalProxy and a QObject parented to the view here made the garbage collector segfault when a
        # panel with many scene items was collected (PySide6 6.11); tests/gui/test_panels.py guards against it.
        view.scene().sigMouseMoved.connect(self._moved)

    def add(self, plot: pg.PlotItem, text_at: Callable[[float, float], str | None]) -> None:
        # a panel's own methods are held weakly: no reference cycle keeps a closed panel alive for the
        # garbage collector, whose clean-up order makes pyqtgraph items call into half-cleared objects
        ref = weakref.WeakMethod(text_at) if hasattr(text_at, "__self__") else (lambda f=text_at: f)
        self.targets.append((plot, ref))

    def _moved(self, pos) -> None:
        self.at_scene(pos)

    def at_scene(self, pos: QtCore.QPointF) -> str:
        """Update the read-out for scene position ``pos``; returns the text shown."""
        for plot, ref in self.targets:
            text_at = ref()
            if text_at is not None and plot.isVisible() and plot.vb.sceneBoundingRect().contains(pos):
                p = plot.vb.mapSceneToView(pos)
                text = text_at(p.x(), p.y())
                if text:
                    self._show(text)
                    return text
        self._show(self.idle_text)
        return self.idle_text

    def _show(self, text: str) -> None:
        room = self.out.contentsRect().width()
        shown = self.out.fontMetrics().elidedText(text, QtCore.Qt.TextElideMode.ElideRight, room) if room > 40 else text
        self.out.setText(shown)
        self.out.setToolTip(text if shown != text else "")
