"""What the command line says: every numeric flag of every subcommand range-checked (absurd values refused in one
line before anything runs), messages one line of at most MESSAGE_LIMIT characters whatever the data hold, Qt's
own noise kept off stderr, and a training fault that keeps the last good state in --out."""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rnnviz.cli import build_parser, main
from rnnviz.cli.common import Bounded
from rnnviz.core.errors import MESSAGE_LIMIT
from rnnviz.core.files import read_run
from rnnviz.core.io.checkpoint import load_checkpoint

from helpers import REPO

ABSURD = ["1e23", "-1", "nan", "inf", "99999999999999999999999", "9" * 5000, "²", "0x10", "", "1_000", "-0.5e400"]


def _numeric_flags():
    """(command, flag, its type) of every option of the parser and its subcommands whose value is a number."""
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, p in [("", parser), *subs.choices.items()]:
        for action in p._actions:
            if action.type in (int, float) or isinstance(action.type, Bounded):
                found.append((command, action.option_strings[-1], action.type))
    return found


def test_every_numeric_flag_has_a_range():
    flags = _numeric_flags()
    assert {(c, f) for c, f, _ in flags} >= {("train", "--epochs"), ("render", "--steps"), ("race", "--steps"),
                                             ("gradcheck", "--steps"), ("gradcheck", "--tolerance"),
                                             ("sweep", "--epochs"), ("sweep", "--processes")}
    bare = [(c, f) for c, f, t in flags if not isinstance(t, Bounded)]
    assert bare == [], f"numeric flags without a range: {bare}"


@pytest.mark.parametrize("command, flag", [(c, f) for c, f, _ in _numeric_flags()])
def test_absurd_numbers_are_refused_in_one_line(capsys, command, flag):
    for value in ABSURD:
        with pytest.raises(SystemExit) as info:
            main([command, f"{flag}={value}"] if command else [f"{flag}={value}"])
        assert info.value.code == 2
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) <= MESSAGE_LIMIT, (value, err[:400])
        assert flag in lines[0] and "--help" in lines[0] and out == ""


def test_render_steps_1e23(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--preset", "negation", "--steps", "1e23", "--out", "x.png"])
    assert capsys.readouterr().err == ("rnnviz render: error: argument --steps: must be a whole number from 0 to "
                                       "10,000,000, got '1e23' (see rnnviz render --help)\n")


@pytest.mark.parametrize("size", ["99999999999x1", "1e9x1e9", "640x480x2", "²x240", "x"])
def test_picture_sizes(capsys, tmp_path, size):
    assert main(["render", "--preset", "negation", "--steps", "1", "--out", str(tmp_path / "x.png"),
                 "--size", size]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "setting 'size'" in err


def test_a_two_megabyte_label_is_one_short_line(tmp_path, capsys):
    data = tmp_path / "huge_label.tsv"
    label = "L" * (2 * 2**20)
    data.write_text("".join(f"sentence number {i}\t{label}\n" for i in range(3)))
    assert main(["train", "--data", str(data), "--task", "classification", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) <= MESSAGE_LIMIT + 20
    assert err.startswith(f"rnnviz: error: {data}:") and "classification needs at least two" in err


def test_control_characters_never_reach_the_terminal(tmp_path, capsys):
    data = tmp_path / "escape.tsv"
    data.write_text("a text\t\x1b[31mred\x1b[0m\nanother text\t\x1b[31mred\x1b[0m\n")
    assert main(["train", "--data", str(data), "--task", "classification", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[31mred" in err and err.count("\n") == 1


def _run(args, **env):
    return subprocess.run([sys.executable, "-m", "rnnviz", *args], capture_output=True, text=True, timeout=600, check=False,
                          cwd=REPO, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env})


def test_qt_noise_never_reaches_stderr(tmp_path):
    """The offscreen plugin says "This plugin does not support propagateSizeHints()" for every window; a render's
    stderr stays empty, and a refused render's one line comes first."""
    run = _run(["render", "--preset", "negation", "--set", "n_examples=100", "--steps", "2",
                "--out", str(tmp_path / "w.png"), "--size", "640x480"])
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert (tmp_path / "w.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = _run(["race", "--preset", "negation", "--set", "n_examples=100", "--b", "cell=lstm", "--steps", "2",
                "--render", "/dev/null"])
    assert run.returncode == 2 and run.stderr.startswith("rnnviz: error: --render /dev/null")


def test_the_qt_message_handler():
    from rnnviz.gui import qt_messages

    assert qt_messages.is_noise("This plugin does not support propagateSizeHints()")
    assert not qt_messages.is_noise("QPainter::begin: Paint device returned engine == 0")


def test_qt_messages_pass_through_as_one_line(capsys):
    from rnnviz.gui import qt_messages

    qt_messages.handler(None, None, "This plugin does not support propagateSizeHints()")
    qt_messages.handler(None, None, "something\nreal happened")
    assert capsys.readouterr().err == "qt: something real happened\n"


# -------------------------------------------------------------------------------------------------- faults
EXPLODES = ["--preset", "negation", "--set", "n_examples=40", "--set", "optimizer=sgd", "--set", "lr=1.0",
            "--set", "spectral_radius=3.0", "--set", "clip=0", "--set", "activation=relu", "--epochs", "5"]


def test_a_fault_saves_the_last_good_state(tmp_path, capsys):
    """32 training examples in one batch: an epoch a step; the weights explode at step 3."""
    out = tmp_path / "run"
    assert main(["train", *EXPLODES, "--out", str(out), "--json"]) == 1
    stdout, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= MESSAGE_LIMIT, err
    assert lines[0].startswith(f"rnnviz: error: {out}: the last good weights (step 2) and 2 finished epoch(s) "
                               "are saved there. Training paused at step 3")
    assert json.loads(stdout.strip().splitlines()[-1])["steps"] == 2
    ckpt = load_checkpoint(out / "checkpoint.npz")          # finite weights (the loader refuses NaN)
    assert ckpt.meta["step"] == 2 and np.isfinite(ckpt.model.flat).all()
    rows = list(csv.DictReader((out / "metrics.csv").open(encoding="utf-8")))
    assert [r["step"] for r in rows] == ["1", "2"]
    manifest = read_run(out)
    assert manifest["info"]["status"] == "faulted" and manifest["info"]["fault"].startswith("Training paused")


def test_the_saved_state_goes_on_exactly(tmp_path, capsys):
    """The checkpoint of a fault holds the weights of step 2: the same as a run stopped after 2 epochs."""
    assert main(["train", *EXPLODES, "--out", str(tmp_path / "a")]) == 1
    ok = [a if a != "5" else "2" for a in EXPLODES]
    assert main(["train", *ok, "--out", str(tmp_path / "b")]) == 0
    a, b = load_checkpoint(tmp_path / "a" / "checkpoint.npz"), load_checkpoint(tmp_path / "b" / "checkpoint.npz")
    assert np.array_equal(a.model.flat, b.model.flat)
