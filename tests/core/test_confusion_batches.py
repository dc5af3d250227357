"""The confusion matrix's "click a cell -> its examples" lists the right validation examples when the validation split
spans several evaluation batches (the default lesson has 400 validation examples; one evaluation batch holds
EVAL_BATCH = 256). Every listed example is checked against the model run again on that example alone."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset
from rnnviz.core.snapshot import confusion_members
from rnnviz.core.train.trainer import EVAL_BATCH, Trainer


def trained(preset: str, n_examples: int) -> Trainer:
    """A small model trained for 40 steps: its predictions differ between examples, so a wrong example is seen."""
    cfg = load_preset(preset).config.replace(hidden=8, n_examples=n_examples, dtype="float64", epochs=1000)
    t = Trainer(cfg)
    for _ in range(40):
        t.step()
    t.evaluate()
    return t


def predicted_alone(model, ids) -> np.ndarray:
    """The model's prediction for one unpadded example: () class id, or (T,) per step."""
    ids = np.asarray(ids)
    return model.predict(ids[None, :], np.array([len(ids)]))[0].argmax(axis=-1)


@pytest.mark.parametrize("preset, n_examples", [("negation", 3000), ("pos", 2800)])
def test_every_listed_example_has_that_truth_and_that_prediction_across_batches(preset, n_examples):
    t = trained(preset, n_examples)
    val, task = t.dataset.val, t.dataset.task
    assert len(val) > 2 * EVAL_BATCH            # three evaluation batches, the last one partial
    snap = build_snapshot(t)
    conf, cells = snap.confusion, snap.confusion_examples
    k = conf.shape[0]
    predictions = [predicted_alone(t.model, ids) for ids in val.ids]
    listed = []
    for i in range(k):
        for j in range(k):
            rows = confusion_members(cells, i, j)
            assert len(rows) == conf[i, j], (i, j)
            for ex, pos in rows:
                if task == "classification":
                    assert pos == -1
                    assert (int(val.targets[ex]), int(predictions[ex])) == (i, j), (i, j, ex)
                else:
                    assert (int(val.targets[ex][pos]), int(predictions[ex][pos])) == (i, j), (i, j, ex, pos)
            listed += rows
    # each target of the split is listed exactly once, from every evaluation batch
    if task == "classification":
        expected = [(ex, -1) for ex in range(len(val))]
    else:
        expected = [(ex, int(p)) for ex, tg in enumerate(val.targets) for p in np.flatnonzero(np.asarray(tg) != IGNORE)]
    assert sorted(listed) == sorted(expected) and conf.sum() == len(expected)
    # the matrix itself: counted again from the predictions made one example at a time
    again = np.zeros((k, k), dtype=np.int64)
    for ex, pos in expected:
        truth = val.targets[ex] if pos == -1 else val.targets[ex][pos]
        guess = predictions[ex] if pos == -1 else predictions[ex][pos]
        again[int(truth), int(guess)] += 1
    np.testing.assert_array_equal(conf, again)
    assert np.count_nonzero(again) > k          # not one column: off-diagonal cells are tested too
