"""The recurrent cells, fast: the same equations as ``reference.py``, over a whole batch at once.

Read ``reference.py`` first: it states every equation one example and one step at a time. This module computes
exactly those numbers (the tests hold the two equal to float64 round-off) with these differences of form only:

- time-major batches: ``X[t]`` is one timestep of the whole batch, (B, G*d), contiguous in memory;
- the input side arrives precomputed, ``X[t] = U x_t + b`` (T, B, G*d), so the loop over time only does the
  recurrent part. ``X`` is left as it was unless the caller hands it over with ``overwrite_X=True`` (SciPy's
  ``overwrite_a`` convention): then the forward pass works in it (saving a copy) and the caller must not read it
  again, except as the vanilla cell's ``Cache.pre``;
- the sigmoid gates go through the one tanh of all gates: sigma(a) = 0.5 tanh(a / 2) + 0.5 (``_gate_affine``);
- every factor that does not depend on the carried gradient is computed outside the backward loop (for all steps
  at once, or for the LSTM a cache-sized block of steps at a time, ``BLOCK_BYTES``), and products write into
  reused buffers (``workspace``); each gate block is a named view (``gate_blocks``).

Vanilla RNN (G = 1):   s_t = g(X_t + W s_{t-1}),  g in {tanh, sigmoid, relu}
LSTM (G = 4, gate order i, f, g, o):
    [a_i, a_f, a_g, a_o] = X_t + W s_{t-1},   i = sigma(a_i), f = sigma(a_f), g = tanh(a_g), o = sigma(a_o)
    c_t = f * c_{t-1} + i * g,   s_t = o * tanh(c_t)
GRU (G = 3, gate order r, z, n, PyTorch's formulation):
    [h_r, h_z, h_n] = W s_{t-1},   r = sigma(X_r + h_r), z = sigma(X_z + h_z)
    n = tanh(X_n + r * (h_n + b_hn)),   s_t = (1 - z) * n + z * s_{t-1}

Backward returns dX (T, B, G*d), dW (G*d, d), extra bias grads, and dS_total (T, B, d): the total derivative
dL/ds_t (from the output at t and from every later step), whose norms the gradient-flow panel draws.

Truncated BPTT with length k (``reference.detached``): the gradient from step t does not reach s_{t-1} (nor the
LSTM's c_{t-1}) when t is a multiple of k, exactly as if the state were detached every k steps.

Buffers: with ``work`` (a dict, see ``workspace.buffer``) the returned cache and gradients are the workspace's
own arrays, valid until the next call with the same ``work``; without it they are fresh arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.config import GATES
from rnnviz.core.nn.reference import detached
from rnnviz.core.nn.workspace import buffer, flush_subnormal


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Numerically stable logistic function, in place when ``out`` is given."""
    out = np.negative(x, out=out)
    bound = 700.0 if out.dtype == np.float64 else 80.0   # exp(bound) stays finite: no overflow warnings
    np.clip(out, -bound, bound, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def gate_blocks(A: np.ndarray, cell: str) -> tuple[np.ndarray, ...]:
    """The gate blocks of a stacked (..., G*d) array as views, in ``GATES[cell]`` order (LSTM: i, f, g, o)."""
    G = len(GATES[cell])
    d = A.shape[-1] // G
    return tuple(A[..., k * d : (k + 1) * d] for k in range(G))


def _gate_affine(cell: str, d: int, sigmoid_gates: tuple[str, ...], dtype) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) of length G*d so that act = scale * tanh(scale * a) + offset applies sigma to the gates named
    in ``sigmoid_gates`` and tanh to the others, with ONE tanh over all gates:
    sigma(a) = 0.5 * tanh(0.5 a) + 0.5 (exact identity; no overflow for any a)."""
    names = GATES[cell]
    scale = np.ones((len(names), d), dtype=dtype)
    offset = np.zeros((len(names), d), dtype=dtype)
    rows = [names.index(name) for name in sigmoid_gates]
    scale[rows] = 0.5
    offset[rows] = 0.5
    return scale.reshape(-1), offset.reshape(-1)


# The LSTM's backward pass computes its step-wise factors a block of steps at a time, right before the loop over
# time reaches the block, instead of whole-sequence arrays in one pass each: a block of about BLOCK_BYTES of gates
# stays in the core's L2 cache across the dozen passes over it and the loop's reads (whole-sequence arrays of
# several MB streamed from L3 on every pass; measured on a Xeon with 2 MB of L2 per core: the factors of d = 128,
# B = 32, T = 100 about 30 % faster). The factors are element-wise, so the block size changes no number.
BLOCK_BYTES = 2**19


def block_steps(step_bytes: int) -> int:
    """Steps per block when one step's gates take ``step_bytes``."""
    return max(1, BLOCK_BYTES // max(1, step_bytes))


def tiled(work: dict | None, key: str, row: np.ndarray, B: int) -> np.ndarray:
    """(B, len(row)) copies of ``row``: an element-wise product with a same-shaped operand runs faster than with a
    broadcast row (about 2x for (32, 512) in float32)."""
    out = buffer(work, key, (B, len(row)), row.dtype)
    out[...] = row
    return out


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass (time-major)."""

    S: np.ndarray                # (T, B, d) states s_t
    A: np.ndarray                # (T, B, G*d) activated gates / post-activations needed by backward
    C: np.ndarray | None = None  # LSTM: (T, B, d) cell states c_t
    TC: np.ndarray | None = None # LSTM: (T, B, d) tanh(c_t)
    HN: np.ndarray | None = None # GRU: (T, B, d) h_n + b_hn
    pre: np.ndarray | None = None  # vanilla: (T, B, d) pre-activations a_t (for relu and the slow-motion view)


# ------------------------------------------------------------------------------------------------- vanilla RNN
def rnn_forward(X: np.ndarray, W: np.ndarray, activation: str, work: dict | None = None, *,
                overwrite_X: bool = False) -> Cache:
    """a_t = X_t + W s_{t-1},  s_t = g(a_t),  s_{-1} = 0.  X: (T, B, d) = U x_t + b, W: (d, d).

    With ``overwrite_X`` the pre-activations a_t (``Cache.pre``) are written into X itself."""
    T, B, d = X.shape
    S = buffer(work, "f_S", X.shape, X.dtype)       # (T, B, d) s_t
    pre = X if overwrite_X else buffer(work, "f_pre", X.shape, X.dtype)   # (T, B, d) a_t
    WT = buffer(work, "f_WT", (d, d), X.dtype)      # (d, d) W^T, C order: the fast 'NN' product s_{t-1} W^T
    WT[...] = W.T
    h = buffer(work, "f_h", (B, d), X.dtype)        # (B, d) W s_{t-1}
    act = {"tanh": np.tanh, "sigmoid": sigmoid}.get(activation)
    Ss, pres = list(S), list(pre)                   # per-step views made once, in C
    Xs = pres if overwrite_X else list(X)           # (the same view objects when X is pre: no overlap checks)
    for t in range(T):
        a = pres[t]
        if t > 0:
            np.dot(Ss[t - 1], WT, out=h)
            np.add(Xs[t], h, out=a)                 # a_t = X_t + W s_{t-1}
        elif not overwrite_X:
            a[...] = Xs[0]                          # s_{-1} = 0
        if act is not None:
            act(a, out=Ss[t])
        else:
            np.maximum(a, 0, out=Ss[t])             # relu
    return Cache(S=S, A=S, pre=pre)


def rnn_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, activation: str, bptt: int = 0,
                 work: dict | None = None, flush: bool = False):
    """BPTT for the vanilla cell (``reference.rnn_backward``). dS: (T, B, d) gradient arriving at each s_t from
    outside the recurrence (only read).

    da_t = (dS_t + W^T da_{t+1}) * g'(a_t); g' is computed for all steps at once before the loop."""
    S = cache.S
    T = S.shape[0]
    gprime = np.multiply(S, S, out=buffer(work, "gprime", S.shape, S.dtype))   # (T, B, d)
    if activation == "tanh":
        np.subtract(1.0, gprime, out=gprime)    # tanh'(a) = 1 - s^2
    elif activation == "sigmoid":
        np.subtract(S, gprime, out=gprime)      # sigma'(a) = s - s^2
    else:
        np.greater(cache.pre, 0, out=gprime)    # relu'(a), as 0.0 / 1.0
    dPre = buffer(work, "dX", S.shape, S.dtype)           # (T, B, d) dL/da_t
    dS_total = buffer(work, "dS_total", S.shape, S.dtype)  # (T, B, d)
    ds_next = np.zeros_like(S[0])               # (B, d) dL/ds_t arriving from step t+1
    dSs, dSts, gps, dPres = list(dS), list(dS_total), list(gprime), list(dPre)   # per-step views, made once
    for t in range(T - 1, -1, -1):
        ds, da = dSts[t], dPres[t]
        np.add(dSs[t], ds_next, out=ds)
        np.multiply(ds, gps[t], out=da)
        if flush:
            flush_subnormal(da)
        if t > 0 and not detached(t, bptt):
            np.dot(da, W, out=ds_next)          # W^T da_t, as a row-vector product
            if flush:
                flush_subnormal(ds_next)
        else:
            ds_next[...] = 0.0
    d = S.shape[2]
    dW = np.matmul(dPre[1:].reshape(-1, d).T, S[:-1].reshape(-1, d), out=buffer(work, "dW", (d, d), S.dtype))
    # (d, d) = sum_t da_t^T s_{t-1}
    return dPre, dW, {}, dS_total


# ------------------------------------------------------------------------------------------------------- LSTM
def lstm_forward(X: np.ndarray, W: np.ndarray, work: dict | None = None, *, overwrite_X: bool = False) -> Cache:
    """LSTM over the sequence (``reference.lstm_forward``). X: (T, B, 4d) = U x_t + b, W: (4d, d).

    All four gates take one tanh per step: the sigmoid gates' columns of X and rows of W are scaled by 1/2 (X in
    place with ``overwrite_X``, else into the workspace), and sigma(a) = 0.5 tanh(a / 2) + 0.5 (``_gate_affine``)."""
    T, B, G = X.shape
    d = G // 4
    scale, offset = _gate_affine("lstm", d, ("i", "f", "o"), X.dtype)
    Xh = np.multiply(X, scale, out=X if overwrite_X else buffer(work, "f_Xh", X.shape, X.dtype))
    # (T, B, 4d) a/2 for i, f, o; a for g
    WT = np.multiply(W.T, scale, out=buffer(work, "f_WT", (d, G), X.dtype))   # (d, 4d) (W with rows scaled)^T
    A = buffer(work, "f_A", X.shape, X.dtype)      # (T, B, 4d) activated gates i, f, g, o
    C = buffer(work, "f_C", (T, B, d), X.dtype)    # c_t
    TC = buffer(work, "f_TC", (T, B, d), X.dtype)  # tanh(c_t)
    S = buffer(work, "f_S", (T, B, d), X.dtype)    # s_t
    tmp = buffer(work, "f_tmp", (B, d), X.dtype)
    scale_B, offset_B = tiled(work, "f_scale", scale, B), tiled(work, "f_offset", offset, B)   # (B, 4d)
    mul, tanh = np.multiply, np.tanh
    # per-step views made once, in C (indexing 3-D views inside the loop costs more than the ufuncs at B = 1)
    As, Xhs, Cs, TCs, Ss = list(A), list(Xh), list(C), list(TC), list(S)
    i, f, g, o = (list(gate) for gate in gate_blocks(A, "lstm"))   # i[t]: (B, d) input gate at step t, ...
    for t in range(T):
        a, c = As[t], Cs[t]
        if t > 0:
            np.dot(Ss[t - 1], WT, out=a)
            a += Xhs[t]
        else:
            a[...] = Xhs[0]
        tanh(a, out=a)
        a *= scale_B
        a += offset_B                            # i, f, o = sigma(a); g = tanh(a)
        if t > 0:
            mul(f[t], Cs[t - 1], out=c)
            mul(i[t], g[t], out=tmp)
            c += tmp                             # c_t = f c_{t-1} + i g
        else:
            mul(i[0], g[0], out=c)               # c_{-1} = 0
        tanh(c, out=TCs[t])
        mul(o[t], TCs[t], out=Ss[t])             # s_t = o tanh(c_t)
    return Cache(S=S, A=A, C=C, TC=TC)


def _lstm_factors(A: np.ndarray, C: np.ndarray, TC: np.ndarray, dA: np.ndarray, P: np.ndarray, lo: int,
                  hi: int) -> None:
    """The factors of steps lo..hi-1 that do not depend on the carried gradients (see ``lstm_backward``):
    dA[t] = [g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2), tanh(c_t) o (1 - o)],  P[t] = o (1 - tanh(c_t)^2)."""
    At, dAt, TCt, Pt = A[lo:hi], dA[lo:hi], TC[lo:hi], P[lo:hi]
    i, _f, g, o = gate_blocks(At, "lstm")        # (hi - lo, B, d) each; f enters only through At
    da_i, da_f, da_g, da_o = gate_blocks(dAt, "lstm")
    np.subtract(1.0, At, out=dAt)
    dAt *= At                                   # x (1 - x) for every gate (the g block is replaced below)
    da_i *= g                                   # g i (1 - i)
    if lo == 0:
        da_f[1:] *= C[: hi - 1]                 # c_{t-1} f (1 - f)
        da_f[0] = 0.0                           # c_{-1} = 0
    else:
        da_f *= C[lo - 1 : hi - 1]
    np.multiply(g, g, out=da_g)
    np.subtract(1.0, da_g, out=da_g)
    da_g *= i                                   # i (1 - g^2)
    da_o *= TCt                                 # tanh(c) o (1 - o)
    np.multiply(TCt, TCt, out=Pt)
    np.subtract(1.0, Pt, out=Pt)
    Pt *= o                                     # o (1 - tanh(c)^2)


def lstm_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, bptt: int = 0, work: dict | None = None,
                  flush: bool = False, keep_dc: bool = False):
    """BPTT through the LSTM (``reference.lstm_backward``), carrying dL/ds and dL/dc backwards. ``keep_dc``: also
    keep the total dL/dc_t of every step in ``work["dC_total"]`` (T, B, d) (for the gradient-flow view of the cell
    state).

    Every factor that does not depend on the carried gradients (``_lstm_factors``) is computed a block of steps
    at a time, just before the loop reaches the block (``block_steps``: the block stays in cache meanwhile):
        dc_t   = ds_t * o (1 - tanh(c_t)^2) + f_{t+1} dc_{t+1}
        da_i = dc_t * g i (1 - i),  da_f = dc_t * c_{t-1} f (1 - f),  da_g = dc_t * i (1 - g^2),
        da_o = ds_t * tanh(c_t) o (1 - o),    ds_{t-1} += W^T da_t."""
    A, C, TC, S = cache.A, cache.C, cache.TC, cache.S
    T, B, d = S.shape
    f = gate_blocks(A, "lstm")[1]                # (T, B, d) forget gate
    dA = buffer(work, "dX", A.shape, A.dtype)   # (T, B, 4d): first the factors, then (in place) the gradients
    P = buffer(work, "P", S.shape, S.dtype)     # (T, B, d) o (1 - tanh(c)^2)
    dS_total = buffer(work, "dS_total", S.shape, S.dtype)
    ds_next = np.zeros((B, d), dtype=S.dtype)   # dL/ds_t arriving from step t+1
    dc_next = np.zeros((B, d), dtype=S.dtype)   # dL/dc_t arriving from step t+1
    carried = buffer(work, "carried", (B, 4, d), S.dtype)   # [dc, dc, dc, ds]: what each gate block is scaled by
    dc, dc_fg, dc_i, ds_o = carried[:, 0], carried[:, 1:3], carried[:, 0:1], carried[:, 3]
    carried = carried.reshape(B, 4 * d)         # one contiguous product per step (a broadcast one is 4x slower)
    mul, dot = np.multiply, np.dot
    dSs, dSts, Ps, dAs, fs = list(dS), list(dS_total), list(P), list(dA), list(f)
    dCs = list(buffer(work, "dC_total", S.shape, S.dtype)) if keep_dc else None   # (T, B, d) dL/dc_t
    steps, lo = block_steps(A[0].nbytes), T
    for t in range(T - 1, -1, -1):
        if t < lo:                              # the factors of the next block of steps, lo..t
            lo = max(0, t + 1 - steps)
            _lstm_factors(A, C, TC, dA, P, lo, t + 1)
        ds = dSts[t]
        np.add(dSs[t], ds_next, out=ds)
        mul(ds, Ps[t], out=dc)
        dc += dc_next
        if keep_dc:
            dCs[t][...] = dc
        np.copyto(dc_fg, dc_i)
        np.copyto(ds_o, ds)
        mul(dAs[t], carried, out=dAs[t])        # da_i, da_f, da_g = dc * factor; da_o = ds * factor
        if flush:
            flush_subnormal(dAs[t])
            flush_subnormal(dc)
        if t > 0 and not detached(t, bptt):
            dot(dAs[t], W, out=ds_next)
            mul(dc, fs[t], out=dc_next)
        else:                                    # s_{t-1} and c_{t-1} detached together
            ds_next[...] = 0.0
            dc_next[...] = 0.0
    dW = np.matmul(dA[1:].reshape(-1, 4 * d).T, S[:-1].reshape(-1, d), out=buffer(work, "dW", (4 * d, d), S.dtype))
    return dA, dW, {}, dS_total


# -------------------------------------------------------------------------------------------------------- GRU
def gru_forward(X: np.ndarray, W: np.ndarray, b_hn: np.ndarray, work: dict | None = None, *,
                overwrite_X: bool = False) -> Cache:
    """GRU over the sequence (``reference.gru_forward``). X: (T, B, 3d) = U x_t + b, W: (3d, d), b_hn: (d,).
    Gate order r, z, n.

    r and z take one tanh: their columns of X and rows of W are scaled by 1/2 (X in place with ``overwrite_X``,
    else into the workspace), sigma(a) = 0.5 tanh(a/2) + 0.5."""
    T, B, G = X.shape
    d = G // 3
    scale, offset = _gate_affine("gru", d, ("r", "z"), X.dtype)
    Xh = np.multiply(X, scale, out=X if overwrite_X else buffer(work, "f_Xh", X.shape, X.dtype))
    # (T, B, 3d) a/2 for r, z; a for n
    A = buffer(work, "f_A", X.shape, X.dtype)    # (T, B, 3d): r, z, n after activation
    HN = buffer(work, "f_HN", (T, B, d), X.dtype)  # W_n s_{t-1} + b_hn
    S = buffer(work, "f_S", (T, B, d), X.dtype)
    WT = np.multiply(W.T, scale, out=buffer(work, "f_WT", (d, G), X.dtype))   # (d, 3d), r and z columns halved
    h = buffer(work, "f_h", (B, G), X.dtype)     # (B, 3d) W s_{t-1}, r and z halved
    half = scale[: 2 * d]
    Xh_rz, Xh_n = Xh[:, :, : 2 * d], Xh[:, :, 2 * d :]
    r, z, n = gate_blocks(A, "gru")
    rz = A[:, :, : 2 * d]                        # r and z side by side: one tanh for both
    h_rz, h_n = h[:, : 2 * d], h[:, 2 * d :]
    mul, add, tanh = np.multiply, np.add, np.tanh
    # per-step views made once, in C (as in lstm_forward)
    Ss, HNs, Xh_rzs, Xh_ns, rzs, zs, ns, rs = (list(a) for a in (S, HN, Xh_rz, Xh_n, rz, z, n, r))
    for t in range(T):
        rz_t, z_t, n_t, hn_t, s = rzs[t], zs[t], ns[t], HNs[t], Ss[t]
        if t > 0:
            np.dot(Ss[t - 1], WT, out=h)
            add(Xh_rzs[t], h_rz, out=rz_t)
            add(h_n, b_hn, out=hn_t)
        else:
            rz_t[...] = Xh_rzs[0]
            hn_t[...] = b_hn
        tanh(rz_t, out=rz_t)
        rz_t *= half
        rz_t += half                             # r, z = sigma(a_r + h_r), sigma(a_z + h_z)
        mul(rs[t], hn_t, out=n_t)
        n_t += Xh_ns[t]
        tanh(n_t, out=n_t)                       # n = tanh(X_n + r (W_n s + b_hn))
        if t > 0:                                # s_t = n + z (s_{t-1} - n)
            np.subtract(Ss[t - 1], n_t, out=s)
            s *= z_t
            s += n_t
        else:
            mul(z_t, n_t, out=s)
            np.subtract(n_t, s, out=s)
    return Cache(S=S, A=A, HN=HN)


def gru_backward(dS: np.ndarray, cache: Cache, W: np.ndarray, bptt: int = 0, work: dict | None = None,
                 flush: bool = False):
    """BPTT through the GRU (``reference.gru_backward``). Returns dX, dW, {"b_hn": ...}, dS_total.

    Every gate gradient is ds_t times a factor known from the forward pass, computed for all steps first:
        da_n = d(X_n + r hn) = ds (1 - z)(1 - n^2) =: ds Pn,   da_r = ds Pn hn r (1 - r),
        da_z = ds (s_{t-1} - n) z (1 - z),                     dhn = ds Pn r,
        ds_{t-1} = W^T [da_r, da_z, dhn] + ds z."""
    A, HN, S = cache.A, cache.HN, cache.S
    T, B, d = S.shape
    r, z, n = gate_blocks(A, "gru")
    M = buffer(work, "M", (T, B, 4 * d), S.dtype)  # factors, then (in place) gradients: [a_r, a_z, hn, X_n]
    da_r, da_z, dhn, da_n = (M[:, :, k * d : (k + 1) * d] for k in range(4))
    tmp = buffer(work, "tmp", S.shape, S.dtype)
    np.multiply(n, n, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.subtract(1.0, z, out=da_n)
    da_n *= tmp                                 # Pn = (1 - z)(1 - n^2)
    np.multiply(da_n, r, out=dhn)               # Pn r
    np.subtract(1.0, r, out=tmp)
    tmp *= HN
    np.multiply(dhn, tmp, out=da_r)             # Pn r (1 - r) hn
    np.subtract(1.0, z, out=tmp)
    tmp *= z
    da_z[1:] = S[:-1]
    da_z[0] = 0.0                               # s_{-1} = 0
    da_z -= n
    da_z *= tmp                                 # (s_{t-1} - n) z (1 - z)
    M4 = M.reshape(T, B, 4, d)
    dS_total = buffer(work, "dS_total", S.shape, S.dtype)
    ds_next = np.zeros((B, d), dtype=S.dtype)   # dL/ds_t arriving from step t+1
    ds3 = np.empty((B, 1, d), dtype=S.dtype)
    ds = ds3[:, 0, :]
    dH = M[:, :, : 3 * d]                       # (T, B, 3d) d(W s_{t-1} + [0, 0, b_hn]) for r, z, n
    mul, dot = np.multiply, np.dot
    dSs, dSts, M4s, Ms, dHs, zs = list(dS), list(dS_total), list(M4), list(M), list(dH), list(z)
    for t in range(T - 1, -1, -1):
        np.add(dSs[t], ds_next, out=ds)
        dSts[t][...] = ds
        mul(M4s[t], ds3, out=M4s[t])
        if flush:
            flush_subnormal(Ms[t])
            flush_subnormal(ds)
        if t > 0 and not detached(t, bptt):
            dot(dHs[t], W, out=ds_next)         # through W s_{t-1}
            mul(ds, zs[t], out=ds)
            ds_next += ds                       # and directly: s_t = ... + z s_{t-1}
        else:
            ds_next[...] = 0.0
    dW = np.matmul(dH[1:].reshape(-1, 3 * d).T, S[:-1].reshape(-1, d), out=buffer(work, "dW", (3 * d, d), S.dtype))
    db_hn = dhn.sum(axis=(0, 1))                                 # (d,)
    dX = buffer(work, "dX", (T, B, 3 * d), S.dtype)
    dX[:, :, : 2 * d] = M[:, :, : 2 * d]
    dX[:, :, 2 * d :] = da_n
    return dX, dW, {"b_hn": db_hn}, dS_total
