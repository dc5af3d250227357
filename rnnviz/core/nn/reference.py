"""The textbook forward and backward passes, written to be read first, next to the lecture.

One example at a time and one timestep at a time, in the shape of Karpathy's min-char-rnn: the forward loop
``for t in range(T)`` keeps per-step caches (``xs``, ``ss``, the gates, ``ys``), the backward loop
``for t in reversed(range(T))`` carries ``ds_next``, the gradient dL/ds_t arriving from step t+1. ``cells.py``
computes the same equations fast (whole batches, BLAS, reused buffers); the tests hold the two equal to float64
round-off. This file is slow on purpose: plain NumPy on vectors, nothing clever.

One layer, one direction; x_t the input at step t (a token id, i.e. the one-hot vector e_x, or the states of the
layer below), s_t the hidden state (d), s_{-1} = 0 and, for the LSTM, c_{-1} = 0:

  vanilla RNN   a_t = U x_t + W s_{t-1} + b,   s_t = g(a_t),   g = tanh, sigmoid or relu
  LSTM          [a_i; a_f; a_g; a_o] = U x_t + W s_{t-1} + b          gate order i, f, g, o (d rows each)
                i = sigma(a_i),  f = sigma(a_f),  g = tanh(a_g),  o = sigma(a_o)
                c_t = f * c_{t-1} + i * g,    s_t = o * tanh(c_t)
  GRU           [a_r; a_z; a_n] = U x_t + b,   [h_r; h_z; h_n] = W s_{t-1}  gate order r, z, n
                r = sigma(a_r + h_r),  z = sigma(a_z + h_z)
                n = tanh(a_n + r * (h_n + b_hn))                          (PyTorch's formulation)
                s_t = (1 - z) * n + z * s_{t-1}
  output        y_t = softmax(V s_t + c)
  loss          L = (1/B) sum over examples of sum_t -log y_t[target_t]

``*`` is the element-wise product. Tasks: classification has one target, read at each sequence's true last step;
labelling has a tag at every step; generation predicts the next token at every step. Targets equal to IGNORE
count for nothing. Padding is masked by construction: each example is read over its true length only.

Layers and directions are composed from the one-direction passes: layer l+1 reads the states of layer l as its
x_t, and a backward direction is the same cell reading the sequence from its end; a bidirectional layer's state
is [forward s_t; backward s_t] (D = 2d). Parameters are named as in the model: ``U W b (b_hn)`` of layer 1,
``U2 W2 b2`` of layer 2, ``U_rev W_rev b_rev`` of the backward direction, then ``V c``.

Truncated BPTT with length k: the state is detached every k steps, so the gradient from step t does not reach
s_{t-1} (nor c_{t-1}) when t is a multiple of k, counting steps in the direction's reading order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.config import GATES          # the gate blocks of U, W and b, in their stacking order
from rnnviz.core.data.batch import IGNORE


# ------------------------------------------------------------------------------------------- small pieces
def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + e^-a)."""
    return 1.0 / (1.0 + np.exp(-a))


ACTIVATIONS = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda a: np.maximum(a, 0.0)}


def slope(activation: str, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """g'(a_t) of the vanilla cell, written with s_t = g(a_t): tanh' = 1 - s^2, sigma' = s (1 - s), relu' = [a > 0]."""
    if activation == "tanh":
        return 1.0 - s ** 2
    if activation == "sigmoid":
        return s * (1.0 - s)
    return (a > 0).astype(float)


def times_x(U: np.ndarray, x) -> np.ndarray:
    """U x_t. A token id x stands for the one-hot vector e_x, and U e_x is the column U[:, x]."""
    return U[:, x] if isinstance(x, (int, np.integer)) else U @ x


def detached(t: int, bptt: int) -> bool:
    """Truncated BPTT: True when s_{t-1} was detached before step t, so no gradient flows from step t into it."""
    return bptt > 0 and t > 0 and t % bptt == 0


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) = z - log sum exp(z), with the maximum taken out first so exp cannot overflow."""
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


@dataclass
class Tape:
    """The per-step caches one direction of one layer keeps from its forward pass over one sequence.

    Index t counts steps in this direction's reading order; ``ss[-1]`` is s_{-1} = 0 (``cs[-1]`` is c_{-1} = 0)."""

    cell: str
    xs: list                  # x_t: a token id, or the (D_in,) states of the layer below
    ss: dict                  # s_t (d,)
    gates: dict               # vanilla (a_t,); LSTM (i, f, g, o); GRU (r, z, n); each (d,)
    cs: dict | None = None    # LSTM: c_t (d,)
    hns: dict | None = None   # GRU: h_n + b_hn = W_n s_{t-1} + b_hn (d,)

    @property
    def T(self) -> int:
        return len(self.xs)


@dataclass
class Backward:
    """What one direction's backward loop finds at each step t (reading order)."""

    dss: dict                 # dL/ds_t, total: from the output at t and from every later step (d,)
    das: dict                 # dL/d(U x_t + b) (G*d,): for the vanilla cell and the LSTM this is dL/da_t
    dhs: dict                 # dL/d(W s_{t-1}) (G*d,): equal to das except in the GRU's n block (r * da_n)


# ------------------------------------------------------------------------------------------ forward passes
def rnn_forward(p: dict, xs: list, activation: str) -> Tape:
    """Vanilla RNN over one sequence: a_t = U x_t + W s_{t-1} + b,  s_t = g(a_t),  s_{-1} = 0."""
    U, W, b = p["U"], p["W"], p["b"]
    g = ACTIVATIONS[activation]
    ss, gates = {-1: np.zeros(W.shape[1])}, {}
    for t in range(len(xs)):
        a = times_x(U, xs[t]) + W @ ss[t - 1] + b               # (d,)
        ss[t] = g(a)                                             # (d,)
        gates[t] = (a,)
    return Tape("rnn", xs, ss, gates)


def lstm_forward(p: dict, xs: list) -> Tape:
    """LSTM over one sequence (gate order i, f, g, o):
        [a_i; a_f; a_g; a_o] = U x_t + W s_{t-1} + b
        c_t = f * c_{t-1} + i * g,   s_t = o * tanh(c_t),   s_{-1} = c_{-1} = 0."""
    U, W, b = p["U"], p["W"], p["b"]
    d = W.shape[1]
    ss, cs, gates = {-1: np.zeros(d)}, {-1: np.zeros(d)}, {}
    for t in range(len(xs)):
        a_i, a_f, a_g, a_o = np.split(times_x(U, xs[t]) + W @ ss[t - 1] + b, 4)   # (d,) each
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        cs[t] = f * cs[t - 1] + i * g                                             # (d,)
        ss[t] = o * np.tanh(cs[t])                                                # (d,)
        gates[t] = (i, f, g, o)
    return Tape("lstm", xs, ss, gates, cs=cs)


def gru_forward(p: dict, xs: list) -> Tape:
    """GRU over one sequence (gate order r, z, n; PyTorch's formulation):
        [a_r; a_z; a_n] = U x_t + b,   [h_r; h_z; h_n] = W s_{t-1}
        r = sigma(a_r + h_r),  z = sigma(a_z + h_z),  n = tanh(a_n + r * (h_n + b_hn))
        s_t = (1 - z) * n + z * s_{t-1},   s_{-1} = 0."""
    U, W, b, b_hn = p["U"], p["W"], p["b"], p["b_hn"]
    ss, gates, hns = {-1: np.zeros(W.shape[1])}, {}, {}
    for t in range(len(xs)):
        a_r, a_z, a_n = np.split(times_x(U, xs[t]) + b, 3)     # input side (d,) each
        h_r, h_z, h_n = np.split(W @ ss[t - 1], 3)               # recurrent side (d,) each
        r = sigmoid(a_r + h_r)
        z = sigmoid(a_z + h_z)
        hns[t] = h_n + b_hn
        n = np.tanh(a_n + r * hns[t])
        ss[t] = (1.0 - z) * n + z * ss[t - 1]                    # (d,)
        gates[t] = (r, z, n)
    return Tape("gru", xs, ss, gates, hns=hns)


def forward(cell: str, activation: str, p: dict, xs: list) -> Tape:
    """One direction of one layer over the inputs ``xs`` (in its reading order)."""
    if cell == "rnn":
        return rnn_forward(p, xs, activation)
    if cell == "lstm":
        return lstm_forward(p, xs)
    return gru_forward(p, xs)


# ----------------------------------------------------------------------------------------- backward passes
def rnn_backward(p: dict, tape: Tape, dys: list, activation: str, bptt: int = 0) -> Backward:
    """BPTT through the vanilla cell. ``dys[t]`` (d,) is dL/ds_t from the output at step t alone.
        dL/ds_t = dys[t] + ds_next,     ds_next = W^T dL/da_{t+1}   (0 across a truncation boundary)
        dL/da_t = dL/ds_t * g'(a_t)"""
    W = p["W"]
    d = W.shape[1]
    dss, das = {}, {}
    ds_next = np.zeros(d)                   # dL/ds_t through s_{t+1}: nothing after the last step
    for t in reversed(range(tape.T)):
        ds = dys[t] + ds_next                                    # (d,) total dL/ds_t
        (a,) = tape.gates[t]
        da = ds * slope(activation, a, tape.ss[t])               # (d,)
        ds_next = np.zeros(d) if detached(t, bptt) else W.T @ da  # dL/ds_{t-1} through step t
        dss[t], das[t] = ds, da
    return Backward(dss=dss, das=das, dhs=das)


def lstm_backward(p: dict, tape: Tape, dys: list, bptt: int = 0) -> Backward:
    """BPTT through the LSTM, carrying dL/ds and dL/dc back. ``dys[t]`` (d,): dL/ds_t from the output at t.
        dL/ds_t = dys[t] + ds_next,                    ds_next = W^T dL/da_{t+1}
        dL/dc_t = dL/ds_t * o (1 - tanh(c_t)^2) + dc_next,   dc_next = dL/dc_{t+1} * f_{t+1}
        da_i = dc * g * i (1 - i),   da_f = dc * c_{t-1} * f (1 - f),   da_g = dc * i * (1 - g^2),
        da_o = ds * tanh(c_t) * o (1 - o)
    Across a truncation boundary both carries are 0: s_{t-1} and c_{t-1} are detached together."""
    W = p["W"]
    d = W.shape[1]
    dss, das = {}, {}
    ds_next, dc_next = np.zeros(d), np.zeros(d)
    for t in reversed(range(tape.T)):
        i, f, g, o = tape.gates[t]
        tanh_c = np.tanh(tape.cs[t])
        ds = dys[t] + ds_next                                    # (d,) total dL/ds_t
        do = ds * tanh_c                                         # s_t = o * tanh(c_t)
        dc = ds * o * (1.0 - tanh_c ** 2) + dc_next              # (d,) total dL/dc_t
        di, df, dg = dc * g, dc * tape.cs[t - 1], dc * i         # c_t = f * c_{t-1} + i * g
        da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g ** 2), do * o * (1.0 - o)])
        if detached(t, bptt):
            ds_next, dc_next = np.zeros(d), np.zeros(d)
        else:
            ds_next, dc_next = W.T @ da, dc * f                  # dL/ds_{t-1}, dL/dc_{t-1} through step t
        dss[t], das[t] = ds, da
    return Backward(dss=dss, das=das, dhs=das)


def gru_backward(p: dict, tape: Tape, dys: list, bptt: int = 0) -> Backward:
    """BPTT through the GRU. ``dys[t]`` (d,): dL/ds_t from the output at t alone. With hn = h_n + b_hn:
        dL/ds_t = dys[t] + ds_next
        da_n = dL/ds_t * (1 - z) * (1 - n^2)          da_z = dL/ds_t * (s_{t-1} - n) * z (1 - z)
        da_r = da_n * hn * r (1 - r)                  dhn = da_n * r   (dL/d(W_n s_{t-1} + b_hn))
        ds_next = W^T [da_r; da_z; dhn] + dL/ds_t * z  (through W s_{t-1}, and directly through z * s_{t-1})"""
    W = p["W"]
    d = W.shape[1]
    dss, das, dhs = {}, {}, {}
    ds_next = np.zeros(d)
    for t in reversed(range(tape.T)):
        r, z, n = tape.gates[t]
        hn, s_prev = tape.hns[t], tape.ss[t - 1]
        ds = dys[t] + ds_next                                    # (d,) total dL/ds_t
        dn, dz = ds * (1.0 - z), ds * (s_prev - n)               # s_t = (1 - z) * n + z * s_{t-1}
        da_n = dn * (1.0 - n ** 2)                               # n = tanh(a_n + r * hn)
        da_r = da_n * hn * r * (1.0 - r)
        da_z = dz * z * (1.0 - z)
        dhn = da_n * r
        das[t] = np.concatenate([da_r, da_z, da_n])              # (3d,)
        dhs[t] = np.concatenate([da_r, da_z, dhn])               # (3d,)
        ds_next = np.zeros(d) if detached(t, bptt) else W.T @ dhs[t] + ds * z
        dss[t] = ds
    return Backward(dss=dss, das=das, dhs=dhs)


def backward(cell: str, activation: str, p: dict, tape: Tape, dys: list, bptt: int = 0) -> Backward:
    """BPTT through one direction of one layer; ``dys[t]`` is dL/ds_t from above (output or next layer) alone."""
    if cell == "rnn":
        return rnn_backward(p, tape, dys, activation, bptt)
    if cell == "lstm":
        return lstm_backward(p, tape, dys, bptt)
    return gru_backward(p, tape, dys, bptt)


def parameter_gradients(p: dict, tape: Tape, back: Backward) -> dict:
    """Each parameter's gradient is a sum over the steps of what the backward loop found:
        dU = sum_t da_t x_t^T      (for a token id x_t: da_t added to column x_t)
        db = sum_t da_t,   dW = sum_t dh_t s_{t-1}^T,   GRU: db_hn = sum_t dhn_t (the n block of dh_t)."""
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    d = p["W"].shape[1]
    for t in range(tape.T):
        x = tape.xs[t]
        if isinstance(x, (int, np.integer)):
            grads["U"][:, x] += back.das[t]
        else:
            grads["U"] += np.outer(back.das[t], x)
        grads["b"] += back.das[t]
        grads["W"] += np.outer(back.dhs[t], tape.ss[t - 1])
        if "b_hn" in grads:
            grads["b_hn"] += back.dhs[t][2 * d:]
    return grads


# ------------------------------------------------------------------------------------------ the output head
def head(task: str, V: np.ndarray, c: np.ndarray, top: np.ndarray, target, d: int):
    """The output y = softmax(V s + c) and the cross-entropy of one example, with dL/ds from the output alone.

    top: (T, D) the top layer's states in time order (D = d, or 2d as [forward; backward]). Classification reads
    the feature [forward s_{T-1}; backward s_0] (each direction's final state); the other tasks read every s_t.
    Returns (loss, dys (T, D), dV, dc, ys): dL/dz = y - e_target for the logits z = V s + c, so
    dL/ds = V^T (y - e_target), dV = (y - e_target) s^T, dc = y - e_target; ys is (k,) or (T, k)."""
    T, D = top.shape
    dys, dV, dc = np.zeros((T, D)), np.zeros_like(V), np.zeros_like(c)
    if task == "classification":
        feature = top[T - 1].copy()                              # (D,)
        feature[d:] = top[0, d:]                                 # bidirectional: the backward one ends at t = 0
        logp = log_softmax(V @ feature + c)                      # (k,)
        dz = np.exp(logp)
        dz[int(target)] -= 1.0                                   # y - e_target
        dfeature = V.T @ dz                                      # (D,)
        dys[T - 1, :d] = dfeature[:d]
        dys[0, d:] = dfeature[d:]
        return -logp[int(target)], dys, np.outer(dz, feature), dz, np.exp(logp)
    loss, ys = 0.0, np.zeros((T, len(c)))
    for t in range(T):
        logp = log_softmax(V @ top[t] + c)                       # (k,)
        ys[t] = np.exp(logp)
        if target[t] == IGNORE:
            continue
        loss -= logp[target[t]]
        dz = ys[t].copy()
        dz[target[t]] -= 1.0
        dys[t] = V.T @ dz
        dV += np.outer(dz, top[t])
        dc += dz
    return loss, dys, dV, dc, ys


# -------------------------------------------------------------------------- layers and directions composed
def directions(bidirectional: bool) -> tuple[str, ...]:
    return ("", "_rev") if bidirectional else ("",)


def direction_params(P: dict, layer: int, direction: str) -> dict:
    """The parameters of one direction of one layer (0-based), under their short names U, W, b (, b_hn)."""
    suffix = ("" if layer == 0 else str(layer + 1)) + direction
    return {name: P[name + suffix] for name in ("U", "W", "b", "b_hn") if name + suffix in P}


def layer_states(tapes: list[Tape]) -> np.ndarray:
    """(T, D) the states of one layer in time order: [forward s_t; backward s_t] (the backward tape reversed)."""
    T = tapes[0].T
    parts = [np.array([tape.ss[t] for t in range(T)]) for tape in tapes]
    if len(parts) > 1:
        parts[1] = parts[1][::-1]
    return np.concatenate(parts, axis=1)


def example_forward(cfg, P: dict, ids) -> list[list[Tape]]:
    """Every layer and direction over one sequence of token ids (its true length): tapes[layer][direction]."""
    xs = [int(i) for i in ids]
    tapes = []
    for layer in range(cfg.layers):
        layer_tapes = []
        for direction in directions(cfg.bidirectional):
            reading = xs if direction == "" else xs[::-1]
            layer_tapes.append(forward(cfg.cell, cfg.activation, direction_params(P, layer, direction), reading))
        tapes.append(layer_tapes)
        xs = list(layer_states(layer_tapes))                     # x_t of the next layer: (D,) vectors
    return tapes


def example_backward(cfg, P: dict, tapes: list[list[Tape]], dtop: np.ndarray, grads: dict) -> list[np.ndarray]:
    """BPTT from dL/d(top states) (T, D) down through every layer; adds every parameter's gradient to ``grads``.
    Returns, per layer, (T, D) the total dL/ds_t in time order. A layer above hands down dL/dx_t = U^T da_t."""
    T, D = dtop.shape
    d = cfg.hidden
    dS = [np.zeros((T, D)) for _ in range(cfg.layers)]
    for layer in reversed(range(cfg.layers)):
        dinputs = np.zeros((T, D))                               # dL/dx_t for the layer below (D_in = D)
        for k, direction in enumerate(directions(cfg.bidirectional)):
            p = direction_params(P, layer, direction)
            tape = tapes[layer][k]
            flip = (lambda a: a[::-1]) if direction == "_rev" else (lambda a: a)   # time order <-> reading order
            back = backward(cfg.cell, cfg.activation, p, tape, list(flip(dtop[:, k * d:(k + 1) * d])), cfg.bptt)
            suffix = ("" if layer == 0 else str(layer + 1)) + direction
            for name, g in parameter_gradients(p, tape, back).items():
                grads[name + suffix] += g
            dS[layer][:, k * d:(k + 1) * d] = flip(np.array([back.dss[t] for t in range(T)]))   # (T, d)
            if layer > 0:
                dinputs += flip(np.array([p["U"].T @ back.das[t] for t in range(T)]))     # (T, D)
        dtop = dinputs
    return dS


@dataclass
class Result:
    """The loss, every gradient, and every per-step number of one batch (float64)."""

    loss: float                  # (1/B) sum of the examples' losses
    loss_sum: float              # sum over every counted target
    n_targets: int
    grads: dict                  # name -> gradient, the parameter's shape
    probs: np.ndarray            # classification (B, k); otherwise (B, T, k), 0 at padding
    states: list                 # per layer (B, T, D) s_t, 0 at padding
    dS: list                     # per layer (B, T, D) total dL/ds_t, 0 at padding
    gates: np.ndarray            # (B, T, G*d) the top layer's forward direction: a_t (vanilla) or the gates
    layer_grad_norms: np.ndarray  # (layers, T) ||dL/ds_t|| over the batch's real positions and both directions


def loss_and_grads(cfg, P: dict, ids: np.ndarray, lengths: np.ndarray, targets: np.ndarray) -> Result:
    """Loss and exact gradients of a padded batch, one example at a time over its true length.

    ``cfg`` needs cell, activation, task, hidden, layers, bidirectional, bptt (a ``Config`` has them); ``P`` maps
    every parameter name to its array (``model.get(name)``); ids (B, T), lengths (B,), targets (B,) or (B, T)."""
    P = {name: np.asarray(value, dtype=np.float64) for name, value in P.items()}
    ids, lengths, targets = np.asarray(ids), np.asarray(lengths), np.asarray(targets)
    B, T = ids.shape
    d, k = cfg.hidden, len(P["c"])
    D = d * len(directions(cfg.bidirectional))
    grads = {name: np.zeros_like(value) for name, value in P.items()}
    probs = np.zeros((B, k) if cfg.task == "classification" else (B, T, k))
    states = [np.zeros((B, T, D)) for _ in range(cfg.layers)]
    dS = [np.zeros((B, T, D)) for _ in range(cfg.layers)]
    gates = np.zeros((B, T, len(GATES[cfg.cell]) * d))
    loss_sum, n_targets = 0.0, 0
    for b in range(B):
        L = int(lengths[b])
        tapes = example_forward(cfg, P, ids[b, :L])
        for layer in range(cfg.layers):
            states[layer][b, :L] = layer_states(tapes[layer])
        gates[b, :L] = [np.concatenate(tapes[-1][0].gates[t]) for t in range(L)]
        target = targets[b] if cfg.task == "classification" else targets[b, :L]
        loss, dys, dV, dc, ys = head(cfg.task, P["V"], P["c"], states[-1][b, :L], target, d)
        loss_sum += loss
        n_targets += 1 if cfg.task == "classification" else int((target != IGNORE).sum())
        if cfg.task == "classification":
            probs[b] = ys
        else:
            probs[b, :L] = ys
        grads["V"] += dV / B                                     # L = (1/B) sum_b L_b
        grads["c"] += dc / B
        dS_b = example_backward(cfg, P, tapes, dys / B, grads)
        for layer in range(cfg.layers):
            dS[layer][b, :L] = dS_b[layer]
    norms = np.array([np.sqrt((g ** 2).sum(axis=(0, 2))) for g in dS])
    return Result(loss=loss_sum / B, loss_sum=loss_sum, n_targets=n_targets, grads=grads, probs=probs,
                  states=states, dS=dS, gates=gates, layer_grad_norms=norms)
