"""Clickable confusion matrix: each cell lists exactly the validation examples (and, for labelling, positions)"""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.snapshot import confusion_members

from helpers import trained_on


@pytest.mark.parametrize("preset", ["negation", "pos"])
def test_every_cell_lists_exactly_its_examples(preset):
    t = trained_on(preset)
    snap = build_snapshot(t)
    conf, cells = snap.confusion, snap.confusion_examples
    k = conf.shape[0]
    val = t.dataset.val
    seen = set()
    for i in range(k):
        for j in range(k):
            rows = confusion_members(cells, i, j)
            assert len(rows) == conf[i, j]
            for ex, pos in rows:
                ids = np.asarray(val.ids[ex])
                probs = t.model.predict(ids[None], np.array([len(ids)]))[0]      # independent: the model again
                if t.dataset.task == "classification":
                    assert pos == -1 and int(val.targets[ex]) == i and int(np.argmax(probs)) == j
                else:
                    assert int(val.targets[ex][pos]) == i and int(np.argmax(probs[pos])) == j
                seen.add((ex, pos))
    n_targets = len(val) if t.dataset.task == "classification" else sum(int((np.asarray(x) != IGNORE).sum())
                                                                         for x in val.targets)
    assert len(seen) == n_targets == conf.sum()
