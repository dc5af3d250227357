"""Settings: every field, through every way in (--set, preset TOML, session/JSON mapping, the CLI), refuses a bad
value with a message naming the field and the allowed range; the edges of each range are accepted."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from rnnviz.core import config as cfgmod
from rnnviz.core.config import Config, apply_sets, from_dict, validate
from rnnviz.core.errors import ConfigError
from rnnviz.core.presets import LESSON_KEYS, list_presets, parse_preset

FIELDS = {f.name: f for f in dataclasses.fields(Config)}
RANGES = {name: s.range for name, s in cfgmod.SETTINGS.items() if s.range is not None}
CHOICES = {name: s.choices for name, s in cfgmod.SETTINGS.items() if s.choices}
TYPES = cfgmod.FIELD_TYPES


def bad_values(name: str) -> list:
    """Values field ``name`` must refuse, made from its type, its range and its choices."""
    want = TYPES[name]
    out: list = []
    if want is bool:
        out += ["maybe", 1, 0, None, "true"]        # Python values: only True/False (text is parsed by --set)
    elif want is int:
        out += [1.5, 2.0, True, "3", None, float("nan")]
    elif want is float:
        out += ["0.1", True, None, float("nan"), float("inf"), -float("inf")]
    elif want is str:
        out += [3, None, ["a"], b"bytes"]
    if name in RANGES:
        lo, hi, inclusive = RANGES[name]
        below = lo - 1 if inclusive else lo
        above = hi + 1 if want is int else hi * 1.5 + 1
        out += [want(below), want(above), want(10**30) if want is float else 10**30, -(10**30)]
    if name in CHOICES:
        out += ["transformer", CHOICES[name][0].upper(), CHOICES[name][0] + "\n", " " + CHOICES[name][0], ""]
    return out


CASES = [(name, value) for name in FIELDS for value in bad_values(name)]


def check(err: ConfigError, name: str) -> str:
    msg = str(err)
    assert err.field == name and msg.startswith(f"setting '{name}': ") and "\n" not in msg, msg
    if name in RANGES:
        lo, hi, inclusive = RANGES[name]
        assert f"from {lo} ({'inclusive' if inclusive else 'exclusive'}) to {hi}" in msg, msg
    if name in CHOICES:
        assert ", ".join(CHOICES[name]) in msg, msg
    if TYPES[name] is bool:
        assert "true or false" in msg
    return msg


def test_every_number_field_states_a_range_and_every_text_field_a_rule():
    for name, want in TYPES.items():
        if want in (int, float):
            assert name in RANGES, f"{name} has no range"
        if want is str:
            assert name in CHOICES or name == "dataset", f"{name} is free text without a rule"
    assert len(CASES) > 5 * len(FIELDS)


@pytest.mark.parametrize("name, value", CASES, ids=[f"{n}={v!r:.20}" for n, v in CASES])
def test_a_bad_value_names_the_field_and_the_range(name, value):
    with pytest.raises(ConfigError) as info:
        Config().replace(**{name: value})
    check(info.value, name)
    # the same value in a session / JSON / preset mapping
    if not (isinstance(value, float) and not math.isfinite(value)) and not isinstance(value, bytes):
        with pytest.raises(ConfigError) as info:
            from_dict(json.loads(json.dumps({name: value})))
        check(info.value, name)


def bad_texts(name: str) -> list[str]:
    """Texts ``--set name=TEXT`` must refuse."""
    want = TYPES[name]
    out = {bool: ["maybe", "2", "", "truee"], int: ["1.5", "abc", "1e3", "", "0x10"],
           float: ["abc", "nan", "inf", "-inf", "1e400", "", "1,5"], str: []}[want]
    if name in RANGES:
        lo, hi, inclusive = RANGES[name]
        out += [str(want(lo - 1 if inclusive else lo)), str(want(hi + 1 if want is int else hi * 1.5 + 1))]
    if name in CHOICES:
        out += ["transformer", CHOICES[name][0] + "\nx"]
    return out


SET_CASES = [(n, t) for n in FIELDS for t in bad_texts(n)] + [
    ("dataset", "my\nfile.tsv"), ("dataset", "a\x00b.tsv"), ("dataset", "x" * 5000), ("dataset", "   ")]


@pytest.mark.parametrize("name, text", SET_CASES, ids=[f"{n}={t!r:.20}" for n, t in SET_CASES])
def test_set_text_is_refused_with_the_field_and_range(name, text):
    with pytest.raises(ConfigError) as info:
        apply_sets(Config(), [f"{name}={text}"])
    check(info.value, name)


def test_the_edges_of_every_range_are_accepted():
    for name, (lo, hi, inclusive) in RANGES.items():
        want = TYPES[name]
        for value in ([lo] if inclusive else []) + [hi]:
            extra = {"cell": "rnn", "layers": 1} if name == "hidden" else {}
            assert getattr(Config().replace(**{name: want(value)}, **extra), name) == value
        if not inclusive:
            small = Config().replace(**{name: want(lo) + 1e-9})
            assert getattr(small, name) > lo


def test_unknown_keys_and_missing_equals():
    with pytest.raises(ConfigError) as info:
        apply_sets(Config(), ["learning_rate=0.1"])
    assert info.value.field == "learning_rate" and "unknown setting" in str(info.value) and "lr" in str(info.value)
    with pytest.raises(ConfigError, match="did you mean 'batch_size'"):
        from_dict({"batchsize": 3})
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_sets(Config(), ["hidden"])
    with pytest.raises(ConfigError, match="setting 'settings': must be a table"):
        from_dict([("hidden", 3)])
    with pytest.raises(ConfigError, match="unknown setting"):
        from_dict({3: 4})


def test_a_model_too_big_to_train_live_names_hidden():
    assert Config().replace(cell="rnn", hidden=4096).hidden == 4096       # 16.8 M recurrent weights: fine
    with pytest.raises(ConfigError) as info:
        Config().replace(cell="lstm", hidden=4096)
    assert info.value.field == "hidden" and "67,108,864 recurrent weights; at most 50,000,000" in str(info.value)
    with pytest.raises(ConfigError, match="bidirectional make"):
        Config().replace(cell="gru", hidden=2048, layers=2, bidirectional=True)


def test_huge_integers_for_float_fields():
    with pytest.raises(ConfigError) as info:
        from_dict({"lr": 10**400})
    check(info.value, "lr")
    with pytest.raises(ConfigError) as info:
        from_dict({"hidden": 10**5000})
    assert "thousands of digits" in check(info.value, "hidden")


# ------------------------------------------------------------------------------------------------ decisions
def test_bptt_longer_than_the_sequences_is_full_bptt():
    """bptt >= every sequence length (even > max_len) is allowed and gives exactly the full-BPTT gradient."""
    from rnnviz.core.data.batch import make_batch
    from rnnviz.core.train.trainer import Trainer

    base = dict(dataset="negation", n_examples=60, hidden=5, dtype="float64", max_len=12)
    full, long = Trainer(Config().replace(bptt=0, **base)), Trainer(Config().replace(bptt=5000, **base))
    batch = make_batch(full.dataset.train, np.arange(8), full.pad_id, full.dataset.task)
    full.model.loss_and_grads(batch)
    long.model.loss_and_grads(batch)
    assert batch.ids.shape[1] <= 12 and np.abs(full.model.grad).max() > 0
    np.testing.assert_array_equal(full.model.grad, long.model.grad)
    short = Trainer(Config().replace(bptt=2, **base))
    short.model.loss_and_grads(batch)
    assert not np.array_equal(short.model.grad, full.model.grad)       # truncation does change it


def test_batch_size_larger_than_the_data_is_one_batch_per_epoch():
    from rnnviz.core.train.trainer import Trainer

    t = Trainer(Config().replace(dataset="negation", n_examples=50, hidden=4, batch_size=100000, epochs=2))
    assert t.steps_per_epoch == 1
    assert math.isfinite(t.step()) and t.epoch == 1


# ------------------------------------------------------------------------------------------------ presets
GOOD_LESSON = '[lesson]\ntitle = "T"\ndescription = "d"\ntext = "x"\npanels = ["loss"]\norder = 3\n'


def preset(lesson: str = GOOD_LESSON, settings: str = 'dataset = "negation"\n', extra: str = "") -> str:
    return lesson + "\n[settings]\n" + settings + extra


def test_a_good_preset_parses():
    p = parse_preset("mine", preset(settings='dataset = "negation"\nhidden = 16\nlr = 1\n'), "mine.toml")
    assert (p.title, p.order, p.panels, p.config.hidden, p.config.lr) == ("T", 3, ("loss",), 16, 1.0)
    assert {"title", "description", "text", "panels", "order"} <= set(LESSON_KEYS)


@pytest.mark.parametrize("text, field, words", [
    (preset(GOOD_LESSON + "titel = \"typo\"\n"), "lesson.titel", "unknown [lesson] key; known keys: action"),
    (preset('[lesson]\ntitle = 3\n'), "lesson.title", "must be text, got 3"),
    (preset('[lesson]\npanels = "loss"\n'), "lesson.panels", "must be a list of texts"),
    (preset('[lesson]\npanels = ["loss", 2]\n'), "lesson.panels", "must be a list of texts"),
    (preset('[lesson]\norder = "1"\n'), "lesson.order", "must be a whole number"),
    (preset('[lesson]\norder = true\n'), "lesson.order", "must be a whole number"),
    (preset('[lesson]\norder = 1.5\n'), "lesson.order", "must be a whole number"),
    (preset('[lesson]\norder = 99999999999\n'), "lesson.order", "from -1000000 to 1000000"),
    (preset('[lesson]\ncontrols = "delay"\n'), "lesson.controls", "must be a list of texts"),
    ('lesson = 3\n[settings]\n', "lesson", "[lesson] must be a table"),
    (preset(settings="hidden = 32.0\n"), "hidden", "a whole number from 1 (inclusive) to 4096; got 32.0"),
    (preset(settings="hidden = -1\n"), "hidden", "(in mine.toml, [settings])"),
    (preset(settings="lr = 0\n"), "lr", "from 0.0 (exclusive) to 100.0"),
    (preset(settings='cell = "transformer"\n'), "cell", "one of rnn, lstm, gru"),
    (preset(settings='bidirectional = "maybe"\n'), "bidirectional", "true or false"),
    (preset(settings="lr = nan\n"), "lr", "a finite number"),
    (preset(settings="epochs = inf\n"), "epochs", "a whole number from 1"),
    (preset(settings="hidden = " + "9" * 5000 + "\n"), "preset", "not valid TOML"),
    (preset(settings='turbo = true\n'), "turbo", "unknown setting"),
    (preset(settings='dataset = "two\\nlines.tsv"\n'), "dataset", "one line"),
    ("[lesson]\n[settings]\n[extra]\n", "preset", "unknown section(s) extra"),
    ("settings = 3\n", "settings", "must be a table"),
    ("[lesson\n", "preset", "not valid TOML"),
])
def test_bad_presets_name_the_field(text, field, words):
    with pytest.raises(ConfigError) as info:
        parse_preset("mine", text, "mine.toml")
    msg = str(info.value)
    assert info.value.field == field and words in msg and "\n" not in msg, msg
    assert "mine.toml" in msg


def test_every_builtin_preset_is_valid_under_the_stricter_rules():
    for p in list_presets():
        assert validate(p.config) == p.config and isinstance(p.title, str) and p.title
