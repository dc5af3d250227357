"""Bad input: a corpus of malformed files (tests/bad_files), big files made at run time, and fuzzing of every loader."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rnnviz import cli

from helpers import BAD_CORPUS, BAD_FILES, C, L
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

ERRORS = [(n, t, e) for n, t, e in BAD_CORPUS if e[0] == "error"]


@pytest.mark.parametrize("name, task, expected", ERRORS, ids=[f"{n}-{t[:5]}" for n, t, _ in ERRORS])
def test_cli_train_prints_one_line_and_exits_2(name, task, expected, tmp_path, capsys):
    path = BAD_FILES / name
    # the settings chosen for a short text (characters, a shorter window) let it load; the message for the
    # registry defaults (word tokens, window 64) is asked for here
    window = ["--set", "window=64", "--set", "tokenize=word"] if "window=64" in expected[2] else []
    code = cli.main(["train", "--data", str(path), "--task", task, *window, "--json", "--out",
                     str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and out == "", (out, err)
    assert lines[0].startswith(f"rnnviz: error: {path}:") and expected[2] in lines[0]
    if expected[1] is not None:
        assert lines[0].startswith(f"rnnviz: error: {path}:{expected[1]}: ")
    assert not (tmp_path / "run").exists()          # nothing written for a refused file


def test_cli_loads_a_quirky_file_and_trains(tmp_path, capsys):
    code = cli.main(["train", "--data", str(BAD_FILES / "bom_header_crlf.csv"), "--task", C, "--epochs", "1",
                     "--set", "hidden=4", "--json", "--out", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["task"] == C and result["steps"] >= 1 and set(result["per_class_accuracy"]) == {"neg", "pos"}


def test_cli_end_to_end_in_a_subprocess(tmp_path):
    path = BAD_FILES / "conllu_missing_tag.conllu"
    proc = subprocess.run([sys.executable, "-m", "rnnviz", "train", "--data", str(path), "--task", L, "--json",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"rnnviz: error: {path}:3: no tag in column 4 (UPOS)"]
