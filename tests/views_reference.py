"""Textbook loops for the views' checks, written out here on their own (no rnnviz maths): one example at a time, a
one-hot x_t, float64, and a perturbation that can be added to any state s_t (or LSTM cell state c_t) mid-sequence,
so that every derivative the views show can be checked by central finite differences.

    vanilla  s_t = g(U x_t + W s_{t-1} + b)
    LSTM     [a_i, a_f, a_g, a_o] = U x_t + W s_{t-1} + b;  c_t = f c_{t-1} + i g;  s_t = o tanh(c_t)
    GRU      r, z = sigma(U_rz x_t + b_rz + W_rz s_{t-1});  n = tanh(U_n x_t + b_n + r (W_n s_{t-1} + b_hn))
             s_t = (1 - z) n + z s_{t-1}
    output   y_t = softmax(V s_t + c)
"""
from __future__ import annotations

import numpy as np

EPS = 1e-6


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def params_of(model) -> dict:
    """The model's parameters as float64 copies in the textbook's shapes."""
    return {name: np.array(model.get(name), dtype=np.float64) for name in model.param_names}


def forward(P: dict, cell: str, activation: str, ids, bump=None) -> dict:
    """One sequence. ``bump``: (kind, t, unit, amount) adds ``amount`` to s_t[unit] (kind "s") or c_t[unit] ("c")
    right after step t is computed. Returns states (T, d), cells (T, d), gates {name: (T, d)}, pre (T, G*d),
    probs (T, k)."""
    U, W, b, V, c = P["U"], P["W"], P["b"], P["V"], P["c"]
    d = W.shape[1]
    n = U.shape[1]
    s, cst = np.zeros(d), np.zeros(d)
    S, C, PRE, Y = [], [], [], []
    gates: dict = {}
    for t, tok in enumerate(ids):
        x = np.eye(n)[tok]
        if cell == "rnn":
            a = U @ x + W @ s + b
            s = {"tanh": np.tanh, "sigmoid": sig, "relu": lambda v: np.maximum(v, 0)}[activation](a)
            PRE.append(a)
        elif cell == "lstm":
            a = U @ x + W @ s + b
            i, f, g, o = sig(a[:d]), sig(a[d:2 * d]), np.tanh(a[2 * d:3 * d]), sig(a[3 * d:])
            cst = f * cst + i * g
            for name, v in zip("ifgo", (i, f, g, o)):
                gates.setdefault(name, []).append(v)
            if bump is not None and bump[0] == "c" and bump[1] == t:
                cst = cst.copy()
                cst[bump[2]] += bump[3]
            s = o * np.tanh(cst)
            PRE.append(a)
        else:
            xr = U @ x + b
            h = W @ s
            r = sig(xr[:d] + h[:d])
            z = sig(xr[d:2 * d] + h[d:2 * d])
            nn = np.tanh(xr[2 * d:] + r * (h[2 * d:] + P["b_hn"]))
            s = (1 - z) * nn + z * s
            for name, v in zip("rzn", (r, z, nn)):
                gates.setdefault(name, []).append(v)
            PRE.append(np.concatenate([xr[:2 * d] + h[:2 * d], xr[2 * d:] + r * (h[2 * d:] + P["b_hn"])]))
        if bump is not None and bump[0] == "s" and bump[1] == t:
            s = s.copy()
            s[bump[2]] += bump[3]
        logits = V @ s + c
        y = np.exp(logits - logits.max())
        Y.append(y / y.sum())
        S.append(s)
        C.append(cst)
    out = {"states": np.array(S), "cells": np.array(C), "pre": np.array(PRE), "probs": np.array(Y),
           "gates": {k: np.array(v) for k, v in gates.items()}}
    if cell == "lstm":
        out["gates"]["c"] = out["cells"]
    return out


def step_losses(P, cell, activation, ids, targets, task, bump=None) -> np.ndarray:
    """(T,) -log y_t[target_t] of one sequence (0 where IGNORE / negative); classification: only the last step."""
    Y = forward(P, cell, activation, ids, bump)["probs"]
    T = len(ids)
    out = np.zeros(T)
    if task == "classification":
        out[T - 1] = -np.log(Y[T - 1, int(targets)])
        return out
    for t in range(T):
        if targets[t] >= 0:
            out[t] = -np.log(Y[t, targets[t]])
    return out


def fd_grad(P, cell, activation, ids, targets, task, kind="s") -> np.ndarray:
    """(T', T, d) central differences d L_t' / d s_t[k] (kind "s") or d L_t' / d c_t[k] (kind "c") of one sequence:
    every loss t' against every state t and unit k."""
    T = len(ids)
    d = P["W"].shape[1]
    out = np.zeros((T, T, d))
    for t in range(T):
        for k in range(d):
            up = step_losses(P, cell, activation, ids, targets, task, (kind, t, k, EPS))
            down = step_losses(P, cell, activation, ids, targets, task, (kind, t, k, -EPS))
            out[:, t, k] = (up - down) / (2 * EPS)
    return out
