"""Safe files: no pickle or eval anywhere; crafted .npz files refused before allocating; saves are atomic."""
from __future__ import annotations

import io
import os
import struct
import tokenize
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnviz.core import files
from rnnviz.core.config import Config
from rnnviz.core.errors import CheckpointError
from rnnviz.core.files import (
    atomic_save_npz,
    atomic_write,
    check_npz,
    json_from_array,
    json_to_array,
    read_npz,
    require_finite,
)
from rnnviz.core.io.checkpoint import load_checkpoint, save_checkpoint
from rnnviz.core.train.trainer import Trainer

from helpers import REPO

PACKAGE = REPO / "rnnviz"


# ------------------------------------------------------------------------------------------------ source scan
def unsafe_calls(source: str) -> list[str]:
    """Unsafe constructs in Python ``source``, found by tokens (so docstrings and comments never count).

    Flags: eval( / exec( as free functions (``app.exec()`` / ``loop.exec()`` are Qt event loops: fine; so is a method named exec),
    importing pickle, cPickle, dill, marshal or shelve, ``allow_pickle=True``, and ``np.load`` / ``numpy.load``
    without ``allow_pickle=False`` (better: ``checkpoint.read_npz``, which checks sizes before reading).
    """
    toks = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)]
    found = []
    for i, t in enumerate(toks):
        prev = toks[i - 1].string if i else ""
        nxt = toks[i + 1].string if i + 1 < len(toks) else ""
        nxt2 = toks[i + 2].string if i + 2 < len(toks) else ""
        where = f"line {t.start[0]}"
        if t.type != tokenize.NAME:
            continue
        if t.string in ("eval", "exec") and nxt == "(" and prev not in (".", "def"):
            found.append(f"{where}: {t.string}(")
        if t.string in ("pickle", "cPickle", "dill", "marshal", "shelve", "cloudpickle") and prev in ("import",
                                                                                                     "from", ","):
            found.append(f"{where}: import {t.string}")
        if t.string == "allow_pickle" and nxt == "=" and nxt2 == "True":
            found.append(f"{where}: allow_pickle=True")
        if t.string == "load" and prev == "." and i >= 2 and toks[i - 2].string in ("np", "numpy"):
            depth, j, call = 0, i + 1, []
            while j < len(toks):
                depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(toks[j].string, 0)
                call.append(toks[j].string)
                if depth == 0:
                    break
                j += 1
            if "allow_pickle=False" not in "".join(call):
                found.append(f"{where}: np.load without allow_pickle=False")
    return found


def test_the_scanner_finds_what_it_should_and_spares_qt_event_loops():
    bad = ("import pickle\nfrom marshal import loads\nx = eval('1')\nexec('y=2')\n"
           "a = np.load(p, allow_pickle=True)\nb = numpy.load(f(p))\n")
    assert len(unsafe_calls(bad)) == 7
    fine = ('"""eval( and pickle.load in a docstring"""\n# exec( in a comment\napp.exec()\nloop.exec()\n'
            'dialog.exec()\nself._nearest_eval(x)\nread_npz(p)\nnp.load(f(p), allow_pickle=False)\n')
    assert unsafe_calls(fine) == []


def test_no_pickle_eval_or_exec_anywhere_in_the_package():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    problems = [f"{p.relative_to(PACKAGE.parent)} {hit}" for p in files
                for hit in unsafe_calls(p.read_text(encoding="utf-8"))]
    assert problems == []


# ------------------------------------------------------------------------------------------------ crafting
@pytest.fixture(scope="module")
def good(tmp_path_factory):
    t = Trainer(Config(dataset="negation", n_examples=100, hidden=6, epochs=1))
    t.step()
    path = tmp_path_factory.mktemp("safe") / "good.npz"
    save_checkpoint(path, t)
    return t, path


def npy_header(shape, descr="<f8", fortran=False, version=1) -> bytes:
    """A hand-made .npy header (magic, length, dict): no array is ever made."""
    d = "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))
    pad = 64 - (10 + len(d) + 1) % 64
    body = (d + " " * pad + "\n").encode("latin1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(body)) + body


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def rewrite(src, dst, change=lambda name, data: data, extra=(), compression=zipfile.ZIP_STORED):
    """Copy the zip ``src`` to ``dst`` passing each member through ``change`` (None drops it), adding ``extra``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
        for name, data in extra:
            zout.writestr(name, data)
    return dst


def refused(path, *words, reader=load_checkpoint, **kw) -> str:
    with pytest.raises(CheckpointError) as info:
        reader(path, **kw)
    msg = str(info.value)
    assert msg.startswith(f"{path}: "), msg
    for w in words:
        assert w in msg, msg
    assert "\n" not in msg
    return msg


def test_object_array_is_refused_without_unpickling(good, tmp_path):
    _, src = good
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    bad = rewrite(src, tmp_path / "evil.npz", lambda n, d: buf.getvalue() if n == "classes.json.npy" else d)
    refused(bad, "object array", "classes.json.npy")


def test_a_header_claiming_1e12_elements_allocates_nothing(good, tmp_path):
    _, src = good
    huge = npy_header((10**6, 10**6)) + b"\x00" * 64
    bad = rewrite(src, tmp_path / "huge.npz", lambda n, d: huge if n == "param/W.npy" else d)
    tracemalloc.start()
    try:
        refused(bad, "param/W.npy", "1,000,000,000,000 elements")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    # a plausible element count whose data is not there is refused too (no allocation of the claimed size)
    lying = npy_header((4000, 4000)) + b"\x00" * 80
    bad2 = rewrite(src, tmp_path / "lying.npz", lambda n, d: lying if n == "param/W.npy" else d)
    refused(bad2, "declares shape (4000, 4000)", "holds 80 bytes")


@pytest.mark.parametrize("shape", [(-1, 3), (2, 2.5), (1,) * 40])
def test_invalid_shapes_in_the_header(good, tmp_path, shape):
    _, src = good
    bad = rewrite(src, tmp_path / "shape.npz", lambda n, d: npy_header(shape) if n == "param/V.npy" else d)
    refused(bad, "param/V.npy")


def test_zip_bomb_declared_size_is_refused_before_reading(good, tmp_path):
    _, src = good
    bad = rewrite(src, tmp_path / "bomb.npz", compression=zipfile.ZIP_DEFLATED)
    data = bytearray(bad.read_bytes())
    at = data.find(b"PK\x01\x02")                       # first central-directory entry
    data[at + 24 : at + 28] = struct.pack("<I", 0xFFFFFFF0)  # its uncompressed size: ~4 GB
    bad.write_bytes(bytes(data))
    refused(bad, "unpacks to", "zip bomb")


def test_real_deflate_bomb_over_the_limit(tmp_path):
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.npy", npy(np.zeros(3 * 2**20 // 8)))   # 3 MB of zeros, a few kB on disk
    assert bomb.stat().st_size < 100_000
    refused(bomb, "unpacks to 3 MB", reader=read_npz, max_bytes=2**20)
    assert read_npz(bomb)["zeros"].shape == (3 * 2**20 // 8,)  # under the default limit it reads


@pytest.mark.parametrize("descr, words", [("<c16", "dtype complex128"), ("<U5", "dtype <U5"),
                                          ("|S4", "dtype |S4"), ("<M8[s]", "datetime64"),
                                          ([("a", "<f4"), ("b", "<i4")], "only plain numbers")])
def test_non_numeric_dtypes_are_refused(good, tmp_path, descr, words):
    _, src = good
    member = npy_header((2,), descr) + b"\x00" * 64
    bad = rewrite(src, tmp_path / "dtype.npz", lambda n, d: member if n == "param/c.npy" else d)
    refused(bad, "param/c.npy", words)


@pytest.mark.parametrize("case, words", [
    ("int_weights", "parameter W has shape (6, 6) (int32)"),
    ("inf_weights", "parameter U: its weights contain NaN"),
    ("nan_weights", "NaN or infinity"),
    ("no_meta", "not an rnnviz checkpoint (no meta.json)"),
    ("no_config", "no config.json"),
    ("missing_param", "parameter b is missing"),
    ("newer", "newer rnnviz (checkpoint format version 2)"),
    ("bool_version", "checkpoint format version True is damaged"),
    ("negative_step", "step must be a whole number from 0"),
    ("bad_settings", "setting 'hidden'"),
    ("unknown_setting", "setting 'turbo': unknown setting"),
    ("settings_not_dict", "settings are damaged"),
    ("nan_json", "not valid JSON"),
    ("vocab", "vocabulary is damaged"),
    ("classes", "class list is damaged"),
    ("json_as_floats", "meta.json is damaged"),
    ("bad_magic", "not a valid .npy array"),
    ("optim_nan", "optimiser state m is damaged"),
    ("optim_shape", "optimiser state does not match"),
    ("text_member", "'notes.txt' is not a .npy array"),
])
def test_crafted_checkpoints_are_refused(good, tmp_path, case, words):
    trainer, src = good
    arrays = read_npz(src)

    def put(key, arr):
        return lambda n, d: npy(arr) if n == key + ".npy" else d

    def put_json(key, obj):
        return put(key, json_to_array(obj))

    meta = json_from_array(arrays, "meta.json", src)
    settings = json_from_array(arrays, "config.json", src)
    change, extra = (lambda n, d: d), ()
    if case == "int_weights":
        change = put("param/W", arrays["param/W"].astype(np.int32))
    elif case == "inf_weights":
        u = arrays["param/U"].copy()
        u[0, 0] = np.inf
        change = put("param/U", u)
    elif case == "nan_weights":
        change = put("param/V", np.full_like(arrays["param/V"], np.nan))
    elif case == "no_meta":
        change = lambda n, d: None if n == "meta.json.npy" else d  # noqa: E731
    elif case == "no_config":
        change = lambda n, d: None if n == "config.json.npy" else d  # noqa: E731
    elif case == "missing_param":
        change = lambda n, d: None if n == "param/b.npy" else d  # noqa: E731
    elif case == "newer":
        change = put_json("meta.json", {**meta, "version": 2})
    elif case == "bool_version":
        change = put_json("meta.json", {**meta, "version": True})
    elif case == "negative_step":
        change = put_json("meta.json", {**meta, "step": -4})
    elif case == "bad_settings":
        change = put_json("config.json", {**settings, "hidden": -3})
    elif case == "unknown_setting":
        change = put_json("config.json", {**settings, "turbo": 1})
    elif case == "settings_not_dict":
        change = put_json("config.json", [1, 2])
    elif case == "nan_json":
        change = put("meta.json", np.frombuffer(b'{"format": "rnnviz-checkpoint", "step": NaN}', np.uint8))
    elif case == "vocab":
        change = put_json("vocab.json", {"format": "rnnviz-vocab", "version": 1, "tokens": 5})
    elif case == "classes":
        change = put_json("classes.json", ["neg", "neg"])
    elif case == "json_as_floats":
        change = put("meta.json", np.zeros(8))
    elif case == "bad_magic":
        change = lambda n, d: b"\x93NUMPX" + d[6:] if n == "param/V.npy" else d  # noqa: E731
    elif case == "optim_nan":
        change = put("optim/m", np.full_like(arrays["optim/m"], np.nan))
    elif case == "optim_shape":
        change = put("optim/v", np.zeros(3))
    elif case == "text_member":
        extra = (("notes.txt", b"hello"),)
    bad = rewrite(src, tmp_path / f"{case}.npz", change, extra)
    refused(bad, words)


def test_other_files_named_npz(good, tmp_path):
    _, src = good
    data = src.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "truncated.npz", "not a readable .npz archive")
    cut_member = bytearray(data)                      # damage bytes inside a member: the CRC catches it
    at = data.find(b"param/W.npy") + 200
    cut_member[at : at + 40] = b"\xff" * 40
    (tmp_path / "crc.npz").write_bytes(bytes(cut_member))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "crc.npz")
    (tmp_path / "text.npz").write_text("weights = [1, 2, 3]\n", encoding="utf-8")
    refused(tmp_path / "text.npz", "not a readable .npz archive")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", "not a readable .npz archive")
    with zipfile.ZipFile(tmp_path / "plain.npz", "w") as z:
        z.writestr("readme.md", "# not an array")
    refused(tmp_path / "plain.npz", "'readme.md' is not a .npy array")
    with zipfile.ZipFile(tmp_path / "dir.npz", "w") as z:
        z.writestr("sub/", b"")
    refused(tmp_path / "dir.npz", "not a .npy array")
    np.save(tmp_path / "bare.npy", np.zeros(3))
    os.replace(tmp_path / "bare.npy", tmp_path / "bare.npz")
    refused(tmp_path / "bare.npz", "not a readable .npz archive")
    (tmp_path / "folder.npz").mkdir()
    refused(tmp_path / "folder.npz", "is a folder")
    refused(tmp_path / "missing.npz", "no such file")
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    refused(tmp_path / "foreign.npz", "not an rnnviz checkpoint (no meta.json)")


def test_duplicate_member_names_are_refused(good, tmp_path):
    _, src = good
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # zipfile warns about the duplicate it is asked to write
        bad = rewrite(src, tmp_path / "dup.npz", extra=(("param/W.npy", npy(np.zeros((6, 6), np.float32))),))
    refused(bad, "param/W.npy appears twice")


def test_too_many_members(tmp_path):
    path = tmp_path / "many.npz"
    np.savez(path, **{f"a{i}": np.zeros(1) for i in range(20)})
    refused(path, "20 members; at most 10", reader=read_npz, max_entries=10)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_symlink_to_a_device_is_not_read(tmp_path):
    link = tmp_path / "zero.npz"
    link.symlink_to("/dev/zero")
    refused(link, "not a regular file")


def test_read_npz_reads_what_np_savez_wrote(tmp_path):
    arrays = {"f32": np.arange(12, dtype=np.float32).reshape(3, 4), "f64": np.linspace(0, 1, 5),
              "i64": np.array([-3, 7], dtype=np.int64), "u8": np.frombuffer(b"hi", np.uint8),
              "b": np.array([True, False]), "scalar": np.array(2.5), "empty": np.zeros((0, 3)),
              "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "big_endian": np.arange(3, dtype=">i4")}
    path = atomic_save_npz(tmp_path / "a.npz", arrays)
    back = read_npz(path)
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape and np.array_equal(back[k], v), k
    assert back["f32"].flags.writeable
    assert check_npz(path)["f32"] == (np.dtype(np.float32), (3, 4))
    # compressed archives read the same
    np.savez_compressed(tmp_path / "c.npz", **arrays)
    assert all(np.array_equal(read_npz(tmp_path / "c.npz")[k], v) for k, v in arrays.items())


def test_helpers_take_another_error_class_and_limits(tmp_path):
    class SessionError(CheckpointError):
        pass

    np.savez(tmp_path / "s.npz", x=np.zeros(100), text=json_to_array({"a": [1, 2]}))
    with pytest.raises(SessionError, match="at most 10 are allowed"):
        read_npz(tmp_path / "s.npz", max_elements=10, error=SessionError)
    arrays = read_npz(tmp_path / "s.npz")
    assert json_from_array(arrays, "text", "s.npz") == {"a": [1, 2]}
    with pytest.raises(SessionError, match="not an rnnviz session"):
        json_from_array(arrays, "missing", "s.npz", error=SessionError, kind="rnnviz session")
    arrays["x"][3] = np.nan
    with pytest.raises(CheckpointError, match="s.npz: x contains NaN"):
        require_finite(arrays, "s.npz")
    with pytest.raises(ValueError, match="object arrays are never saved"):
        atomic_save_npz(tmp_path / "o.npz", {"o": np.array([None], dtype=object)})
    assert not (tmp_path / "o.npz").exists()


def test_kinds_restricts_dtypes(tmp_path):
    np.savez(tmp_path / "k.npz", i=np.arange(3))
    refused(tmp_path / "k.npz", "member i.npy has dtype int64", reader=read_npz, kinds="f")


# ------------------------------------------------------------------------------------------------ atomic saving
def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("where", ["savez", "fsync", "replace", "interrupt"])
def test_a_crash_mid_save_keeps_the_previous_file(good, tmp_path, monkeypatch, where):
    trainer, src = good
    target = tmp_path / "model.npz"
    target.write_bytes(src.read_bytes())
    before = target.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt() if where == "interrupt" else OSError(28, "No space left on device")

    if where == "savez":
        real = np.savez

        def half(fh, **arrays):   # writes part of the archive, then the disk fills up
            real(fh, **dict(list(arrays.items())[:2]))
            boom()
        monkeypatch.setattr(np, "savez", half)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", boom)
    elif where == "replace":
        monkeypatch.setattr(os, "replace", boom)
    else:
        monkeypatch.setattr(np, "savez", boom)
    with pytest.raises((OSError, KeyboardInterrupt)):
        save_checkpoint(target, trainer)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {"model.npz"}) == []
    load_checkpoint(target)                       # still a good checkpoint


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    def boom(fh):
        fh.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(tmp_path / "new.bin", boom)
    assert list(tmp_path.iterdir()) == []


def test_a_good_save_replaces_the_file_and_leaves_no_temp(good, tmp_path):
    trainer, src = good
    target = tmp_path / "sub" / "model.npz"
    target.parent.mkdir()
    target.write_bytes(b"old content")
    save_checkpoint(target, trainer)
    assert _leftovers(target.parent, {"model.npz"}) == []
    assert load_checkpoint(target).meta["step"] == trainer.step_count
    assert files.MAX_ARRAY_ELEMENTS >= 16 * 4096 * 64   # a legal LSTM with hidden=4096 still fits per array


def test_vocabulary_save_is_atomic(tmp_path, monkeypatch):
    from rnnviz.core.data.text import Vocab

    path = tmp_path / "vocab.json"
    Vocab(["a", "b"]).save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        Vocab(["c"]).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and Vocab.load(path).tokens[4:] == ["a", "b"]
    assert _leftovers(tmp_path, {"vocab.json"}) == []
