"""Pictures written the safe way: Qt draws into memory (PNG or SVG bytes), ``core.files`` writes the bytes.

Qt's own ``QImage.save(path)`` / ``QSvgGenerator.setFileName(path)`` write the target in place, so a kill or a full
disk mid-write leaves a torn or empty picture. Here the picture is encoded into a ``QBuffer`` first and saved with
``atomic_write_bytes`` (temporary file, fsync, rename): the old picture or the new one, never half of one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6 import QtCore, QtGui, QtSvg

from rnnviz.core.errors import OutputError
from rnnviz.core.files import atomic_write_bytes


def _buffer() -> tuple[QtCore.QByteArray, QtCore.QBuffer]:
    data = QtCore.QByteArray()
    buf = QtCore.QBuffer(data)
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    return data, buf


def png_bytes(image: QtGui.QImage | QtGui.QPixmap) -> bytes:
    """``image`` encoded as PNG (empty when Qt cannot encode it)."""
    data, buf = _buffer()
    ok = image.save(buf, "PNG")
    buf.close()
    return bytes(data.data()) if ok else b""


def save_png(image: QtGui.QImage | QtGui.QPixmap, path: str | Path) -> Path:
    """Write ``image`` as a PNG to ``path`` atomically. OutputError naming the path when it cannot be."""
    if image is None or image.isNull():
        raise OutputError(f"{path}: nothing to draw (the picture is empty)")
    data = png_bytes(image)
    if not data:
        raise OutputError(f"{path}: the picture could not be encoded as PNG")
    return atomic_write_bytes(path, data)


def svg_bytes(paint: Callable[[QtGui.QPainter], None], size: QtCore.QSize, title: str,
              description: str = "") -> bytes:
    """What ``paint(painter)`` draws on a ``size`` canvas, as SVG text (empty when the painter cannot start)."""
    data, buf = _buffer()
    generator = QtSvg.QSvgGenerator()
    generator.setOutputDevice(buf)
    generator.setSize(size)
    generator.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
    generator.setTitle(title)
    generator.setDescription(description)
    painter = QtGui.QPainter()
    if not painter.begin(generator):
        buf.close()
        return b""
    try:
        paint(painter)
    finally:
        painter.end()
        buf.close()
    return bytes(data.data())
