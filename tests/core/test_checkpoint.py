"""Checkpoints: identical predictions after a round trip; damaged or foreign files refused clearly."""
import io
import json
import zipfile

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.data.batch import make_batch
from rnnviz.core.errors import CheckpointError
from rnnviz.core.io.checkpoint import load_checkpoint, save_checkpoint
from rnnviz.core.train.trainer import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    t = Trainer(Config(dataset="names", n_examples=200, hidden=8, cell="gru", bidirectional=True))
    for _ in range(5):
        t.step()
    path = tmp_path_factory.mktemp("ck") / "model.npz"
    save_checkpoint(path, t)
    return t, path


def test_round_trip_identical_predictions(trained):
    t, path = trained
    ck = load_checkpoint(path)
    batch = make_batch(t.dataset.val, np.arange(10), t.pad_id, t.dataset.task)
    np.testing.assert_array_equal(ck.model.predict(batch.ids, batch.lengths), t.model.predict(batch.ids, batch.lengths))
    assert ck.config == t.config and ck.classes == t.dataset.classes
    assert ck.vocab.tokens == t.dataset.vocab.tokens and ck.meta["step"] == 5


def test_no_pickle_objects_accepted(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"meta.json": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item, data)


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize("case, words", [
    ("truncated", "not a readable"),
    ("not_zip", "not a readable"),
    ("foreign", "not an rnnviz checkpoint"),
    ("newer", "newer"),
    ("bad_shape", "shape"),
    ("missing_param", "missing"),
    ("nan", "NaN"),
])
def test_damaged_files_give_clear_errors(trained, tmp_path, case, words):
    _, good = trained
    bad = tmp_path / f"{case}.npz"
    if case == "truncated":
        bad.write_bytes(good.read_bytes()[:500])
    elif case == "not_zip":
        bad.write_bytes(b"hello, I am a text file")
    elif case == "foreign":
        np.savez(bad, weights=np.zeros(3))
    elif case == "newer":
        meta = json.dumps({"format": "rnnviz-checkpoint", "version": 99}).encode()
        _rewrite(good, bad, lambda n, d: _npy(np.frombuffer(meta, np.uint8)) if n == "meta.json.npy" else d)
    elif case == "bad_shape":
        _rewrite(good, bad, lambda n, d: _npy(np.zeros((1000, 3))) if n == "param/W.npy" else d)
    elif case == "missing_param":
        _rewrite(good, bad, lambda n, d: None if n == "param/V.npy" else d)
    elif case == "nan":
        _rewrite(good, bad, lambda n, d: _npy(np.full_like(np.load(io.BytesIO(d)), np.nan)) if n == "param/c.npy" else d)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(bad)
    assert words in str(info.value) and str(bad) in str(info.value)


def test_save_is_atomic(trained, tmp_path, monkeypatch):
    t, good = trained
    target = tmp_path / "keep.npz"
    target.write_bytes(good.read_bytes())
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        save_checkpoint(target, t)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]
