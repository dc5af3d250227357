"""Export what the window shows: a panel or the whole window as PNG or SVG, the metrics as CSV.

PNG of a panel: pyqtgraph's ``ImageExporter`` on the panel's plot scene (the plots at their on-screen size, without
the check boxes under them); panels without a plot scene, and the whole window, through ``QWidget.grab``.
SVG: ``QSvgGenerator`` (QtSvg ships with PySide6-Essentials) painting the widget, so text stays text and curves
stay vector paths; heatmaps are embedded images. Every picture is drawn into memory first and written with
``core.files`` (temporary file, fsync, rename: ``gui.pictures``), as the CSV is: a kill or a full disk mid-export
leaves the previous file, never a torn one. The plot items are told they are being exported (pyqtgraph's
``setExportMode``, as its own exporters do), so scatter symbols are drawn as paths: otherwise each symbol is a
fragment of a cached symbol sheet, which the SVG engine cannot cut out and embeds whole (every validation dot was
the 768x167 sheet squeezed into 9x9 px). Curves are drawn in data coordinates with a scaling transform and a
hairline ("cosmetic") pen, which Qt writes as ``vector-effect="non-scaling-stroke"``; renderers that ignore it
(librsvg) scale the line width with the data and paint wide bands, so those paths are rewritten in page
coordinates (``flatten_strokes``). pyqtgraph's own ``SVGExporter`` is not used: with pyqtgraph 0.14 on PySide6
6.11 it raises on every plot of this app ("not enough values to unpack" in correctCoordinates).

CSV: one row per training step kept in the Snapshot (``train_steps``, ``train_loss``) merged with one row per
evaluation (``val_steps``: ``val_loss``, ``val_loss_per_token``, ``val_accuracy``, ``val_perplexity``) on the
step, plus the markers; an empty cell where a row has no such value. Numbers are written with ``repr`` so they read
back exactly. Losses are in nats per sequence as on screen (``core.snapshot.LOSS_UNIT``), plus nats per token.
"""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.core.errors import OutputError, RnnvizError
from rnnviz.core.files import atomic_write_bytes, atomic_write_text
from rnnviz.gui import pictures

FORMATS = ("png", "svg")
CSV_COLUMNS = ("step", "train_loss", "val_loss", "val_loss_per_token", "val_accuracy", "val_perplexity", "marker")
# losses are in core.snapshot.LOSS_UNIT (nats per sequence), val_loss_per_token in nats per token: as on screen


class ExportError(RnnvizError):
    """An export that could not be written (the message names the file)."""


def _suffix(path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ExportError(f"{path}: choose a .png or .svg file name (got {path.suffix or 'no extension'})")
    return kind


def _plot_view(widget: QtWidgets.QWidget) -> Any:
    """The panel's one pyqtgraph GraphicsView, when it has exactly one (the Panel base registers them)."""
    views = getattr(widget, "_views", None) or []
    return views[0] if len(views) == 1 else None


def _save(path: Path, write: Any) -> None:
    """Run a ``pictures`` / ``files`` save, turning a failed write into an ExportError naming the file. The folder
    must exist (the file dialog only offers existing ones; a typed path to nowhere is a mistake, not a request)."""
    if not path.parent.is_dir():
        raise ExportError(f"{path}: could not be written (no folder {path.parent})")
    try:
        write()
    except OutputError as exc:
        raise ExportError(str(exc)) from None


def save_png(widget: QtWidgets.QWidget, path: str | Path, plots_only: bool = True) -> QtCore.QSize:
    """``widget`` as a PNG at its on-screen size; for a panel, its plot scene. Returns the image size."""
    path = Path(path)
    view = _plot_view(widget) if plots_only else None
    if view is not None and view.width() > 0 and view.height() > 0:
        import pyqtgraph.exporters as exporters

        exporter = exporters.ImageExporter(view.scene())
        exporter.parameters()["width"] = view.width()      # the exporter keeps the aspect ratio
        image = exporter.export(toBytes=True)
    else:
        image = widget.grab().toImage()
    if image is None or image.isNull():
        raise ExportError(f"{path}: nothing to draw (the widget has no size yet)")
    _save(path, lambda: pictures.save_png(image, path))
    return image.size()


def save_svg(widget: QtWidgets.QWidget, path: str | Path, title: str = "") -> QtCore.QSize:
    """``widget`` (children included) as an SVG of its on-screen size. Returns that size."""
    path = Path(path)
    size = widget.size()
    if size.width() <= 0 or size.height() <= 0:
        raise ExportError(f"{path}: nothing to draw (the widget has no size yet)")
    items = _plot_items(widget)

    def paint(painter: QtGui.QPainter) -> None:
        try:
            for item in items:
                item.setExportMode(True, {"antialias": True})
            QtWidgets.QWidget.render(widget, painter, QtCore.QPoint(0, 0))   # not the panel's own render(snapshot)
        finally:
            for item in items:
                item.setExportMode(False)

    data = pictures.svg_bytes(paint, size, title or "rnnviz", "Exported from rnnviz")
    if not data:
        raise ExportError(f"{path}: the picture could not be drawn as SVG")
    data, _n = flatten_strokes(data)
    _save(path, lambda: atomic_write_bytes(path, data))
    return size


SVG_NS = "http://www.w3.org/2000/svg"
_MATRIX = re.compile(r"matrix\(([^)]*)\)")
_PATH_TOKEN = re.compile(r"([A-Za-z])|(-?[\d.]+(?:[eE][-+]?\d+)?),(-?[\d.]+(?:[eE][-+]?\d+)?)")


def _moved_path(d: str, m: tuple[float, ...]) -> str | None:
    """The path data ``d`` (absolute M, L, C, Q, Z commands, as Qt writes them) mapped through the matrix ``m``;
    None for anything else."""
    a, b, c, dd, e, f = m
    out = []
    for cmd, x, y in _PATH_TOKEN.findall(d):
        if cmd:
            if cmd not in "MLCQZ":
                return None
            out.append(cmd)
        else:
            X, Y = float(x), float(y)
            out.append(f"{a * X + c * Y + e:.6g},{b * X + dd * Y + f:.6g}")
    return " ".join(out)


def flatten_strokes(svg: bytes) -> tuple[bytes, int]:
    """The SVG text ``svg`` with the groups of hairline paths drawn through a transform
    (``vector-effect="non-scaling-stroke"``) rewritten in page coordinates, so every SVG renderer draws them as on
    screen; and the number of paths rewritten."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.ElementTree(ET.fromstring(svg))
    done = 0
    for group in tree.iter(f"{{{SVG_NS}}}g"):
        match = _MATRIX.fullmatch(group.get("transform", ""))
        kids = list(group)
        if not match or not kids or not all(k.tag == f"{{{SVG_NS}}}path"
                                            and k.get("vector-effect") == "non-scaling-stroke" for k in kids):
            continue
        matrix = tuple(float(v) for v in match.group(1).split(","))
        moved = [_moved_path(k.get("d", ""), matrix) for k in kids]
        if len(matrix) != 6 or any(d is None for d in moved):
            continue
        for kid, d in zip(kids, moved):
            kid.set("d", d)
            del kid.attrib["vector-effect"]
        del group.attrib["transform"]
        done += len(kids)
    out = io.BytesIO()
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out.getvalue(), done


def _plot_items(widget: QtWidgets.QWidget) -> list[Any]:
    """Every pyqtgraph item in the plot scenes shown inside ``widget`` (the ones that take an export mode)."""
    import pyqtgraph as pg

    views = ([widget] if isinstance(widget, pg.GraphicsView) else []) + widget.findChildren(pg.GraphicsView)
    return [item for view in views if view.scene() is not None for item in view.scene().items()
            if hasattr(item, "setExportMode")]


def export_widget(widget: QtWidgets.QWidget, path: str | Path, title: str = "",
                  plots_only: bool = True) -> QtCore.QSize:
    """PNG or SVG by the file's extension."""
    path = Path(path)
    kind = _suffix(path)
    return save_png(widget, path, plots_only) if kind == "png" else save_svg(widget, path, title)


def _num(x: float) -> str:
    x = float(x)
    return "" if math.isnan(x) else repr(x)


def metrics_rows(snapshot: Any) -> list[dict[str, str]]:
    """The CSV rows of ``snapshot``: steps sorted, training and validation values merged on the step."""
    rows: dict[int, dict[str, str]] = {}

    def row(step: int) -> dict[str, str]:
        return rows.setdefault(int(step), {c: "" for c in CSV_COLUMNS} | {"step": str(int(step))})

    for step, loss in zip(np.asarray(snapshot.train_steps), np.asarray(snapshot.train_loss)):
        row(step)["train_loss"] = _num(loss)
    for i, step in enumerate(np.asarray(snapshot.val_steps)):
        r = row(step)
        r["val_loss"] = _num(snapshot.val_loss[i])
        per_token = getattr(snapshot, "val_loss_per_token", ())
        r["val_loss_per_token"] = _num(per_token[i]) if len(per_token) == len(snapshot.val_loss) else ""
        r["val_accuracy"] = _num(snapshot.val_accuracy[i])
        r["val_perplexity"] = _num(snapshot.val_perplexity[i])
    for step, text in getattr(snapshot, "markers", ()) or ():
        r = row(step)
        r["marker"] = f"{r['marker']}; {text}" if r["marker"] else str(text)
    return [rows[s] for s in sorted(rows)]


def csv_text(rows: list[dict[str, str]]) -> str:
    """``rows`` as CSV text, header first (the csv module's line ends, as a spreadsheet expects)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_metrics_csv(snapshot: Any, path: str | Path) -> int:
    """Write the metrics of ``snapshot`` to ``path`` (header first, atomically). Returns the number of data rows."""
    path = Path(path)
    if snapshot is None:
        raise ExportError(f"{path}: nothing to export yet (no training step has been drawn)")
    rows = metrics_rows(snapshot)
    text = csv_text(rows)
    _save(path, lambda: atomic_write_text(path, text))
    return len(rows)
