"""Encoded datasets and padded batches: the numbers the model actually sees.

A sentence becomes a vector of token ids; a batch pads every sequence with ``<pad>`` up to the batch's own
longest sequence and keeps a ``lengths`` vector so the model reads each output at the true last step and the
loss ignores padding. Labelling targets are padded with ``IGNORE`` (-100, as in PyTorch).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

IGNORE = -100  # target id that contributes nothing to the loss or the metrics


@dataclass
class Split:
    """One split (train or validation) of an encoded dataset.

    tokens:  the tokens of each example as shown to the user, specials included when configured
             (e.g. ``["<sos>", "this", "movie", "<eos>"]``); ``len(tokens[i]) == len(ids[i])``.
    ids:     int64 array (T_i,) per example.
    targets: classification: int64 array (N,), one class id per example;
             labelling / generation: int64 array (T_i,) per example, IGNORE where a position has no target.
    """

    tokens: list[list[str]]
    ids: list[np.ndarray]
    targets: np.ndarray | list[np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(x) for x in self.ids], dtype=np.int64)


@dataclass
class Dataset:
    """A dataset ready to train: vocabulary, class names and the two encoded splits.

    task:    "classification" | "labelling" | "generation"
    classes: output class names, index = class id (for generation: the vocabulary's tokens)
    source:  "generated:<name>" or the file path it was loaded from
    notes:   warnings the user should see (e.g. sequences cut to max_len)
    """

    name: str
    task: str
    vocab: "object"  # rnnviz.core.data.text.Vocab
    classes: list[str]
    train: Split
    val: Split
    source: str
    tokenizer: str = "word"
    notes: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class Batch:
    """A padded batch.

    ids:     (B, T) int64, padded with the vocabulary's <pad> id, T = max(lengths)
    lengths: (B,) int64, the true length of each sequence (>= 1)
    targets: (B,) int64 for classification, (B, T) int64 with IGNORE at padding otherwise
    index:   (B,) positions of these examples in their split
    """

    ids: np.ndarray
    lengths: np.ndarray
    targets: np.ndarray
    index: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(B, T) bool, True at real (non-padding) positions."""
        return np.arange(self.ids.shape[1])[None, :] < self.lengths[:, None]


def make_batch(split: Split, index: np.ndarray | list[int], pad_id: int, task: str) -> Batch:
    """Pad the examples ``index`` of ``split`` to their own longest sequence."""
    index = np.asarray(index, dtype=np.int64)
    seqs = [split.ids[i] for i in index]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    T = int(lengths.max())
    ids = np.full((len(seqs), T), pad_id, dtype=np.int64)  # (B, T)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = seq
    if task == "classification":
        targets = np.asarray(split.targets, dtype=np.int64)[index]  # (B,)
    else:
        targets = np.full((len(seqs), T), IGNORE, dtype=np.int64)  # (B, T)
        for row, i in enumerate(index):
            tgt = split.targets[i]
            targets[row, : len(tgt)] = tgt
    return Batch(ids=ids, lengths=lengths, targets=targets, index=index)


def iterate_batches(split: Split, batch_size: int, pad_id: int, task: str,
                    rng: np.random.Generator | None = None) -> Iterator[Batch]:
    """All examples in batches of ``batch_size``; shuffled when ``rng`` is given, in order otherwise."""
    order = np.arange(len(split)) if rng is None else rng.permutation(len(split))
    for start in range(0, len(order), batch_size):
        yield make_batch(split, order[start : start + batch_size], pad_id, task)
