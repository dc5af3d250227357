"""Optimisers on the model's flat parameter buffer, global-norm clipping and weight decay.

With theta the flat vector of all parameters and g = dL/dtheta:
  sgd       theta -= lr g
  momentum  v = mu v + g;                 theta -= lr v
  rmsprop   r = rho r + (1 - rho) g^2;    theta -= lr g / (sqrt(r) + eps)              (rho = 0.9)
  adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
            theta -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)               (b1 = momentum, b2 = 0.999)
  adagrad   r += g^2;                      theta -= lr g / (sqrt(r) + eps)
Clipping: if ||g|| > clip, g *= clip / ||g|| (one norm over every parameter).
Weight decay (L2): g += wd * theta on the weight matrices U, W, V (not biases), before clipping.
"""
from __future__ import annotations

import numpy as np


def clip_global_norm(grad: np.ndarray, clip: float) -> float:
    """Scale ``grad`` in place so its norm is at most ``clip`` (0 = off). Returns the norm before clipping."""
    norm = float(np.sqrt(np.dot(grad, grad)))
    if clip > 0 and norm > clip:
        grad *= clip / norm
    return norm


class Optimizer:
    """Updates ``params`` (a flat array, in place) from ``grad`` (a flat array)."""

    def __init__(self, kind: str, params: np.ndarray, lr: float, momentum: float = 0.9,
                 weight_decay: float = 0.0, decay_mask: np.ndarray | None = None, eps: float = 1e-8):
        self.kind, self.params, self.lr = kind, params, float(lr)
        self.momentum, self.weight_decay, self.eps = momentum, weight_decay, eps
        self.decay_mask = decay_mask
        self.t = 0
        self.m = np.zeros_like(params)        # first moment / velocity
        self.v = np.zeros_like(params)        # second moment / accumulated squares
        self._tmp = np.empty_like(params)

    def state(self) -> dict[str, np.ndarray]:
        """The optimiser's arrays, for checkpoints."""
        return {"m": self.m, "v": self.v, "t": np.array(self.t)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.m[...] = state["m"]
        self.v[...] = state["v"]
        self.t = int(state["t"])

    def add_weight_decay(self, grad: np.ndarray) -> None:
        if self.weight_decay > 0:
            decay = self.weight_decay * self.params
            if self.decay_mask is not None:
                decay *= self.decay_mask
            grad += decay

    def step(self, grad: np.ndarray) -> None:
        """One update of ``params`` from ``grad`` (already decayed and clipped)."""
        self.t += 1
        p, lr, tmp = self.params, self.lr, self._tmp
        if self.kind == "sgd":
            np.multiply(grad, lr, out=tmp)
        elif self.kind == "momentum":
            self.m *= self.momentum
            self.m += grad
            np.multiply(self.m, lr, out=tmp)
        elif self.kind == "rmsprop":
            self.v *= 0.9
            self.v += 0.1 * grad * grad
            np.sqrt(self.v, out=tmp)
            tmp += self.eps
            np.divide(grad, tmp, out=tmp)
            tmp *= lr
        elif self.kind == "adagrad":
            self.v += grad * grad
            np.sqrt(self.v, out=tmp)
            tmp += self.eps
            np.divide(grad, tmp, out=tmp)
            tmp *= lr
        elif self.kind == "adam":
            b1, b2 = self.momentum, 0.999
            self.m *= b1
            np.multiply(grad, 1 - b1, out=tmp)
            self.m += tmp
            self.v *= b2
            np.multiply(grad, grad, out=tmp)
            tmp *= 1 - b2
            self.v += tmp
            np.sqrt(self.v, out=tmp)                  # sqrt(v / (1 - b2^t)) = sqrt(v) / sqrt(1 - b2^t)
            tmp *= 1.0 / np.sqrt(1 - b2**self.t)
            tmp += self.eps
            np.divide(self.m, tmp, out=tmp)
            tmp *= lr / (1 - b1**self.t)
        else:
            raise ValueError(f"unknown optimiser {self.kind!r}")
        p -= tmp
