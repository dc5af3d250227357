"""The settings registry: each Config field carries its facts once, and everything derived reads them.

Parametrized over ``SETTINGS``: a field added to Config with its ``setting(...)`` is checked here (validation,
parsing, role) without editing this file.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest

from rnnviz.core import config as cfgmod
from rnnviz.core.config import (
    DATA_FIELDS,
    FIELD_TYPES,
    GATES,
    LIVE_FIELDS,
    MARKED_FIELDS,
    MODEL_FIELDS,
    ROLES,
    SETTINGS,
    STRUCTURAL,
    TRAINING_FIELDS,
    Config,
    allowed,
    apply_sets,
    from_dict,
    to_toml,
)
from rnnviz.core.errors import ConfigError
from rnnviz.core.settings import Setting, setting, settings_of

from helpers import other_value

PACKAGE = pathlib.Path(cfgmod.__file__).resolve().parents[1]
NAMES = list(SETTINGS)


# ------------------------------------------------------------------------------------------- the records
def test_every_field_has_one_complete_record():
    assert NAMES == [f.name for f in dataclasses.fields(Config)]
    for f in dataclasses.fields(Config):
        s = SETTINGS[f.name]
        assert (s.name, s.default, s.type.__name__) == (f.name, f.default, f.type), f.name
        assert s.role in ROLES and s.label and len(s.tip) > 15, f.name
    assert FIELD_TYPES == {n: s.type for n, s in SETTINGS.items()}


@pytest.mark.parametrize("name", NAMES)
def test_the_default_is_allowed_and_a_different_value_too(name):
    s = SETTINGS[name]
    assert s.accepts(s.default)
    changed = Config().replace(**{name: other_value(s)})
    assert getattr(changed, name) != s.default


@pytest.mark.parametrize("name", NAMES)
def test_allowed_states_the_registrys_range_or_choices(name):
    s, text = SETTINGS[name], allowed(name)
    if s.range is not None:
        lo, hi, inclusive = s.range
        assert text.endswith(f"from {lo} ({'inclusive' if inclusive else 'exclusive'}) to {hi}")
    elif s.choices:
        assert text == f"one of {', '.join(s.choices)}"
    elif s.type is bool:
        assert text == "true or false"
    else:
        assert name == "dataset" and "file path" in text


@pytest.mark.parametrize("name", [n for n in NAMES if SETTINGS[n].range is not None])
def test_a_value_past_either_end_of_the_range_is_refused(name):
    s = SETTINGS[name]
    lo, hi, inclusive = s.range
    step = 1 if s.type is int else abs(hi - lo) * 1e-6 + 1e-9
    for bad in ([lo - step] if inclusive else [lo]) + [hi + step]:
        with pytest.raises(ConfigError) as info:
            Config(**{name: s.type(bad)})
        assert info.value.field == name and allowed(name) in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_set_reads_every_key_and_a_preset_round_trips_it(name):
    s = SETTINGS[name]
    value = other_value(s)
    text = str(value).lower() if s.type is bool else repr(value) if s.type is float else str(value)
    cfg = apply_sets(Config(), [f"{name}={text}"])
    assert getattr(cfg, name) == value and type(getattr(cfg, name)) is s.type
    assert from_dict({name: value}) == cfg
    import tomllib

    assert from_dict(tomllib.loads(to_toml(cfg.to_dict()))) == cfg


def test_a_setting_record_refuses_contradictions():
    with pytest.raises(ValueError, match="role"):
        Setting(role="sometimes", tip="t", label="l")
    with pytest.raises(ValueError, match="range or choices"):
        Setting(role="model", tip="t", label="l", range=(0, 1, True), choices=("a",))
    with pytest.raises(ValueError, match="only a live setting"):
        Setting(role="model", tip="t", label="l", marked=True)


def test_settings_of_reads_name_type_and_default_from_the_field():
    @dataclasses.dataclass(frozen=True)
    class Toy:
        width: int = setting(3, "model", "the width of something", "Width", range=(1, 9, True))

    (s,) = settings_of(Toy).values()
    assert (s.name, s.type, s.default, s.range, s.role) == ("width", int, 3, (1, 9, True), "model")

    @dataclasses.dataclass(frozen=True)
    class Bare:
        width: int = 3

    with pytest.raises(ValueError, match="no setting"):
        settings_of(Bare)


# ------------------------------------------------------------------------------------ validation on make
def test_config_validates_when_it_is_made():
    with pytest.raises(ConfigError) as info:
        Config(hidden=-3)
    assert info.value.field == "hidden" and "from 1 (inclusive) to 4096; got -3" in str(info.value)
    with pytest.raises(ConfigError, match="setting 'cell': must be one of rnn, lstm, gru; got 'lstmx'"):
        Config(cell="lstmx")
    with pytest.raises(ConfigError, match="setting 'lr'"):
        dataclasses.replace(Config(), lr=-1.0)
    with pytest.raises(ConfigError, match="bidirectional"):
        Config(task="generation", bidirectional=True)


def test_a_bad_cell_never_reaches_the_model():
    """RNNModel(Config(cell="lstmx")) used to end in a bare KeyError; now the Config cannot even be made."""
    from rnnviz.core.nn.model import RNNModel

    with pytest.raises(ConfigError, match="cell"):
        RNNModel(Config(cell="lstmx"), 10, 2)


def test_huge_integers_are_refused_with_the_range_not_an_overflow():
    with pytest.raises(ConfigError, match="setting 'lr'"):
        Config(lr=10**400)
    with pytest.raises(ConfigError, match="setting 'temperature'"):
        Config(temperature=-(10**400))


# ------------------------------------------------------------------------------------------------- roles
def test_the_role_sets_are_those_the_code_used_before_the_registry():
    assert LIVE_FIELDS == {"lr", "clip", "epochs", "temperature", "eval_every"}
    assert MARKED_FIELDS == ("lr", "clip", "epochs", "temperature")
    assert DATA_FIELDS == set("dataset task tokenize lowercase min_freq max_vocab sos eos val_fraction n_examples "
                              "delay window column max_len seed".split())
    assert STRUCTURAL == set("dataset task tokenize lowercase min_freq max_vocab sos eos val_fraction n_examples "
                             "delay window column max_len cell activation hidden layers bidirectional init "
                             "spectral_radius forget_bias dtype start_weights seed".split())
    assert MODEL_FIELDS == {"cell", "activation", "hidden", "layers", "bidirectional", "init", "spectral_radius",
                            "forget_bias", "dtype", "start_weights"}
    assert TRAINING_FIELDS == {"optimizer", "momentum", "batch_size", "weight_decay", "bptt", "seed"}
    roles = [MODEL_FIELDS, TRAINING_FIELDS, LIVE_FIELDS, DATA_FIELDS - {"seed"}]
    assert sum(len(r) for r in roles) == len(SETTINGS) and set().union(*roles) == set(SETTINGS)


def test_the_consumers_read_the_registrys_sets():
    from rnnviz.core.explore import race
    from rnnviz.core.train import trainer

    assert race.DATA_FIELDS is DATA_FIELDS and trainer.MARKED_FIELDS is MARKED_FIELDS


@pytest.mark.parametrize("name", NAMES)
def test_the_race_compares_data_by_the_registry(name):
    from rnnviz.core.explore.race import same_data

    a = Config()
    b = a.replace(**{name: other_value(SETTINGS[name])})
    assert same_data(a, b) == (name not in DATA_FIELDS)


@pytest.mark.parametrize("name", MARKED_FIELDS)
def test_every_marked_setting_leaves_a_marker_through_the_config_setter(name):
    from rnnviz.core.train.trainer import Trainer

    t = Trainer(Config(n_examples=60, hidden=4))
    t.step()
    value = other_value(SETTINGS[name])
    t.config = t.config.replace(**{name: value})
    assert t.markers == [(1, f"{name} {SETTINGS[name].default:g}\u2192{value:g}")]


# ------------------------------------------------------------------------------------------------- gates
def test_gates_are_defined_once_in_the_package():
    definitions = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py")
                   for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                   if re.match(r"\s*GATES\s*(:[^=]*)?=", line)]
    assert definitions == ["core/settings.py:" + definitions[0].split(":")[1]], definitions


@pytest.mark.parametrize("cell", list(GATES))
def test_the_model_and_the_flop_count_read_the_gates(cell):
    from rnnviz.bench.flops import step_flops
    from rnnviz.core.nn.model import RNNModel

    d, n, k = 5, 7, 3
    model = RNNModel(Config(cell=cell, hidden=d, dtype="float64"), n, k)
    G = len(GATES[cell])
    assert model.params["W"].shape == (G * d, d)
    assert list(model.W_blocks()) == list(GATES[cell])
    assert step_flops(cell, "classification", d, 4, 2, k) == 3 * 3 * 2 * 2 * G * d * d + 3 * 2 * 2 * k * d
