"""--preset takes the names of built-in presets only; a file of one's own is --preset-file PATH, read with limits
(size, UTF-8, nesting, a regular file) and refused in one line naming it. Output goes to runs/NAME in the current
folder, never beside the preset file."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from rnnviz.cli import main
from rnnviz.cli.common import run_name
from rnnviz.core.errors import MESSAGE_LIMIT

GOOD = '[lesson]\ntitle = "Mine"\n\n[settings]\ndataset = "negation"\nn_examples = 120\nhidden = 4\nepochs = 1\n'


def _one_line(capsys) -> str:
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= MESSAGE_LIMIT + 20, err
    assert "epoch" not in out
    return lines[0]


@pytest.mark.parametrize("name", ["../negation", "/tmp/negation.toml", "negation.toml", "resources/presets/names",
                                  "", "négation", "x" * 5000])
def test_preset_takes_only_built_in_names(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--preset", name, "--epochs", "1"]) == 2
    line = _one_line(capsys)
    assert line.startswith("rnnviz: error: setting 'preset': unknown preset") and "built-in presets: negation" in line
    if "/" in name or name.endswith(".toml"):
        assert "--preset-file PATH" in line
    assert not (tmp_path / "runs").exists() and not Path("/tmp/negation.toml").exists()


def test_a_preset_file_trains_and_writes_under_runs_here(tmp_path, capsys, monkeypatch):
    elsewhere = tmp_path / "presets"
    elsewhere.mkdir()
    (elsewhere / "mine.toml").write_text(GOOD)
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["train", "--preset-file", str(elsewhere / "mine.toml")]) == 0
    assert (here / "runs" / "mine" / "checkpoint.npz").is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["mine.toml"]      # nothing written beside it
    assert "mine: classification" in capsys.readouterr().out


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("case, words", [
    ("latin1", ".toml:6: not UTF-8 text (byte 0xe9)"),
    ("nested", "nested too deeply"),
    ("nested_tables", "nested too deeply"),
    ("huge", "larger than 1024 KB"),
    ("fifo", "not a regular file"),
    ("folder", "is a folder"),
    ("missing", "no such file"),
    ("not_toml", "not valid TOML"),
    ("bad_setting", "setting 'hidden'"),
])
def test_a_bad_preset_file_is_one_line_naming_it(tmp_path, capsys, monkeypatch, case, words):
    path = tmp_path / f"{case}.toml"
    if case == "latin1":
        path.write_bytes(GOOD.replace('"Mine"', '"caf\xe9"').encode("latin-1").replace(b'title = "caf\xe9"',
                                                                                       b"# x\n\n\n\ntitle = 'caf\xe9'"))
    elif case == "nested":
        path.write_text("[settings]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    elif case == "nested_tables":
        path.write_text("[settings]\nx = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    elif case == "huge":
        path.write_text("# " + "x" * (2 * 2**20) + "\n" + GOOD)
    elif case == "fifo":
        _fifo(path)
    elif case == "folder":
        path.mkdir()
    elif case == "not_toml":
        path.write_text("[settings\nhidden = \n")
    elif case == "bad_setting":
        path.write_text(GOOD.replace("hidden = 4", "hidden = 99999"))
    monkeypatch.chdir(tmp_path)
    result = []
    worker = threading.Thread(target=lambda: result.append(main(["train", "--preset-file", str(path)])),
                              daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():                   # a FIFO read would wait for a writer forever
        with open(path, "w"):
            pass
        pytest.fail("reading the preset file hung")
    assert result == [2]
    line = _one_line(capsys)
    assert str(path) in line and words in line, line
    assert not (tmp_path / "runs").exists()


def test_one_source_at_a_time(tmp_path, capsys):
    (tmp_path / "p.toml").write_text(GOOD)
    assert main(["train", "--preset", "negation", "--preset-file", str(tmp_path / "p.toml")]) == 2
    assert "give one of --preset, --preset-file and --data, not --preset and --preset-file" in _one_line(capsys)


@pytest.mark.parametrize("text, name", [("mine", "mine"), (".hidden", "hidden"), ("a b/c", "a_b_c"),
                                        ("..", "run"), ("", "run"), ("ü" * 100, "_"), ("x" * 100, "x" * 64)])
def test_run_names_stay_one_folder_under_runs(text, name):
    assert run_name(text) == name
    assert (Path("runs") / run_name(text)).parent == Path("runs")
