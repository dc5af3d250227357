"""Sessions (core, headless): save mid-training, open, train on == never interrupted; damaged files refused."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.errors import CheckpointError, TrainingFault
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.files import atomic_save_npz, json_to_array
from rnnviz.core.io import session as S
from rnnviz.core.io.checkpoint import save_checkpoint
from rnnviz.core.presets import parse_preset
from rnnviz.core.train.trainer import Trainer

from helpers import SESSION_CASES


@pytest.mark.parametrize("name", sorted(SESSION_CASES))
def test_train_save_open_train_equals_uninterrupted(tmp_path, name):
    cfg = SESSION_CASES[name]
    straight, first = Trainer(cfg), Trainer(cfg)
    # the resumed part crosses an epoch boundary (6 steps per epoch; 5 for generation, where evaluating samples text)
    N, M = (4, 3) if cfg.task == "generation" else (17, 19)
    for _ in range(N):
        straight.step()
        first.step()
    straight.apply_live("lr", straight.lr / 2)
    first.apply_live("lr", first.lr / 2)   # a live change: a marker the session must keep
    path = S.save_session(tmp_path / "run.npz", first)
    del first
    resumed = S.open_session(path)
    assert resumed.step_count == N and resumed.markers == straight.markers
    expected = [straight.step() for _ in range(M)]
    got = [resumed.step() for _ in range(M)]
    assert got == expected                                  # bit for bit: same batches, weights, optimiser
    assert np.array_equal(resumed.model.flat, straight.model.flat)
    a, b = build_snapshot(straight), build_snapshot(resumed)
    for key, value in a.arrays().items():
        assert np.array_equal(value, b.arrays()[key], equal_nan=True), key
    for key in a.param_grad_norms:
        assert np.array_equal(a.param_grad_norms[key], b.param_grad_norms[key])
    assert (a.sample_text, a.markers, a.epoch, a.epoch_progress) == (b.sample_text, b.markers, b.epoch,
                                                                      b.epoch_progress)
    assert (a.sample_step, a.sample_prompt) == (b.sample_step, b.sample_prompt)
    assert np.array_equal(a.probe.probs, b.probe.probs)


def test_session_before_the_first_step(tmp_path):
    cfg = SESSION_CASES["rnn-classification-adam"]
    straight = Trainer(cfg)
    resumed = S.open_session(S.save_session(tmp_path / "fresh.npz", Trainer(cfg)))
    assert np.isnan(resumed.last_loss) and resumed.step_count == 0
    assert [resumed.step() for _ in range(8)] == [straight.step() for _ in range(8)]


def test_settings_toml_round_trips_through_the_preset_parser():
    cfg = Config(dataset="pos", task="labelling", cell="lstm", hidden=48, lr=0.0005, clip=0.0, sos=True,
                 weight_decay=1e-05, spectral_radius=1.5, epochs=7, seed=11)
    text = S.settings_toml(cfg, title='Lesson "one"')
    preset = parse_preset("copied", text)
    assert preset.config == cfg and preset.title == 'Lesson "one"'
    assert parse_preset("copied", S.settings_toml(Config())).config == Config()


# ------------------------------------------------------------------------------------ damaged files
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    trainer = Trainer(SESSION_CASES["rnn-classification-adam"])
    for _ in range(9):
        trainer.step()
    path = S.save_session(tmp_path_factory.mktemp("s") / "good.npz", trainer)
    return trainer, path


def _rewrite(src, dst, change):
    arrays = dict(np.load(src, allow_pickle=False))
    change(arrays)
    atomic_save_npz(dst, arrays)
    return dst


def _raw_npz(dst, name, header_shape, data=b"\0" * 16):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr(name + ".npy", buf.getvalue() + data)
    return dst


def _damaged(kind, good, tmp_path, trainer):
    p = tmp_path / f"{kind}.npz"
    raw = good.read_bytes()
    if kind == "truncated":
        p.write_bytes(raw[: len(raw) * 2 // 3])
    elif kind == "bitflip":
        data = bytearray(raw)
        i = data.find(b"param/W.npy")
        data[i + 200] ^= 0xFF                  # inside W's data: the zip checksum no longer matches
        p.write_bytes(bytes(data))
    elif kind == "text":
        p.write_text("step,loss\n1,0.69\n")
    elif kind == "random-zip":
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("notes.txt", "hello")
    elif kind == "checkpoint":
        save_checkpoint(p, trainer)
    elif kind == "object-array":
        np.savez(p, **{"meta.json": np.array([{"format": "rnnviz-session"}], dtype=object)})
    elif kind == "absurd-shape":
        _raw_npz(p, "order", (10**12,))
    elif kind == "newer":
        _rewrite(good, p, lambda a: a.update({"meta.json": json_to_array(
            {"format": "rnnviz-session", "version": S.VERSION + 1})}))
    elif kind == "missing-param":
        _rewrite(good, p, lambda a: a.pop("param/W"))
    elif kind == "wrong-shape":
        _rewrite(good, p, lambda a: a.update({"param/W": np.zeros((3, 3), np.float32)}))
    elif kind == "nan-weights":
        _rewrite(good, p, lambda a: a.update({"param/V": np.full_like(a["param/V"], np.nan)}))
    elif kind == "bad-state":
        _rewrite(good, p, lambda a: a.update({"state.json": json_to_array({"step_count": "many"})}))
    elif kind == "bad-json":
        _rewrite(good, p, lambda a: a.update({"config.json": np.frombuffer(b"{not json", np.uint8)}))
    elif kind == "history-too-long":
        _rewrite(good, p, lambda a: a.update({"hist/loss/steps": np.arange(50, dtype=np.int64)}))
    return p


EXPECT = {
    "truncated": "not a readable .npz", "bitflip": "", "text": "not a readable .npz",
    "random-zip": "not a .npy array", "checkpoint": "checkpoint (weights only), not a session",
    "object-array": "object array", "absurd-shape": "claims shape", "newer": "newer rnnviz",
    "missing-param": "parameter W is missing", "wrong-shape": "parameter W has shape (3, 3)",
    "nan-weights": "parameter V contains NaN", "bad-state": "step_count", "bad-json": "config.json is damaged",
    "history-too-long": "history loss",
}


@pytest.mark.parametrize("kind", sorted(EXPECT))
def test_damaged_or_foreign_files_give_one_clear_error(saved, tmp_path, kind):
    trainer, good = saved
    path = _damaged(kind, good, tmp_path, trainer)
    with pytest.raises(CheckpointError) as info:
        S.open_session(path)
    message = str(info.value)
    assert message.startswith(str(path)) and EXPECT[kind] in message, message
    assert "\n" not in message


def test_changed_data_are_refused(saved, tmp_path):
    trainer, good = saved
    session = S.load_session(good)
    other = Trainer(trainer.config.replace(n_examples=300)).dataset     # same generator, more examples
    with pytest.raises(CheckpointError, match="have changed since the session was saved"):
        S.restore_trainer(session, other)


def test_a_data_file_that_is_gone_is_named(tmp_path):
    data = tmp_path / "reviews.tsv"
    data.write_text("".join(f"{'good' if i % 2 else 'bad'} film {i}\t{'pos' if i % 2 else 'neg'}\n"
                            for i in range(40)))
    trainer = Trainer(Config(dataset=str(data), hidden=8))
    trainer.step()
    path = S.save_session(tmp_path / "mine.npz", trainer)
    assert S.open_session(path).step_count == 1
    data.unlink()
    with pytest.raises(CheckpointError, match="cannot load the data it was trained on"):
        S.open_session(path)


def _refused_in_one_line(path, exc):
    message = str(exc)
    assert message.startswith(f"{path}: ") and "\n" not in message, message


def _usable(trainer):
    """An opened session can be drawn and trained on (a session saved in a fault stays in it)."""
    build_snapshot(trainer)
    try:
        trainer.step()
    except TrainingFault:
        assert trainer.fault


def test_random_damage_never_escapes_as_another_error(saved, tmp_path):
    """Flipped bytes anywhere, and every state field given a wrong value: either CheckpointError in one line naming
    the file, or a session that opens as it was written and trains on."""
    import json

    trainer, good = saved
    raw = good.read_bytes()
    rng = np.random.default_rng(0)
    p = tmp_path / "fuzz.npz"
    refused = 0
    for i in range(20):
        data = bytearray(raw)
        for j in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[j] ^= int(rng.integers(1, 256))
        p.write_bytes(bytes(data))
        try:
            opened = S.open_session(p)
        except CheckpointError as exc:
            _refused_in_one_line(p, exc)
            refused += 1
            continue
        # the flips hit bytes nothing reads (zip timestamps, say): the session is exactly the saved one
        assert opened.step_count == trainer.step_count and opened.markers == trainer.markers
        assert np.array_equal(opened.model.flat, trainer.model.flat)
        assert np.array_equal(opened.optimizer.m, trainer.optimizer.m)
        assert np.array_equal(opened.optimizer.v, trainer.optimizer.v)
        _usable(opened)
    assert refused >= 10                    # the checksums catch most flips: the loop did damage the file
    arrays = dict(np.load(good, allow_pickle=False))
    state = json.loads(arrays["state.json"].tobytes())
    for key in state:
        for wrong in (None, "x", [1], 10**30):
            bad = dict(state, **{key: wrong})
            atomic_save_npz(p, {**arrays, "state.json": json_to_array(bad)})
            try:
                opened = S.open_session(p)
            except CheckpointError as exc:
                _refused_in_one_line(p, exc)
                continue
            # accepted: a value the trainer can hold, held as written (a probe index past the data keeps 0)
            if key == "probe_index":
                assert opened.probe_index == (wrong if wrong < len(opened.dataset.val) else 0)
            elif key in ("temperature", "last_grad_norm", "last_loss"):
                assert getattr(opened, key) == float(wrong), (key, wrong)
            elif key in ("step_count", "epoch", "fault", "sample_text", "probe_tokens", "monitor_every"):
                assert getattr(opened, key) == wrong, (key, wrong)
            _usable(opened)
