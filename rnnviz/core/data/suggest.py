"""Look at a data file and propose what suits it: the task, and settings for that task and that much data.

``suggest(path)`` reads the file once and returns a ``Suggestion``: the task its shape shows, the settings chosen
for it (tokens, sequence length or window, model size, epochs) and one line per choice saying why.
The settings start from the registry defaults (``Config()``), never from what was loaded before, so the same file
gets the same settings from any starting point; the window's task dialog and ``rnnviz train --data F`` both use it.
``suggest(path, task)`` keeps the detection (``detected_task``, ``shape``) but chooses the settings for ``task``.

The shape of a file (first rule that holds):

1. CoNLL-U (``.conllu``, or 10 tab-separated columns starting with a word id) -> labelling, tag = UPOS (column 4);
2. at least ``TAB_SHARE`` of the non-blank lines hold a tab:
   - the first columns are single tokens and blank lines separate groups of lines -> labelling (token<TAB>tag);
   - the first columns are single tokens, no blank lines -> classification of single words, read as characters;
   - otherwise one text and one label per line -> classification;
3. a ``.csv`` file whose lines hold a comma -> classification (text,label);
4. anything else -> generation (plain text).

The rules for the settings are the constants below; each reason quotes the numbers it was decided from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.core.config import TASKS, Config
from rnnviz.core.data import loaders
from rnnviz.core.data.textfile import read_text, split_lines
from rnnviz.core.errors import ConfigError, DataError

TAB_SHARE = 0.9          # share of non-blank lines with a tab for a file of columns
TOKEN_SHARE = 0.9        # share of first columns without whitespace for "one token per line"
SINGLE_WORD_MEDIAN = 1   # classification texts of at most this many words (median) are read as characters
MAX_LEN_WORDS = 200      # max_len covers the longest sequence up to this many tokens, else the 99th percentile
MAX_LEN_CHARS = 400
TARGET_STEPS = 300       # epochs: about this many training steps in all
EPOCHS_RANGE = (3, 20)
WINDOW = 64              # generation: tokens per training window
MIN_WINDOWS = 20         # generation: a short text gets a shorter window, so it still gives this many
# hidden size d for the number of training tokens: the first row whose bound is above it
HIDDEN_BY_TOKENS = ((2_000, 16), (50_000, 32), (500_000, 64), (math.inf, 128))


@dataclass(frozen=True)
class Suggestion:
    """What ``suggest`` proposes for one file.

    task:          the task the settings are for (the detected one unless ``suggest`` was given another)
    detected_task: the task the file's shape shows
    shape:         one line describing the file's shape (why ``detected_task``)
    settings:      Config fields chosen for the file (task included), to apply over ``Config()``
    reasons:       field -> one line: why that value
    stats:         what was counted: examples, tokens, distinct tokens, longest sequence ...
    problem:       the loader's message when the file cannot be read as ``task`` (then the settings are the
                   defaults and loading it will show the same message), else ""
    """

    path: str
    task: str
    detected_task: str
    shape: str
    settings: dict[str, Any]
    reasons: dict[str, str]
    stats: dict[str, Any] = field(default_factory=dict)
    problem: str = ""

    @property
    def config(self) -> Config:
        """The registry defaults with this file and the chosen settings."""
        return Config().replace(dataset=self.path, **self.settings)

    def lines(self) -> list[str]:
        """One line per choice, "task = labelling: token<TAB>tag lines ...", in a fixed order."""
        return [f"{key} = {value}: {self.reasons[key]}" for key, value in self.settings.items()]

    def to_dict(self) -> dict[str, Any]:
        """For the command line's JSON."""
        return {"task": self.task, "detected_task": self.detected_task, "shape": self.shape,
                "settings": dict(self.settings), "reasons": dict(self.reasons), "stats": dict(self.stats)}


# ------------------------------------------------------------------------------------------------ shape
def detect_shape(text: str, path: str) -> tuple[str, str, dict[str, Any]]:
    """(task, one line saying why, facts) from the text of a file (see the module docstring for the rules)."""
    if Path(path).suffix.lower() == ".conllu" or loaders.looks_like_conllu(text):
        return "labelling", "CoNLL-U: word lines of 10 tab-separated columns, a blank line after each sentence; " \
                            "the tag is column 4 (UPOS)", {"kind": "conllu"}
    lines = list(split_lines(text, path))
    filled = [i for i, line in enumerate(lines) if line.strip()]
    tabbed = [lines[i] for i in filled if "\t" in lines[i]]
    if filled and len(tabbed) >= TAB_SHARE * len(filled):
        single = sum(1 for line in tabbed if len(line.split("\t", 1)[0].split()) == 1)
        gaps = sum(1 for a, b in zip(filled, filled[1:]) if b > a + 1)      # blank lines between filled ones
        if single >= TOKEN_SHARE * len(tabbed) and gaps:
            return "labelling", f"token<TAB>tag lines in {gaps + 1:,} groups separated by blank lines: one tag " \
                                "per token, sentence by sentence", {"kind": "token-tag", "sentences": gaps + 1}
        labels = {line.rsplit("\t", 1)[1].strip() for line in tabbed}
        if single >= TOKEN_SHARE * len(tabbed):
            return "classification", f"one word and a label per line ({len(tabbed):,} lines, {len(labels):,} " \
                                     "labels) with no blank lines between sentences: each word is one example", \
                {"kind": "word-label"}
        return "classification", f"one text and one label per line ({len(tabbed):,} lines, {len(labels):,} " \
                                 "labels)", {"kind": "text-label"}
    if Path(path).suffix.lower() == ".csv" and filled and sum("," in lines[i] for i in filled) >= TAB_SHARE * len(
            filled):
        return "classification", f"comma-separated text,label lines ({len(filled):,} lines)", {"kind": "csv"}
    share = f"{len(tabbed)} of {len(filled)} lines hold a tab" if tabbed else "no tab-separated labels"
    return "generation", f"plain text ({share}): the network learns to continue it", {"kind": "text"}


# ------------------------------------------------------------------------------------------------ numbers
def _nice_up(n: int, step: int = 10) -> int:
    return int(step * math.ceil(max(1, n) / step))


def _max_len(lengths: np.ndarray, unit: str, cap: int) -> tuple[int, str]:
    longest = int(lengths.max())
    if longest <= cap:
        value = _nice_up(longest)
        return value, f"the longest example has {longest} {unit}: max_len {value} cuts none"
    p99 = int(np.ceil(np.percentile(lengths, 99)))
    value = min(cap, _nice_up(p99))
    cut = int(np.count_nonzero(lengths > value))
    return value, (f"99% of the examples have at most {p99} {unit}; max_len {value} cuts {cut} of {lengths.size} "
                   f"(the longest has {longest}): long sequences slow every step")


def _hidden(train_tokens: int, unit: str = "tokens") -> tuple[int, str]:
    low = 0
    for bound, d in HIDDEN_BY_TOKENS:
        if train_tokens >= bound:
            low = bound
        else:
            span = f"{low:,} to {bound:,}" if math.isfinite(bound) else f"over {low:,}"
            return d, f"about {train_tokens:,} training {unit} ({span}): hidden size d = {d}; a larger model " \
                      "memorises a small file, a smaller one cannot fit a large one"
    raise AssertionError("HIDDEN_BY_TOKENS ends with infinity")


def _epochs(n_train: int, batch_size: int, unit: str = "examples") -> tuple[int, str]:
    per_epoch = max(1, math.ceil(n_train / batch_size))
    lo, hi = EPOCHS_RANGE
    epochs = int(min(hi, max(lo, round(TARGET_STEPS / per_epoch))))
    steps = "1 step" if per_epoch == 1 else f"{per_epoch} steps"
    return epochs, (f"{n_train:,} training {unit} make {steps} of {batch_size} per epoch; {epochs} epochs = "
                    f"{epochs * per_epoch:,} steps (about {TARGET_STEPS} wanted, {lo} to {hi} epochs)")


# ------------------------------------------------------------------------------------------------ per task
def _for_sequences(raw: loaders.RawExamples, defaults: Config, tokenize: str, why_tokens: str,
                   settings: dict, reasons: dict, stats: dict) -> None:
    """max_len, hidden size and epochs for classification / labelling examples."""
    lengths = np.array([len(t) for t in raw.tokens], dtype=np.int64)
    unit = "characters" if tokenize == "char" else "tokens"
    n_train = max(1, int(round(len(raw) * (1 - defaults.val_fraction))))
    n_tokens = int(lengths.sum())
    distinct = len({tok for seq in raw.tokens for tok in seq})
    stats.update(examples=len(raw), tokens=n_tokens, distinct_tokens=distinct, longest=int(lengths.max()),
                 classes=len({c for labs in raw.labels for c in (labs if raw.task == "labelling" else [labs])}))
    settings["tokenize"], reasons["tokenize"] = tokenize, why_tokens
    settings["max_len"], reasons["max_len"] = _max_len(lengths, unit, MAX_LEN_CHARS if tokenize == "char"
                                                       else MAX_LEN_WORDS)
    settings["hidden"], reasons["hidden"] = _hidden(int(round(n_tokens * (1 - defaults.val_fraction))))
    settings["epochs"], reasons["epochs"] = _epochs(n_train, defaults.batch_size)


def _classification(text: str, path: str, kind: str, defaults: Config, settings: dict, reasons: dict,
                    stats: dict) -> None:
    csv = Path(path).suffix.lower() == ".csv"
    words = loaders.parse_classification(text, path, "word", defaults.lowercase, 10**9, csv=csv)
    median = float(np.median([len(t) for t in words.tokens]))
    if kind == "word-label" or median <= SINGLE_WORD_MEDIAN:
        raw = loaders.parse_classification(text, path, "char", defaults.lowercase, 10**9, csv=csv)
        why = (f"the texts are single words (median {median:g} word): read character by character, so the "
               "network can learn the letters of a class instead of memorising each word")
        _for_sequences(raw, defaults, "char", why, settings, reasons, stats)
    else:
        why = f"the texts are sentences (median {median:g} words): one token per word and punctuation mark"
        _for_sequences(words, defaults, "word", why, settings, reasons, stats)


def _labelling(text: str, path: str, kind: str, defaults: Config, settings: dict, reasons: dict,
               stats: dict) -> None:
    if kind == "conllu":
        raw = loaders.parse_conllu(text, path, defaults.column, defaults.lowercase, 10**9)
        settings["column"] = defaults.column
        reasons["column"] = f"CoNLL-U column {defaults.column} (UPOS) holds the tag"
    else:
        raw = loaders.parse_two_column(text, path, defaults.lowercase, 10**9)
    _for_sequences(raw, defaults, "word", "the file gives one tag per word", settings, reasons, stats)


def _generation(text: str, path: str, defaults: Config, settings: dict, reasons: dict, stats: dict) -> None:
    chars = loaders.parse_generation(text, path, "char", False)
    words = set(loaders.parse_generation(text, path, "word", defaults.lowercase).tokens[0])
    n = len(chars.tokens[0])
    distinct = len(set(chars.tokens[0]))
    stats.update(tokens=n, distinct_tokens=distinct, distinct_words=len(words))
    settings["tokenize"] = "char"
    reasons["tokenize"] = (f"{distinct} distinct characters against {len(words):,} distinct words: characters give "
                           "a vocabulary a small RNN can learn, and its samples can be read letter by letter")
    settings["lowercase"] = False
    reasons["lowercase"] = "capitals and punctuation are part of the text to continue: kept as they are"
    window = int(min(WINDOW, max(2, n // MIN_WINDOWS)))
    settings["window"] = window
    n_windows = max(0, (n - 1) // window)
    reasons["window"] = (f"each training sequence is {window} characters of the text ({n_windows:,} windows from "
                         f"{n:,} characters)" + ("" if window == WINDOW else
                                                 f"; shorter than {WINDOW} so the text gives {MIN_WINDOWS} windows"))
    train_windows = max(1, n_windows - max(1, int(round(n_windows * defaults.val_fraction))))
    settings["hidden"], reasons["hidden"] = _hidden(train_windows * window, "characters")
    settings["epochs"], reasons["epochs"] = _epochs(train_windows, defaults.batch_size, "windows")
    stats.update(examples=n_windows)


# ------------------------------------------------------------------------------------------------ entry
def suggest(path: str | Path, task: str | None = None) -> Suggestion:
    """The task and settings that suit the file at ``path`` (``task``: choose the settings for that task instead
    of the detected one). A file that cannot be read at all (missing, binary, not UTF-8 ...) is a DataError; one
    that cannot be read as the task gives the default settings and says why in ``problem``."""
    path = str(path)
    if task is not None and task not in TASKS:
        raise ConfigError("task", f"must be one of {', '.join(TASKS)}; got {task!r}")
    text = read_text(path)
    detected, shape, facts = detect_shape(text, path)
    task = task or detected
    defaults = Config()
    settings: dict[str, Any] = {"task": task}
    reasons = {"task": shape if task == detected else f"chosen instead of {detected} (the file looks like: {shape})"}
    stats: dict[str, Any] = {}
    problem = ""
    try:
        if task == "generation":
            _generation(text, path, defaults, settings, reasons, stats)
        elif task == "labelling":
            _labelling(text, path, facts["kind"], defaults, settings, reasons, stats)
        else:
            _classification(text, path, facts["kind"], defaults, settings, reasons, stats)
    except DataError as exc:
        problem = str(exc)
        settings = {"task": task}
        reasons = {"task": f"{reasons['task']}; it cannot be read as {task} ({exc.what}): the other settings "
                           "stay at their defaults"}
    return Suggestion(path=path, task=task, detected_task=detected, shape=shape, settings=settings,
                      reasons=reasons, stats=stats, problem=problem)
