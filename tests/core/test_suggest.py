"""core.data.suggest: the task a file's shape shows and the settings chosen for it, checked against counts made
here independently (split the lines, count the tokens), on small files and on the real corpora."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.data import suggest as sg
from rnnviz.core.data.load import load_dataset
from rnnviz.core.data.text import tokenize
from rnnviz.core.errors import ConfigError, DataError

from helpers import BAD_FILES


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def sentences(n=30):
    tags = {"the": "DT", "dog": "NN", "runs": "VB", "a": "DT", "cat": "NN", "sleeps": "VB"}
    words = list(tags)
    out = []
    for i in range(n):
        sent = [words[(i + j) % 6] for j in range(3 + i % 4)]
        out.append("".join(f"{w}\t{tags[w]}\n" for w in sent))
    return "\n".join(out)


REVIEWS = "".join(f"the film number {i} was {'good' if i % 2 else 'bad'} and long\t{'pos' if i % 2 else 'neg'}\n"
                  for i in range(80))


def test_token_tag_sentences_are_labelling_with_word_tokens(tmp_path):
    path = write(tmp_path, "tags.tsv", sentences(30))
    s = sg.suggest(path)
    assert s.task == s.detected_task == "labelling"
    assert "30 groups separated by blank lines" in s.shape
    assert s.settings["tokenize"] == "word"
    longest = max(len(block.splitlines()) for block in sentences(30).split("\n\n"))
    assert f"the longest example has {longest} tokens" in s.reasons["max_len"]
    assert s.settings["max_len"] == 10 * math.ceil(longest / 10)
    assert load_dataset(s.config).task == "labelling"


def test_text_label_lines_are_word_classification(tmp_path):
    path = write(tmp_path, "reviews.tsv", REVIEWS)
    s = sg.suggest(path)
    assert s.task == "classification" and s.settings["tokenize"] == "word"
    assert "one text and one label per line (80 lines, 2 labels)" in s.shape
    lengths = [len(tokenize(line.rsplit("\t", 1)[0])) for line in REVIEWS.splitlines()]
    assert f"median {np.median(lengths):g} words" in s.reasons["tokenize"]
    assert s.settings["max_len"] == 10 * math.ceil(max(lengths) / 10)


def test_single_words_with_labels_and_no_blank_lines_are_read_as_characters(tmp_path):
    names = ["smith", "jones", "mueller", "schmidt", "rossi", "bianchi", "dupont", "martin"]
    text = "".join(f"{n}{i}\t{'de' if n in ('mueller', 'schmidt') else 'x'}\n" for i in range(10) for n in names)
    s = sg.suggest(write(tmp_path, "names.tsv", text))
    assert s.task == "classification" and s.settings["tokenize"] == "char"
    assert s.shape.startswith("one word and a label per line")
    assert s.settings["max_len"] == 10 * math.ceil(max(len(f"{n}9") for n in names) / 10)


def test_plain_text_is_character_generation_and_a_short_text_gets_a_shorter_window(tmp_path):
    text = "the quick brown fox jumps over the lazy dog. " * 20          # 900 characters
    s = sg.suggest(write(tmp_path, "fox.txt", text))
    assert s.task == "generation" and s.settings["tokenize"] == "char" and s.settings["lowercase"] is False
    assert s.settings["window"] == len(text) // sg.MIN_WINDOWS == 45
    words = set(text.replace(".", " . ").split())          # the 8 words and "."
    assert f"{len(set(text))} distinct characters against {len(words)} distinct words" in \
        s.reasons["tokenize"]
    ds = load_dataset(s.config)
    assert ds.task == "generation" and len(ds.train) + len(ds.val) == (len(text) - 1) // 45


def test_conllu_is_labelling_on_upos():
    s = sg.suggest(BAD_FILES / "sentences.conllu")
    assert s.task == "labelling" and s.settings["column"] == 4 and s.shape.startswith("CoNLL-U")


def test_csv_with_commas_is_classification(tmp_path):
    text = "".join(f"review {i} was fine,{'pos' if i % 2 else 'neg'}\n" for i in range(20))
    assert sg.suggest(write(tmp_path, "r.csv", text)).task == "classification"


@pytest.mark.parametrize("n_train, epochs", [(800, 12), (640, 15), (1250, 8), (40, 20), (100_000, 3)])
def test_epochs_aim_at_the_target_number_of_steps(n_train, epochs):
    per_epoch = math.ceil(n_train / 32)
    value, why = sg._epochs(n_train, 32)
    assert value == epochs == min(20, max(3, round(sg.TARGET_STEPS / per_epoch)))
    assert f"{epochs * per_epoch:,} steps" in why


@pytest.mark.parametrize("tokens, hidden", [(10, 16), (1_999, 16), (2_000, 32), (49_999, 32), (80_000, 64),
                                            (10**7, 128)])
def test_model_size_grows_with_the_training_tokens(tokens, hidden):
    value, why = sg._hidden(tokens)
    assert value == hidden and f"{tokens:,} training tokens" in why


def test_long_tails_are_cut_at_the_99th_percentile():
    lengths = np.array([10] * 995 + [300] * 5)
    value, why = sg._max_len(lengths, "tokens", sg.MAX_LEN_WORDS)
    assert value == 10 and "cuts 5 of 1000" in why and "the longest has 300" in why


def test_the_settings_start_from_the_registry_defaults(tmp_path):
    """Nothing of a previous run can leak in: the Config is Config() with the file and the chosen settings."""
    s = sg.suggest(write(tmp_path, "reviews.tsv", REVIEWS))
    cfg = s.config
    for key, value in Config().to_dict().items():
        want = {**s.settings, "dataset": s.path}.get(key, value)
        assert getattr(cfg, key) == want, key
    assert [line.split(" = ")[0] for line in s.lines()] == list(s.settings)


def test_another_task_keeps_the_detection_and_chooses_settings_for_it(tmp_path):
    path = write(tmp_path, "tags.tsv", sentences(30))
    s = sg.suggest(path, "generation")
    assert s.task == "generation" and s.detected_task == "labelling"
    assert s.reasons["task"].startswith("chosen instead of labelling")
    assert "window" in s.settings and "max_len" not in s.settings


def test_a_task_the_file_cannot_be_read_as_says_why_and_keeps_the_defaults(tmp_path):
    path = write(tmp_path, "story.txt", "once upon a time\nthere was a dog\n")
    s = sg.suggest(path, "labelling")
    assert s.detected_task == "generation" and s.settings == {"task": "labelling"}
    assert s.problem == f"{path}:1: expected token<TAB>tag, found no tab (this line has spaces but no tab)"
    assert "cannot be read as labelling" in s.reasons["task"]
    with pytest.raises(DataError) as err:
        load_dataset(s.config)
    assert str(err.value) == s.problem      # loading it shows the same one message


def test_user_errors_are_one_line_messages(tmp_path):
    with pytest.raises(DataError) as err:
        sg.suggest(tmp_path / "missing.tsv")
    assert str(err.value) == f"{tmp_path / 'missing.tsv'}: no such file"
    with pytest.raises(DataError) as err:
        sg.suggest(BAD_FILES / "image.tsv")
    assert "PNG image" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        sg.suggest(write(tmp_path, "r.tsv", REVIEWS), "tagging")
    assert str(err.value) == "setting 'task': must be one of classification, labelling, generation; got 'tagging'"


# --- the real corpora (../shared/data/real) ---------------------------------------------------------------------
REAL = {
    "sentence_polarity/rt_polarity_subset1000.tsv": ("classification", "word"),
    "ud_ewt/en_ewt-ud-dev.subset.upos.tsv": ("labelling", "word"),
    "ud_ewt/en_ewt-ud-dev.subset.conllu": ("labelling", "word"),
    "uner_ewt/en_ewt-ud-dev.subset.ner.tsv": ("labelling", "word"),
    "tinyshakespeare/input_first100k.txt": ("generation", "char"),
}


@pytest.mark.parametrize("name", list(REAL))
def test_real_corpora_get_their_task_and_settings_that_load(real_data, name):
    s = sg.suggest(real_data / name)
    task, tokens = REAL[name]
    assert (s.task, s.settings["tokenize"]) == (task, tokens)
    ds = load_dataset(s.config)
    assert ds.task == task and not any("were cut" in n for n in ds.notes)    # max_len cuts none of them
    if task != "generation":
        longest = max(len(t) for t in ds.train.tokens + ds.val.tokens)
        assert f"the longest example has {longest} tokens" in s.reasons["max_len"]


def test_polarity_numbers_match_an_independent_count(real_data):
    path = real_data / "sentence_polarity/rt_polarity_subset1000.tsv"
    rows = path.read_text(encoding="utf-8").split("\n")
    rows = [r for r in rows if r.strip()]
    lengths = [len(tokenize(r.rsplit("\t", 1)[0])) for r in rows]
    s = sg.suggest(path)
    assert s.stats["examples"] == len(rows) == 1000 and s.stats["tokens"] == sum(lengths)
    assert s.settings["max_len"] == 10 * math.ceil(max(lengths) / 10)
    n_train = 1000 - round(1000 * Config().val_fraction)
    assert s.settings["epochs"] == round(sg.TARGET_STEPS / math.ceil(n_train / 32))
    assert s.settings["hidden"] == 32             # about 17,600 training tokens
