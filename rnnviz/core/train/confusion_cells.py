"""Which validation examples make each count of the confusion matrix (so a click on a cell can list them;
``rnnviz.core.snapshot.confusion_members`` reads them back).

For the last evaluation, one row per counted target, compactly (int32):
    true (n,), pred (n,)   class ids; confusion[i, j] == count of rows with true == i and pred == j
    example (n,)           index of the validation example
    position (n,)          labelling: the token's position in that sentence; classification: -1
"""
from __future__ import annotations

import numpy as np

from rnnviz.core.data.batch import IGNORE, Batch
from rnnviz.core.snapshot import frozen_array

KEYS = ("true", "pred", "example", "position")


def collect(batch: Batch, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of one evaluated batch. predicted: (B,) for classification, (B, T) per step otherwise."""
    targets = np.asarray(batch.targets)
    predicted = np.asarray(predicted)
    if targets.ndim == 1:                                   # classification: one target per example
        return {"true": targets, "pred": predicted, "example": np.asarray(batch.index),
                "position": np.full(len(targets), -1)}
    b, t = np.nonzero(targets != IGNORE)                    # (n,) each, row-major: example by example, in order
    return {"true": targets[b, t], "pred": predicted[b, t], "example": np.asarray(batch.index)[b], "position": t}


def merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One frozen int32 array per key from the batches' rows."""
    if not parts:
        return {key: frozen_array(np.zeros(0, np.int32)) for key in KEYS}
    return {key: frozen_array(np.concatenate([p[key] for p in parts]).astype(np.int32)) for key in KEYS}
