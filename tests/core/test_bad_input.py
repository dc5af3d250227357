"""Bad input: a corpus of malformed files (tests/bad_files), big files made at run time, and fuzzing of every loader.

Each file either loads into a consistent Dataset or gives ONE DataError naming the file (and the line when one
line is at fault), through ``load_dataset``, through ``rnnviz train --data FILE --task T --json`` (one line on
stderr, exit code 2) and through the window's "Open file…" (one dialog, nothing changed).
"""
from __future__ import annotations

import json
import os
import tempfile
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.core.config import Config
from rnnviz.core.data import loaders
from rnnviz.core.data.batch import IGNORE
from rnnviz.core.data.load import load_dataset
from rnnviz.core.data.text import SPECIALS, Vocab
from rnnviz.core.errors import MESSAGE_LIMIT, DataError, one_line

from helpers import BAD_CORPUS, BAD_FILES, C, G, L

IDS = [f"{name}-{task[:5]}" for name, task, _ in BAD_CORPUS]


def check_error(err: DataError, path, line=None, words=None) -> str:
    """The one-line ``file:line: what`` message: the file named, the line when given, ``words`` in it."""
    msg = str(err)
    assert "\n" not in msg and "Traceback" not in msg
    assert err.path == str(path) and msg.startswith(f"{path}:"), msg
    if line is not None:
        assert err.line == line and msg.startswith(f"{path}:{line}: "), msg
    if words is not None:
        assert words in msg, msg
    return msg


def check_dataset(ds) -> None:
    """Invariants of every loaded Dataset: ids in range, lengths match, targets are classes."""
    assert len(ds.train) >= 1 and len(ds.val) >= 1
    n_vocab, k = len(ds.vocab), ds.n_classes
    assert k >= 2 and len(set(ds.classes)) == k
    for split in (ds.train, ds.val):
        assert len(split.tokens) == len(split.ids) == len(split.targets)
        for toks, ids in zip(split.tokens, split.ids):
            assert ids.dtype == np.int64 and len(toks) == len(ids) >= 1
            assert ids.min() >= 0 and ids.max() < n_vocab
            assert np.array_equal(ids, ds.vocab.encode(toks))
        if ds.task == C:
            t = np.asarray(split.targets)
            assert t.shape == (len(split),) and t.min() >= 0 and t.max() < k
        else:
            for ids, tg in zip(split.ids, split.targets):
                assert len(tg) == len(ids)
                real = tg[tg != IGNORE]
                assert real.size and real.min() >= 0 and real.max() < k


def load(path, task, **kw):
    return load_dataset(Config().replace(dataset=str(path), task=task, **kw))


# ------------------------------------------------------------------------------------------------ the corpus
def test_every_corpus_file_is_listed():
    listed = {name for name, _, _ in BAD_CORPUS}
    present = {p.name for p in BAD_FILES.iterdir() if p.suffix != ".py"}
    assert present == listed
    assert max(p.stat().st_size for p in BAD_FILES.iterdir()) < 20_000   # small files only; big ones are made here


@pytest.mark.parametrize("name, task, expected", BAD_CORPUS, ids=IDS)
def test_corpus_file_loads_or_names_file_and_line(name, task, expected):
    path = BAD_FILES / name
    if expected[0] == "loads":
        ds = load(path, task)
        check_dataset(ds)
        if name in ("header_unknown.tsv", "quoted_header.csv", "duplicated_header.tsv"):
            assert ds.classes == ["neg", "pos"] and len(ds.train) + len(ds.val) == 12   # headers are not examples
        if expected[1]:
            assert any(expected[1] in n for n in ds.notes), ds.notes
        return
    with pytest.raises(DataError) as info:
        load(path, task)
    check_error(info.value, path, expected[1], expected[2])


# ------------------------------------------------------------------------------------------------ paths
def test_folder_missing_and_special_files(tmp_path):
    (tmp_path / "folder.tsv").mkdir()
    with pytest.raises(DataError) as info:
        load(tmp_path / "folder.tsv", C)
    check_error(info.value, tmp_path / "folder.tsv", None, "is a folder")
    with pytest.raises(DataError) as info:
        load(tmp_path / "missing.tsv", C)
    check_error(info.value, tmp_path / "missing.tsv", None, "no such file")
    link = tmp_path / "zero.tsv"
    link.symlink_to("/dev/zero")                    # reading it would never end
    with pytest.raises(DataError) as info:
        load(link, C)
    check_error(info.value, link, None, "not a regular file")
    fifo = tmp_path / "pipe.tsv"
    os.mkfifo(fifo)                                 # opening it would wait for a writer forever
    with pytest.raises(DataError) as info:
        load(fifo, G)
    check_error(info.value, fifo, None, "not a regular file")
    dangling = tmp_path / "dangling.tsv"
    dangling.symlink_to(tmp_path / "gone.tsv")
    with pytest.raises(DataError, match="no such file"):
        load(dangling, C)
    too_long = tmp_path / ("a" * 300 + ".tsv")      # one name over the file system's 255 bytes
    with pytest.raises(DataError) as info:
        load(too_long, C)
    # a 370-character path cannot fit a message of MESSAGE_LIMIT characters: its middle gives way, its start and
    # the reason stay
    assert str(info.value) == one_line(f"{too_long}: cannot use this path (File name too long)")
    assert len(str(info.value)) == MESSAGE_LIMIT and str(info.value).startswith(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_no_read_permission(tmp_path):
    path = tmp_path / "secret.tsv"
    path.write_text("good\tpos\nbad\tneg\n", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(DataError) as info:
        load(path, C)
    check_error(info.value, path, None, "cannot read the file (Permission denied)")


def test_a_file_over_the_size_cap_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.tsv"
    with open(path, "wb") as fh:                    # sparse: no disk is used
        fh.truncate(loaders.MAX_FILE_BYTES + 2**20)
    with pytest.raises(DataError) as info:
        load(path, C)
    check_error(info.value, path, None, "the file is 65.0 MB; rnnviz reads files up to 64 MB")


# ------------------------------------------------------------------------------------------------ big content
def test_a_5_mb_line_is_cut_to_max_len_with_a_note(tmp_path):
    path = tmp_path / "long_line.tsv"
    words = "word " * 1_000_000                     # 5 MB, one million tokens on line 2
    path.write_text(f"a short good text\tpos\n{words}\tneg\nbad\tneg\nfine film\tpos\n", encoding="utf-8")
    assert path.stat().st_size > 5_000_000
    start = time.perf_counter()
    ds = load(path, C, max_len=50)
    seconds = time.perf_counter() - start
    check_dataset(ds)
    assert max(len(t) for s in (ds.train, ds.val) for t in s.tokens) == 50
    assert any("1 of 4 examples were longer than max_len=50 tokens" in n and "line 2, has 1000000" in n
               for n in ds.notes), ds.notes
    # the same million words on 1,000 lines, timed in the same run: reading is linear in the bytes, so the one long
    # line costs about as much (measured 1.5-2.4 times as much here); a cost growing with the square of a line's
    # length would make it ~1000 times more. The bound sits between, far from both.
    spread = tmp_path / "spread.tsv"
    spread.write_text("".join(f"{'word ' * 1000}\t{'pos' if i % 2 else 'neg'}\n" for i in range(1000)),
                      encoding="utf-8")
    start = time.perf_counter()
    load(spread, C, max_len=50)
    spread_seconds = time.perf_counter() - start
    print(f"5 MB on one line: {seconds:.2f} s; on 1,000 lines: {spread_seconds:.2f} s")
    assert seconds < 25 * spread_seconds


def test_a_5_mb_line_without_a_tab(tmp_path):
    path = tmp_path / "long_bad.tsv"
    path.write_text("good\tpos\n" + "x" * 5_000_000 + "\nbad\tneg\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load(path, C)
    check_error(info.value, path, 2, "no separator")


@pytest.mark.parametrize("fmt", ["two_column", "conllu"])
def test_a_200000_token_sentence_is_cut_with_a_note(tmp_path, fmt):
    n = 200_000
    if fmt == "conllu":
        body = "".join(f"{i}\tw{i % 7}\t_\t{'NOUN' if i % 2 else 'VERB'}\t_\t_\t0\tdep\t_\t_\n"
                       for i in range(1, n + 1))
        tail = "1\tshort\t_\tADJ\t_\t_\t0\troot\t_\t_\n2\tone\t_\tNOUN\t_\t_\t1\tdep\t_\t_\n"
        path = tmp_path / "long.conllu"
    else:
        body = "".join(f"w{i % 7}\t{'NOUN' if i % 2 else 'VERB'}\n" for i in range(1, n + 1))
        tail = "short\tADJ\none\tNOUN\n"
        path = tmp_path / "long.tsv"
    path.write_text(body + "\n" + tail, encoding="utf-8")
    ds = load(path, L, max_len=100)
    check_dataset(ds)
    lengths = sorted(len(t) for s in (ds.train, ds.val) for t in s.tokens)
    assert lengths == [2, 100]
    assert any(f"1 of 2 examples were longer than max_len=100 tokens and were cut (the longest, line 1, has {n})" in x
               for x in ds.notes), ds.notes


def test_generation_text_over_the_stream_cap_is_cut_with_a_note(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("abcdefghij" * ((loaders.MAX_STREAM_TOKENS + 5_000) // 10), encoding="utf-8")
    raw = loaders.load_generation(path, mode="char")
    assert len(raw.tokens[0]) == loaders.MAX_STREAM_TOKENS
    assert raw.notes == [f"the text has {loaders.MAX_STREAM_TOKENS + 5_000:,} characters; only the first "
                         f"{loaders.MAX_STREAM_TOKENS:,} are used"]


def test_too_many_labels_names_the_line(tmp_path):
    path = tmp_path / "ids.tsv"
    path.write_text("".join(f"text {i}\tid{i}\n" for i in range(loaders.MAX_CLASSES + 5)), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load(path, C)
    check_error(info.value, path, loaders.MAX_CLASSES + 1, f"more than {loaders.MAX_CLASSES} different labels")


@pytest.mark.parametrize("cap, task, text, line, words", [
    ("MAX_EXAMPLES", C, "".join(f"t{i}\t{'ab'[i % 2]}\n" for i in range(9)), 6, "more than 5 examples"),
    ("MAX_TOKENS", C, "a b c\tx\nd e f\ty\ng h\tx\n", 2, "more than 5 tokens by this line"),
    ("MAX_EXAMPLES", L, "".join(f"w\t{'AB'[i % 2]}\n\n" for i in range(9)), 11, "more than 5 sentences"),
    ("MAX_TOKENS", L, "a\tA\nb\tB\nc\tA\n\nd\tB\ne\tA\nf\tB\n", 7, "more than 5 tokens by this line"),
])
def test_the_stated_caps_refuse_with_the_line(tmp_path, monkeypatch, cap, task, text, line, words):
    monkeypatch.setattr(loaders, cap, 5)
    path = tmp_path / "capped.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load(path, task)
    check_error(info.value, path, line, words)


# ------------------------------------------------------------------------------------------------ fuzzing
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fuzz_file(data: bytes, suffix: str, action):
    """Write ``data`` to a temporary file, run ``action(path)``; a DataError must name the file (and a real line)."""
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            return action(name)
        except DataError as err:
            check_error(err, name)
            if err.line is not None:
                assert 1 <= err.line <= data.count(b"\n") + 1
            return None
    finally:
        os.unlink(name)


def conllu_row(draw, i):
    cols = [str(i), draw(st.sampled_from(["cat", "#x", "", " ", "é", "_"])), "_",
            draw(st.sampled_from(["NOUN", "VERB", "_", "", "DET"])), "_", "_", "0", "dep", "_", "_"]
    mutation = draw(st.sampled_from(["none"] * 6 + ["drop", "extra", "id", "range", "empty_node", "spaces", "cr"]))
    if mutation == "drop":
        cols = cols[: draw(st.integers(1, 9))]
    elif mutation == "extra":
        cols.append("x")
    elif mutation == "id":
        cols[0] = draw(st.sampled_from(["0", "-1", "a", "", "1.5.2", str(i + 1)]))
    elif mutation == "range":
        cols[0] = f"{i}-{i + 1}"
    elif mutation == "empty_node":
        cols[0] = f"{i}.1"
    line = ("  ".join(cols) if mutation == "spaces" else "\t".join(cols))
    return line + ("\r" if mutation == "cr" else "")


@st.composite
def conllu_texts(draw):
    out = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            out.append("# text = " + draw(st.sampled_from(["a", "", "\t"])))
        out.extend(conllu_row(draw, i) for i in range(1, draw(st.integers(1, 5)) + 1))
        out.append(draw(st.sampled_from(["", " ", "\t"])))
    return "\n".join(out).encode("utf-8")


@FUZZ
@given(conllu_texts())
def test_fuzz_conllu_near_valid(data):
    raw = fuzz_file(data, ".conllu", loaders.load_conllu)
    if raw is not None:
        assert len(raw.tokens) == len(raw.labels) == len(raw.lines) >= 1
        assert all(len(t) == len(g) >= 1 for t, g in zip(raw.tokens, raw.labels))
        assert all(tag not in ("", "_") for tags in raw.labels for tag in tags)
        assert len({t for tags in raw.labels for t in tags}) >= 2


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".conllu", ".txt"]))
def test_fuzz_conllu_and_generation_bytes(data, suffix):
    if suffix == ".conllu":
        fuzz_file(data, suffix, loaders.load_conllu)
    else:
        raw = fuzz_file(data, suffix, lambda p: loaders.load_generation(p, mode="char"))
        if raw is not None:
            assert len(raw.tokens) == 1 and len(raw.tokens[0]) >= 2 and raw.labels == []


TEXT = st.lists(st.sampled_from(list("ab \t\n\r,.'é\u0085\u2028<>_-#") + ["<pad>", "x y"]), max_size=80).map("".join)


@FUZZ
@given(TEXT, st.sampled_from(["word", "char"]), st.booleans())
def test_fuzz_generation_text(text, mode, lowercase):
    raw = fuzz_file(text.encode("utf-8"), ".txt", lambda p: loaders.load_generation(p, mode, lowercase))
    if raw is not None:
        assert len(raw.tokens[0]) >= 2 and all(isinstance(t, str) and t for t in raw.tokens[0])


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([C, L, G]), st.sampled_from([".tsv", ".csv", ".conllu", ".txt"]))
def test_fuzz_load_dataset_bytes_every_task(data, task, suffix):
    ds = fuzz_file(data, suffix, lambda p: load(p, task, window=4))
    if ds is not None:
        check_dataset(ds)


ROWS = st.lists(st.tuples(st.sampled_from(["good film", "bad", "x", "", " ", "<unk>", "a\tb", "é ♥"]),
                          st.sampled_from(["pos", "neg", "", "NOUN", "_"])), max_size=14)


@FUZZ
@given(ROWS, st.sampled_from([C, L]), st.booleans(), st.booleans(), st.integers(1, 6))
def test_fuzz_load_dataset_near_valid(rows, task, sos, eos, max_len):
    text = "".join(f"{a}\t{b}\n" + ("\n" if task == L and i % 3 == 2 else "") for i, (a, b) in enumerate(rows))
    ds = fuzz_file(text.encode(), ".tsv", lambda p: load(p, task, sos=sos, eos=eos, max_len=max_len + 2))
    if ds is not None:
        check_dataset(ds)
        assert max(len(ids) for s in (ds.train, ds.val) for ids in s.ids) <= max_len + 2


TOKENS = st.lists(st.lists(st.text(max_size=4), max_size=6), max_size=6)


@FUZZ
@given(TOKENS, st.integers(1, 3), st.one_of(st.none(), st.integers(4, 12)), st.lists(st.text(max_size=4),
                                                                                     max_size=8))
def test_fuzz_vocab_build_encode_decode(token_lists, min_freq, max_size, query):
    v = Vocab.build(token_lists, min_freq, max_size)
    assert v.tokens[:4] == list(SPECIALS) and len(set(v.tokens)) == len(v)
    assert max_size is None or len(v) <= max_size
    ids = v.encode(query)
    assert ids.dtype == np.int64 and ids.shape == (len(query),)
    assert ((ids >= 0) & (ids < len(v))).all()
    back = v.decode(ids)
    for tok, got in zip(query, back):
        assert got == (tok if tok in v else "<unk>")
    assert Vocab.from_json(v.to_json()) == v


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=4), max_leaves=12)


@FUZZ
@given(st.one_of(JSONISH, st.fixed_dictionaries(
    {"format": st.just("rnnviz-vocab"), "version": st.sampled_from([1, 2, True, "1"]),
     "specials": st.sampled_from([list(SPECIALS), []]), "tokens": st.lists(st.text(max_size=3), max_size=4),
     "counts": st.lists(st.integers(-1, 3), max_size=4)})))
def test_fuzz_vocab_files(data):
    try:
        v = Vocab.from_json(json.dumps(data), "v.json")
    except DataError as err:
        assert str(err).startswith("v.json: not a valid rnnviz vocabulary file")
        return
    assert v.tokens[:4] == list(SPECIALS) and len(v) == 4 + len(data["tokens"])


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_vocab_load_bytes(data):
    v = fuzz_file(data, ".json", Vocab.load)
    if v is not None:         # bytes that happen to be a vocabulary file: a well-formed one
        assert v.tokens[:4] == list(SPECIALS) and len(set(v.tokens)) == len(v)
