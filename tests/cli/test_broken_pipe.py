"""``rnnviz train --json | head -1``: when the reader closes the pipe the command stops quietly, as command-line
tools do (status 141 = 128 + SIGPIPE, nothing on stderr), instead of ending with a BrokenPipeError traceback."""
from __future__ import annotations

import subprocess
import sys

from rnnviz.cli import BROKEN_PIPE


def test_train_stops_quietly_when_its_output_pipe_closes(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "rnnviz", "train", "--preset", "negation", "--set",
                             "n_examples=300", "--set", "hidden=8", "--epochs", "200", "--out", str(tmp_path),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()                     # as `head -1` does after its line; 200 epochs of output are to come
    err = proc.stderr.read()
    proc.stderr.close()
    code = proc.wait(timeout=300)
    assert first.startswith("negation: classification")
    assert err == "" and code == BROKEN_PIPE == 141
    assert not (tmp_path / "metrics.csv").exists()      # it stopped at the first line nobody read
