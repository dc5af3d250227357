"""Settings: every bad value gives a ConfigError naming the field and what is allowed."""
import pytest

from rnnviz.core.config import Config, apply_sets, from_dict, parse_value, to_toml, validate
from rnnviz.core.errors import ConfigError


def test_defaults_are_valid():
    assert validate(Config()) == Config()


@pytest.mark.parametrize("assignment, field, words", [
    ("hidden=-3", "hidden", "from 1"),
    ("lr=0", "lr", "exclusive"),
    ("cell=transformer", "cell", "rnn, lstm, gru"),
    ("activation=gelu", "activation", "tanh, sigmoid, relu"),
    ("batch_size=abc", "batch_size", "whole number"),
    ("bidirectional=maybe", "bidirectional", "true or false"),
    ("optimizer=lbfgs", "optimizer", "adam"),
    ("nonsense=1", "nonsense", "unknown setting"),
    ("clip=-1", "clip", "from 0.0"),
    ("lr=nan", "lr", "finite"),
])
def test_bad_settings_name_the_field(assignment, field, words):
    with pytest.raises(ConfigError) as info:
        apply_sets(Config(), [assignment])
    assert info.value.field == field
    assert f"'{field}'" in str(info.value) and words in str(info.value)


def test_bidirectional_generation_is_refused():
    with pytest.raises(ConfigError, match="bidirectional"):
        Config().replace(task="generation", bidirectional=True)


def test_set_parses_types():
    cfg = apply_sets(Config(), ["cell=lstm", "hidden=64", "lr=0.5", "bidirectional=yes", "spectral-radius=1.5"])
    assert (cfg.cell, cfg.hidden, cfg.lr, cfg.bidirectional, cfg.spectral_radius) == ("lstm", 64, 0.5, True, 1.5)
    assert parse_value("epochs", " 7 ") == 7


def test_toml_round_trip():
    import tomllib

    cfg = Config().replace(dataset='my "file".tsv', lr=0.003, bidirectional=True)
    assert from_dict(tomllib.loads(to_toml(cfg.to_dict()))) == cfg


def test_missing_equals_sign():
    with pytest.raises(ConfigError, match="key=value"):
        apply_sets(Config(), ["hidden"])
