"""Every export of the window (PNG, SVG, CSV) is written the atomic way: a failure at the last moment (the rename),
a full disk, or a place that cannot be written leaves the previous file as it was, no temporary behind, and one
line in the dialog naming the file."""
from __future__ import annotations

import errno
import os

import pytest

from rnnviz.core.errors import MESSAGE_LIMIT
from rnnviz.core.files import TMP_SUFFIX
from rnnviz.core.files import atomic as atomic_files

from qt_helpers import no_leaks, open_window, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, size=(1200, 800))
    ctl = win.controller
    ctl.step_batch(5)
    win.show_snapshot(wait_snapshot(qtbot, ctl, lambda s: s.step == 5), everything=True)
    yield win
    win.close()
    qtbot.waitUntil(lambda: not ctl.thread.isRunning(), timeout=5000)


def _exports(win, path):
    actions = win.session_actions
    return {"panel.png": lambda: actions.export_view("loss", str(path)),
            "panel.svg": lambda: actions.export_view("loss", str(path)),
            "window.png": lambda: actions.export_view(None, str(path)),
            "metrics.csv": lambda: actions.export_metrics(str(path))}


def test_a_failed_export_keeps_the_previous_file(window, tmp_path, monkeypatch):
    for kind in ("panel.png", "panel.svg", "window.png", "metrics.csv"):
        for failure in ("rename", "disk_full"):
            _failed_export(window, tmp_path / failure, monkeypatch, kind, failure)


def _failed_export(window, folder, monkeypatch, kind, failure):
    folder.mkdir(exist_ok=True)
    path = folder / kind
    errors = []
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append(text))
    assert _exports(window, path)[kind]() == path          # a first export works
    before = path.read_bytes()
    assert len(before) > 100

    def boom(*_a, **_k):
        raise OSError(errno.ENOSPC if failure == "disk_full" else errno.EIO, "injected")

    if failure == "rename":
        monkeypatch.setattr(os, "replace", boom)
    else:
        real = atomic_files.write_temp

        def half_then_full(tmp, write, mode):
            real(tmp, lambda fh: fh.write(b"half a file"), mode)
            boom()

        monkeypatch.setattr(atomic_files, "write_temp", half_then_full)
    assert _exports(window, path)[kind]() is None
    monkeypatch.undo()
    assert path.read_bytes() == before, (kind, failure)
    assert [p.name for p in folder.iterdir() if p.name.endswith(TMP_SUFFIX)] == []
    (text,) = errors
    assert text.startswith(f"{path}: could not be written: ") and "\n" not in text and len(text) <= MESSAGE_LIMIT
    assert "previous file is unchanged" in text
    if failure == "disk_full":
        assert "the disk is full" in text


def test_an_export_to_an_impossible_place_is_one_line(window, tmp_path, monkeypatch):
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "file").write_text("x")
    for path in ("/dev/null", str(tmp_path / "folder.png"), str(tmp_path / "file" / "x.png")):
        errors = []
        monkeypatch.setattr(window, "show_error", lambda title, text, errors=errors: errors.append(text))
        assert window.session_actions.export_view("loss", path) is None
        (text,) = errors
        assert text.startswith(path) and "\n" not in text
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null") and os.path.isdir(tmp_path / "folder.png")
