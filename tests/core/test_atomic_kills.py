"""Real kills during saves: a child process writing through ``core.files`` is killed with SIGKILL at each point of
a save (mid-write, before the fsync, before the rename, after the rename) and at random moments of a stream of
saves; the target is always the old file or the new one, never a torn or empty one, and the next save in that
folder removes the temporary the killed one left. The same for ``rnnviz train --out`` (a run's set of files)."""
from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnnviz.core.errors import CheckpointError
from rnnviz.core.files import (
    RUN_MANIFEST,
    TMP_SUFFIX,
    atomic_write_bytes,
    read_run,
    remove_stale_temporaries,
)
from rnnviz.core.io.checkpoint import load_checkpoint

from helpers import REPO

MB = 2**20

CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from rnnviz.core.files import atomic, atomic_write

    point, target, size, fill = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()

    def pause(*_args, **_kw):
        print("paused", flush=True)
        time.sleep(120)

    if point == "fsync":
        os.fsync = pause
    elif point == "replace":
        os.replace = pause
    elif point == "folder":
        atomic.fsync_folder = pause

    def write(fh):
        chunk = fill * MB
        for i in range(size):
            fh.write(chunk)
            if point == "write" and i == size // 2:
                fh.flush()
                pause()

    MB = 2**20
    if point == "stream":          # save A, B, A, B... until killed
        print("paused", flush=True)
        i = 0
        while True:
            atomic_write(target, lambda fh: fh.write((b"AB"[i % 2:i % 2 + 1]) * (size * MB)))
            i += 1
    atomic_write(target, write)
    print("done", flush=True)
""")


def _child(tmp_path: Path, point: str, target: Path, size: int, fill: str = "N") -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(repo=str(REPO)))
    return subprocess.Popen([sys.executable, str(script), point, str(target), str(size), fill],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when_paused(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "paused", (line, proc.stderr.read() if proc.poll() is not None else "")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(TMP_SUFFIX))


def _age(paths) -> None:
    """Make leftovers look older than STALE_SECONDS (instead of waiting)."""
    past = time.time() - 60
    for p in paths:
        os.utime(p, (past, past), follow_symlinks=False)


@pytest.mark.parametrize("point, survivor", [("write", "old"), ("fsync", "old"), ("replace", "old"),
                                             ("folder", "new")])
def test_sigkill_at_each_point_of_a_save_leaves_old_or_new(tmp_path, point, survivor):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "big.bin"
    old = b"O" * (3 * MB)
    target.write_bytes(old)
    proc = _child(tmp_path, point, target, 8)          # 8 MB of "N" replacing 3 MB of "O"
    _kill_when_paused(proc)
    data = target.read_bytes()
    assert data == (old if survivor == "old" else b"N" * (8 * MB))
    left = _temporaries(folder)
    assert len(left) == (0 if survivor == "new" else 1)
    # the next save in this folder removes what the killed one left, and nothing else
    (folder / "keep.tmp").write_text("not ours")
    _age(left)
    atomic_write_bytes(folder / "other.bin", b"x")
    assert _temporaries(folder) == []
    assert (folder / "keep.tmp").exists() and target.read_bytes() == data


def test_a_live_writers_temporary_is_never_removed(tmp_path):
    target = tmp_path / "big.bin"
    proc = _child(tmp_path, "write", target, 4)
    try:
        assert proc.stdout.readline().strip() == "paused"
        (tmp,) = _temporaries(tmp_path)
        _age([tmp])                                     # old, but its writer still holds the lock
        assert remove_stale_temporaries(tmp_path) == []
        assert tmp.exists()
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert remove_stale_temporaries(tmp_path) == [tmp.name]   # once the writer is dead it goes


def test_sigkill_at_random_moments_of_a_stream_of_saves(tmp_path):
    """Kill a process that saves A, B, A, B... (4 MB each) at random moments: always a whole A or a whole B."""
    rng = random.Random(15)
    target = tmp_path / "ab.bin"
    wholes = {b"A" * (4 * MB), b"B" * (4 * MB)}
    seen = set()
    for _ in range(6):
        proc = _child(tmp_path, "stream", target, 4)
        assert proc.stdout.readline().strip() == "paused"
        time.sleep(rng.uniform(0.05, 0.6))              # a kill point, not a timing assertion
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if target.exists():
            data = target.read_bytes()
            assert data in wholes, f"torn file of {len(data)} bytes"
            seen.add(data[:1])
        _age(_temporaries(tmp_path))
        remove_stale_temporaries(tmp_path)
        assert _temporaries(tmp_path) == []
    assert seen                                          # at least one save completed in six runs


# --------------------------------------------------------------------------------------------- a run's files
TRAIN_CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from rnnviz.core.files import runs

    point = sys.argv[1]

    def pause():
        print("paused", flush=True)
        time.sleep(120)

    if point == "staging":                  # while the checkpoint is being staged
        real_write = runs.write_temp

        def write_temp(path, write, mode):
            if path.name == "checkpoint.npz":
                pause()
            return real_write(path, write, mode)

        runs.write_temp = write_temp
    elif point == "publish":                # after the first file was put in place, before the second
        real_replace = os.replace
        count = [0]

        def replace(a, b):
            count[0] += 1
            if count[0] == 2:
                pause()
            return real_replace(a, b)

        os.replace = replace
    from rnnviz.cli import main
    sys.exit(main(sys.argv[2:]))
""")

TINY = ["--preset", "negation", "--set", "n_examples=120", "--set", "hidden=4", "--epochs", "1"]


def _train(tmp_path: Path, out: Path, point: str = "none", *sets: str) -> subprocess.Popen:
    script = tmp_path / "train_child.py"
    script.write_text(TRAIN_CHILD.format(repo=str(REPO)))
    args = ["train", *TINY, *(x for s in sets for x in ("--set", s)), "--out", str(out)]
    return subprocess.Popen([sys.executable, str(script), point, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)


def _whole_set(out: Path) -> dict:
    """Every file of the run readable on its own: the CSV parses, the checkpoint loads."""
    rows = list(csv.DictReader((out / "metrics.csv").open(encoding="utf-8")))
    ckpt = load_checkpoint(out / "checkpoint.npz")
    return {"rows": rows, "step": ckpt.meta["step"], "seed": ckpt.config.seed}


def _first_run(tmp_path: Path, out: Path) -> dict:
    proc = _train(tmp_path, out, "none", "seed=1")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return read_run(out)


def test_kill_while_staging_leaves_the_previous_run_whole(tmp_path):
    out = tmp_path / "run"
    first = _first_run(tmp_path, out)
    before = {n: (out / n).read_bytes() for n in ("metrics.csv", "checkpoint.npz", RUN_MANIFEST)}
    proc = _train(tmp_path, out, "staging", "seed=2")
    line = proc.stdout.readline()
    while line and line.strip() != "paused":        # the progress lines come first
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert {n: (out / n).read_bytes() for n in before} == before
    assert read_run(out)["run_id"] == first["run_id"]
    stale = _temporaries(out)
    assert len(stale) == 1 and stale[0].is_dir()    # the staging folder of the killed run
    _age([stale[0], *stale[0].iterdir()])
    proc = _train(tmp_path, out, "none", "seed=3")  # the next run removes it and publishes its own set
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert _temporaries(out) == []
    assert read_run(out)["run_id"] != first["run_id"] and _whole_set(out)["seed"] == 3


def test_kill_between_the_renames_is_reported_by_read_run(tmp_path):
    out = tmp_path / "run"
    _first_run(tmp_path, out)
    proc = _train(tmp_path, out, "publish", "seed=2")
    line = proc.stdout.readline()
    while line and line.strip() != "paused":
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    files = _whole_set(out)                  # each file is whole ...
    assert files["seed"] == 1                # ... the checkpoint still the first run's, metrics.csv the second's
    with pytest.raises(CheckpointError, match="may come from two runs"):
        read_run(out)                        # ... and a reader of the set is told


def test_read_run_checks_every_file(tmp_path):
    out = tmp_path / "run"
    manifest = _first_run(tmp_path, out)
    assert set(manifest["files"]) == {"metrics.csv", "checkpoint.npz"}
    assert manifest["info"]["status"] == "complete"
    data = np.frombuffer((out / "metrics.csv").read_bytes(), dtype=np.uint8).copy()
    data[-3] ^= 1
    (out / "metrics.csv").write_bytes(data.tobytes())
    with pytest.raises(CheckpointError, match="metrics.csv: is not the file of run"):
        read_run(out)
    (out / "metrics.csv").unlink()
    with pytest.raises(CheckpointError, match="metrics.csv: missing"):
        read_run(out)
    (out / RUN_MANIFEST).write_text("{not json")
    with pytest.raises(CheckpointError, match="not an rnnviz run manifest"):
        read_run(out)


# --------------------------------------------------------------------------------------------- the source
WRITES = [r"\bopen\([^)]*,\s*[rf]?['\"][rb+]*[wax]", r"\.write_text\(", r"\.write_bytes\(",
          r"\bnp\.save(z|z_compressed)?\(", r"\.save\(\s*str\(", r"setFileName\(", r"\.to_csv\(",
          r"\bos\.open\([^)]*O_(WRONLY|RDWR|CREAT)", r"\.save\([^)]*['\"](PNG|png|JPG|jpg|BMP)"]


def _code_without_text(source: str) -> str:
    """``source`` with comments and docstrings blanked (strings inside code stay: ``"w"`` must be seen)."""
    import io
    import tokenize

    lines = source.splitlines(keepends=True)
    blank = []
    prev = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING and prev in (None, tokenize.NEWLINE,
                                                                                     tokenize.INDENT,
                                                                                     tokenize.DEDENT)):
            blank.append((tok.start, tok.end))
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            prev = tok.type
    for (r0, c0), (r1, c1) in reversed(blank):
        if r0 == r1:
            lines[r0 - 1] = lines[r0 - 1][:c0] + " " * (c1 - c0) + lines[r0 - 1][c1:]
        else:
            lines[r0 - 1] = lines[r0 - 1][:c0] + "\n"
            for r in range(r0, r1 - 1):
                lines[r] = "\n"
            lines[r1 - 1] = " " * c1 + lines[r1 - 1][c1:]
    return "".join(lines)


def test_every_write_goes_through_core_files():
    """No module but rnnviz/core/files writes a file itself: every save is the atomic one (a child's log is
    ``files.open_log``)."""
    import re

    found = []
    for path in sorted((REPO / "rnnviz").rglob("*.py")):
        if path.parent == REPO / "rnnviz" / "core" / "files" or path == REPO / "rnnviz" / "gui" / "pictures.py":
            continue            # the atomic writes themselves, and Qt encoding pictures into memory for them
        code = _code_without_text(path.read_text(encoding="utf-8"))
        for no, line in enumerate(code.splitlines(), start=1):
            if any(re.search(p, line) for p in WRITES) and "os.devnull" not in line:   # stdout to /dev/null
                found.append(f"{path.relative_to(REPO)}:{no}: {line.strip()}")
    assert found == []


def test_the_scan_finds_writes():
    code = _code_without_text('"""doc: open(p, "w")"""\nx = 1  # open(p, "w")\nwith open(p, "w") as f:\n'
                              '    pass\np.write_text("x")\nimage.save(str(out), "PNG")\n')
    import re

    hits = [line for line in code.splitlines() if any(re.search(p, line) for p in WRITES)]
    assert hits == ['with open(p, "w") as f:', 'p.write_text("x")', 'image.save(str(out), "PNG")']
    assert re.search(WRITES[-1], 'img.save(out, "PNG")')


def test_leftovers_of_earlier_versions_are_removed_and_nothing_else(tmp_path):
    ours = [".checkpoint.npz.k2j_9x0a.tmp", ".metrics.csv.abcdefgh.tmp"]         # tempfile.mkstemp names
    theirs = [".notes.tmp", "keep.tmp", ".checkpoint.npz.k2j9x0a.tmp", "x.rnnviz-tmp", ".vimrc"]
    for name in ours + theirs:
        (tmp_path / name).write_text("x")
    _age(tmp_path.iterdir())
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs)
