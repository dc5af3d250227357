"""Accuracy, per-class accuracy and the confusion matrix, counted over real targets only.

confusion[i, j] = number of targets of true class i predicted as class j
accuracy        = trace(confusion) / confusion.sum()
per-class[i]    = confusion[i, i] / confusion[i].sum()   (recall of class i; NaN when class i never occurs)
"""
from __future__ import annotations

import numpy as np

from rnnviz.core.data.batch import IGNORE


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(k, k) int64 counts from flat arrays of class ids; IGNORE entries in ``true`` are skipped."""
    true = np.asarray(true).ravel()
    predicted = np.asarray(predicted).ravel()
    keep = true != IGNORE
    flat = true[keep] * n_classes + predicted[keep]
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes).astype(np.int64)


def accuracy(confusion: np.ndarray) -> float:
    total = confusion.sum()
    return float(np.trace(confusion) / total) if total else float("nan")


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    rows = confusion.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(confusion) / np.where(rows > 0, rows, 1), np.nan)
