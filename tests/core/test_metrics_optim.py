"""Metrics against hand counts; optimisers against their textbook update rules."""
import numpy as np
import pytest

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.nn.optim import Optimizer, clip_global_norm
from rnnviz.core.train.metrics import accuracy, confusion_matrix, per_class_accuracy


def test_confusion_matrix_by_hand():
    true = np.array([0, 0, 1, 2, 2, 2, IGNORE])
    pred = np.array([0, 1, 1, 2, 0, 2, 1])
    cm = confusion_matrix(true, pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert accuracy(cm) == pytest.approx(4 / 6)
    np.testing.assert_allclose(per_class_accuracy(cm), [0.5, 1.0, 2 / 3])


def test_per_class_accuracy_absent_class_is_nan():
    cm = confusion_matrix(np.array([0, 0]), np.array([0, 1]), 3)
    pca = per_class_accuracy(cm)
    assert pca[0] == 0.5 and np.isnan(pca[1]) and np.isnan(pca[2])


def test_clip_global_norm():
    g = np.array([3.0, 4.0])
    assert clip_global_norm(g, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(g, [0.6, 0.8])
    g = np.array([0.3, 0.4])
    clip_global_norm(g, 1.0)
    np.testing.assert_allclose(g, [0.3, 0.4])


def _reference(kind, grads, lr=0.1, mu=0.9, eps=1e-8):
    theta, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        if kind == "sgd":
            theta = theta - lr * g
        elif kind == "momentum":
            m = mu * m + g
            theta = theta - lr * m
        elif kind == "rmsprop":
            v = 0.9 * v + 0.1 * g**2
            theta = theta - lr * g / (np.sqrt(v) + eps)
        elif kind == "adagrad":
            v = v + g**2
            theta = theta - lr * g / (np.sqrt(v) + eps)
        elif kind == "adam":
            m = mu * m + (1 - mu) * g
            v = 0.999 * v + 0.001 * g**2
            theta = theta - lr * (m / (1 - mu**t)) / (np.sqrt(v / (1 - 0.999**t)) + eps)
    return theta


@pytest.mark.parametrize("kind", ["sgd", "momentum", "rmsprop", "adagrad", "adam"])
def test_optimisers_follow_their_update_rule(kind):
    grads = [np.array([0.5, -1.0]), np.array([0.2, 0.3]), np.array([-0.7, 0.1])]
    theta = np.array([1.0, -2.0])
    opt = Optimizer(kind, theta, lr=0.1, momentum=0.9)
    for g in grads:
        opt.step(g.copy())
    np.testing.assert_allclose(theta, _reference(kind, grads), rtol=1e-12)


def test_weight_decay_only_on_masked_entries():
    theta = np.array([2.0, 2.0])
    opt = Optimizer("sgd", theta, lr=1.0, weight_decay=0.1, decay_mask=np.array([1.0, 0.0]))
    g = np.zeros(2)
    opt.add_weight_decay(g)
    np.testing.assert_allclose(g, [0.2, 0.0])
