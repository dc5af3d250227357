"""Settings: every field, through every way in (--set, preset TOML, session/JSON mapping, the CLI), refuses a bad"""
from __future__ import annotations

import re

from rnnviz import cli


def test_cli_set_gives_one_line_and_exit_2(capsys):
    for assignment, words in [("hidden=-3", "from 1 (inclusive) to 4096"), ("lr=0", "from 0.0 (exclusive)"),
                              ("cell=transformer", "one of rnn, lstm, gru"), ("bidirectional=maybe", "true or false"),
                              ("hidden=1.5", "a whole number from 1"), ("lr=nan", "a finite number"),
                              ("hiden=3", "did you mean 'hidden'?"), ("dataset=a\nb", "one line")]:
        code = cli.main(["train", "--preset", "negation", "--set", assignment, "--json"])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and len(err.splitlines()) == 1 and words in err, (assignment, err)
        assert err.startswith(f"rnnviz: error: setting '{assignment.split('=')[0]}': ")


def _help(argv: list[str], capsys) -> str:
    import pytest

    with pytest.raises(SystemExit):
        cli.main(argv)
    return " ".join(capsys.readouterr().out.split())      # argparse wraps lines: compare with single spaces


def test_set_help_lists_every_key_of_the_registry_by_role(capsys):
    from rnnviz.core.config import ROLES, SETTINGS

    for argv in (["train", "--help"], ["render", "--help"], ["--help"]):
        text = _help(argv, capsys)
        keys = text[text.index("Keys by role"):].split(". ")[0]
        for role in ROLES:
            names = [n for n, s in SETTINGS.items() if s.role == role]
            assert f"{role}: {', '.join(names)}" in keys, (argv, role, keys)
        listed = re.findall(r"[a-z_]+", re.sub(r"\b(?:" + "|".join(ROLES) + r")\b:", "", keys.split("—", 1)[1]))
        assert sorted(listed) == sorted(SETTINGS), argv
