"""Zip bombs and oversized members in checkpoints and sessions: refused from the headers and the file's own
settings, before anything large is inflated, with memory staying small (measured with tracemalloc)."""
from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.errors import CheckpointError
from rnnviz.core.files import json_to_array, read_npz
from rnnviz.core.files.npz import BOMB_BYTES
from rnnviz.core.io.checkpoint import load_checkpoint, save_checkpoint
from rnnviz.core.io.session import load_session, save_session
from rnnviz.core.train.trainer import LOSS_CAP, Trainer

MB = 2**20


def _header(shape, descr="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def _zeros_member(zf: zipfile.ZipFile, name: str, shape, descr="<f4") -> None:
    """A member declaring ``shape`` of zeros, streamed in 1 MB blocks (deflated it is a few hundred kB)."""
    nbytes = int(np.prod(shape)) * np.dtype(descr).itemsize
    with zf.open(name, "w", force_zip64=True) as fh:
        fh.write(_header(shape, descr))
        block = bytes(MB)
        for start in range(0, nbytes, MB):
            fh.write(block[: min(MB, nbytes - start)])


def _copy_with(src, dst, replace: dict, compression=zipfile.ZIP_DEFLATED):
    """``src`` copied to ``dst``; members named in ``replace`` (name -> shape) become deflated zeros."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression, compresslevel=1) as zout:
        for item in zin.infolist():
            if item.filename in replace:
                _zeros_member(zout, item.filename, replace[item.filename])
            else:
                zout.writestr(item.filename, zin.read(item.filename))
    return dst


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    t = Trainer(Config(dataset="negation", n_examples=100, hidden=6, epochs=1))
    for _ in range(3):
        t.step()
    folder = tmp_path_factory.mktemp("bombs")
    save_checkpoint(folder / "ckpt.npz", t)
    save_session(folder / "sess.npz", t)
    return t, folder


def _refused_small(load, path, *words) -> str:
    """``load(path)`` is refused with ``words`` in the message while tracemalloc sees less than 8 MB."""
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as info:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    text = str(info.value)
    assert all(w in text for w in words), text
    assert text.startswith(str(path)) and "\n" not in text
    assert peak < 8 * MB, f"{peak / MB:.1f} MB allocated before refusing"
    return text


def test_a_deflated_member_that_expands_hundreds_of_times_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        _zeros_member(zf, "zeros.npy", (BOMB_BYTES // 4 + 1024,))
    assert path.stat().st_size < 2 * MB
    _refused_small(read_npz, path, "member zeros.npy would expand", "zip bomb", "uncompressed")


def test_a_checkpoint_member_larger_than_its_settings_allow(trained, tmp_path):
    _, folder = trained
    # U of a model of 35 tokens and hidden 6 is 6 x 35 numbers; this one declares 40 MB (under the ratio check)
    bomb = _copy_with(folder / "ckpt.npz", tmp_path / "ckpt.npz", {"param/U.npy": (10 * MB,)})
    assert bomb.stat().st_size < 1 * MB
    _refused_small(load_checkpoint, bomb, "member param/U declares 40.0 MB", "its settings allow at most")


def test_a_session_history_longer_than_the_trainer_keeps(trained, tmp_path):
    _, folder = trained
    bomb = _copy_with(folder / "sess.npz", tmp_path / "sess.npz",
                      {"hist/loss/values.npy": (LOSS_CAP * 200, 1)})
    _refused_small(load_session, bomb, "member hist/loss/values declares", "its settings allow at most")


def test_an_unknown_large_member_is_refused(trained, tmp_path):
    _, folder = trained
    path = tmp_path / "extra.npz"
    with zipfile.ZipFile(folder / "sess.npz") as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
        _zeros_member(zout, "extra/blob.npy", (4 * MB,))
    _refused_small(load_session, path, "unknown member extra/blob declares 16.0 MB")


def test_settings_that_cannot_be_read_allow_only_small_members(trained, tmp_path):
    _, folder = trained
    path = tmp_path / "nosettings.npz"
    with zipfile.ZipFile(folder / "ckpt.npz") as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == "config.json.npy":
                buf = io.BytesIO()
                np.save(buf, json_to_array({"hidden": "lots"}))
                zout.writestr(item.filename, buf.getvalue())
            elif item.filename == "param/W.npy":
                _zeros_member(zout, item.filename, (2 * MB,))
            else:
                zout.writestr(item.filename, zin.read(item.filename))
    _refused_small(load_checkpoint, path, "its settings cannot be read", "param/W holds 8.0 MB")


def test_settings_of_a_model_over_the_memory_budget(trained, tmp_path, monkeypatch):
    _, folder = trained
    monkeypatch.setenv("RNNVIZ_MEMORY_MB", "64")
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(folder / "ckpt.npz") as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json.npy":
                settings = json.loads(np.load(io.BytesIO(data)).tobytes())
                buf = io.BytesIO()
                np.save(buf, json_to_array({**settings, "hidden": 2048}))   # W alone: 4 M numbers
                data = buf.getvalue()
            zout.writestr(item.filename, data)
    _refused_small(load_checkpoint, path, "too large to load here", "setting 'hidden'", "RNNVIZ_MEMORY_MB=64")


def test_good_files_still_load(trained):
    trainer, folder = trained
    assert load_checkpoint(folder / "ckpt.npz").meta["step"] == trainer.step_count
    assert load_session(folder / "sess.npz").step == trainer.step_count
