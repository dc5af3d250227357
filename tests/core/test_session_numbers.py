"""Every number of a session is range-checked before anything is built from it (capacities, strides, positions,
steps, temperature, optimiser state, counts), and the data must be the very data the session was trained on
(a fingerprint), both in ``core.io.session`` and in ``Trainer.load_state_dict``."""
from __future__ import annotations

import json

import numpy as np
from pathlib import Path

import pytest

from rnnviz.core.config import Config
from rnnviz.core.errors import CheckpointError
from rnnviz.core.io import session as S
from rnnviz.core.train.trainer import Trainer

from crafted_sessions import CRAFTED, as_version_1, craft
from helpers import SESSION_CASES


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    trainer = Trainer(SESSION_CASES["rnn-classification-adam"].replace(n_examples=120))
    for _ in range(trainer.steps_per_epoch + 3):          # one evaluation in the file
        trainer.step()
    return trainer, S.save_session(tmp_path_factory.mktemp("s") / "good.npz", trainer)


@pytest.mark.parametrize("kind", sorted(CRAFTED))
def test_an_absurd_number_is_refused_in_one_line_naming_the_file_and_the_field(good, tmp_path, kind):
    change, words = CRAFTED[kind]
    path = craft(good[1], tmp_path / f"{kind}.npz", change)
    with pytest.raises(CheckpointError) as info:
        S.load_session(path)             # before the data are loaded or anything is allocated from the numbers
    message = str(info.value)
    assert message.startswith(f"{path}: ") and words in message, message
    assert "\n" not in message and len(message) < 300, message


def test_the_good_file_opens_and_its_numbers_round_trip(good):
    trainer, path = good
    opened = S.open_session(path)
    assert opened.step_count == trainer.step_count and len(opened.eval_history) == len(trainer.eval_history) > 0
    assert S.load_session(path).notes == []


@pytest.mark.parametrize("key, value, words", [
    ("capacity", 10**12, "history loss of capacity 1000000000000; this Trainer keeps at most 20000 rows"),
    ("temperature", float("nan"), "sampling temperature nan"),
    ("epoch", 99, "step 9, epoch 99"),
    ("t", -2, "optimiser step -2"),
    ("v", -1.0, "optimiser state m, v must be finite"),
    ("order", 0, "the data order is not an order"),
])
def test_load_state_dict_checks_the_numbers_before_it_allocates(key, value, words):
    trainer = Trainer(SESSION_CASES["rnn-classification-adam"].replace(n_examples=120))
    for _ in range(9):
        trainer.step()
    state = trainer.state_dict()
    if key == "capacity":
        state["histories"]["loss"]["capacity"] = value
    elif key in ("t", "v"):
        state["optimizer"][key] = value if key == "t" else np.full_like(state["optimizer"]["v"], value)
    elif key == "order":
        state["order"] = np.zeros_like(state["order"])
    else:
        state[key] = value
    other = Trainer(trainer.config)
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        other.load_state_dict(state)
    assert other.step_count == 0                     # nothing changed


# ------------------------------------------------------------------------------------------ the data's fingerprint
def _tsv(path, rows):
    path.write_text("".join(f"{text}\t{label}\n" for text, label in rows))
    return path


ROWS = [(f"{'good' if i % 2 else 'bad'} film number {i % 7} was {'fine' if i % 3 else 'dull'} today", "pos"
         if i % 2 else "neg") for i in range(60)]


@pytest.fixture
def file_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # short relative names: the whole message fits in one message's length
    data = _tsv(Path("reviews.tsv"), ROWS)
    trainer = Trainer(Config(dataset=str(data), hidden=8, epochs=20))
    for _ in range(5):
        trainer.step()
    return data, S.save_session(Path("mine.rnnviz.npz"), trainer)


def test_reordered_words_are_refused_although_vocabulary_classes_and_size_match(file_session):
    data, path = file_session
    assert S.open_session(path).step_count == 5
    _tsv(data, [(" ".join(reversed(text.split())), label) for text, label in ROWS])
    with pytest.raises(CheckpointError) as info:
        S.open_session(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the data in {data} have changed since the session was saved") and \
        "fingerprint" in message and "\n" not in message


@pytest.mark.parametrize("change", ["swap-two-lines", "swap-labels", "replace-a-word"])
def test_other_changes_that_keep_the_vocabulary_are_refused(file_session, change):
    data, path = file_session
    rows = list(ROWS)
    if change == "swap-two-lines":                      # two lines of one class
        rows[0], rows[2] = rows[2], rows[0]
    elif change == "swap-labels":                       # as many of each class as before
        rows[2], rows[3] = (rows[2][0], rows[3][1]), (rows[3][0], rows[2][1])
    else:
        rows[10] = (rows[10][0].replace("fine", "dull"), rows[10][1])
    _tsv(data, rows)
    with pytest.raises(CheckpointError, match="have changed since the session was saved"):
        S.open_session(path)


def test_the_same_data_written_again_open(file_session):
    data, path = file_session
    _tsv(data, ROWS)                           # rewritten, same content: the same session
    assert S.open_session(path).step_count == 5


def test_a_version_1_file_without_a_fingerprint_still_opens_with_a_note(file_session, tmp_path):
    data, path = file_session
    old = craft(path, tmp_path / "old.npz", as_version_1)
    session = S.load_session(old)
    assert session.version == 1 and len(session.notes) == 1
    assert session.notes[0].startswith(f"{old} was saved by an earlier rnnviz, without a fingerprint of its data")
    assert S.restore_trainer(session).step_count == 5
    trainer, _, _ = S.resume_for_cli(old)
    assert session.notes[0] in trainer.dataset.notes          # `rnnviz train --session` prints it as a note
    # a version 2 file must carry it
    def drop(arrays):
        meta = json.loads(arrays["meta.json"].tobytes())
        meta.pop("data_sha256")
        from rnnviz.core.files import json_to_array
        arrays["meta.json"] = json_to_array(meta)
    with pytest.raises(CheckpointError, match="data_sha256 = None"):
        S.load_session(craft(path, tmp_path / "v2-without.npz", drop))


def test_generated_data_are_fingerprinted_too(tmp_path):
    cfg = SESSION_CASES["rnn-classification-adam"].replace(n_examples=120)
    trainer = Trainer(cfg)
    trainer.step()
    path = S.save_session(tmp_path / "gen.npz", trainer)
    meta = json.loads(np.load(path)["meta.json"].tobytes())
    assert meta["version"] == S.VERSION == 2 and meta["data_sha256"] == S.data_fingerprint(trainer.dataset)
    session = S.load_session(path)
    other = Trainer(cfg.replace(seed=cfg.seed + 1)).dataset           # another draw of the same generator
    other.vocab, other.classes = trainer.dataset.vocab, trainer.dataset.classes
    with pytest.raises(CheckpointError, match="fingerprint differs"):
        S.check_dataset(session, other)
