"""The single way in: ``load_dataset(config)`` turns a built-in name or a file into an encoded ``Dataset``.

Steps, in order:
1. raw examples: a generated dataset (its own task wins over ``config.task``) or a file read by
   ``rnnviz.core.data.loaders`` (format chosen by extension and task);
2. a seeded train/validation split, stratified by class (labelling: by the rarest tag of each sentence;
   generation: the last windows of the text are the validation split);
3. the vocabulary, built from the training split only (validation-only words read as ``<unk>``);
4. encoding, with ``<sos>``/``<eos>`` when configured (labelling targets there are ``IGNORE``).

Split rules (documented fallbacks instead of surprises):
- each class with n >= 2 examples puts ``round(n * val_fraction)`` of them in validation, at least 1 and at most
  n - 1, so every such class is in both splits;
- a class with a single example stays in training (a note says so: validation cannot test that class);
  labelling sentences whose rarest tag is unique are pooled and split at random;
- fewer than 2 examples in all: DataError. If stratifying leaves validation empty, a plain random split is used.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from rnnviz.core.config import GENERATED, Config
from rnnviz.core.data import generated, loaders
from rnnviz.core.data.batch import IGNORE, Dataset, Split
from rnnviz.core.data.loaders import RawExamples
from rnnviz.core.data.text import EOS, SOS, Vocab
from rnnviz.core.errors import DataError

SPLIT_SALT = 0x5EED  # the split's random stream differs from the generator's, both from config.seed
UNK_NOTE_RATE = 0.01  # note the validation <unk> rate above 1%


def _round(x: float) -> int:
    return int(np.floor(x + 0.5))


def label_order(labels) -> list[str]:
    """Sorted label names; numerically when every label is a whole number ("2" before "10")."""
    names = set(labels)
    try:
        return sorted(names, key=lambda s: (int(s), s))
    except ValueError:
        return sorted(names)


# ------------------------------------------------------------------------------------------------ raw data
def _load_raw(config: Config, min_chars: int) -> tuple[RawExamples, list[str]]:
    """Raw examples of ``config.dataset`` and notes about settings that were overridden."""
    notes: list[str] = []
    n_special = int(config.sos) + int(config.eos)
    max_len = max(1, config.max_len - n_special)  # room for <sos>/<eos> within max_len
    if config.dataset in GENERATED:
        name = config.dataset
        raw = generated.generate(name, config.n_examples, config.seed, config.delay, min_chars)
        if raw.task != config.task:
            notes.append(f"the built-in dataset '{name}' is a {raw.task} task; task={config.task} was not used")
        if raw.tokenizer != config.tokenize and raw.task != "generation":
            notes.append(f"the built-in dataset '{name}' is made of {raw.tokenizer}s; "
                         f"tokenize={config.tokenize} was not used")
        if raw.task != "generation":
            _cut(raw, max_len)
        return raw, notes
    path = Path(config.dataset)
    if not loaders.path_exists(path):
        raise DataError(f"no such file (and not a built-in dataset: {', '.join(GENERATED)})", str(path))
    ext = path.suffix.lower()
    if config.task == "classification":
        if ext == ".conllu":
            raise DataError("a .conllu file holds tags per word: use task=labelling", str(path))
        raw = loaders.load_classification(path, config.tokenize, config.lowercase, max_len)
    elif config.task == "labelling":
        if config.tokenize == "char":
            notes.append("labelling files give one tag per word: tokenize=char was not used")
        raw = loaders.load_labelling(path, config.column, config.lowercase, max_len)
    else:
        raw = loaders.load_generation(path, config.tokenize, config.lowercase)
    return raw, notes


def _cut(raw: RawExamples, max_len: int) -> None:
    """Cut generated sequences to ``max_len`` tokens (files are cut while being read)."""
    long = [i for i, t in enumerate(raw.tokens) if len(t) > max_len]
    if not long:
        return
    longest = max(len(raw.tokens[i]) for i in long)
    for i in long:
        raw.tokens[i] = raw.tokens[i][:max_len]
        if raw.task == "labelling":
            raw.labels[i] = raw.labels[i][:max_len]
    raw.notes.append(f"{len(long)} of {len(raw)} examples were longer than max_len={max_len} tokens and were cut "
                     f"(the longest had {longest})")


# ------------------------------------------------------------------------------------------------ splitting
def stratified_split(keys: list[str], val_fraction: float, rng: np.random.Generator,
                     singletons: str = "train", source: str = "data") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(train indices, validation indices, notes), both sorted; see the module docstring for the rules.

    singletons: "train" keeps a one-example class in training; "pool" splits those examples at random together.
    """
    n = len(keys)
    if n < 2:
        raise DataError(f"only {n} example: at least 2 are needed for a training and a validation split", source)
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    train: list[int] = []
    val: list[int] = []
    single: list[int] = []
    single_keys: list[str] = []

    def take(idx: list[int]) -> None:
        perm = [idx[j] for j in rng.permutation(len(idx))]
        n_val = min(len(idx) - 1, max(1, _round(len(idx) * val_fraction)))
        val.extend(perm[:n_val])
        train.extend(perm[n_val:])

    for key in sorted(groups):
        idx = groups[key]
        if len(idx) == 1:
            single.extend(idx)
            single_keys.append(key)
        else:
            take(idx)
    notes: list[str] = []
    if single:
        if singletons == "pool" and len(single) >= 2:
            take(single)
        else:
            train.extend(single)
            if singletons == "train":
                shown = ", ".join(repr(k) for k in single_keys[:5]) + (" ..." if len(single_keys) > 5 else "")
                notes.append(f"{len(single_keys)} class(es) have a single example ({shown}): kept in training, "
                             "so validation does not test them")
    if not val:
        perm = rng.permutation(n)
        n_val = min(n - 1, max(1, _round(n * val_fraction)))
        val, train = [int(i) for i in perm[:n_val]], [int(i) for i in perm[n_val:]]
        notes.append("too few examples per class to stratify: the validation split is a plain random one")
    return np.array(sorted(train), dtype=np.int64), np.array(sorted(val), dtype=np.int64), notes


def _split_keys(raw: RawExamples) -> list[str]:
    """Stratification key per example: its class, or (labelling) the rarest tag of the sentence."""
    if raw.task == "classification":
        return list(raw.labels)
    freq = Counter(t for tags in raw.labels for t in tags)
    return [min(tags, key=lambda t: (freq[t], t)) for tags in raw.labels]


# ------------------------------------------------------------------------------------------------ encoding
def _encode_sequences(raw: RawExamples, index: np.ndarray, vocab: Vocab, class_id: dict[str, int],
                      sos: bool, eos: bool) -> Split:
    tokens, ids, targets = [], [], []
    for i in index:
        toks = ([SOS] if sos else []) + list(raw.tokens[i]) + ([EOS] if eos else [])
        tokens.append(toks)
        ids.append(vocab.encode(toks))  # (T_i,)
        if raw.task == "classification":
            targets.append(class_id[raw.labels[i]])
        else:
            tg = [class_id[t] for t in raw.labels[i]]
            targets.append(np.array(([IGNORE] if sos else []) + tg + ([IGNORE] if eos else []), dtype=np.int64))
    if raw.task == "classification":
        return Split(tokens, ids, np.array(targets, dtype=np.int64))  # targets (N,)
    return Split(tokens, ids, targets)


def _windows(stream: list[str], window: int) -> list[list[str]]:
    """Windows of ``window + 1`` tokens, stride ``window`` (consecutive windows share one token)."""
    return [stream[s : s + window + 1] for s in range(0, len(stream) - window, window)]


def _generation_dataset(raw: RawExamples, config: Config, name: str, notes: list[str]) -> Dataset:
    stream = raw.tokens[0]
    wins = _windows(stream, config.window)
    if len(wins) < 2:
        raise DataError(f"the text has {len(stream)} tokens; window={config.window} needs at least "
                        f"{2 * config.window + 1} for one training and one validation window: use a smaller "
                        "window or a longer text", raw.source)
    n_val = min(len(wins) - 1, max(1, _round(len(wins) * config.val_fraction)))
    train_w, val_w = wins[: len(wins) - n_val], wins[len(wins) - n_val :]  # validation: the end of the text
    vocab = Vocab.build(train_w, config.min_freq, config.max_vocab)

    def split(ws: list[list[str]]) -> Split:
        enc = [vocab.encode(w) for w in ws]  # (window + 1,) each
        return Split([w[:-1] for w in ws], [e[:-1] for e in enc], [e[1:] for e in enc])

    if config.sos or config.eos:
        notes.append("generation reads a continuous text: sos/eos were not used")
    ds = Dataset(name=name, task="generation", vocab=vocab, classes=vocab.tokens, train=split(train_w),
                 val=split(val_w), source=raw.source, tokenizer=raw.tokenizer, notes=notes)
    _unk_note(ds)
    return ds


def _unk_note(ds: Dataset) -> None:
    total = sum(len(x) for x in ds.val.ids)
    unk = sum(int(np.count_nonzero(x == ds.vocab.unk_id)) for x in ds.val.ids)
    if total and unk / total > UNK_NOTE_RATE:
        ds.notes.append(f"{100 * unk / total:.1f}% of validation tokens are <unk> (not in the training vocabulary)")


def load_dataset(config: Config) -> Dataset:
    """The encoded Dataset described by ``config`` (DataError for anything wrong with the data).

    The task is ``dataset.task``: for a built-in dataset it may differ from ``config.task``.
    """
    min_chars = 3 * (config.window + 1)
    raw, notes = _load_raw(config, min_chars)
    generated_name = config.dataset if config.dataset in GENERATED else None
    name = generated_name or Path(config.dataset).name
    notes = notes + list(raw.notes)
    if raw.task == "generation":
        return _generation_dataset(raw, config, name, notes)

    if raw.task == "labelling" and len(raw.tokens) == 1:
        hint = "".join(f"; {n}" for n in raw.notes if "classification?" in n)
        raise DataError(f"the file is a single sentence of {len(raw.tokens[0])} tokens (no blank line between "
                        f"sentences); labelling needs at least 2 sentences, one for validation{hint}", raw.source)
    rng = np.random.default_rng([config.seed, SPLIT_SALT])
    train_idx, val_idx, split_notes = stratified_split(
        _split_keys(raw), config.val_fraction, rng, "train" if raw.task == "classification" else "pool", raw.source)
    notes.extend(split_notes)
    vocab = Vocab.build((raw.tokens[i] for i in train_idx), config.min_freq, config.max_vocab)
    if raw.task == "classification":
        classes = raw.classes or label_order(raw.labels)
    else:
        classes = raw.classes or label_order(t for tags in raw.labels for t in tags)
        train_tags = {t for i in train_idx for t in raw.labels[i]}
        val_only = sorted({t for i in val_idx for t in raw.labels[i]} - train_tags)
        if val_only:
            notes.append(f"tag(s) only in validation, never trained: {', '.join(val_only[:10])}")
    class_id = {c: k for k, c in enumerate(classes)}
    train = _encode_sequences(raw, train_idx, vocab, class_id, config.sos, config.eos)
    val = _encode_sequences(raw, val_idx, vocab, class_id, config.sos, config.eos)
    ds = Dataset(name=name, task=raw.task, vocab=vocab, classes=list(classes), train=train, val=val,
                 source=raw.source, tokenizer=raw.tokenizer, notes=notes)
    _unk_note(ds)
    return ds


# ------------------------------------------------------------------------------------------------ describing
def _class_counts(ds: Dataset, split: Split) -> dict[str, int]:
    if ds.task == "classification":
        flat = np.asarray(split.targets, dtype=np.int64)
    else:
        flat = np.concatenate([np.asarray(t) for t in split.targets]) if len(split) else np.zeros(0, np.int64)
        flat = flat[flat != IGNORE]
    counts = np.bincount(flat, minlength=ds.n_classes) if flat.size else np.zeros(ds.n_classes, np.int64)
    return {c: int(counts[k]) for k, c in enumerate(ds.classes)}


def describe(ds: Dataset) -> dict:
    """Counts for the window and the command line.

    {"name", "task", "source", "tokenizer", "vocab_size", "n_classes", "classes",
     "train": {"examples", "tokens", "unk_tokens", "class_counts": {class: n}}, "val": {...}, "notes"}
    class_counts: examples per class (classification) or target positions per class (labelling, generation).
    """
    def split_info(split: Split) -> dict:
        lengths = split.lengths
        return {"examples": len(split), "tokens": int(lengths.sum()),
                "unk_tokens": int(sum(int(np.count_nonzero(x == ds.vocab.unk_id)) for x in split.ids)),
                "max_length": int(lengths.max()) if len(split) else 0,
                "class_counts": _class_counts(ds, split)}

    return {"name": ds.name, "task": ds.task, "source": ds.source, "tokenizer": ds.tokenizer,
            "vocab_size": len(ds.vocab), "n_classes": ds.n_classes, "classes": list(ds.classes),
            "train": split_info(ds.train), "val": split_info(ds.val), "notes": list(ds.notes)}
