"""Weight initialisers and the spectral-radius rescaling of W.

``init`` chooses the family for W (the recurrent matrix, one d x d block per gate):
  uniform     U(-1/sqrt(d), 1/sqrt(d))                   (PyTorch's default for recurrent layers)
  normal      N(0, 1/d)
  xavier      U(-a, a), a = sqrt(6 / (fan_in + fan_out))
  orthogonal  each d x d block a random orthogonal matrix (all |eigenvalues| = 1)
  identity    each d x d block the identity (Le et al.'s IRNN)
U (G*d x n_in) and V (k x D) use the same family where it applies (``RNNModel.initialise`` picks the fans):
  uniform, normal  fan_in = d for U (PyTorch's 1/sqrt(hidden size)) and D for V: U(+-1/sqrt(fan_in)), N(0, 1/fan_in)
  xavier           each matrix's own fans: U (n_in, G*d), V (D, k)
  orthogonal, identity  need square matrices, so U and V take the xavier bound, with U's fan_in taken as d
                   (not its input width): sqrt(6 / (d + G*d)); V's is sqrt(6 / (D + k))
Biases start at 0 (b, the GRU's b_hn, c), except the LSTM forget gate's block of b (the f block, the second of
i, f, g, o, in every layer and direction), which starts at ``forget_bias`` (1.0 by default, as recommended by
Jozefowicz et al. 2015) so the cell remembers by default.

``spectral_radius > 0`` then rescales each d x d block of W so its largest |eigenvalue| equals that value: below 1
gradients through the recurrence shrink, above 1 they can grow.
"""
from __future__ import annotations

import numpy as np


def _uniform(rng, shape, bound):
    return rng.uniform(-bound, bound, size=shape)


def matrix(rng: np.random.Generator, shape: tuple[int, int], family: str, fan_in: int, fan_out: int) -> np.ndarray:
    """An input or output matrix (U, V) of the given family."""
    if family == "uniform":
        return _uniform(rng, shape, 1.0 / np.sqrt(fan_in))
    if family == "normal":
        return rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
    return _uniform(rng, shape, np.sqrt(6.0 / (fan_in + fan_out)))  # xavier (also for orthogonal / identity)


def recurrent(rng: np.random.Generator, n_gates: int, d: int, family: str) -> np.ndarray:
    """W: (n_gates * d, d), built block by block."""
    blocks = []
    for _ in range(n_gates):
        if family == "uniform":
            blocks.append(_uniform(rng, (d, d), 1.0 / np.sqrt(d)))
        elif family == "normal":
            blocks.append(rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, d)))
        elif family == "xavier":
            blocks.append(_uniform(rng, (d, d), np.sqrt(6.0 / (2 * d))))
        elif family == "orthogonal":
            q, r = np.linalg.qr(rng.normal(size=(d, d)))
            blocks.append(q * np.sign(np.diag(r)))  # uniform over orthogonal matrices
        elif family == "identity":
            blocks.append(np.eye(d))
        else:
            raise ValueError(f"unknown init {family!r}")
    return np.concatenate(blocks, axis=0)


def spectral_radius(block: np.ndarray) -> float:
    """max |eigenvalue| of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(block)))) if block.size else 0.0


def rescale_spectral_radius(W: np.ndarray, d: int, radius: float) -> np.ndarray:
    """Scale each d x d block of W (rows g*d:(g+1)*d) to spectral radius ``radius``."""
    W = W.copy()
    for g in range(W.shape[0] // d):
        block = W[g * d : (g + 1) * d]
        current = spectral_radius(block)
        if current > 0:
            W[g * d : (g + 1) * d] = block * (radius / current)
    return W
