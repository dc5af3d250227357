"""load_dataset: the split, the vocabulary from training only, the encoding, the notes, and describe()."""
import os
import subprocess
import sys
import tempfile
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.core.config import GENERATED, Config
from rnnviz.core.data.batch import IGNORE, Dataset, iterate_batches
from rnnviz.core.data.load import describe, label_order, load_dataset, stratified_split
from rnnviz.core.data.text import Vocab
from rnnviz.core.errors import DataError

SMALL = dict(n_examples=200, delay=5, window=16)


def cfg(**kw) -> Config:
    return Config().replace(**kw)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def same(a: Dataset, b: Dataset) -> bool:
    def eq(sa, sb):
        return (sa.tokens == sb.tokens and all(np.array_equal(x, y) for x, y in zip(sa.ids, sb.ids))
                and all(np.array_equal(x, y) for x, y in zip(sa.targets, sb.targets)))
    return a.vocab == b.vocab and a.classes == b.classes and eq(a.train, b.train) and eq(a.val, b.val)


def check_consistent(ds: Dataset) -> None:
    """Invariants every Dataset must hold."""
    assert len(ds.train) >= 1 and len(ds.val) >= 1
    for split in (ds.train, ds.val):
        for toks, ids in zip(split.tokens, split.ids):
            assert ids.dtype == np.int64 and len(toks) == len(ids) >= 1
            assert np.array_equal(ids, ds.vocab.encode(toks))
        if ds.task == "classification":
            t = np.asarray(split.targets)
            assert t.dtype == np.int64 and t.shape == (len(split),) and t.min() >= 0 and t.max() < ds.n_classes
        else:
            for ids, tg in zip(split.ids, split.targets):
                assert tg.dtype == np.int64 and len(tg) == len(ids)
                real = tg[tg != IGNORE]
                assert real.size == 0 or (real.min() >= 0 and real.max() < ds.n_classes)
        for batch in iterate_batches(split, 32, ds.vocab.pad_id, ds.task):
            assert batch.ids.shape[0] == batch.lengths.shape[0]


# ------------------------------------------------------------------------------------------------ generated
@pytest.mark.parametrize("name", GENERATED)
def test_each_builtin_loads(name):
    ds = load_dataset(cfg(dataset=name, **SMALL))
    check_consistent(ds)
    assert ds.name == name and ds.source == f"generated:{name}"
    expected = {"negation": "classification", "delayed-recall": "classification", "names": "labelling",
                "pos": "labelling", "chars": "generation", "dogs": "labelling"}[name]
    assert ds.task == expected
    if name == "delayed-recall":
        assert ds.classes == ["a", "b", "c", "d"] and all(len(t) == 6 for t in ds.train.tokens)
    if name == "negation":
        assert ds.classes == ["negative", "positive"]
    if name == "dogs":     # each letter tagged with the next one of "dogsdogs...", classes in the articles' order
        assert ds.classes == ["d", "o", "g", "s"] and ds.tokenizer == "char"
        assert all(list(t) == list("dogs") for t in ds.train.tokens + ds.val.tokens)
        assert all(list(tg) == [1, 2, 3, 0] for tg in ds.val.targets)
    if name == "chars":
        assert ds.tokenizer == "char" and ds.classes == ds.vocab.tokens


def test_the_dataset_decides_the_task_and_says_so():
    ds = load_dataset(cfg(dataset="names", task="classification", **SMALL))
    assert ds.task == "labelling" and any("task=classification was not used" in n for n in ds.notes)
    assert not load_dataset(cfg(dataset="names", task="labelling", **SMALL)).notes
    ds = load_dataset(cfg(dataset="negation", tokenize="char", **SMALL))
    assert ds.tokenizer == "word" and any("tokenize=char" in n for n in ds.notes)


@pytest.mark.parametrize("name", GENERATED)
def test_same_seed_same_dataset_other_seed_other(name):
    a = load_dataset(cfg(dataset=name, task="labelling", seed=7, **SMALL))
    b = load_dataset(cfg(dataset=name, task="labelling", seed=7, **SMALL))
    c = load_dataset(cfg(dataset=name, task="labelling", seed=8, **SMALL))
    assert same(a, b) and same(a, c) == (name == "dogs")     # dogs: the same word whatever the seed


def test_delay_longer_than_max_len_is_cut_with_a_note():
    ds = load_dataset(cfg(dataset="delayed-recall", delay=50, max_len=20, n_examples=40))
    assert all(len(t) == 20 for t in ds.train.tokens)
    assert any("max_len=20" in n for n in ds.notes)


# ------------------------------------------------------------------------------------------------ split
def test_stratified_split_keeps_class_proportions(tmp_path):
    rows = [f"text {i} a\tmajor" for i in range(60)] + [f"text {i} b\tmiddle" for i in range(30)]
    rows += [f"text {i} c\tminor" for i in range(10)]
    path = write(tmp_path, "strat.tsv", "\n".join(rows) + "\n")
    ds = load_dataset(cfg(dataset=path, val_fraction=0.2))
    counts = describe(ds)
    assert counts["train"]["class_counts"] == {"major": 48, "middle": 24, "minor": 8}
    assert counts["val"]["class_counts"] == {"major": 12, "middle": 6, "minor": 2}
    assert ds.classes == ["major", "middle", "minor"]


def test_split_rules_directly():
    rng = np.random.default_rng(0)
    keys = ["a"] * 10 + ["b"] * 2 + ["c"]
    train, val, notes = stratified_split(keys, 0.1, rng)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(13))
    val_keys = Counter(keys[i] for i in val)
    assert val_keys == {"a": 1, "b": 1}            # at least one of each class with 2+ examples
    assert 12 in train and "single example" in notes[0]  # the lone 'c' trains
    with pytest.raises(DataError, match="at least 2"):
        stratified_split(["a"], 0.2, rng)
    train, val, notes = stratified_split(["a", "b", "c"], 0.2, rng)  # nothing to stratify
    assert len(val) == 1 and len(train) == 2 and any("plain random" in n for n in notes)


def test_class_with_one_example_trains_and_is_noted(tmp_path):
    rows = [f"w{i}\tpos" for i in range(10)] + [f"v{i}\tneg" for i in range(10)] + ["lonely\trare"]
    ds = load_dataset(cfg(dataset=write(tmp_path, "one.tsv", "\n".join(rows))))
    d = describe(ds)
    assert d["train"]["class_counts"]["rare"] == 1 and d["val"]["class_counts"]["rare"] == 0
    assert any("single example" in n and "'rare'" in n for n in ds.notes)


def test_too_few_examples(tmp_path):
    ds = load_dataset(cfg(dataset=write(tmp_path, "two.tsv", "good\tpos\nbad\tneg\n")))
    assert len(ds.train) == 1 and len(ds.val) == 1


def test_split_is_seeded(tmp_path):
    path = write(tmp_path, "s.tsv", "".join(f"text {i}\t{'ab'[i % 2]}\n" for i in range(50)))
    a, b, c = (load_dataset(cfg(dataset=path, seed=s)) for s in (1, 1, 2))
    assert a.val.tokens == b.val.tokens and a.val.tokens != c.val.tokens


# ------------------------------------------------------------------------------------------------ vocabulary
def test_vocabulary_comes_from_training_only(tmp_path):
    rows = [f"shared unique{i}\t{'ab'[i % 2]}" for i in range(40)]
    ds = load_dataset(cfg(dataset=write(tmp_path, "v.tsv", "\n".join(rows))))
    for toks, ids in zip(ds.val.tokens, ds.val.ids):
        assert toks[1] not in ds.vocab and ids[1] == ds.vocab.unk_id and ids[0] != ds.vocab.unk_id
    for toks in ds.train.tokens:
        assert toks[1] in ds.vocab
    assert ds.vocab.counts[ds.vocab.id_of("shared")] == len(ds.train)
    assert any("<unk>" in n for n in ds.notes)  # half of the validation tokens are unknown


def test_min_freq_and_max_vocab():
    ds = load_dataset(cfg(dataset="pos", n_examples=300, max_vocab=20))
    assert len(ds.vocab) == 20
    ds = load_dataset(cfg(dataset="pos", n_examples=300, min_freq=10 ** 6))
    assert len(ds.vocab) == 4 and all((x == ds.vocab.unk_id).all() for x in ds.train.ids)


# ------------------------------------------------------------------------------------------------ encoding
def test_sos_eos_classification():
    ds = load_dataset(cfg(dataset="negation", sos=True, eos=True, **SMALL))
    for toks, ids in zip(ds.train.tokens, ds.train.ids):
        assert toks[0] == "<sos>" and toks[-1] == "<eos>"
        assert ids[0] == ds.vocab.sos_id and ids[-1] == ds.vocab.eos_id


def test_sos_eos_labelling_targets_are_ignored():
    plain = load_dataset(cfg(dataset="names", **SMALL))
    ds = load_dataset(cfg(dataset="names", sos=True, eos=True, **SMALL))
    for p, toks, tg in zip(plain.train.targets, ds.train.tokens, ds.train.targets):
        assert toks[0] == "<sos>" and toks[-1] == "<eos>"
        assert tg[0] == IGNORE and tg[-1] == IGNORE and np.array_equal(tg[1:-1], p)


def test_labelling_targets_are_tag_ids(tmp_path):
    path = write(tmp_path, "t.tsv", "Harry\tB-PER\nPotter\tI-PER\nsleeps\tO\n\nthe\tO\nking\tO\n\nRon\tB-PER\nruns\tO\n")
    ds = load_dataset(cfg(dataset=path, task="labelling", val_fraction=0.3))
    assert ds.classes == ["B-PER", "I-PER", "O"] and ds.task == "labelling"
    everything = {(t, ds.classes[k]) for split in (ds.train, ds.val)
                  for toks, tg in zip(split.tokens, split.targets) for t, k in zip(toks, tg)}
    assert ("harry", "B-PER") in everything and ("potter", "I-PER") in everything and ("king", "O") in everything


def test_lowercase_setting_applies_to_labelling_files(tmp_path):
    path = write(tmp_path, "t.tsv", "Harry\tB\nRon\tO\n\nHarry\tB\nRon\tO\n")
    ds = load_dataset(cfg(dataset=path, task="labelling", lowercase=False))
    assert "Harry" in ds.vocab and "harry" not in ds.vocab


def test_numeric_labels_sort_by_value():
    assert label_order(["10", "2", "1"]) == ["1", "2", "10"]
    assert label_order(["pos", "neg"]) == ["neg", "pos"]


# ------------------------------------------------------------------------------------------------ generation
def test_generation_windows(tmp_path):
    text = "abcdefghij" * 20  # 200 characters
    ds = load_dataset(cfg(dataset=write(tmp_path, "g.txt", text), task="generation", tokenize="char",
                          window=10, val_fraction=0.2, sos=True))
    assert ds.task == "generation" and ds.classes == ds.vocab.tokens and ds.tokenizer == "char"
    assert len(ds.train) + len(ds.val) == 19 and len(ds.val) == 4
    for split in (ds.train, ds.val):
        for toks, ids, tg in zip(split.tokens, split.ids, split.targets):
            assert len(toks) == len(ids) == len(tg) == 10
            assert np.array_equal(ids[1:], tg[:-1])  # targets are the inputs shifted by one
    assert "".join(ds.train.tokens[0]) == "abcdefghij" and ds.vocab.decode(ds.train.targets[0])[-1] == "a"
    assert "".join(ds.val.tokens[-1]) == "abcdefghij"  # validation is the end of the text
    assert any("sos/eos" in n for n in ds.notes)
    check_consistent(ds)


def test_generation_text_too_short(tmp_path):
    with pytest.raises(DataError, match="smaller window") as err:
        load_dataset(cfg(dataset=write(tmp_path, "short.txt", "hello world"), task="generation",
                         tokenize="char", window=8))
    assert "short.txt" in str(err.value)


def test_generation_validation_only_characters_are_unknown(tmp_path):
    text = "ab" * 100 + "xyz" * 10  # 22 windows of 11; the last 4 (from character 180) validate
    ds = load_dataset(cfg(dataset=write(tmp_path, "g.txt", text), task="generation", tokenize="char", window=10))
    assert "x" not in ds.vocab and any("<unk>" in n for n in ds.notes)


# ------------------------------------------------------------------------------------------------ files, errors
def test_missing_file_names_it_and_the_builtins(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset(cfg(dataset=str(tmp_path / "negations.tsv")))
    assert "negations.tsv" in str(err.value) and "negation" in str(err.value) and "no such file" in str(err.value)


def test_conllu_for_classification_is_refused(tmp_path):
    with pytest.raises(DataError, match="labelling"):
        load_dataset(cfg(dataset=write(tmp_path, "x.conllu", "1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n")))


def test_loader_errors_pass_through_with_line(tmp_path):
    path = write(tmp_path, "bad.tsv", "good\tpos\nbad\n")
    with pytest.raises(DataError) as err:
        load_dataset(cfg(dataset=path))
    assert err.value.line == 2 and f"{path}:2:" in str(err.value)


def test_max_len_counts_the_specials(tmp_path):
    path = write(tmp_path, "long.tsv", "w " * 30 + "\tpos\nshort\tneg\n" + "v " * 30 + "\tneg\nfine\tpos\n")
    ds = load_dataset(cfg(dataset=path, max_len=10, sos=True, eos=True))
    assert max(len(t) for s in (ds.train, ds.val) for t in s.tokens) == 10
    assert any("max_len=8" in n for n in ds.notes)


def test_describe():
    ds = load_dataset(cfg(dataset="pos", n_examples=100))
    d = describe(ds)
    assert d["task"] == "labelling" and d["vocab_size"] == len(ds.vocab) and d["classes"] == ds.classes
    assert d["train"]["examples"] + d["val"]["examples"] == 100
    assert sum(d["train"]["class_counts"].values()) == d["train"]["tokens"]
    assert d["train"]["unk_tokens"] == 0
    assert d["val"]["unk_tokens"] == sum(tok not in ds.vocab for toks in ds.val.tokens for tok in toks)
    names = load_dataset(cfg(dataset="names", task="labelling", n_examples=100))
    unknown = sum(tok not in names.vocab for toks in names.val.tokens for tok in toks)
    assert describe(names)["val"]["unk_tokens"] == unknown > 0          # words met only in validation
    ds = load_dataset(cfg(dataset="negation", n_examples=100, sos=True))
    d = describe(ds)
    assert sum(d["val"]["class_counts"].values()) == d["val"]["examples"]


def test_core_data_does_not_import_qt():
    code = ("import sys, rnnviz.core.data.load, rnnviz.core.data.text, rnnviz.core.data.loaders, rnnviz.core.data.generated; "
            "assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------------ real corpora
REAL = [("ud_ewt/en_ewt-ud-dev.subset.conllu", "labelling", 800, 17),
        ("ud_ewt/en_ewt-ud-dev.subset.upos.tsv", "labelling", 800, 17),
        ("uner_ewt/en_ewt-ud-dev.subset.ner.tsv", "labelling", 800, 7),
        ("sentence_polarity/rt_polarity_subset1000.tsv", "classification", 1000, 2)]


@pytest.mark.parametrize("rel, task, n, k", REAL)
def test_real_corpora_load(real_data, rel, task, n, k):
    ds = load_dataset(cfg(dataset=str(real_data / rel), task=task))
    check_consistent(ds)
    d = describe(ds)
    assert d["train"]["examples"] + d["val"]["examples"] == n and d["n_classes"] == k
    assert abs(d["val"]["examples"] - 0.2 * n) <= k
    assert any("<unk>" in note for note in ds.notes)
    print(f"\n{rel}: {d['train']['examples']} train / {d['val']['examples']} val examples, "
          f"{d['train']['tokens'] + d['val']['tokens']} tokens, vocabulary {d['vocab_size']}, {k} classes")


def test_real_polarity_is_stratified(real_data):
    ds = load_dataset(cfg(dataset=str(real_data / "sentence_polarity" / "rt_polarity_subset1000.tsv")))
    d = describe(ds)
    assert d["train"]["class_counts"] == {"neg": 400, "pos": 400}
    assert d["val"]["class_counts"] == {"neg": 100, "pos": 100}


def test_real_shakespeare(real_data):
    ds = load_dataset(cfg(dataset=str(real_data / "tinyshakespeare" / "input_first100k.txt"), task="generation",
                          tokenize="char", lowercase=False, window=64))
    check_consistent(ds)
    assert len(ds.train) + len(ds.val) == (100020 - 1) // 64
    assert "F" in ds.vocab and len(ds.vocab) <= 65


# ------------------------------------------------------------------------------------------------ fuzzing
LINES = st.lists(st.sampled_from(["a b", "good film", "x", "", " ", "\t", "c\td", "\u0085", '"', ",", "é ♥",
                                  "#", "-", "\r"]), max_size=6).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(LINES, st.sampled_from(["pos", "neg", "", "x", "pos\t"])), max_size=12),
       st.sampled_from(["classification", "labelling"]), st.floats(0.05, 0.9))
def test_fuzz_load_dataset(rows, task, val_fraction):
    text = "\n".join(f"{a}\t{b}" for a, b in rows)
    fd, name = tempfile.mkstemp(suffix=".tsv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            ds = load_dataset(cfg(dataset=name, task=task, val_fraction=val_fraction))
        except DataError as err:
            assert name in str(err)
            return
        check_consistent(ds)
        assert isinstance(ds.vocab, Vocab)
    finally:
        os.unlink(name)
