"""A/B race: the same start (shared weights, batches), the differences legend, the window's numbers, closing."""
from __future__ import annotations

import pytest

from rnnviz.cli import main
from rnnviz.core.explore import race

from qt_helpers import no_leaks, small_config, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


def test_cli_race_render_and_errors(tmp_path, capsys):
    out = tmp_path / "race.png"
    rc = main(["race", "--preset", "delayed-recall", "--set", "delay=5", "--set", "n_examples=100",
               "--b", "cell=lstm", "--render", str(out), "--steps", "20", "--size", "1200x800"])
    assert rc == 0 and out.exists()
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    for argv, words in ((["--preset", "negation"], "--b cell=lstm"),
                        (["--preset", "negation", "--b", "cell=cnn"], "'cell'"),
                        (["--preset", "negation", "--b", "colour=red"], "unknown setting"),
                        (["--preset", "negation", "--b", "cell=rnn"], "at least one setting")):
        capsys.readouterr()
        assert main(["race", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err


@pytest.mark.ondemand
def test_classic_race_lstm_beats_tanh_rnn_at_delay_50(tmp_path):
    """The lecture's story, trained for real (about 10 s): tanh RNN stays near chance, the LSTM learns."""
    from rnnviz.core.presets import load_preset
    from rnnviz.gui.windows.race import render_race

    a = load_preset("delayed-recall").config          # delay 50 (at delay 30 the tanh RNN often learns too)
    ta, tb, sharing = race.make_pair(a, race.b_config(a, ["cell=lstm"]))
    for t in (ta, tb):
        for _ in range(400):
            t.step()
    assert tb.last_eval["val_accuracy"] > ta.last_eval["val_accuracy"] + 0.3
    out = render_race(ta.config, tb.config, 400, tmp_path / "race.png")
    assert out.exists()
