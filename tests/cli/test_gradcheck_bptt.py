"""``rnnviz gradcheck`` checks what it says: full BPTT. A truncating ``--set bptt=k`` is refused in one line (exit 2)
instead of being silently replaced by full BPTT; a bptt that covers the whole sequences is full BPTT and is checked."""
from __future__ import annotations

import re

from rnnviz.cli import main

SMALL = ["--preset", "pos", "--set", "hidden=6", "--set", "n_examples=50"]


def test_truncated_bptt_is_refused_in_one_line(capsys):
    assert main(["gradcheck", *SMALL, "--set", "bptt=2"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnviz: error: setting 'bptt': ")
    assert "bptt=2 truncates" in lines[0] and "full BPTT" in lines[0]


def test_bptt_covering_the_sequences_is_checked_as_full_bptt(capsys):
    assert main(["gradcheck", *SMALL, "--set", "bptt=1000"]) == 0
    out = capsys.readouterr().out
    steps = int(re.search(r"sequences up to (\d+) steps", out).group(1))
    assert f"full BPTT: bptt=1000 covers all {steps} steps" in out and "OK" in out
    assert main(["gradcheck", *SMALL, "--set", f"bptt={steps}"]) == 0         # exactly the longest: still full
    assert main(["gradcheck", *SMALL, "--set", f"bptt={steps - 1}"]) == 2     # one step short: truncated
