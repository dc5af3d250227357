"""Settings: every field, through every way in (--set, preset TOML, session/JSON mapping, the CLI), refuses a bad"""
from __future__ import annotations

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
