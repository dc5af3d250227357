"""Where the commands write: checked before any training (a real write of a probe file), refused in one line with
exit 2; a full disk during a save is one line naming the file and the space, exit 2, the previous files intact."""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from rnnviz.cli import main
from rnnviz.core.errors import MESSAGE_LIMIT, OutputError
from rnnviz.core.files import RUN_MANIFEST, TMP_SUFFIX, atomic_write, read_run
from rnnviz.core.files import runs as run_files

TINY = ["--preset", "negation", "--set", "n_examples=120", "--set", "hidden=4"]
# command -> (argv before the place, the flag naming the place, kind of place)
COMMANDS = {
    "train": (["train", *TINY, "--epochs", "1"], "--out", "folder"),
    "sweep": (["sweep", *TINY, "--epochs", "1", "--grid", "lr=0.01,0.1"], "--out", "folder"),
    "render": (["render", *TINY, "--steps", "2"], "--out", "file"),
    "race": (["race", *TINY, "--b", "cell=lstm", "--steps", "2"], "--render", "file"),
}


def _mount(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, check=False,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return run.returncode == 0


@pytest.fixture
def mounted(tmp_path):
    """mounted(options) -> a fresh tmpfs folder (skips when this machine does not let the tests mount)."""
    made = []

    def mount(options: str) -> Path:
        where = tmp_path / f"mnt{len(made)}"
        if not _mount(where, options):
            pytest.skip("cannot mount a tmpfs here (needs root)")
        made.append(where)
        return where

    yield mount
    for where in reversed(made):
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30, check=False)


def _bad_places(tmp_path: Path, kind: str) -> dict[str, tuple[Path, str]]:
    """name -> (path, words the message must hold)."""
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x")
    a_folder = tmp_path / "a_folder"
    a_folder.mkdir(exist_ok=True)
    places = {
        "dev_null": (Path("/dev/null"), "device"),
        "under_a_file": (a_file / "out" / ("x.png" if kind == "file" else "run"), "is a file, not a folder"),
        "name_too_long": (tmp_path / ("n" * 300), "the name is too long"),
        "proc": (Path("/proc/rnnviz-out") / ("x.png" if kind == "file" else "run"), "cannot be"),
    }
    if kind == "folder":
        places["existing_file"] = (a_file, "it is a file, not a folder")
    else:
        places["existing_folder"] = (a_folder, "it is a folder")
    return places


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", ["dev_null", "under_a_file", "name_too_long", "proc", "existing"])
def test_an_unwritable_place_is_refused_before_training(tmp_path, capsys, command, case, monkeypatch):
    argv, flag, kind = COMMANDS[command]
    places = _bad_places(tmp_path, kind)
    path, words = places[next(k for k in places if k.startswith(case))]
    monkeypatch.chdir(tmp_path)
    assert main([*argv, flag, str(path)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= MESSAGE_LIMIT + 20, err
    assert lines[0].startswith(f"rnnviz: error: {flag} ") and words in lines[0]
    assert str(path)[:40] in lines[0]
    assert "epoch" not in out and "cells" not in out              # nothing trained
    assert Path("/dev/null").is_char_device()                     # never replaced


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_read_only_folder_is_refused_before_training(tmp_path, capsys, mounted, command):
    argv, flag, kind = COMMANDS[command]
    read_only = mounted("ro,size=64k")
    path = read_only / ("x.png" if kind == "file" else "run")
    assert main([*argv, flag, str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and f"{flag} {path}" in err and "read-only" in err, err
    assert "epoch" not in out


def test_a_refused_run_leaves_no_new_folder(tmp_path, capsys):
    bad = tmp_path / "empty.tsv"
    bad.write_text("")
    out = tmp_path / "new" / "deeper" / "run"
    assert main(["train", "--data", str(bad), "--task", "classification", "--out", str(out)]) == 2
    assert not (tmp_path / "new").exists()
    assert "empty.tsv" in capsys.readouterr().err


def test_the_probe_leaves_nothing_and_the_run_writes_its_set(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["metrics.csv", "checkpoint.npz", RUN_MANIFEST])
    assert read_run(out)["info"]["status"] == "complete"


# -------------------------------------------------------------------------------------------------- full disk
def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_full_disk_during_a_run_keeps_the_previous_set(tmp_path, capsys, mounted):
    disk = mounted("size=256k")
    out = disk / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    # a checkpoint of hidden=200 (three arrays of ~50,000 numbers) does not fit the 256 kB left
    code = main(["train", "--preset", "negation", "--set", "n_examples=120", "--set", "hidden=200", "--epochs", "1",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "checkpoint.npz" in lines[0] and "the disk is full (needed about" in lines[0]
    assert "free)" in lines[0] and "Traceback" not in err
    assert _snapshot(out) == before                       # the previous run's files, byte for byte
    assert read_run(out)["run_id"]                        # and still one consistent set
    assert not [p for p in out.iterdir() if p.name.endswith(TMP_SUFFIX)]


def test_full_disk_in_the_middle_of_one_file(tmp_path, mounted):
    disk = mounted("size=128k")
    target = disk / "file.bin"
    target.write_bytes(b"old" * 1000)

    def endless(fh):                                        # no size known in advance: fails while writing
        for _ in range(1000):
            fh.write(b"\0" * 65536)

    with pytest.raises(OutputError) as info:
        atomic_write(target, endless)
    text = str(info.value)
    assert text.startswith(f"{target}: could not be written: the disk is full") and "previous file is unchanged" in text
    assert info.value.errno == errno.ENOSPC and "\n" not in text
    assert target.read_bytes() == b"old" * 1000 and sorted(p.name for p in disk.iterdir()) == ["file.bin"]


def test_no_space_injected_while_staging(tmp_path, capsys, monkeypatch):
    """Without a small disk: the file system's ENOSPC while the checkpoint is written, the same one line."""
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    real = run_files.write_temp

    def full(path, write, mode):
        if path.name == "checkpoint.npz":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, write, mode)

    monkeypatch.setattr(run_files, "write_temp", full)
    assert main(["train", *TINY, "--epochs", "1", "--set", "seed=4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out / 'checkpoint.npz'}: could not be written: the disk is full" in err
    assert f"the files in {out} are unchanged" in err
    assert _snapshot(out) == before and not [p for p in out.iterdir() if p.name.endswith(TMP_SUFFIX)]
