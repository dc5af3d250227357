"""Slow-motion backpropagation through time on one sequence: every number the BPTT panel steps through.

For the probe sequence x_1..x_T (one example, B = 1) of the top layer:

forward  (t = 1..T)    a_t = U x_t + W s_{t-1} + b,   s_t = g(a_t)        (or the LSTM / GRU cell: ``reference``)
backward (t = T..1)    dL/ds_t = dL_t/ds_t  +  (ds_{t+1}/ds_t)^T dL/ds_{t+1}

``direct``  is dL_t/ds_t, the gradient arriving from the output at t alone (V^T (y_t - onehot(target_t)));
``dS``      is the total dL/ds_t (what the gradient-flow panel's ||dL/ds_t|| measures);
``factors`` is the spectral norm ||ds_t/ds_{t-1}||_2 of the one-step Jacobian, the factor by which one step can
            at most stretch the gradient it carries back (vanilla: diag(g'(a_t)) W; GRU: the whole
            ds_t/ds_{t-1}; LSTM: the Jacobian of the full state (s_t, c_t) w.r.t. (s_{t-1}, c_{t-1}), 2d x 2d,
            because the LSTM carries its gradient back through c as well as s).

The forward and backward passes are the textbook ones of ``core.nn.reference`` (one sequence, one step at a
time, in float64), not the model's fast code, so the trace also checks the model: ||dS_t|| equals
``loss_and_grads(...).grad_norms`` and dL/da_t equals the gradient of U's column for a token that occurs once.
Truncated BPTT (``bptt = k``) is followed: the gradient from step t does not reach s_{t-1} when t is a multiple
of k (``cut``). Bidirectional models: dS holds [forward; backward] halves, each computed in its own reading
order; the factors are the forward direction's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.nn import reference
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


def _jacobians(tape: reference.Tape, W: np.ndarray, activation: str) -> np.ndarray:
    """(T-1, n, n) one-step Jacobians for t = 1..T-1 (reading order); n = d, or 2d for the LSTM's (s, c)."""
    T, d = tape.T, W.shape[1]
    out = []
    for t in range(1, T):
        if tape.cell == "rnn":
            (a,) = tape.gates[t]
            out.append(reference.slope(activation, a, tape.ss[t])[:, None] * W)     # diag(g'(a_t)) W
        elif tape.cell == "lstm":
            i, f, g, o = tape.gates[t]
            c_prev, tc = tape.cs[t - 1], np.tanh(tape.cs[t])
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
            r, z, n = tape.gates[t]
            hn, s_prev = tape.hns[t], tape.ss[t - 1]
            dz = (z * (1 - z))[:, None] * W[d:2 * d]
            dr = (r * (1 - r))[:, None] * W[:d]
            dn = (1 - n ** 2)[:, None] * (hn[:, None] * dr + r[:, None] * W[2 * d:])
            out.append(np.diag(z) + (s_prev - n)[:, None] * dz + (1 - z)[:, None] * dn)
    n_state = 2 * d if tape.cell == "lstm" else d
    return np.array(out).reshape(max(T - 1, 0), n_state, n_state)


def trace(model, ids: np.ndarray, targets: np.ndarray, with_factors: bool = True) -> BPTTTrace:
    """The slow-motion BPTT record of one sequence ``ids`` (T,) against ``targets`` (() or (T,), IGNORE allowed)."""
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    cfg = model.cfg
    cell, d, top_layer = cfg.cell, model.d, cfg.layers - 1
    # float64 parameters. Layer 1's U is only read column by column (U x_t = U[:, id]), so it is not converted as
    # a whole: its float32 column turns float64 when added to the float64 rest, exactly as a converted copy would.
    P = {name: (value if name in ("U", "U_rev") else np.asarray(value, dtype=np.float64))
         for name, value in model.params.items()}
    with np.errstate(all="ignore"):
        tapes = reference.example_forward(cfg, P, ids)
        top = reference.layer_states(tapes[-1])                         # (T, D)
        loss, direct, *_ = reference.head(cfg.task, P["V"], P["c"], top, targets, d)
        dS = np.zeros_like(direct)
        dA_fwd = None
        factors = np.full(T, np.nan)
        note = ""
        for k, direction in enumerate(model.directions):
            p = reference.direction_params(P, top_layer, direction)
            tape = tapes[-1][k]
            part = direct[:, k * d:(k + 1) * d]
            if direction == "_rev":
                part = part[::-1]                       # B = 1, full length: reading order is reversed time
            back = reference.backward(cell, cfg.activation, p, tape, list(part), cfg.bptt)
            dS_k = np.array([back.dss[t] for t in range(T)])             # (T, d)
            dS[:, k * d:(k + 1) * d] = dS_k[::-1] if direction == "_rev" else dS_k
            if k == 0:
                dA_fwd = np.array([back.das[t] for t in range(T)])      # (T, G*d)
                n = 2 * d if cell == "lstm" else d
                if with_factors and T > 1 and T * n ** 3 <= FACTOR_BUDGET:
                    factors[1:] = np.linalg.norm(_jacobians(tape, p["W"], cfg.activation), ord=2, axis=(1, 2))
                elif with_factors and T > 1:
                    note = f"Jacobian norms not computed live at this size (T \u00d7 n\u00b3 = {T * n ** 3:.2g})"
    cut = np.array([reference.detached(t, cfg.bptt) for t in range(T)])
    norms = np.sqrt((dS ** 2).sum(axis=1))
    return BPTTTrace(dS=frozen_array(dS), direct=frozen_array(direct), norms=frozen_array(norms),
                     dA=frozen_array(dA_fwd), factors=frozen_array(factors), cut=frozen_array(cut), loss=float(loss),
                     targets=frozen_array(targets), cell=cell, value_label=VALUE_LABELS[cell],
                     factor_label=FACTOR_LABELS[cell], factor_note=note)
