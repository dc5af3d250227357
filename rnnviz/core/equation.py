"""The equation of one hidden unit at one step, with the probe's real numbers: what the equation view writes.

Vanilla RNN:  s_t[j] = g(a),  a = U[j, x_t] + sum_k W[j, k] s_{t-1}[k] + b[j]
LSTM:         a_q = U_q[j, x_t] + sum_k W_q[j, k] s_{t-1}[k] + b_q[j] for each gate q in i, f, g, o;
              i, f, o = sigma(a), g = tanh(a_g);  c_t[j] = f c_{t-1}[j] + i g;  s_t[j] = o tanh(c_t[j])
GRU:          r = sigma(U_r x + b_r + W_r s_{t-1}), z likewise, n = tanh(U_n x + b_n + r (W_n s_{t-1} + b_hn)),
              s_t[j] = (1 - z) n + z s_{t-1}[j]
Output:       y_t = softmax(V s_t + c)  (classification: read at the last step only)

U_q, W_q, b_q are the rows q*d .. (q+1)*d - 1 of U, W, b (gate order as in ``config.GATES``). Every number comes
from a ``snapshot.Probe`` (its states, gates, per-unit gradients and its ``params``); ``unit_equation`` computes the
sums in float64 and ``lines`` writes them as the view shows them. Qt-free: the panel only lays the lines out.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import numpy as np

from rnnviz.core.config import GATES

TOP_TERMS = 4          # the largest terms of a sum over k shown one by one; the rest are added up
TOP_CLASSES = 6        # output classes shown one by one (in class order when all fit, else the most probable)
VECTOR_MAX = 8         # models with at most this many units per direction also get the whole vectors a_t, s_t
ACTS = {"s": "tanh", "i": "\u03c3", "f": "\u03c3", "g": "tanh", "o": "\u03c3", "r": "\u03c3", "z": "\u03c3",
        "n": "tanh"}


def sub(text: str | int) -> str:
    """``text`` as a subscript (the lines are HTML: the view shows them as rich text)."""
    return f"<sub>{text}</sub>"


def plain(line: str) -> str:
    """A line without its markup (subscripts written inline), as tests and copies read it."""
    return html.unescape(re.sub(r"</?sub>", "", line))


@dataclass(frozen=True)
class Sum:
    """One pre-activation a = inp + bias + scale * (sum_k W[row, k] s_{t-1}[k] + inner), and act(a).

    ``terms`` are the TOP_TERMS largest |W[row, k] s_{t-1}[k]| as (k, W[row, k], s_{t-1}[k]); ``rest`` is the sum of
    the ``n_rest`` others. ``scale`` and ``inner`` are 1 and 0 except for the GRU candidate n (r and b_hn)."""

    gate: str
    row: int
    inp: float
    terms: tuple[tuple[int, float, float], ...]
    rest: float
    n_rest: int
    recurrent: float
    bias: float
    scale: float
    inner: float
    total: float
    act: str
    value: float


@dataclass(frozen=True)
class UnitEquation:
    """Everything the view writes for unit ``j`` at step ``t`` (0-based) of the probe."""

    cell: str
    t: int
    j: int
    token: str
    activation: str
    sums: tuple[Sum, ...]
    c_prev: float                     # LSTM: c_{t-1}[j]; else NaN
    c: float                          # LSTM: c_t[j]; else NaN
    s_prev: float                     # s_{t-1}[j]
    s: float                          # s_t[j] as computed here
    classes: tuple[tuple[str, float, float], ...]   # (class, logit, probability), most probable first
    other_classes: tuple[int, float]  # (how many more, their total probability)
    output_note: str
    grad: float                       # dL/ds_t[j] of the probe's own loss (NaN when none)
    a_vec: tuple[float, ...] = ()     # vanilla RNN with d <= VECTOR_MAX: the whole pre-activation a_t
    s_vec: tuple[float, ...] = ()     # d <= VECTOR_MAX: the whole state s_t (forward direction), as computed here


def _act(name: str, x: float) -> float:
    if name == "\u03c3":
        return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    if name == "relu":
        return max(x, 0.0)
    if name == "sigmoid":
        return _act("\u03c3", x)
    return math.tanh(x)


def _sum(gate: str, row: int, inp: float, w: np.ndarray, s_prev: np.ndarray, bias: float, act: str,
         scale: float = 1.0, inner: float = 0.0) -> Sum:
    prods = w * s_prev                                              # (d,)
    order = np.argsort(-np.abs(prods), kind="stable")
    shown = order[:TOP_TERMS]
    others = order[TOP_TERMS:]
    recurrent = float(prods.sum())
    total = inp + bias + scale * (recurrent + inner)
    return Sum(gate=gate, row=row, inp=float(inp), terms=tuple((int(k), float(w[k]), float(s_prev[k])) for k in shown),
               rest=float(prods[others].sum()), n_rest=int(len(others)), recurrent=recurrent, bias=float(bias),
               scale=float(scale), inner=float(inner), total=float(total), act=act, value=_act(act, total))


def unit_equation(probe, cell: str, activation: str, task: str, classes, t: int, j: int) -> UnitEquation:
    """The equation of unit ``j`` (forward direction: 0 <= j < d) at step ``t`` of ``probe`` (needs
    ``probe.params``; ValueError when it has none or t, j are outside the probe)."""
    p = probe.params
    if not p:
        raise ValueError(probe.params_note or "the probe carries no parameters")
    states = np.asarray(probe.states, dtype=np.float64)                  # (T, D)
    T = states.shape[0]
    G = len(GATES[cell])
    d = p["W"].shape[1]
    if not (0 <= t < T and 0 <= j < d):
        raise ValueError(f"step {t + 1} / unit {j} is outside the probe ({T} steps, {d} units per direction)")
    s_prev = states[t - 1, :d] if t > 0 else np.zeros(d)
    Ux, W, b = p["Ux"][t], p["W"], p["b"]
    rows = {q: k * d + j for k, q in enumerate(GATES[cell])}
    sums: list[Sum] = []
    c_prev = c = float("nan")
    if cell == "rnn":
        act = {"tanh": "tanh", "sigmoid": "\u03c3", "relu": "relu"}[activation]
        sums.append(_sum("s", j, Ux[j], W[j], s_prev, b[j], act))
        s = sums[0].value
    elif cell == "lstm":
        for q in ("i", "f", "g", "o"):
            r = rows[q]
            sums.append(_sum(q, r, Ux[r], W[r], s_prev, b[r], ACTS[q]))
        i, f, g, o = (x.value for x in sums)
        c_prev = float(probe.gates["c"][t - 1, j]) if t > 0 else 0.0
        c = f * c_prev + i * g
        s = o * math.tanh(c)
    else:
        for q in ("r", "z"):
            r = rows[q]
            sums.append(_sum(q, r, Ux[r], W[r], s_prev, b[r], ACTS[q]))
        rn = rows["n"]
        sums.append(_sum("n", rn, Ux[rn], W[rn], s_prev, b[rn], "tanh", scale=sums[0].value,
                         inner=float(p["b_hn"][j])))
        z, n = sums[1].value, sums[2].value
        s = (1 - z) * n + z * float(s_prev[j])
    # the output
    V, cb = p["V"], p["c"]
    note = ""
    if task == "classification" and t != T - 1:
        shown_classes, others = (), (0, 0.0)
        note = f"classification reads y only at the last step (t = {T}): click a cell of the last column"
    else:
        feat = states[t].copy()
        if task == "classification" and feat.size > d:       # bidirectional: the backward half's final state
            feat[d:] = states[0, d:]
        logits = V @ feat + cb                                   # (k,)
        z_ = logits - logits.max()
        probs = np.exp(z_) / np.exp(z_).sum()
        order = np.argsort(-probs, kind="stable") if len(probs) > TOP_CLASSES else np.arange(len(probs))
        top = order[:TOP_CLASSES]
        shown_classes = tuple((str(classes[k]) if k < len(classes) else str(k), float(logits[k]), float(probs[k]))
                              for k in top)
        others = (int(len(order) - len(top)), float(probs[order[TOP_CLASSES:]].sum()))
    grads = np.asarray(probe.state_grads, dtype=np.float64)
    grad = float(grads[t, j]) if grads.ndim == 2 and grads.shape[0] > t and grads.shape[1] > j else float("nan")
    token = probe.tokens[t] if t < len(probe.tokens) else "?"
    a_vec = s_vec = ()
    if d <= VECTOR_MAX:
        if cell == "rnn":
            a = Ux[:d] + W @ s_prev + b[:d]
            a_vec = tuple(float(x) for x in a)
            s_vec = tuple(_act(sums[0].act, float(x)) for x in a)
        else:
            s_vec = tuple(float(x) for x in states[t, :d])
    return UnitEquation(cell=cell, t=t, j=j, token=str(token), activation=activation, sums=tuple(sums),
                        c_prev=c_prev, c=c, s_prev=float(s_prev[j]), s=float(s), classes=shown_classes,
                        other_classes=others, output_note=note, grad=grad, a_vec=a_vec, s_vec=s_vec)


def num(x: float, decimals: int) -> str:
    """A number as the view writes it: fixed decimals, a real minus sign."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("\u221e" if x > 0 else "\u2212\u221e")
    text = f"{x:.{decimals}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]                                   # no "-0.000"
    return text.replace("-", "\u2212")


def _signed(x: float, decimals: int) -> str:
    text = num(x, decimals)
    return f"\u2212 {text[1:]}" if text.startswith("\u2212") else f"+ {text}"


def visible(token: str) -> str:
    """A token or class name as the view writes it: spaces, newlines and tabs made visible, HTML escaped."""
    text = token.replace(" ", "\u2423").replace("\n", "\u21b5").replace("\t", "\u21e5") if token else "\u2205"
    return html.escape(text)


def _paren(x: float, decimals: int) -> str:
    text = num(x, decimals)
    return f"({text})" if text.startswith("\u2212") else text


def lines(eq: UnitEquation, decimals: int = 3) -> list[tuple[str, str]]:
    """(kind, HTML text) lines of the view: kind "head" (where), "eq" (an equation), "value" (a result), "note".
    Tokens and class names are escaped; subscripts are <sub> (``plain`` takes them out)."""
    t1, j, n = eq.t + 1, eq.j, lambda x: num(x, decimals)
    prev = sub(t1 - 1)
    token = visible(eq.token)
    out: list[tuple[str, str]] = [("head", f"t = {t1} (\u201c{token}\u201d), unit j = {j}")]
    for sm in eq.sums:
        q = "" if sm.gate == "s" else sub(sm.gate)
        name = "a" if sm.gate == "s" else f"a{q}"
        inner = f" + b{sub('hn')}[{j}]" if sm.inner or sm.scale != 1.0 else ""
        rec = f"\u03a3{sub('k')} W{q}[{j},k] s{prev}[k]{inner}"
        if sm.scale != 1.0 or sm.gate == "n":
            rec = f"r \u00b7 ({rec})"
        out.append(("eq", f"{name} = U{q}[{j}, \u201c{token}\u201d] + {rec} + b{q}[{j}]"))
        terms = " + ".join(f"{_paren(w, decimals)}\u00b7{_paren(s, decimals)}" for k, w, s in sm.terms)
        if sm.n_rest:
            terms += f" {_signed(sm.rest, decimals)} (the other {sm.n_rest})"
        group = f"[{terms}]" if eq.t > 0 else f"[s{sub(0)} = 0]"
        if sm.gate == "n":
            group = f"{n(sm.scale)} \u00b7 ({group} {_signed(sm.inner, decimals)})"
        out.append(("eq", f"   = {n(sm.inp)} + {group} {_signed(sm.bias, decimals)} = {n(sm.total)}"))
        target = f"s{sub(t1)}[{j}]" if sm.gate == "s" else f"{sm.gate}{sub(t1)}[{j}]"
        out.append(("value", f"{target} = {sm.act}({n(sm.total)}) = {n(sm.value)}"))
    if eq.cell == "lstm":
        i, f, g, o = (s.value for s in eq.sums)
        out.append(("eq", f"c{sub(t1)}[{j}] = f \u00b7 c{prev}[{j}] + i \u00b7 g = {n(f)}\u00b7{_paren(eq.c_prev, decimals)}"
                          f" + {n(i)}\u00b7{_paren(g, decimals)}"))
        out.append(("value", f"c{sub(t1)}[{j}] = {n(eq.c)}"))
        out.append(("value", f"s{sub(t1)}[{j}] = o \u00b7 tanh(c{sub(t1)}[{j}]) = {n(o)}\u00b7tanh({n(eq.c)}) = "
                             f"{n(eq.s)}"))
    elif eq.cell == "gru":
        z, nn = eq.sums[1].value, eq.sums[2].value
        out.append(("value", f"s{sub(t1)}[{j}] = (1 \u2212 z) n + z s{prev}[{j}] = {n(1 - z)}\u00b7{n(nn)} + "
                             f"{n(z)}\u00b7{n(eq.s_prev)} = {n(eq.s)}"))
    vec = lambda v: "[" + ", ".join(n(x) for x in v) + "]"      # noqa: E731
    if eq.a_vec:
        out.append(("value", f"a{sub(t1)} = {vec(eq.a_vec)}"))
        out.append(("value", f"s{sub(t1)} = {eq.sums[0].act}(a{sub(t1)}) = {vec(eq.s_vec)}"))
    elif eq.s_vec:
        out.append(("value", f"s{sub(t1)} = {vec(eq.s_vec)}"))
    if eq.output_note:
        out.append(("note", eq.output_note))
    else:
        out.append(("eq", f"y{sub(t1)} = softmax(V s{sub(t1)} + c):"))
        cells = "  ".join(f"{visible(name)}: {n(p)}" for name, _, p in eq.classes)
        if eq.other_classes[0]:
            cells += f"   (the other {eq.other_classes[0]}: {n(eq.other_classes[1])})"
        out.append(("value", f"y{sub(t1)} = {cells}"))
        out.append(("note", "logits V s + c: " + "  ".join(f"{visible(name)}: {n(z)}"
                                                              for name, z, _ in eq.classes)))
    if math.isfinite(eq.grad):
        out.append(("value", f"\u2202L/\u2202s{sub(t1)}[{j}] = {num(eq.grad, max(decimals, 4))}"
                             "   (of this probe's own loss)"))
    return out
