"""Recurrent cells over a whole sequence: forward with per-step caches, and backpropagation through time.

Every cell receives its input already projected, ``X[t] = U x_t + b`` (T, B, G*d), so the loop over time only does
the recurrent part. Arrays are time-major: index ``[t]`` is one timestep of the whole batch, contiguous in memory.

Vanilla RNN (G = 1):   s_t = g(X_t + W s_{t-1}),  g in {tanh, sigmoid, relu}
LSTM (G = 4, gate order i, f, g, o as in PyTorch):
    [a_i, a_f, a_g, a_o] = X_t + W s_{t-1}
    i = sigma(a_i), f = sigma(a_f), g = tanh(a_g), o = sigma(a_o)
    c_t = f * c_{t-1} + i * g,   s_t = o * tanh(c_t)
GRU (G = 3, gate order r, z, n, PyTorch's formulation):
    [h_r, h_z, h_n] = W s_{t-1}
    r = sigma(X_r + h_r), z = sigma(X_z + h_z)
    n = tanh(X_n + r * (h_n + b_hn))          (the reset gate multiplies the recurrent part *with its own bias*)
    s_t = (1 - z) * n + z * s_{t-1}

Backward returns dX (T, B, G*d), dW (G*d, d), extra bias grads, and dS_total (T, B, d): the total derivative
dL/ds_t (from the output at t and from every later step), whose norms the gradient-flow panel draws.

Truncated BPTT with length k: the gradient carried from step t into s_{t-1} is cut whenever t is a multiple of k,
exactly as if the state were detached between consecutive chunks of k steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GATES = {"rnn": ("s",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Numerically stable logistic function, in place when ``out`` is given."""
    out = np.negative(x, out=out)
    bound = 700.0 if out.dtype == np.float64 else 80.0   # exp(bound) stays finite: no overflow warnings
    np.clip(out, -bound, bound, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def _cut(t: int, bptt: int) -> bool:
    """True when the gradient from step t must not reach s_{t-1} (truncated BPTT chunk boundary)."""
    return bptt > 0 and t % bptt == 0


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass (time-major)."""

    S: np.ndarray                # (T, B, d) states s_t
    A: np.ndarray                # (T, B, G*d) activated gates / post-activations needed by backward
    C: np.ndarray | None = None  # LSTM: (T, B, d) cell states c_t
    TC: np.ndarray | None = None # LSTM: (T, B, d) tanh(c_t)
    HN: np.ndarray | None = None # GRU: (T, B, d) h_n + b_hn
    pre: np.ndarray | None = None  # vanilla: (T, B, d) pre-activations (kept for relu and the slow-motion view)


# ------------------------------------------------------------------------------------------------- vanilla RNN
def rnn_forward(X: np.ndarray, W: np.ndarray, activation: str) -> Cache:
    """s_t = g(X_t + W s_{t-1}), s_{-1} = 0.  X: (T, B, d), W: (d, d)."""
    T, B, d = X.shape
    S = np.empty_like(X)          # (T, B, d)
    pre = np.empty_like(X)        # (T, B, d)
    WT = np.ascontiguousarray(W.T)
    pre[0] = X[0]
    for t in range(T):
        if t > 0:
            np.dot(S[t - 1], WT, out=pre[t])
            pre[t] += X[t]
        if activation == "tanh":
            np.tanh(pre[t], out=S[t])
        elif activation == "sigmoid":
            sigmoid(pre[t], out=S[t])
        else:
            np.maximum(pre[t], 0, out=S[t])
    return Cache(S=S, A=S, pre=pre)


def rnn_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, activation: str, bptt: int = 0):
    """BPTT for the vanilla cell. dS: (T, B, d) gradient arriving at each s_t from outside the recurrence."""
    S = cache.S
    T = S.shape[0]
    if activation == "tanh":
        gprime = 1.0 - S * S                    # tanh'(pre) = 1 - s^2
    elif activation == "sigmoid":
        gprime = S * (1.0 - S)                  # sigma'(pre) = s (1 - s)
    else:
        gprime = (cache.pre > 0).astype(S.dtype)  # relu'(pre)
    dPre = np.empty_like(S)                     # (T, B, d)
    dS_total = np.empty_like(S)                 # (T, B, d)
    carry = np.zeros_like(S[0])                 # (B, d) dL/ds_t arriving from step t+1
    for t in range(T - 1, -1, -1):
        np.add(dS[t], carry, out=dS_total[t])
        np.multiply(dS_total[t], gprime[t], out=dPre[t])
        if t > 0 and not _cut(t, bptt):
            np.dot(dPre[t], W, out=carry)
        else:
            carry[...] = 0.0
    d = S.shape[2]
    dW = dPre[1:].reshape(-1, d).T @ S[:-1].reshape(-1, d)   # (d, d) = sum_t dpre_t^T s_{t-1}
    return dPre, dW, {}, dS_total


# ------------------------------------------------------------------------------------------------------- LSTM
def lstm_forward(X: np.ndarray, W: np.ndarray) -> Cache:
    """LSTM over the sequence. X: (T, B, 4d) = U x_t + b, W: (4d, d). Gate order i, f, g, o."""
    T, B, G = X.shape
    d = G // 4
    A = np.empty_like(X)                        # (T, B, 4d) activated gates
    C = np.empty((T, B, d), dtype=X.dtype)
    TC = np.empty_like(C)
    S = np.empty_like(C)
    WT = np.ascontiguousarray(W.T)              # (d, 4d)
    c_prev = np.zeros((B, d), dtype=X.dtype)
    for t in range(T):
        a = A[t]
        if t > 0:
            np.dot(S[t - 1], WT, out=a)
            a += X[t]
        else:
            a[...] = X[0]
        sigmoid(a[:, : 2 * d], out=a[:, : 2 * d])       # i, f
        np.tanh(a[:, 2 * d : 3 * d], out=a[:, 2 * d : 3 * d])  # g
        sigmoid(a[:, 3 * d :], out=a[:, 3 * d :])       # o
        i, f, g, o = a[:, :d], a[:, d : 2 * d], a[:, 2 * d : 3 * d], a[:, 3 * d :]
        np.multiply(f, c_prev, out=C[t])
        C[t] += i * g
        np.tanh(C[t], out=TC[t])
        np.multiply(o, TC[t], out=S[t])
        c_prev = C[t]
    return Cache(S=S, A=A, C=C, TC=TC)


def lstm_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, bptt: int = 0):
    """BPTT through the LSTM, carrying dL/ds and dL/dc backwards."""
    A, C, TC, S = cache.A, cache.C, cache.TC, cache.S
    T, B, d = S.shape
    dA = np.empty_like(A)                       # (T, B, 4d) gradients w.r.t. gate pre-activations
    dS_total = np.empty_like(S)
    carry_s = np.zeros((B, d), dtype=S.dtype)
    carry_c = np.zeros((B, d), dtype=S.dtype)
    for t in range(T - 1, -1, -1):
        a = A[t]
        i, f, g, o = a[:, :d], a[:, d : 2 * d], a[:, 2 * d : 3 * d], a[:, 3 * d :]
        ds = np.add(dS[t], carry_s, out=dS_total[t])
        tc = TC[t]
        dc = ds * o * (1.0 - tc * tc) + carry_c
        da = dA[t]
        c_prev = C[t - 1] if t > 0 else 0.0
        da[:, :d] = dc * g * i * (1.0 - i)                      # d a_i
        da[:, d : 2 * d] = dc * c_prev * f * (1.0 - f)          # d a_f
        da[:, 2 * d : 3 * d] = dc * i * (1.0 - g * g)           # d a_g
        da[:, 3 * d :] = ds * tc * o * (1.0 - o)                # d a_o
        if t > 0 and not _cut(t, bptt):
            np.dot(da, W, out=carry_s)
            np.multiply(dc, f, out=carry_c)
        else:
            carry_s[...] = 0.0
            carry_c[...] = 0.0
    dW = dA[1:].reshape(-1, 4 * d).T @ S[:-1].reshape(-1, d)   # (4d, d)
    return dA, dW, {}, dS_total


# -------------------------------------------------------------------------------------------------------- GRU
def gru_forward(X: np.ndarray, W: np.ndarray, b_hn: np.ndarray) -> Cache:
    """GRU over the sequence. X: (T, B, 3d) = U x_t + b, W: (3d, d), b_hn: (d,). Gate order r, z, n."""
    T, B, G = X.shape
    d = G // 3
    A = np.empty_like(X)                        # (T, B, 3d): r, z, n after activation
    HN = np.empty((T, B, d), dtype=X.dtype)     # W_n s_{t-1} + b_hn
    S = np.empty_like(HN)
    WT = np.ascontiguousarray(W.T)
    h = np.empty((B, G), dtype=X.dtype)
    s_prev = np.zeros((B, d), dtype=X.dtype)
    for t in range(T):
        a = A[t]
        if t > 0:
            np.dot(s_prev, WT, out=h)
        else:
            h[...] = 0.0
        np.add(X[t, :, : 2 * d], h[:, : 2 * d], out=a[:, : 2 * d])
        sigmoid(a[:, : 2 * d], out=a[:, : 2 * d])
        r, z = a[:, :d], a[:, d : 2 * d]
        np.add(h[:, 2 * d :], b_hn, out=HN[t])
        n = a[:, 2 * d :]
        np.multiply(r, HN[t], out=n)
        n += X[t, :, 2 * d :]
        np.tanh(n, out=n)
        # s_t = n + z * (s_{t-1} - n)
        np.subtract(s_prev, n, out=S[t])
        S[t] *= z
        S[t] += n
        s_prev = S[t]
    return Cache(S=S, A=A, HN=HN)


def gru_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, bptt: int = 0):
    """BPTT through the GRU (PyTorch formulation). Returns dX, dW, {"b_hn": ...}, dS_total."""
    A, HN, S = cache.A, cache.HN, cache.S
    T, B, d = S.shape
    dX = np.empty_like(A)                       # (T, B, 3d) d(X_r, X_z, X_n)
    dH = np.empty_like(A)                       # (T, B, 3d) d(W s_{t-1}) for r, z, n
    dS_total = np.empty_like(S)
    carry = np.zeros((B, d), dtype=S.dtype)
    zeros = np.zeros((B, d), dtype=S.dtype)
    for t in range(T - 1, -1, -1):
        a = A[t]
        r, z, n = a[:, :d], a[:, d : 2 * d], a[:, 2 * d :]
        s_prev = S[t - 1] if t > 0 else zeros
        ds = np.add(dS[t], carry, out=dS_total[t])
        dan = ds * (1.0 - z) * (1.0 - n * n)                     # d(X_n + r * hn)
        dz = ds * (s_prev - n)
        dxt, dht = dX[t], dH[t]
        dxt[:, :d] = dan * HN[t] * r * (1.0 - r)                 # d a_r
        dxt[:, d : 2 * d] = dz * z * (1.0 - z)                   # d a_z
        dxt[:, 2 * d :] = dan
        dht[:, : 2 * d] = dxt[:, : 2 * d]
        dht[:, 2 * d :] = dan * r                                # d(W_n s_{t-1} + b_hn)
        if t > 0 and not _cut(t, bptt):
            np.dot(dht, W, out=carry)
            carry += ds * z
        else:
            carry[...] = 0.0
    dW = dH[1:].reshape(-1, 3 * d).T @ S[:-1].reshape(-1, d)    # (3d, d)
    db_hn = dH[:, :, 2 * d :].sum(axis=(0, 1))                   # (d,)
    return dX, dW, {"b_hn": db_hn}, dS_total
