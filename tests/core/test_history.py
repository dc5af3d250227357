"""Bounded histories keep their cap and the shape of the curve."""
import numpy as np
import pytest

from rnnviz.core.train.history import History


def test_history_never_exceeds_capacity_and_keeps_order():
    h = History(2, capacity=100)
    for step in range(1, 100_001):
        h.append(step, [step, -step])
    steps, values = h.view()
    assert len(steps) <= 100
    assert h.nbytes == 100 * 8 + 100 * 2 * 8
    assert np.all(np.diff(steps) > 0)
    assert steps[0] == 1 and steps[-1] > 99_000
    np.testing.assert_array_equal(values[:, 0], steps)


def test_history_exact_below_capacity():
    h = History(1, capacity=10)
    for step in range(7):
        h.append(step, step * 2.0)
    steps, values = h.view()
    np.testing.assert_array_equal(steps, np.arange(7))
    np.testing.assert_array_equal(values[:, 0], np.arange(7) * 2.0)


def test_odd_capacity_refused():
    with pytest.raises(ValueError):
        History(1, capacity=7)
