"""Whole numbers read from user text (CoNLL-U word ids, numeric labels, --set values): anything that is not a
plain number in range is one DataError / ConfigError naming the file and line (or the setting), never a ValueError
from ``int()`` (Unicode digits such as ² or ١ pass ``str.isdigit`` but not ``int``; 5,000 digits pass neither)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.core.config import Config, apply_sets
from rnnviz.core.data import loaders
from rnnviz.core.data.load import label_order
from rnnviz.core.errors import MESSAGE_LIMIT, ConfigError, DataError

NAME = "words.conllu"
ODD = ["²", "³", "١", "٣", "１", "Ⅳ", "߁", "𝟙", "0", "-1", "+1", "1_0", " 1", "1 ", "01x", "9" * 5000, "1" * 10,
       "٣-4", "3-²", "8.١", "²-³", "", "\u00a01"]


def _row(wid: str, form: str = "w", tag: str = "NOUN") -> str:
    return "\t".join([wid, form, "_", tag, "_", "_", "0", "_", "_", "_"])


def _text(wid: str) -> str:
    return "\n".join([_row("1", "a", "DET"), _row(wid, "b"), "", _row("1", "c", "VERB"), _row("2", "d"), ""])


@pytest.mark.parametrize("wid", ODD)
def test_odd_word_ids_are_one_line_naming_file_and_line(wid):
    try:
        raw = loaders.parse_conllu(_text(wid), NAME)
    except DataError as exc:
        text = str(exc)
        assert text.startswith(f"{NAME}:2: ") and "word id" in text, text
        assert len(text) <= MESSAGE_LIMIT and "\n" not in text
        return
    assert wid.strip() in ("2",) or "-" in wid or "." in wid, f"{wid!r} was accepted"
    assert len(raw.tokens) == 2


def test_a_superscript_and_a_5000_digit_id():
    with pytest.raises(DataError) as info:
        loaders.parse_conllu(_text("²"), NAME)
    assert str(info.value) == f"{NAME}:2: the word id '²' is not a whole number from 1 (digits 0-9, at most 9)"
    with pytest.raises(DataError) as info:
        loaders.parse_conllu(_text("7" * 5000), NAME)
    assert str(info.value).startswith(f"{NAME}:2: the word id '777777777777777777777777'… (5,000 characters)")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789-.+_ ²³¹١٣１Ⅳ߁x")), max_size=12))
def test_fuzz_word_ids(wid):
    try:
        loaders.parse_conllu(_text(wid), NAME)
    except DataError as exc:
        assert str(exc).startswith(f"{NAME}:") and len(str(exc)) <= MESSAGE_LIMIT


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("0123456789²١１_-+ ")), min_size=1, max_size=8),
                min_size=2, max_size=5))
def test_fuzz_numeric_labels_sort_without_error(labels):
    order = label_order(labels)
    assert sorted(order) == sorted(set(labels))


@pytest.mark.parametrize("text", ["²", "١٢", "9" * 5000, "1e3", "", "0x10", "nan", "inf", "-"])
def test_set_values_of_whole_number_settings(text):
    try:
        cfg = apply_sets(Config(), [f"hidden={text}"])
    except ConfigError as exc:
        assert exc.field == "hidden" and len(str(exc)) <= MESSAGE_LIMIT
        return
    assert 1 <= cfg.hidden <= 4096
