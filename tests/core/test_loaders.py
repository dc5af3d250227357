"""Loaders: every quirk of real files, and a DataError naming file and line for every malformed input."""
import os
import tempfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.core.data.loaders import load_classification, load_conllu, load_generation, load_labelling, load_two_column
from rnnviz.core.errors import DataError


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def fails(loader, path, line=None, what=None, **kw):
    """Assert ``loader(path)`` raises a DataError naming the file (and the line); return the message."""
    with pytest.raises(DataError) as err:
        loader(path, **kw)
    msg = str(err.value)
    assert str(path) in msg and err.value.path == str(path)
    if line is not None:
        assert err.value.line == line and f"{path}:{line}:" in msg
    if what is not None:
        assert what in msg, msg
    return msg


TWO = "good film\tpos\nbad film\tneg\n"


# ------------------------------------------------------------------------------------------------ classification
def test_classification_basic(tmp_path):
    raw = load_classification(write(tmp_path, "a.tsv", TWO))
    assert raw.task == "classification"
    assert raw.tokens == [["good", "film"], ["bad", "film"]] and raw.labels == ["pos", "neg"]
    assert raw.lines == [1, 2] and raw.notes == []


def test_bom_crlf_and_blank_lines(tmp_path):
    path = write(tmp_path, "a.tsv", b"\xef\xbb\xbfgood film\tpos\r\n\r\n  \r\nbad film\tneg\r\n")
    raw = load_classification(path)
    assert raw.tokens == [["good", "film"], ["bad", "film"]] and raw.labels == ["pos", "neg"]
    assert raw.lines == [1, 4]


def test_whitespace_only_lines_are_blank(tmp_path):
    raw = load_classification(write(tmp_path, "w.tsv", "good\tpos\n\n \t \n\u00a0\nbad\tneg\n"))
    assert raw.lines == [1, 5]


def test_nel_and_line_separators_stay_inside_text(tmp_path):
    path = write(tmp_path, "a.tsv", "it was\u0085great\tpos\nit was\u2028bad\u2029 really\tneg\n")
    raw = load_classification(path)
    assert len(raw) == 2 and raw.labels == ["pos", "neg"]
    assert raw.tokens[0] == ["it", "was", "great"]
    raw = load_classification(path, mode="char")
    assert "\u0085" in raw.tokens[0]


def test_unbalanced_quotes_are_literal_text(tmp_path):
    path = write(tmp_path, "q.tsv", '"a great "film\tpos\nit\'s "bad\tneg\n"fine"\tpos\n')
    raw = load_classification(path)
    assert len(raw) == 3 and raw.labels == ["pos", "neg", "pos"]
    assert raw.tokens[1] == ["it's", '"', "bad"]


def test_split_on_the_last_tab(tmp_path):
    path = write(tmp_path, "t.tsv", "left\tpart of the text\tpos\nx\ty\tz\tneg\n")
    raw = load_classification(path)
    assert raw.tokens == [["left", "part", "of", "the", "text"], ["x", "y", "z"]] and raw.labels == ["pos", "neg"]


def test_trailing_space_before_tab_and_label_whitespace(tmp_path):
    raw = load_classification(write(tmp_path, "s.tsv", "good . \t pos \nbad . \tneg\n"))
    assert raw.labels == ["pos", "neg"] and raw.tokens[0] == ["good", "."]


@pytest.mark.parametrize("header", ["text\tlabel", "sentence\tlabel", "Text\tLabel", "review\tsentiment"])
def test_header_row_is_skipped(tmp_path, header):
    raw = load_classification(write(tmp_path, "h.tsv", header + "\n" + TWO))
    assert raw.labels == ["pos", "neg"] and raw.lines == [2, 3]


def test_a_data_row_is_not_taken_for_a_header(tmp_path):
    raw = load_classification(write(tmp_path, "h.tsv", "text\tpos\n" + TWO))
    assert raw.labels == ["pos", "pos", "neg"]


def test_csv_separator_is_tab_when_present_else_last_comma(tmp_path):
    path = write(tmp_path, "c.csv", "text,label\nhello, world,pos\nbad, sad\tneg\n\"a, b\",neg\n")
    raw = load_classification(path)
    assert raw.tokens == [["hello", ",", "world"], ["bad", ",", "sad"], ['"', "a", ",", "b", '"']]
    assert raw.labels == ["pos", "neg", "neg"]


def test_tsv_does_not_split_on_commas(tmp_path):
    fails(load_classification, write(tmp_path, "c.tsv", "good, fine\tpos\nbad, pos\n"), 2, "no separator")


def test_non_ascii_text_and_labels(tmp_path):
    raw = load_classification(write(tmp_path, "u.tsv", "Déjà vu ♥\tpositif\n£5 trop cher\tnégatif\n"))
    assert raw.tokens[0] == ["déjà", "vu", "♥"] and raw.labels == ["positif", "négatif"]


def test_long_rows_are_cut_with_a_note(tmp_path):
    path = write(tmp_path, "l.tsv", "w " * 50 + "\tpos\nshort\tneg\n" + "v " * 70 + "\tneg\n")
    raw = load_classification(path, max_len=10)
    assert [len(t) for t in raw.tokens] == [10, 1, 10]
    assert len(raw.notes) == 1 and "2 of 3" in raw.notes[0] and "max_len=10" in raw.notes[0]
    assert "line 3" in raw.notes[0] and "70" in raw.notes[0]


def test_c1_control_characters_are_kept_and_noted(tmp_path):
    raw = load_classification(write(tmp_path, "c1.tsv", "it\u0092s \u0097 fine\tpos\nbad\tneg\n"))
    assert "\u0097" in raw.tokens[0] and "C1" in raw.notes[0]


def test_duplicate_texts_are_noted(tmp_path):
    raw = load_classification(write(tmp_path, "d.tsv", TWO + "good film\tneg\n"))
    assert any("repeat" in n and "different labels" in n for n in raw.notes)


@pytest.mark.parametrize("content, line, what", [
    ("good\tpos\nno separator here\nbad\tneg\n", 2, "no separator"),
    ("good\tpos\nbad\t \n", 2, "label"),
    ("good\tpos\n\t neg\n", 2, "text"),
    ("good\tpos\nbad\xe9\tneg\n".encode("latin-1"), 2, "not UTF-8"),
    (b"good\tpos\nbad\tneg\nx\x00y\tpos\n", 3, "NUL"),
])
def test_malformed_rows_name_file_and_line(tmp_path, content, line, what):
    fails(load_classification, write(tmp_path, "bad.tsv", content), line, what)


@pytest.mark.parametrize("content, what", [
    (b"", "empty"),
    (b"\n\n  \r\n", "no examples"),
    (b"text\tlabel\n", "no examples"),
    (b"good\tpos\nfine\tpos\n", "one class"),
    ("good\tpos\nbad\tneg\n".encode("utf-16"), "UTF-16"),
    (b"good\tpos\rbad\tneg\r", "carriage return"),
])
def test_malformed_files_name_the_file(tmp_path, content, what):
    fails(load_classification, write(tmp_path, "bad.tsv", content), None, what)


def test_missing_file_and_folder(tmp_path):
    fails(load_classification, tmp_path / "nope.tsv", None, "no such file")
    fails(load_classification, tmp_path, None, "folder")


# ------------------------------------------------------------------------------------------------ CoNLL-U
CONLLU = """# newdoc id = x
# sent_id = 1
# text = I didn't go to Déjà.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdid\tdo\tAUX\tVBD\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
4.1\tgone\tgo\t_\t_\t_\t_\t_\t4:conj\t_
5\tto\tto\tADP\tIN\t_\t6\tcase\t_\t_
6\tDéjà\tDéjà\tPROPN\tNNP\t_\t4\tobl\t_\t_
7\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

# sent_id = 2
1\t♥\t♥\tSYM\tNFP\t_\t0\troot\t_\t_
"""


def test_conllu_skips_comments_ranges_and_empty_nodes(tmp_path):
    raw = load_conllu(write(tmp_path, "a.conllu", CONLLU))
    assert raw.task == "labelling"
    assert raw.tokens == [["I", "did", "n't", "go", "to", "Déjà", "."], ["♥"]]
    assert raw.labels == [["PRON", "AUX", "PART", "VERB", "ADP", "PROPN", "PUNCT"], ["SYM"]]
    assert raw.lines == [4, 15]


def test_conllu_other_column_lowercase_and_crlf(tmp_path):
    path = write(tmp_path, "a.conllu", CONLLU.replace("\n", "\r\n"))
    raw = load_conllu(path, column=5, lowercase=True)
    assert raw.tokens[0][0] == "i" and raw.tokens[0][5] == "déjà"
    assert raw.labels[0] == ["PRP", "VBD", "RB", "VB", "IN", "NNP", "."]
    raw = load_conllu(path, column=8)
    assert raw.labels[1] == ["root"]


def test_conllu_long_sentences_are_cut(tmp_path):
    raw = load_conllu(write(tmp_path, "a.conllu", CONLLU), max_len=3)
    assert raw.tokens[0] == ["I", "did", "n't"] and len(raw.labels[0]) == 3
    assert "1 of 2" in raw.notes[0] and "line 4" in raw.notes[0]


def _conllu_with(line8: str) -> str:
    lines = CONLLU.split("\n")
    lines[7] = line8
    return "\n".join(lines)


@pytest.mark.parametrize("line8, what", [
    ("4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_", "found 9"),
    ("4 go go VERB VB _ 0 root _ _", "found 1"),
    ("four\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_", "'four'"),
    ("4-x\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_", "'4-x'"),
    ("4\tgo\tgo\t_\tVB\t_\t0\troot\t_\t_", "no tag in column 4 (UPOS)"),
    ("4\tgo\tgo\t\tVB\t_\t0\troot\t_\t_", "no tag"),
    ("4\t\tgo\tVERB\tVB\t_\t0\troot\t_\t_", "form"),
    ("9\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_", "expected"),
])
def test_conllu_malformed_lines(tmp_path, line8, what):
    fails(load_conllu, write(tmp_path, "bad.conllu", _conllu_with(line8)), 8, what)


def test_conllu_without_sentences_or_with_one_tag(tmp_path):
    fails(load_conllu, write(tmp_path, "c.conllu", "# only\n# comments\n\n"), None, "no sentences")
    one = "1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n\n1\tb\tb\tX\t_\t_\t0\troot\t_\t_\n"
    fails(load_conllu, write(tmp_path, "d.conllu", one), None, "only one tag")


# ------------------------------------------------------------------------------------------------ two columns
TWO_COL = "#\tO\n#audiobooks\tO\nHarry\tB-PER\n\n\nDéjà\tO\nPotter\tB-PER\r\n"


def test_two_column_keeps_hash_tokens(tmp_path):
    raw = load_two_column(write(tmp_path, "n.iob2", TWO_COL))
    assert raw.tokens == [["#", "#audiobooks", "Harry"], ["Déjà", "Potter"]]
    assert raw.labels == [["O", "O", "B-PER"], ["O", "B-PER"]]
    assert raw.lines == [1, 6]


def test_two_column_docstart_and_extra_columns(tmp_path):
    path = write(tmp_path, "c.tsv", "-DOCSTART-\tO\n\nEU\tNNP\tB-ORG\nrejects\tVBZ\tO\n")
    raw = load_two_column(path)
    assert raw.tokens == [["EU", "rejects"]] and raw.labels == [["B-ORG", "O"]]
    assert "more than two columns" in raw.notes[0]


@pytest.mark.parametrize("content, line, what", [
    ("a\tO\nb O\nc\tB\n", 2, "spaces but no tab"),
    ("a\tO\n\nbc\nd\tB\n", 3, "no tab"),
    ("a\tO\nb\t\nc\tB\n", 2, "tag"),
    ("a\tO\n\tB\n", 2, "token"),
    (b"a\tO\nb\tB\n\xc3(\tO\n", 3, "not UTF-8"),
])
def test_two_column_malformed(tmp_path, content, line, what):
    fails(load_two_column, write(tmp_path, "bad.tsv", content), line, what)


def test_two_column_one_tag_and_empty(tmp_path):
    fails(load_two_column, write(tmp_path, "one.tsv", "a\tO\nb\tO\n"), None, "only one tag")
    fails(load_two_column, write(tmp_path, "blank.tsv", "\n\n"), None, "no sentences")


def test_wrong_task_hints(tmp_path):
    raw = load_two_column(write(tmp_path, "c.tsv", "a good film\tpos\nbad\tneg\n"))
    assert "classification" in raw.notes[-1] and "line 1" in raw.notes[-1]
    rows = "".join(f"w{i}\t{'AB'[i % 2]}\n" for i in range(12))
    assert "labelling" in load_classification(write(tmp_path, "l.tsv", rows)).notes[-1]


def test_load_labelling_picks_the_format(tmp_path):
    assert load_labelling(write(tmp_path, "x.conllu", CONLLU)).tokens[1] == ["♥"]
    assert load_labelling(write(tmp_path, "x.txt", CONLLU)).tokens[1] == ["♥"]  # recognised by content
    assert load_labelling(write(tmp_path, "y.txt", TWO_COL)).tokens[0][0] == "#"


# ------------------------------------------------------------------------------------------------ generation
def test_generation_text(tmp_path):
    path = write(tmp_path, "g.txt", "\ufeffHello,\r\nWorld\u0085!\n")
    raw = load_generation(path)
    assert raw.task == "generation" and raw.tokenizer == "char"
    assert "".join(raw.tokens[0]) == "Hello,\nWorld\u0085!\n"
    assert load_generation(path, mode="word", lowercase=True).tokens[0] == ["hello", ",", "world", "!"]
    fails(load_generation, write(tmp_path, "w.txt", " \n\t\n"), None, "whitespace")
    fails(load_generation, write(tmp_path, "b.txt", b"\x89PNG\r\n\x1a\n\x00\x00"), None, "PNG image")
    fails(load_generation, write(tmp_path, "n.txt", b"ab\ncd\nx\x00y"), 3, "NUL")


# ------------------------------------------------------------------------------------------------ real corpora
def test_real_conllu(real_data):
    raw = load_conllu(real_data / "ud_ewt" / "en_ewt-ud-dev.subset.conllu")
    assert len(raw) == 800 and sum(map(len, raw.tokens)) == 10802
    assert min(map(len, raw.tokens)) == 1 and max(map(len, raw.tokens)) == 75
    tags = Counter(t for s in raw.labels for t in s)
    assert len(tags) == 17 and "_" not in tags
    words = {w for s in raw.tokens for w in s}
    assert {"did", "n't"} <= words and "didn't" not in words       # multiword range skipped, words kept
    assert any("é" in w for w in words) and "’" in "".join(words)  # non-ASCII survives
    assert not any(w.startswith("# ") for w in words)
    print(f"\nUD EWT CoNLL-U: {len(raw)} sentences, {sum(tags.values())} words, {len(tags)} tags")


def test_real_upos_tsv_matches_conllu(real_data):
    tsv = load_two_column(real_data / "ud_ewt" / "en_ewt-ud-dev.subset.upos.tsv")
    conllu = load_conllu(real_data / "ud_ewt" / "en_ewt-ud-dev.subset.conllu")
    assert tsv.tokens == conllu.tokens and tsv.labels == conllu.labels
    words = [w for s in tsv.tokens for w in s]
    assert words.count("#audiobooks") == 2 and words.count("#") == 1  # lines starting with '#' are tokens


def test_real_ner_keeps_hash_tokens(real_data):
    raw = load_labelling(real_data / "uner_ewt" / "en_ewt-ud-dev.subset.ner.tsv")
    assert len(raw) == 800
    words = [w for s in raw.tokens for w in s]
    assert words.count("#") == 3
    tags = Counter(t for s in raw.labels for t in s)
    assert set(tags) == {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}
    assert 0.9 < tags["O"] / sum(tags.values()) < 0.97
    print(f"\nUNER EWT: {len(raw)} sentences, {len(words)} tokens, tags {dict(tags)}")


def test_real_polarity(real_data):
    raw = load_classification(real_data / "sentence_polarity" / "rt_polarity_subset1000.tsv")
    assert len(raw) == 1000 and Counter(raw.labels) == {"pos": 500, "neg": 500}
    assert not any(t[-1] == "" for t in raw.tokens)  # the space before the tab is not a token
    text = "".join(w for t in raw.tokens for w in t)
    assert {"\u0091", "\u0096", "\u0097"} <= set(text)
    assert any("C1" in n for n in raw.notes)
    assert raw.tokens[0][:4] == ["as", "it", "stands", ","]


def test_real_tinyshakespeare(real_data):
    raw = load_generation(real_data / "tinyshakespeare" / "input_first100k.txt", mode="char")
    text = (real_data / "tinyshakespeare" / "input_first100k.txt").read_text(encoding="utf-8")
    assert raw.tokens[0] == list(text) and len(raw.tokens[0]) == 100020
    assert len(set(raw.tokens[0])) == 61  # the README's 65 characters are those of the whole play
    assert "".join(raw.tokens[0][:14]) == "First Citizen:"


# ------------------------------------------------------------------------------------------------ fuzzing
ALPHABET = st.sampled_from(["a", "b", " ", "\t", "\n", "\r", ",", '"', "#", "_", "1", "-", ".", "\u0085",
                            "é", "\x00", "\xff", "O", "B-PER"])
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_bytes(loader, suffix, data):
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            raw = loader(name)
        except DataError as err:
            assert name in str(err)
            return None
        assert len(raw) >= 1 and len(raw.tokens) == len(raw.labels)
        return raw
    finally:
        os.unlink(name)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_tsv_bytes(data):
    _load_bytes(load_classification, ".tsv", data)


@FUZZ
@given(st.lists(ALPHABET, max_size=120).map(lambda xs: "".join(xs).encode("utf-8", "surrogatepass")))
def test_fuzz_tsv_text(data):
    raw = _load_bytes(load_classification, ".csv", data)
    if raw is not None:
        assert len(set(raw.labels)) >= 2 and all(raw.tokens) and all(lab.strip() for lab in raw.labels)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_two_column_bytes(data):
    _load_bytes(load_two_column, ".tsv", data)


@FUZZ
@given(st.lists(ALPHABET, max_size=120).map(lambda xs: "".join(xs).encode()))
def test_fuzz_labelling_text(data):
    raw = _load_bytes(load_labelling, ".iob2", data)
    if raw is not None:
        assert all(len(t) == len(g) >= 1 for t, g in zip(raw.tokens, raw.labels))
