"""Tokenizer and vocabulary: ids, order, round trips, and clear errors on damaged vocabulary files."""
import json

import numpy as np
import pytest

from rnnviz.core.data.text import SPECIALS, Vocab, tokenize, tokenize_cut
from rnnviz.core.errors import DataError


# ------------------------------------------------------------------------------------------------ tokenize
def test_word_tokens_split_words_and_punctuation():
    assert tokenize("This movie isn't good!") == ["this", "movie", "isn't", "good", "!"]
    assert tokenize("j . r . r . tolkien's") == ["j", ".", "r", ".", "r", ".", "tolkien's"]
    assert tokenize("Hello,world...") == ["hello", ",", "world", ".", ".", "."]


def test_word_tokens_keep_case_when_asked():
    assert tokenize("Harry Potter", lowercase=False) == ["Harry", "Potter"]


def test_word_tokens_non_ascii():
    assert tokenize("Déjà vu ♥ £5 ’ok’") == ["déjà", "vu", "♥", "£", "5", "’", "ok", "’"]


def test_every_unicode_space_separates_words():
    assert tokenize("a\u0085b\u2028c\td\r\ne\u00a0f") == ["a", "b", "c", "d", "e", "f"]


def test_char_tokens_keep_spaces_and_newlines():
    assert tokenize("Hi you\n", mode="char") == ["h", "i", " ", "y", "o", "u", "\n"]
    assert tokenize("Hi", mode="char", lowercase=False) == ["H", "i"]
    assert tokenize("a\u0085b", mode="char") == ["a", "\u0085", "b"]


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError):
        tokenize("x", mode="bpe")


def test_tokenize_cut_counts_everything_but_keeps_max_len():
    head, n = tokenize_cut("a b c d e", "word", True, 3)
    assert head == ["a", "b", "c"] and n == 5
    head, n = tokenize_cut("a b", "word", True, 3)
    assert head == ["a", "b"] and n == 2


# ------------------------------------------------------------------------------------------------ Vocab
def test_specials_have_fixed_ids():
    v = Vocab.build([["x"]])
    assert v.tokens[:4] == ["<pad>", "<unk>", "<sos>", "<eos>"] == list(SPECIALS)
    assert (v.pad_id, v.unk_id, v.sos_id, v.eos_id) == (0, 1, 2, 3)
    assert Vocab().tokens == list(SPECIALS) and len(Vocab()) == 4


def test_build_orders_by_frequency_then_alphabet():
    v = Vocab.build([["b", "a", "c", "c"], ["d", "b", "a", "c"]])
    assert v.tokens[4:] == ["c", "a", "b", "d"]
    assert v.counts == [0, 0, 0, 0, 3, 2, 2, 1]


def test_build_is_independent_of_input_order():
    lists = [["z", "y"], ["y", "x"], ["w"]]
    assert Vocab.build(lists) == Vocab.build(list(reversed(lists)))


def test_min_freq_and_max_size():
    data = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    assert Vocab.build(data, min_freq=2).tokens[4:] == ["a", "b", "c"]
    v = Vocab.build(data, max_size=6)  # the specials count
    assert len(v) == 6 and v.tokens[4:] == ["a", "b"]
    with pytest.raises(ValueError):
        Vocab.build(data, max_size=3)


def test_special_spellings_in_data_are_not_added_twice():
    v = Vocab.build([["<unk>", "<pad>", "a"]])
    assert v.tokens == list(SPECIALS) + ["a"]


def test_encode_decode_contains_len():
    v = Vocab.build([["the", "dog", "the"]])
    ids = v.encode(["the", "cat", "dog"])
    assert ids.dtype == np.int64 and ids.shape == (3,)
    assert ids.tolist() == [4, 1, 5]
    assert v.decode(ids) == ["the", "<unk>", "dog"]
    assert v.encode([]).shape == (0,)
    assert "dog" in v and "cat" not in v and "<pad>" in v
    assert len(v) == 6
    assert v.id_of("cat") == v.unk_id
    with pytest.raises(ValueError):
        v.decode([99])


def test_json_round_trip(tmp_path):
    v = Vocab.build([["déjà", "vu", "♥", "vu"], ["\n", " "]])
    assert Vocab.from_json(v.to_json()) == v
    path = tmp_path / "vocab.json"
    v.save(path)
    w = Vocab.load(path)
    assert w == v and w.tokens == v.tokens and w.counts == v.counts


@pytest.mark.parametrize("content, what", [
    ("{not json", "not JSON"),
    ("[1, 2]", "format"),
    (json.dumps({"format": "rnnviz-vocab", "version": 99, "specials": list(SPECIALS), "tokens": [], "counts": []}),
     "version"),
    (json.dumps({"format": "rnnviz-vocab", "version": 1, "specials": ["<unk>"], "tokens": [], "counts": []}),
     "specials"),
    (json.dumps({"format": "rnnviz-vocab", "version": 1, "specials": list(SPECIALS), "tokens": ["a", "a"],
                 "counts": [1, 1]}), "twice"),
    (json.dumps({"format": "rnnviz-vocab", "version": 1, "specials": list(SPECIALS), "tokens": ["a"],
                 "counts": []}), "counts"),
    (json.dumps({"format": "rnnviz-vocab", "version": 1, "specials": list(SPECIALS), "tokens": [3],
                 "counts": [1]}), "tokens"),
])
def test_bad_vocab_file_is_a_clear_data_error(tmp_path, content, what):
    path = tmp_path / "bad_vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as err:
        Vocab.load(path)
    assert "bad_vocab.json" in str(err.value) and what in str(err.value)


def test_missing_or_binary_vocab_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        Vocab.load(tmp_path / "none.json")
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="bin.json"):
        Vocab.load(path)
