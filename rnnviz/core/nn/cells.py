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

import math
from dataclasses import dataclass

import numpy as np


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


def _buf(work: dict | None, key: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` from ``work``, or a new one when ``work`` is None.

    ``work[key]`` is a flat buffer that only grows, and the array is a view of its start: batches of any length
    reuse the same pages (a fresh multi-MB array per step costs thousands of page faults: measured 5 ms of
    system time in a 25 ms step). Its contents are valid until the next call with the same key."""
    if work is None:
        return np.empty(shape, dtype=dtype)
    size = math.prod(shape)                     # (np.prod takes microseconds: too slow for small steps)
    a = work.get(key)
    if a is None or a.size < size or a.dtype != dtype:
        a = work[key] = np.empty(size, dtype=dtype)
    return a[:size].reshape(shape)


def _flush_subnormal(a: np.ndarray) -> None:
    """Set the entries of a float32 gradient below float32's smallest normal number (1.2e-38) to 0. A vanishing
    gradient otherwise turns subnormal and every product it enters runs many times slower on x86 (measured: a
    whole classification step 6x slower); no gradient changes by more than 1.2e-38. The model switches this on
    (``flush=True``) only after a backward pass whose gradient norms fell below 1e-20 somewhere."""
    np.copyto(a, 0.0, where=np.abs(a) < np.finfo(np.float32).tiny)


def _gate_affine(G: int, d: int, sigmoid_gates, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) of length G*d so that act = scale * tanh(scale * a) + offset applies sigma to the gate
    blocks in ``sigmoid_gates`` and tanh to the others, with ONE tanh over all gates:
    sigma(a) = 0.5 * tanh(0.5 a) + 0.5 (exact identity; no overflow for any a)."""
    scale = np.ones((G // d, d), dtype=dtype)
    offset = np.zeros((G // d, d), dtype=dtype)
    scale[list(sigmoid_gates)] = 0.5
    offset[list(sigmoid_gates)] = 0.5
    return scale.reshape(-1), offset.reshape(-1)


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
def rnn_forward(X: np.ndarray, W: np.ndarray, activation: str, work: dict | None = None) -> Cache:
    """s_t = g(X_t + W s_{t-1}), s_{-1} = 0.  X: (T, B, d), W: (d, d).

    X is the caller's own buffer: it is overwritten with the pre-activations X_t + W s_{t-1} (``Cache.pre``).
    With ``work`` (see ``_buf``) the cache's arrays are reused buffers, valid until the next call."""
    T, B, d = X.shape
    S = _buf(work, "f_S", X.shape, X.dtype)   # (T, B, d)
    pre = X                       # (T, B, d), filled in place
    WT = _buf(work, "f_WT", (d, d), X.dtype)    # (d, d) W^T, C order: the fast 'NN' product s_{t-1} W^T
    WT[...] = W.T
    h = _buf(work, "f_h", (B, d), X.dtype)
    act = {"tanh": np.tanh, "sigmoid": sigmoid}.get(activation)
    Ss, pres = list(S), list(pre)               # per-step views made once, in C
    for t in range(T):
        p = pres[t]
        if t > 0:
            np.dot(Ss[t - 1], WT, out=h)
            np.add(p, h, out=p)
        if act is not None:
            act(p, out=Ss[t])
        else:
            np.maximum(p, 0, out=Ss[t])
    return Cache(S=S, A=S, pre=pre)


def rnn_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, activation: str, bptt: int = 0,
                 work: dict | None = None, flush: bool = False):
    """BPTT for the vanilla cell. dS: (T, B, d) gradient arriving at each s_t from outside the recurrence.

    dpre_t = (dS_t + W^T dpre_{t+1}) * g'(pre_t); g' is computed for all steps at once before the loop."""
    S = cache.S
    T = S.shape[0]
    gprime = np.multiply(S, S, out=_buf(work, "gprime", S.shape, S.dtype))   # (T, B, d)
    if activation == "tanh":
        np.subtract(1.0, gprime, out=gprime)    # tanh'(pre) = 1 - s^2
    elif activation == "sigmoid":
        np.subtract(S, gprime, out=gprime)      # sigma'(pre) = s - s^2
    else:
        np.greater(cache.pre, 0, out=gprime)    # relu'(pre), as 0.0 / 1.0
    dPre = _buf(work, "dX", S.shape, S.dtype)           # (T, B, d)
    dS_total = _buf(work, "dS_total", S.shape, S.dtype)  # (T, B, d)
    carry = np.zeros_like(S[0])                 # (B, d) dL/ds_t arriving from step t+1
    dSs, dSts, gps, dPres = list(dS), list(dS_total), list(gprime), list(dPre)   # per-step views, made once
    for t in range(T - 1, -1, -1):
        ds, dp = dSts[t], dPres[t]
        np.add(dSs[t], carry, out=ds)
        np.multiply(ds, gps[t], out=dp)
        if flush:
            _flush_subnormal(dp)
        if t > 0 and not _cut(t, bptt):
            np.dot(dp, W, out=carry)
            if flush:
                _flush_subnormal(carry)
        else:
            carry[...] = 0.0
    d = S.shape[2]
    dW = np.matmul(dPre[1:].reshape(-1, d).T, S[:-1].reshape(-1, d), out=_buf(work, "dW", (d, d), S.dtype))
    # (d, d) = sum_t dpre_t^T s_{t-1}
    return dPre, dW, {}, dS_total


# ------------------------------------------------------------------------------------------------------- LSTM
def lstm_forward(X: np.ndarray, W: np.ndarray, work: dict | None = None) -> Cache:
    """LSTM over the sequence. X: (T, B, 4d) = U x_t + b, W: (4d, d). Gate order i, f, g, o.

    All four gates take one tanh per step: the sigmoid gates' columns of X and rows of W are pre-scaled by 1/2
    and sigma(a) = 0.5 tanh(a / 2) + 0.5 (see ``_gate_affine``). X (the caller's buffer) is scaled in place.
    With ``work`` (see ``_buf``) the cache's arrays are reused buffers, valid until the next call."""
    T, B, G = X.shape
    d = G // 4
    scale, offset = _gate_affine(G, d, (0, 1, 3), X.dtype)
    X *= scale                                  # (T, B, 4d) a / 2 for i, f, o; a for g
    WT = np.multiply(W.T, scale, out=_buf(work, "f_WT", (d, G), X.dtype))   # (d, 4d) (W with rows scaled)^T
    A = _buf(work, "f_A", X.shape, X.dtype)    # (T, B, 4d) activated gates
    C = _buf(work, "f_C", (T, B, d), X.dtype)
    TC = _buf(work, "f_TC", (T, B, d), X.dtype)
    S = _buf(work, "f_S", (T, B, d), X.dtype)
    tmp = _buf(work, "f_tmp", (B, d), X.dtype)
    mul, tanh = np.multiply, np.tanh
    # per-step views made once, in C (indexing 3-D views inside the loop costs more than the ufuncs at B = 1)
    As, Xs, Cs, TCs, Ss = list(A), list(X), list(C), list(TC), list(S)
    Ai, Af, Ag, Ao = (list(A[:, :, k * d : (k + 1) * d]) for k in range(4))
    for t in range(T):
        a, c = As[t], Cs[t]
        if t > 0:
            np.dot(Ss[t - 1], WT, out=a)
            a += Xs[t]
        else:
            a[...] = Xs[0]
        tanh(a, out=a)
        a *= scale
        a += offset                              # i, f, o = sigma(a); g = tanh(a)
        if t > 0:
            mul(Af[t], Cs[t - 1], out=c)
            mul(Ai[t], Ag[t], out=tmp)
            c += tmp                             # c_t = f c_{t-1} + i g
        else:
            mul(Ai[0], Ag[0], out=c)
        tanh(c, out=TCs[t])
        mul(Ao[t], TCs[t], out=Ss[t])            # s_t = o tanh(c_t)
    return Cache(S=S, A=A, C=C, TC=TC)


def lstm_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, bptt: int = 0, work: dict | None = None,
                  flush: bool = False, keep_dc: bool = False):
    """BPTT through the LSTM, carrying dL/ds and dL/dc backwards. ``keep_dc``: also keep the total dL/dc_t of every
    step in ``work["dC_total"]`` (T, B, d) (for the gradient-flow view of the cell state).

    Every factor that does not depend on the carried gradients is computed for all steps at once first:
        dc_t   = ds_t * o (1 - tanh(c_t)^2) + f_{t+1} dc_{t+1}
        da_i = dc_t * g i (1 - i),  da_f = dc_t * c_{t-1} f (1 - f),  da_g = dc_t * i (1 - g^2),
        da_o = ds_t * tanh(c_t) o (1 - o),    ds_{t-1} += W^T da_t."""
    A, C, TC, S = cache.A, cache.C, cache.TC, cache.S
    T, B, d = S.shape
    i, f, g, o = A[:, :, :d], A[:, :, d : 2 * d], A[:, :, 2 * d : 3 * d], A[:, :, 3 * d :]
    dA = _buf(work, "dX", A.shape, A.dtype)     # (T, B, 4d): first the factors, then (in place) the gradients
    Mi, Mf, Mg, Mo = dA[:, :, :d], dA[:, :, d : 2 * d], dA[:, :, 2 * d : 3 * d], dA[:, :, 3 * d :]
    tmp = _buf(work, "tmp", S.shape, S.dtype)   # (T, B, d)
    np.subtract(1.0, i, out=tmp)
    np.multiply(tmp, i, out=Mi)
    Mi *= g                                     # g i (1 - i)
    np.subtract(1.0, f, out=tmp)
    np.multiply(tmp, f, out=Mf)
    Mf[1:] *= C[:-1]                            # c_{t-1} f (1 - f)
    Mf[0] = 0.0                                 # c_{-1} = 0
    np.multiply(g, g, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.multiply(tmp, i, out=Mg)                 # i (1 - g^2)
    np.subtract(1.0, o, out=tmp)
    np.multiply(tmp, o, out=Mo)
    Mo *= TC                                    # tanh(c) o (1 - o)
    P = np.multiply(TC, TC, out=_buf(work, "P", S.shape, S.dtype))
    np.subtract(1.0, P, out=P)
    P *= o                                      # o (1 - tanh(c)^2)
    dA4 = dA.reshape(T, B, 4, d)
    dS_total = _buf(work, "dS_total", S.shape, S.dtype)
    carry_s = np.zeros((B, d), dtype=S.dtype)
    carry_c = np.zeros((B, d), dtype=S.dtype)
    dc3 = np.empty((B, 1, d), dtype=S.dtype)
    dc = dc3[:, 0, :]
    mul, dot = np.multiply, np.dot
    dSs, dSts, Ps, dAs, Mos, fs = list(dS), list(dS_total), list(P), list(dA), list(Mo), list(f)
    IFGs = list(dA4[:, :, :3])                  # (B, 3, d) per step: i, f, g
    dCs = list(_buf(work, "dC_total", S.shape, S.dtype)) if keep_dc else None   # (T, B, d) dL/dc_t
    for t in range(T - 1, -1, -1):
        ds = dSts[t]
        np.add(dSs[t], carry_s, out=ds)
        mul(ds, Ps[t], out=dc)
        dc += carry_c
        if keep_dc:
            dCs[t][...] = dc
        mul(IFGs[t], dc3, out=IFGs[t])           # d a_i, d a_f, d a_g
        mul(Mos[t], ds, out=Mos[t])              # d a_o
        if flush:
            _flush_subnormal(dAs[t])
            _flush_subnormal(dc)
        if t > 0 and not _cut(t, bptt):
            dot(dAs[t], W, out=carry_s)
            mul(dc, fs[t], out=carry_c)
        else:
            carry_s[...] = 0.0
            carry_c[...] = 0.0
    dW = np.matmul(dA[1:].reshape(-1, 4 * d).T, S[:-1].reshape(-1, d), out=_buf(work, "dW", (4 * d, d), S.dtype))
    return dA, dW, {}, dS_total


# -------------------------------------------------------------------------------------------------------- GRU
def gru_forward(X: np.ndarray, W: np.ndarray, b_hn: np.ndarray, work: dict | None = None) -> Cache:
    """GRU over the sequence. X: (T, B, 3d) = U x_t + b, W: (3d, d), b_hn: (d,). Gate order r, z, n.

    r and z take one tanh: their columns of X and rows of W are pre-scaled by 1/2, sigma(a) = 0.5 tanh(a/2) + 0.5.
    X (the caller's buffer) is scaled in place. With ``work`` (see ``_buf``) the cache's arrays are reused
    buffers, valid until the next call."""
    T, B, G = X.shape
    d = G // 3
    scale, offset = _gate_affine(G, d, (0, 1), X.dtype)
    X *= scale
    A = _buf(work, "f_A", X.shape, X.dtype)    # (T, B, 3d): r, z, n after activation
    HN = _buf(work, "f_HN", (T, B, d), X.dtype)  # W_n s_{t-1} + b_hn
    S = _buf(work, "f_S", (T, B, d), X.dtype)
    WT = np.multiply(W.T, scale, out=_buf(work, "f_WT", (d, G), X.dtype))   # (d, 3d), r and z columns halved
    h = _buf(work, "f_h", (B, G), X.dtype)
    half = scale[: 2 * d]
    Xrz, Xn = X[:, :, : 2 * d], X[:, :, 2 * d :]
    Arz, Az, An = A[:, :, : 2 * d], A[:, :, d : 2 * d], A[:, :, 2 * d :]
    hrz, hn = h[:, : 2 * d], h[:, 2 * d :]
    mul, add, tanh = np.multiply, np.add, np.tanh
    # per-step views made once, in C (as in lstm_forward)
    Ss, HNs, Xrzs, Xns, Arzs, Azs, Ans, Ars = (list(a) for a in (S, HN, Xrz, Xn, Arz, Az, An, A[:, :, :d]))
    for t in range(T):
        arz, z, n, hn_t, s = Arzs[t], Azs[t], Ans[t], HNs[t], Ss[t]
        if t > 0:
            np.dot(Ss[t - 1], WT, out=h)
            add(Xrzs[t], hrz, out=arz)
            add(hn, b_hn, out=hn_t)
        else:
            arz[...] = Xrzs[0]
            hn_t[...] = b_hn
        tanh(arz, out=arz)
        arz *= half
        arz += half                              # r, z = sigma(a_r), sigma(a_z)
        mul(Ars[t], hn_t, out=n)
        n += Xns[t]
        tanh(n, out=n)                           # n = tanh(X_n + r (W_n s + b_hn))
        if t > 0:                                # s_t = n + z (s_{t-1} - n)
            np.subtract(Ss[t - 1], n, out=s)
            s *= z
            s += n
        else:
            mul(z, n, out=s)
            np.subtract(n, s, out=s)
    return Cache(S=S, A=A, HN=HN)


def gru_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, bptt: int = 0, work: dict | None = None,
                 flush: bool = False):
    """BPTT through the GRU (PyTorch formulation). Returns dX, dW, {"b_hn": ...}, dS_total.

    Every gate gradient is ds_t times a factor known from the forward pass, computed for all steps first:
        d(X_n + r hn) = ds (1 - z)(1 - n^2) =: ds Pn,   d a_r = ds Pn hn r (1 - r),
        d a_z = ds (s_{t-1} - n) z (1 - z),             d hn = ds Pn r,
        ds_{t-1} = W^T [d a_r, d a_z, d hn] + ds z."""
    A, HN, S = cache.A, cache.HN, cache.S
    T, B, d = S.shape
    r, z, n = A[:, :, :d], A[:, :, d : 2 * d], A[:, :, 2 * d :]
    M = _buf(work, "M", (T, B, 4 * d), S.dtype)  # factors, then (in place) gradients: [a_r, a_z, hn, X_n]
    Mr, Mz, Mh, Mn = M[:, :, :d], M[:, :, d : 2 * d], M[:, :, 2 * d : 3 * d], M[:, :, 3 * d :]
    tmp = _buf(work, "tmp", S.shape, S.dtype)
    np.multiply(n, n, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.subtract(1.0, z, out=Mn)
    Mn *= tmp                                   # Pn = (1 - z)(1 - n^2)
    np.multiply(Mn, r, out=Mh)                  # Pn r
    np.subtract(1.0, r, out=tmp)
    tmp *= HN
    np.multiply(Mh, tmp, out=Mr)                # Pn r (1 - r) hn
    np.subtract(1.0, z, out=tmp)
    tmp *= z
    Mz[1:] = S[:-1]
    Mz[0] = 0.0                                 # s_{-1} = 0
    Mz -= n
    Mz *= tmp                                   # (s_{t-1} - n) z (1 - z)
    M4 = M.reshape(T, B, 4, d)
    dS_total = _buf(work, "dS_total", S.shape, S.dtype)
    carry = np.zeros((B, d), dtype=S.dtype)
    ds3 = np.empty((B, 1, d), dtype=S.dtype)
    ds = ds3[:, 0, :]
    dH = M[:, :, : 3 * d]                       # (T, B, 3d) d(W s_{t-1} + [0, 0, b_hn]) for r, z, n
    mul, dot = np.multiply, np.dot
    dSs, dSts, M4s, Ms, dHs, zs = list(dS), list(dS_total), list(M4), list(M), list(dH), list(z)
    for t in range(T - 1, -1, -1):
        np.add(dSs[t], carry, out=ds)
        dSts[t][...] = ds
        mul(M4s[t], ds3, out=M4s[t])
        if flush:
            _flush_subnormal(Ms[t])
            _flush_subnormal(ds)
        if t > 0 and not _cut(t, bptt):
            dot(dHs[t], W, out=carry)
            mul(ds, zs[t], out=ds)
            carry += ds
        else:
            carry[...] = 0.0
    dW = np.matmul(dH[1:].reshape(-1, 3 * d).T, S[:-1].reshape(-1, d), out=_buf(work, "dW", (3 * d, d), S.dtype))
    db_hn = Mh.sum(axis=(0, 1))                                  # (d,)
    dX = _buf(work, "dX", (T, B, 3 * d), S.dtype)
    dX[:, :, : 2 * d] = M[:, :, : 2 * d]
    dX[:, :, 2 * d :] = Mn
    return dX, dW, {"b_hn": db_hn}, dS_total
