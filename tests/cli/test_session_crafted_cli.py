"""Crafted sessions from the command line: ``rnnviz train --session`` and ``rnnviz --session`` refuse an absurd
number or changed data with one line on stderr and exit 2 (no traceback, no MemoryError, no window)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rnnviz.cli import main
from rnnviz.core.config import Config
from rnnviz.core.io import session as S
from rnnviz.core.train.trainer import Trainer

from crafted_sessions import CRAFTED, as_version_1, craft
from helpers import SESSION_CASES

SOME = ["capacity-absurd", "capacity-huge-int", "temperature-nan", "temperature-minus-inf", "temperature-negative",
        "position-past-order", "optimiser-t-negative", "stride-absurd", "epoch-past-steps"]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    trainer = Trainer(SESSION_CASES["rnn-classification-adam"].replace(n_examples=120))
    for _ in range(5):
        trainer.step()
    return S.save_session(tmp_path_factory.mktemp("s") / "good.npz", trainer)


def _one_line(capsys, path, words):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rnnviz: error: {path}: ") and words in err, err
    assert "Traceback" not in err and len(err) < 400


@pytest.mark.parametrize("kind", SOME)
@pytest.mark.parametrize("command", ["train", "window"])
def test_a_crafted_session_is_one_line_and_exit_2(good, tmp_path, capsys, kind, command):
    change, words = CRAFTED[kind]
    path = craft(good, tmp_path / f"{kind}.npz", change)
    argv = ["train", "--session", str(path), "--out", str(tmp_path / "out")] if command == "train" else \
        ["--session", str(path)]
    assert main(argv) == 2
    _one_line(capsys, path, words)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["train", "window"])
def test_a_reordered_data_file_is_refused_naming_it(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)          # short relative names: the whole message fits in one message's length
    data = Path("reviews.tsv")
    rows = [f"{'good' if i % 2 else 'bad'} film {i % 5} today\t{'pos' if i % 2 else 'neg'}\n" for i in range(40)]
    data.write_text("".join(rows))
    trainer = Trainer(Config(dataset=str(data), hidden=8, epochs=30))
    trainer.step()
    path = S.save_session(Path("mine.npz"), trainer)
    data.write_text("".join(" ".join(reversed(r.split("\t")[0].split())) + "\t" + r.split("\t")[1] for r in rows))
    argv = ["train", "--session", str(path)] if command == "train" else ["--session", str(path)]
    assert main(argv) == 2
    _one_line(capsys, path, f"the data in {data} have changed since the session was saved")


def test_an_old_session_goes_on_with_a_note(good, tmp_path, capsys):
    old = craft(good, tmp_path / "old.npz", as_version_1)
    assert main(["train", "--session", str(old), "--out", str(tmp_path / "out"), "--epochs", "3"]) == 0
    err = capsys.readouterr().err
    assert f"note: {old} was saved by an earlier rnnviz, without a fingerprint of its data" in err
    assert S.load_session(tmp_path / "out" / "session.npz").meta["data_sha256"]      # written again: it has one
