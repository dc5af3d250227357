"""A/B race: the same start (shared weights, batches), the differences legend, the window's numbers, closing."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.errors import ConfigError
from rnnviz.core.explore import race
from rnnviz.core.train.trainer import Trainer


def recall(**changes) -> Config:
    values = dict(dataset="delayed-recall", task="classification", delay=8, n_examples=200, hidden=8, epochs=50,
                  clip=1.0)
    values.update(changes)
    return Config().replace(**values)


def test_pair_shares_matching_weights_and_the_batch_order():
    a = recall()
    b = race.b_config(a, ["cell=lstm"])
    ta, tb, sharing = race.make_pair(a, b)
    assert sharing.shared == ("V", "c") and sharing.own == ("U", "W", "b")
    for name in sharing.shared:
        assert np.array_equal(ta.model.params[name], tb.model.params[name])
    assert tb.model.params["U"].shape == (4 * 8, ta.model.params["U"].shape[1])
    # without sharing, B's own seed-drawn V differs (the copy is what makes them equal)
    assert not np.array_equal(Trainer(b).model.params["V"], ta.model.params["V"])
    # B's gradient flow at step 0 is recomputed from the weights it now has
    res = tb.model.loss_and_grads(tb.monitor_batch)
    per_example = res.example_grad_norms * len(res.probs)        # (T, B) ||dL_b/ds_t||; one length: plain means
    assert np.allclose(tb.grad_flow.view()[1][-1], per_example.mean(axis=1))
    # one Dataset object, the same batches in the same order, epoch after epoch
    assert tb.dataset is ta.dataset
    seen = {"A": [], "B": []}
    for side, t in (("A", ta), ("B", tb)):
        for _ in range(2 * t.steps_per_epoch + 3):
            state = t.state_dict()
            seen[side].append(state["order"][state["pos"]:state["pos"] + t.config.batch_size])
            t.step()
    assert all(np.array_equal(x, y) for x, y in zip(seen["A"], seen["B"]))
    assert len(seen["A"]) == len(seen["B"])


@pytest.mark.parametrize("changes, text, shared", [
    (["cell=lstm"], "cell: rnn → lstm", ("V", "c")),
    (["activation=relu"], "activation: tanh → relu", ("U", "W", "b", "V", "c")),
    (["hidden=16", "lr=0.001"], "hidden: 8 → 16, lr: 0.01 → 0.001", ("c",)),
    (["bidirectional=true", "cell=gru"], "cell: rnn → gru, bidirectional: off → on", ("c",)),
    (["optimizer=sgd", "clip=0"], "optimizer: adam → sgd, clip: 1 → 0", ("U", "W", "b", "V", "c")),
])
def test_differences_and_sharing(changes, text, shared):
    a = recall()
    b = race.b_config(a, changes)
    assert race.differences_text(a, b) == text
    assert {k: (va, vb) for k, va, vb in race.differences(a, b)} == {
        k: (getattr(a, k), getattr(b, k)) for k in a.to_dict() if getattr(a, k) != getattr(b, k)}
    ta, tb, sharing = race.make_pair(a, b)
    assert sharing.shared == shared
    for name in tb.model.param_names:
        same = np.array_equal(ta.model.params.get(name, np.zeros(0)), tb.model.params[name])
        assert same == (name in shared) or np.all(tb.model.params[name] == 0)   # zero biases match anyway


def test_other_seed_shares_nothing_and_says_so():
    a = recall()
    b = race.b_config(a, ["seed=3"])
    assert race.differences_text(a, b) == "seed: 0 → 3"
    assert not race.same_data(a, b) and not race.same_batch_order(a, b)
    assert race.same_data(a, race.b_config(a, ["batch_size=8"]))
    assert not race.same_batch_order(a, race.b_config(a, ["batch_size=8"]))
    ta, tb, sharing = race.make_pair(a, b)
    assert sharing.shared == () and "other data or another seed" in sharing.text()
    with pytest.raises(ConfigError, match="at least one setting"):
        race.b_config(a, ["cell=rnn"])
    with pytest.raises(ConfigError, match="'hidden'"):
        race.b_config(a, ["hidden=0"])


