"""SVG export draws scatter symbols as paths: a validation dot is a small red circle, not the whole cached symbol
sheet squeezed into it. Checked in Qt's own SVG renderer and, when it is installed, in a second one (rsvg-convert)."""
from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from rnnviz.gui.features import export
from rnnviz.gui.panels.loss import LossPanel

from snapshot_factory import make_snapshot

RED = QColor("#d62728")       # the validation dots' colour (style.colour(1))


def _image(arr_source: QImage) -> np.ndarray:
    img = arr_source.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = img.constBits()
    return np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width(), :3].copy()


def _qt_render(path, size) -> np.ndarray:
    image = QImage(size.width(), size.height(), QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    QSvgRenderer(str(path)).render(painter)
    painter.end()
    return _image(image)


def _red_mask(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return (abs(r - RED.red()) < 40) & (abs(g - RED.green()) < 40) & (abs(b - RED.blue()) < 40)


@pytest.fixture
def loss_panel(qtbot):
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 420)
    panel.show()
    qtbot.waitExposed(panel)
    snap = make_snapshot(step=600)
    panel.render(snap)
    qtbot.wait(50)
    return panel, snap


def test_svg_dots_are_vector_circles_not_the_symbol_sheet(loss_panel, tmp_path):
    panel, snap = loss_panel
    path = tmp_path / "loss.svg"
    size = export.save_svg(panel, path)
    root = ET.parse(path).getroot()
    # no bitmap squeezed into a dot (the only image is the plot's background, as large as the plot)
    assert all(float(e.get("width")) > 100 and float(e.get("height")) > 100
               for e in root.iter() if e.tag.endswith("image"))
    # each validation dot is a filled circle path in the dots' colour: one per evaluation, on both plots
    dots = [g for g in root.iter() if g.tag.endswith("}g") and g.get("fill") == RED.name()
            and any(p.tag.endswith("path") and " C" in p.get("d", "") for p in g)]
    assert len(dots) == len(snap.val_steps)
    # the dots are where the panel draws them: as many red blobs in the Qt rendering as on screen
    shown = _image(panel.grab().toImage())
    drawn = _qt_render(path, size)
    assert _red_mask(drawn).sum() > 0
    on_screen = _red_mask(shown).mean()
    assert abs(_red_mask(drawn).mean() - on_screen) < 0.5 * on_screen


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed")
def test_a_second_renderer_draws_the_same_picture(loss_panel, tmp_path):
    panel, _snap = loss_panel
    path = tmp_path / "loss.svg"
    size = export.save_svg(panel, path)
    out = tmp_path / "rsvg.png"
    subprocess.run(["rsvg-convert", "-b", "white", "-w", str(size.width()), "-h", str(size.height()), "-o", str(out),
                    str(path)], check=True, timeout=60)
    other = _image(QImage(str(out)))
    qt = _qt_render(path, size)
    assert other.shape == qt.shape
    # the same red dots in both (positions agree within a few pixels), and the pictures as a whole agree
    red_qt, red_other = _red_mask(qt), _red_mask(other)
    assert red_other.sum() > 0
    assert abs(int(red_qt.sum()) - int(red_other.sum())) < 0.3 * red_qt.sum()
    ys, xs = np.nonzero(red_qt)
    yo, xo = np.nonzero(red_other)
    assert abs(xs.mean() - xo.mean()) < 3 and abs(ys.mean() - yo.mean()) < 3
    diff = np.abs(qt.astype(int) - other.astype(int)).mean()
    assert diff < 12, diff                            # text antialiasing differs a little; the picture does not
