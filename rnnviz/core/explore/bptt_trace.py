"""Slow-motion backpropagation through time on one sequence: every number the BPTT panel steps through.

For the probe sequence x_1..x_T (one example, B = 1) of the top layer:

forward  (t = 1..T)    a_t = U x_t + W s_{t-1} + b,   s_t = g(a_t)        (or the LSTM / GRU cell; see ``cells``)
backward (t = T..1)    dL/ds_t = dL_t/ds_t  +  (ds_{t+1}/ds_t)^T dL/ds_{t+1}

``direct``  is dL_t/ds_t, the gradient arriving from the output at t alone (V^T (y_t - onehot(target_t)));
``dS``      is the total dL/ds_t (what the gradient-flow panel's ||dL/ds_t|| measures);
``factors`` is the spectral norm ||ds_t/ds_{t-1}||_2 of the one-step Jacobian, the factor by which one step can
            at most stretch the gradient it carries back (vanilla: diag(g'(a_t)) W; GRU: the whole
            ds_t/ds_{t-1}; LSTM: the Jacobian of the full state (s_t, c_t) w.r.t. (s_{t-1}, c_{t-1}), 2d x 2d,
            because the LSTM carries its gradient back through c as well as s).

The backward recursion here is written out on its own (not the model's code) from the forward pass's caches, so
it can be checked against the model's own gradients: ||dS_t|| equals ``loss_and_grads(...).grad_norms`` and
dL/da_t equals the gradient of U's column for a token that occurs once. Truncated BPTT (``bptt = k``) is followed:
the gradient from step t does not reach s_{t-1} when t is a multiple of k (``cut``). Bidirectional models: dS
holds [forward; backward] halves, each computed in its own reading order; the factors are the forward
direction's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.nn.model import log_softmax
from rnnviz.core.snapshot import frozen_array

FACTOR_BUDGET = 1e8      # T * n^3 above this: the Jacobian norms would take too long for a live view

VALUE_LABELS = {
    "rnn": "pre-activation a\u209c = U x\u209c + W s\u209c\u208b\u2081 + b",
    "lstm": "gates i, f, g, o after \u03c3 / tanh (i, f, o in [0, 1]; g in [-1, 1])",
    "gru": "gates r, z after \u03c3, candidate n after tanh",
}
FACTOR_LABELS = {
    "rnn": "\u2016\u2202s\u209c/\u2202s\u209c\u208b\u2081\u2016\u2082 = \u2016diag(g\u2032(a\u209c)) W\u2016\u2082",
    "lstm": "\u2016\u2202(s\u209c, c\u209c)/\u2202(s\u209c\u208b\u2081, c\u209c\u208b\u2081)\u2016\u2082",
    "gru": "\u2016\u2202s\u209c/\u2202s\u209c\u208b\u2081\u2016\u2082",
}


@dataclass(frozen=True)
class BPTTTrace:
    """The slow-motion record of one probe sequence (original time order, first timestep first).

    dS:       (T, D) dL/ds_t, total (from the output at t and from every later step)
    direct:   (T, D) dL_t/ds_t, from the output at t alone (zero where step t has no target)
    norms:    (T,) ||dS_t||
    dA:       (T, G*d) dL/da_t: gradient w.r.t. the forward direction's pre-activations (gate pre-activations)
    factors:  (T,) one-step Jacobian norm (see the module text); NaN at t = 0 or when not computed
    cut:      (T,) bool, True where truncated BPTT stops the gradient from step t reaching s_{t-1}
    loss:     the sequence's loss against ``targets``
    """

    dS: np.ndarray
    direct: np.ndarray
    norms: np.ndarray
    dA: np.ndarray
    factors: np.ndarray
    cut: np.ndarray
    loss: float
    targets: np.ndarray
    cell: str
    value_label: str
    factor_label: str
    factor_note: str = ""


def _head_grads(model, top: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, float]:
    """dL/d(top states) from the output head for one sequence. top: (T, D). Returns ((T, D), loss)."""
    V, c = np.asarray(model.params["V"], dtype=np.float64), np.asarray(model.params["c"], dtype=np.float64)
    T, D = top.shape
    d = model.d
    direct = np.zeros((T, D))
    if model.task == "classification":
        y = int(targets)
        feat = top[T - 1].copy()
        if len(model.directions) > 1:
            feat[d:] = top[0, d:]
        logp = log_softmax(feat @ V.T + c)                 # (k,)
        g = np.exp(logp)
        g[y] -= 1.0                                        # y - onehot
        dfeat = g @ V                                      # (D,)
        direct[T - 1, :d] = dfeat[:d]
        if len(model.directions) > 1:
            direct[0, d:] = dfeat[d:]
        return direct, float(-logp[y])
    targets = np.asarray(targets)
    logp = log_softmax(top @ V.T + c)                      # (T, k)
    valid = targets != IGNORE
    g = np.exp(logp) * valid[:, None]
    rows = np.flatnonzero(valid)
    g[rows, targets[rows]] -= 1.0
    return g @ V, float(-logp[rows, targets[rows]].sum())


def _backward(cell: str, cache, W: np.ndarray, dS_out: np.ndarray, bptt: int, activation: str):
    """One direction, processing order. dS_out: (T, d) gradient from the output. Returns dS (T, d), dA (T, G*d)."""
    T, d = dS_out.shape
    S = np.asarray(cache.S[:, 0], dtype=np.float64)                        # (T, d)
    A = np.asarray(cache.A[:, 0], dtype=np.float64)
    dS = np.zeros((T, d))
    dA = np.zeros((T, A.shape[1]))
    carry_s, carry_c = np.zeros(d), np.zeros(d)
    for t in range(T - 1, -1, -1):
        ds = dS_out[t] + carry_s
        dS[t] = ds
        go_on = t > 0 and not (bptt > 0 and t % bptt == 0)
        if cell == "rnn":
            gp = _slope(activation, S[t], cache.pre[t, 0])
            da = ds * gp
            carry_s = da @ W if go_on else np.zeros(d)
        elif cell == "lstm":
            i, f, g, o = A[t, :d], A[t, d:2 * d], A[t, 2 * d:3 * d], A[t, 3 * d:]
            tc = np.tanh(np.asarray(cache.C[t, 0], dtype=np.float64))
            c_prev = np.asarray(cache.C[t - 1, 0], dtype=np.float64) if t > 0 else np.zeros(d)
            dc = ds * o * (1.0 - tc ** 2) + carry_c
            da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                                 ds * tc * o * (1 - o)])
            carry_s = da @ W if go_on else np.zeros(d)
            carry_c = dc * f if go_on else np.zeros(d)
        else:  # gru
            r, z, n = A[t, :d], A[t, d:2 * d], A[t, 2 * d:]
            hn = np.asarray(cache.HN[t, 0], dtype=np.float64)
            s_prev = S[t - 1] if t > 0 else np.zeros(d)
            dan = ds * (1 - z) * (1 - n ** 2)
            da = np.concatenate([dan * hn * r * (1 - r), ds * (s_prev - n) * z * (1 - z), dan])
            dh = da.copy()
            dh[2 * d:] = dan * r
            carry_s = (dh @ W + ds * z) if go_on else np.zeros(d)
        dA[t] = da
    return dS, dA


def _slope(activation: str, s_t: np.ndarray, pre_t: np.ndarray) -> np.ndarray:
    """g'(a_t) of the vanilla cell, from s_t = g(a_t): tanh 1 - s^2, sigmoid s(1 - s), relu [a_t > 0]."""
    if activation == "tanh":
        return 1.0 - s_t ** 2
    if activation == "sigmoid":
        return s_t * (1.0 - s_t)
    return (np.asarray(pre_t) > 0).astype(np.float64)


def _jacobians(cell: str, cache, W: np.ndarray, activation: str) -> np.ndarray:
    """(T-1, n, n) one-step Jacobians for t = 1..T-1 (processing order); n = d, or 2d for the LSTM's (s, c)."""
    S = np.asarray(cache.S[:, 0], dtype=np.float64)
    A = np.asarray(cache.A[:, 0], dtype=np.float64)
    T, d = S.shape
    out = []
    for t in range(1, T):
        if cell == "rnn":
            gp = _slope(activation, S[t], cache.pre[t, 0])
            out.append(gp[:, None] * W)
        elif cell == "lstm":
            i, f, g, o = A[t, :d], A[t, d:2 * d], A[t, 2 * d:3 * d], A[t, 3 * d:]
            c_prev = np.asarray(cache.C[t - 1, 0], dtype=np.float64)
            tc = np.tanh(np.asarray(cache.C[t, 0], dtype=np.float64))
            di = (i * (1 - i))[:, None] * W[:d]
            df = (f * (1 - f))[:, None] * W[d:2 * d]
            dg = (1 - g ** 2)[:, None] * W[2 * d:3 * d]
            do = (o * (1 - o))[:, None] * W[3 * d:]
            dc_ds = c_prev[:, None] * df + g[:, None] * di + i[:, None] * dg       # dc_t/ds_{t-1}
            dc_dc = np.diag(f)                                                      # dc_t/dc_{t-1}
            k = o * (1 - tc ** 2)
            ds_ds = tc[:, None] * do + k[:, None] * dc_ds
            ds_dc = np.diag(k * f)
            out.append(np.block([[ds_ds, ds_dc], [dc_ds, dc_dc]]))
        else:
            r, z, n = A[t, :d], A[t, d:2 * d], A[t, 2 * d:]
            hn = np.asarray(cache.HN[t, 0], dtype=np.float64)
            s_prev = S[t - 1]
            dz = (z * (1 - z))[:, None] * W[d:2 * d]
            dr = (r * (1 - r))[:, None] * W[:d]
            dn = (1 - n ** 2)[:, None] * (hn[:, None] * dr + r[:, None] * W[2 * d:])
            out.append(np.diag(z) + (s_prev - n)[:, None] * dz + (1 - z)[:, None] * dn)
    n_state = 2 * d if cell == "lstm" else d
    return np.array(out).reshape(max(T - 1, 0), n_state, n_state)


def trace(model, ids: np.ndarray, targets: np.ndarray, with_factors: bool = True) -> BPTTTrace:
    """The slow-motion BPTT record of one sequence ``ids`` (T,) against ``targets`` (() or (T,), IGNORE allowed)."""
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    cfg = model.cfg
    cell, d = cfg.cell, model.d
    with np.errstate(all="ignore"):
        fw = model.forward(ids[None, :], np.array([T]))
        top = np.asarray(fw.top[:, 0, :], dtype=np.float64)             # (T, D)
        direct, loss = _head_grads(model, top, targets)
        tag = "" if cfg.layers == 1 else str(cfg.layers)
        dS = np.zeros_like(direct)
        dA_fwd = None
        factors = np.full(T, np.nan)
        note = ""
        for k, direction in enumerate(model.directions):
            cache = fw.caches[-1][k].cell
            W = np.asarray(model.params["W" + tag + direction], dtype=np.float64)
            part = direct[:, k * d:(k + 1) * d]
            if direction == "_rev":
                part = part[::-1]                       # B = 1, full length: processing order is reversed time
            dS_k, dA_k = _backward(cell, cache, W, part, cfg.bptt, cfg.activation)
            dS[:, k * d:(k + 1) * d] = dS_k[::-1] if direction == "_rev" else dS_k
            if k == 0:
                dA_fwd = dA_k
                n = 2 * d if cell == "lstm" else d
                if with_factors and T > 1 and T * n ** 3 <= FACTOR_BUDGET:
                    J = _jacobians(cell, cache, W, cfg.activation)
                    factors[1:] = np.linalg.norm(J, ord=2, axis=(1, 2))
                elif with_factors and T > 1:
                    note = f"Jacobian norms not computed live at this size (T \u00d7 n\u00b3 = {T * n ** 3:.2g})"
    cut = np.array([t > 0 and cfg.bptt > 0 and t % cfg.bptt == 0 for t in range(T)])
    norms = np.sqrt((dS ** 2).sum(axis=1))
    return BPTTTrace(dS=frozen_array(dS), direct=frozen_array(direct), norms=frozen_array(norms),
                     dA=frozen_array(dA_fwd), factors=frozen_array(factors), cut=frozen_array(cut), loss=loss,
                     targets=frozen_array(targets), cell=cell, value_label=VALUE_LABELS[cell],
                     factor_label=FACTOR_LABELS[cell], factor_note=note)
