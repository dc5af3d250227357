"""The DotCloud (thousands of same-coloured dots in one paint call) draws a dot of its size at every finite point
and nothing elsewhere, and gives back the data it was given."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore
from PySide6.QtGui import QImage

from rnnviz.gui.panels.dot_cloud import DotCloud


def shown_plot(qtbot, width: int, height: int) -> pg.PlotWidget:
    """A white plot of 0..10 × 0..10 on screen."""
    view = pg.PlotWidget(background="w")
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    view.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    return view


def red_pixels(view) -> np.ndarray:
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(
        image.height(), image.bytesPerLine() // 4, 4)[:, :image.width()]
    return (pixels[..., 2] > 200) & (pixels[..., 1] < 80) & (pixels[..., 0] < 80)       # BGRA


def test_a_dot_at_every_finite_point_and_nothing_elsewhere(qtbot):
    view = shown_plot(qtbot, 400, 300)
    view.getPlotItem().hideAxis("left")
    view.getPlotItem().hideAxis("bottom")
    x = np.array([1.0, 3.0, 5.0, 7.0, np.nan, 9.0])
    y = np.array([2.0, 8.0, 5.0, 1.0, 4.0, np.nan])
    cloud = DotCloud(size=8, brush=(255, 0, 0))
    view.addItem(cloud)
    cloud.setData(x, y)
    gx, gy = cloud.getData()
    assert np.array_equal(gx, x, equal_nan=True) and np.array_equal(gy, y, equal_nan=True)
    assert cloud.dataBounds(0) == (1.0, 7.0) and cloud.dataBounds(1) == (1.0, 8.0)   # finite points only
    qtbot.wait(50)
    red = red_pixels(view)
    vb = view.getPlotItem().vb
    centres = []
    for px, py in zip(x[:4], y[:4]):
        p = view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(px, py)))
        centres.append((p.y(), p.x()))
        assert red[p.y() - 2:p.y() + 3, p.x() - 2:p.x() + 3].all()                     # a filled dot there
    rows, cols = np.nonzero(red)
    far = [min(np.hypot(r - cy, c - cx) for cy, cx in centres) for r, c in zip(rows, cols)]
    assert max(far) <= 5.5                                                             # nothing but dots of 8 px
    cloud.setData([], [])
    assert cloud.boundingRect().isEmpty() and cloud.dataBounds(0) == (None, None)


def test_set_size_redraws_the_dots_at_the_new_size(qtbot):
    view = shown_plot(qtbot, 300, 300)
    cloud = DotCloud(size=5, brush=(255, 0, 0))
    view.addItem(cloud)
    cloud.setData([5.0], [5.0])
    qtbot.wait(50)
    small = int(red_pixels(view).sum())
    cloud.setSize(15)
    qtbot.wait(50)
    big = int(red_pixels(view).sum())
    assert cloud.pixelPadding() == 7.5
    # a disc's area grows with the square of its diameter: 9 times, less the antialiased rim's share
    assert 5 * small < big < 12 * small, (small, big)
