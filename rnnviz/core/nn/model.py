"""The unrolled recurrent model, its three heads, the masked loss and backpropagation through time.

    s_t = g(U x_t + W s_{t-1} + b)          (or an LSTM / GRU cell: every equation in ``reference``)
    y_t = softmax(V s_t + c)
    L   = (1/B) * sum_examples sum_t  -log y_t[target_t]      (padding and IGNORE targets contribute nothing)

Heads (``task``):
  classification  many-to-one: y = softmax(V s_{L-1} + c) at each sequence's *true* last step L-1
  labelling       many-to-many: a tag at every real step
  generation      many-to-many: the next token at every step (sampling in ``generate``)

Parameters, by name (one layer, one direction): ``U`` (G*d x n), ``W`` (G*d x d), ``b`` (G*d), ``V`` (k x D),
``c`` (k), and for the GRU ``b_hn`` (d), the candidate's own recurrent bias. G = 1 (RNN), 4 (LSTM: i, f, g, o),
3 (GRU: r, z, n); D = d, or 2d when bidirectional. Layer l >= 2 adds ``U2``, ``W2``, ``b2``…; the backward
direction adds ``U_rev``, ``W_rev``, ``b_rev``… ``U x_t`` is the column ``U[:, id]``: the same maths as the
one-hot product, without the multiplication.

All parameters live in one flat buffer (``model.flat``) and all gradients in another (``model.grad``), so the
optimiser updates everything with a few vector operations; ``model.params[name]`` are views into it.

Bidirectional: the backward direction reads each sequence reversed *within its true length* (padding stays at the
end), so extra padding never changes a result. For classification its feature is its final state, which sits at
original position 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.config import GATES, Config
from rnnviz.core.data.batch import IGNORE, Batch
from rnnviz.core.nn import cells, init
from rnnviz.core.nn.params import ParamSpec, count_params, gate_count, param_specs  # noqa: F401 (model's names)
from rnnviz.core.nn.workspace import buffer, scatter_add_rows


@dataclass
class LayerCache:
    inputs: np.ndarray | None   # (T, B, D_in) input sequence in processing order (None for the token layer)
    ids: np.ndarray | None      # (T, B) token ids in processing order (first layer)
    cell: cells.Cache


@dataclass
class Forward:
    """Everything one forward pass keeps. ``top``: (T, B, D) states of the last layer, original time order."""

    top: np.ndarray
    caches: list                 # [layer][direction] -> LayerCache
    rev_index: np.ndarray | None  # (T, B) time index that reverses each sequence within its length
    mask: np.ndarray             # (T, B) True at real positions


@dataclass
class Result:
    """Loss and what the screen needs from one forward + backward pass."""

    loss: float                  # mean over examples of the cross-entropy summed over time
    loss_sum: float              # total cross-entropy over all targets of the batch
    n_targets: int               # number of targets that counted
    probs: np.ndarray            # classification (B, k); otherwise (B, T, k)
    grad_norms: np.ndarray       # (T,) ||dL/ds_t|| of the top layer over the real positions of the batch
    layer_grad_norms: np.ndarray  # (layers, T) the same for every layer
    example_grad_norms: np.ndarray | None = None  # (T, B) ||dL/ds_t|| of each example's top-layer state (0 at
                                                  # padding); squared and summed over B it gives grad_norms**2
    # with ``details`` only (``loss_and_grads(..., details=True)``):
    forward: Forward | None = None            # the forward pass (workspace arrays: valid until the next training pass)
    state_grads: np.ndarray | None = None     # (B, T, D) total dL/ds_t of the top layer (copy; 0 at padding)
    cell_grad_norms: np.ndarray | None = None  # LSTM: (T,) ||dL/dc_t|| of the top layer's cell states over the
                                               # real positions of the batch; None for the other cells
    example_cell_grad_norms: np.ndarray | None = None  # LSTM: (T, B) the same for each example (0 at padding)


def _reverse_index(lengths: np.ndarray, T: int) -> np.ndarray:
    """(T, B) index r with r[t, b] = L_b - 1 - t for t < L_b, else t: reverses each sequence in its length."""
    t = np.arange(T)[:, None]
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax(z) = z - max z - log sum exp(z - max z): finite even when a probability underflows to 0."""
    z = logits - logits.max(axis=-1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


class RNNModel:
    """A recurrent network with named parameters, exact BPTT and the per-timestep gradient norms."""

    def __init__(self, cfg: Config, n_vocab: int, n_classes: int):
        self.cfg = cfg
        self.task = cfg.task
        self.n_vocab, self.n_classes = n_vocab, n_classes
        self.d = cfg.hidden
        self.G = gate_count(cfg.cell)
        self.directions = ("", "_rev") if cfg.bidirectional else ("",)
        self.D = self.d * len(self.directions)
        self.dtype = np.dtype(cfg.dtype)
        self.specs = param_specs(cfg, n_vocab, n_classes)
        sizes = [int(np.prod(s.shape)) for s in self.specs]
        self.offsets = np.cumsum([0] + sizes)
        self.n_params = int(self.offsets[-1])
        self.flat = np.zeros(self.n_params, dtype=self.dtype)   # (P,) every parameter
        self.grad = np.zeros(self.n_params, dtype=self.dtype)   # (P,) every gradient
        self._store, self.params, self._gstore, self.grads = {}, {}, {}, {}
        self._work: dict = {}     # backward scratch buffers by layer/direction suffix, reused across steps
        self._flush_subnormal = False  # float32: set after a backward pass whose gradients vanished (flush_subnormal)
        self.example_grad_norms: np.ndarray | None = None   # (T, B) of the last backward pass (Result)
        for spec, lo, hi in zip(self.specs, self.offsets[:-1], self.offsets[1:]):
            stored = spec.shape[::-1] if spec.transposed else spec.shape
            for buf, store, public in ((self.flat, self._store, self.params), (self.grad, self._gstore, self.grads)):
                view = buf[lo:hi].reshape(stored)
                store[spec.name] = view
                public[spec.name] = view.T if spec.transposed else view
        self.matrix_mask = np.zeros(self.n_params, dtype=bool)  # True where weight decay applies
        for spec, lo, hi in zip(self.specs, self.offsets[:-1], self.offsets[1:]):
            self.matrix_mask[lo:hi] = spec.kind == "matrix"
        self.initialise(cfg.seed)

    # ------------------------------------------------------------------------------------------ parameters
    @property
    def param_names(self) -> list[str]:
        return [s.name for s in self.specs]

    def get(self, name: str) -> np.ndarray:
        """A copy of parameter ``name`` in the shape users see (e.g. U: (G*d, n))."""
        return np.array(self.params[name])

    def set(self, name: str, value: np.ndarray) -> None:
        """Overwrite parameter ``name``; the shape must match."""
        value = np.asarray(value)
        if value.shape != self.params[name].shape:
            raise ValueError(f"{name}: expected shape {self.params[name].shape}, got {value.shape}")
        self.params[name][...] = value

    def initialise(self, seed: int) -> None:
        """Fresh weights from ``seed`` (same seed => identical weights); see ``core.init``."""
        rng = np.random.default_rng(seed)
        cfg, d = self.cfg, self.d
        self.flat[...] = 0.0
        for spec in self.specs:
            base = spec.name.removesuffix("_rev").rstrip("0123456789")
            if base == "U":
                G, n_in = spec.shape
                self.set(spec.name, init.matrix(rng, (G, n_in), cfg.init, fan_in=n_in if cfg.init == "xavier" else d,
                                                fan_out=G))
            elif base == "W":
                W = init.recurrent(rng, self.G, d, cfg.init)
                if cfg.spectral_radius > 0:
                    W = init.rescale_spectral_radius(W, d, cfg.spectral_radius)
                self.set(spec.name, W)
            elif base == "V":
                k, D = spec.shape
                self.set("V", init.matrix(rng, (k, D), cfg.init, fan_in=D, fan_out=k))
            elif base == "b" and cfg.cell == "lstm":
                i, f, g, o = cells.gate_blocks(self.params[spec.name], "lstm")
                f[...] = cfg.forget_bias                      # the forget gate's block only
        # biases other than the LSTM forget gate stay 0

    @property
    def flush_subnormal(self) -> bool:
        """float32: whether the next backward pass flushes subnormal gradients to 0 (set by the last backward
        pass, see ``workspace.flush_subnormal``); part of the state a resumed run needs to repeat the numbers."""
        return self._flush_subnormal

    @flush_subnormal.setter
    def flush_subnormal(self, on: bool) -> None:
        self._flush_subnormal = bool(on)

    def W_blocks(self) -> dict[str, np.ndarray]:
        """The d x d blocks of the first layer's W, by gate name."""
        d, W = self.d, self.params["W"]
        return {name: W[g * d : (g + 1) * d] for g, name in enumerate(GATES[self.cfg.cell])}

    # --------------------------------------------------------------------------------------------- forward
    def _cell_forward(self, X: np.ndarray, suffix: str, work: dict | None) -> cells.Cache:
        """The cell over X = U x_t + b, which ``forward`` builds only for it: the cell may work in it (a copy saved)."""
        W = self._store["W" + suffix]
        if self.cfg.cell == "rnn":
            return cells.rnn_forward(X, W, self.cfg.activation, work=work, overwrite_X=True)
        if self.cfg.cell == "lstm":
            return cells.lstm_forward(X, W, work=work, overwrite_X=True)
        return cells.gru_forward(X, W, self._store["b_hn" + suffix], work=work, overwrite_X=True)

    def forward(self, ids: np.ndarray, lengths: np.ndarray, reuse: bool = False) -> Forward:
        """Run every layer and direction. ids: (B, T) int, lengths: (B,). Returns time-major states.

        ``reuse``: the large arrays (U x_t + b and the cell caches) live in this model's workspace, so the result
        is valid only until the next ``reuse`` pass (the training step, which consumes it at once, uses this)."""
        ids = np.asarray(ids)
        lengths = np.asarray(lengths)
        B, T = ids.shape
        ids_t = np.ascontiguousarray(ids.T)                        # (T, B)
        mask = np.arange(T)[:, None] < lengths[None, :]            # (T, B)
        cols = np.arange(B)[None, :]
        rev = _reverse_index(lengths, T) if len(self.directions) > 1 else None
        caches, inp = [], None
        for layer in range(self.cfg.layers):
            tag = "" if layer == 0 else str(layer + 1)
            outs, layer_caches = [], []
            for direction in self.directions:
                suffix = tag + direction
                flip = direction == "_rev"
                work = self._work.setdefault(suffix, {}) if reuse else None
                X = buffer(work, "f_X", (T, B, self.G * self.d), self.dtype)   # (T, B, G*d)
                if layer == 0:
                    ids_dir = ids_t[rev, cols] if flip else ids_t           # (T, B)
                    table = self._store["U" + suffix] + self._store["b" + suffix]  # (n, G*d) rows U[:, id] + b
                    if ids_dir.size and 0 <= ids_dir.min() and ids_dir.max() < len(table):
                        np.take(table, ids_dir, axis=0, out=X, mode="clip")    # U x_t + b (ids checked: no clip)
                    else:
                        X[...] = table[ids_dir]                                # (IndexError as before)
                    inputs = None
                else:
                    ids_dir = None
                    inputs = np.ascontiguousarray(inp[rev, cols]) if flip else inp  # (T, B, D)
                    np.matmul(inputs, self._store["U" + suffix].T, out=X)
                    X += self._store["b" + suffix]
                cache = self._cell_forward(X, suffix, work)
                layer_caches.append(LayerCache(inputs=inputs, ids=ids_dir, cell=cache))
                outs.append(cache.S[rev, cols] if flip else cache.S)
            caches.append(layer_caches)
            inp = np.concatenate(outs, axis=-1) if len(outs) > 1 else outs[0]
        return Forward(top=inp, caches=caches, rev_index=rev, mask=mask)

    # ------------------------------------------------------------------------------------------------ heads
    def _last_features(self, fw: Forward, lengths: np.ndarray) -> np.ndarray:
        """(B, D) the classification feature: forward state at L-1 (and the backward one's final state)."""
        B = len(lengths)
        feats = fw.top[lengths - 1, np.arange(B)]                    # (B, D)
        if len(self.directions) > 1:
            feats = feats.copy()
            feats[:, self.d :] = fw.top[0, :, self.d :]
        return feats

    def _head(self, fw: Forward, lengths: np.ndarray, targets: np.ndarray | None, only_last: bool = False,
              reuse: bool = False):
        """Output probabilities, loss, and the gradient arriving at the top states. Returns
        (probs, loss_sum, n_targets, dTop or None, dV, dc); with ``reuse`` dTop is a workspace buffer."""
        V, c = self.params["V"], self.params["c"]
        B = len(lengths)
        work = self._work.setdefault("head", {}) if reuse else None
        if self.task == "classification":
            feats = self._last_features(fw, lengths)                 # (B, D)
            logp = log_softmax(feats @ V.T + c)                      # (B, k)
            probs = np.exp(logp)
            if targets is None:
                return probs, 0.0, 0, None, None, None
            rows = np.arange(B)
            loss_sum = -float(logp[rows, targets].sum(dtype=np.float64))
            dlogits = probs.copy()
            dlogits[rows, targets] -= 1.0
            dlogits /= B                                             # (B, k)
            dfeats = dlogits @ V                                     # (B, D)
            dTop = buffer(work, "dTop", fw.top.shape, self.dtype)   # (T, B, D)
            dTop[...] = 0.0
            dTop[lengths - 1, rows, : self.d] = dfeats[:, : self.d]
            if len(self.directions) > 1:
                dTop[0, :, self.d :] = dfeats[:, self.d :]
            return probs, loss_sum, B, dTop, dlogits.T @ feats, dlogits.sum(axis=0)
        T = fw.top.shape[0]
        logp = log_softmax(fw.top @ V.T + c)                         # (T, B, k)
        probs = np.exp(logp)
        if targets is None:
            return probs, 0.0, 0, None, None, None
        tgt = np.ascontiguousarray(np.asarray(targets).T)            # (T, B)
        valid = (tgt != IGNORE) & fw.mask
        if only_last:                                                # keep only each sequence's last real target
            last = np.where(valid.any(axis=0), T - 1 - np.argmax(valid[::-1], axis=0), -1)
            valid = valid & (np.arange(T)[:, None] == last[None, :])
        t_idx, b_idx = np.nonzero(valid)
        loss_sum = -float(logp[t_idx, b_idx, tgt[t_idx, b_idx]].sum(dtype=np.float64))
        dlogits = probs * valid[:, :, None]
        dlogits[t_idx, b_idx, tgt[t_idx, b_idx]] -= 1.0
        dlogits /= B                                                 # (T, B, k)
        k, D = V.shape
        dTop = np.matmul(dlogits, V, out=buffer(work, "dTop", fw.top.shape, self.dtype))   # (T, B, D)
        dV = dlogits.reshape(-1, k).T @ fw.top.reshape(-1, D)
        return probs, loss_sum, int(len(t_idx)), dTop, dV, dlogits.sum(axis=(0, 1))

    # -------------------------------------------------------------------------------------------- backward
    def _cell_backward(self, dS, cache, suffix, keep_dc: bool = False):
        """The cell's BPTT; its returned dX, dW and dS_total live in this model's workspace (reused next call).
        ``keep_dc`` (LSTM): the total dL/dc_t is kept in the workspace too (``work["dC_total"]``)."""
        W, bptt = self._store["W" + suffix], self.cfg.bptt
        work = self._work.setdefault(suffix, {})
        flush = self._flush_subnormal
        if self.cfg.cell == "rnn":
            return cells.rnn_backward(dS, cache, W, self.cfg.activation, bptt, work=work, flush=flush)
        if self.cfg.cell == "lstm":
            return cells.lstm_backward(dS, cache, W, bptt, work=work, flush=flush, keep_dc=keep_dc)
        return cells.gru_backward(dS, cache, W, bptt, work=work, flush=flush)

    def backward(self, fw: Forward, dTop: np.ndarray, keep: dict | None = None) -> np.ndarray:
        """Backpropagation through time from dL/d(top states) into ``self.grad`` (V and c excluded).
        Returns (layers, T) ||dL/ds_t|| of each layer over the real positions.

        ``keep``: a dict that receives copies of the top layer's total dL/ds_t, ``keep["dS"]`` (T, B, D), and for
        the LSTM its total dL/dc_t, ``keep["dC"]`` (T, B, D), both in original time order."""
        T, B, _ = dTop.shape
        cols = np.arange(B)[None, :]
        rev = fw.rev_index
        norms = np.zeros((self.cfg.layers, T))
        top = self.cfg.layers - 1
        if keep is not None:
            keep["dS"] = np.zeros((T, B, self.D), dtype=self.dtype)
            if self.cfg.cell == "lstm":
                keep["dC"] = np.zeros((T, B, self.D), dtype=self.dtype)
        for layer in range(self.cfg.layers - 1, -1, -1):
            tag = "" if layer == 0 else str(layer + 1)
            d_inputs = None
            total_sq = np.zeros((T, B))
            for k, direction in enumerate(self.directions):
                suffix = tag + direction
                flip = direction == "_rev"
                lc = fw.caches[layer][k]
                dS = dTop[:, :, k * self.d : (k + 1) * self.d]
                dS = dS[rev, cols] if flip else np.ascontiguousarray(dS)  # processing order
                kept = keep is not None and layer == top
                dX, dW, extra, dS_total = self._cell_backward(dS, lc.cell, suffix, keep_dc=kept)
                if kept:
                    part = slice(k * self.d, (k + 1) * self.d)
                    keep["dS"][:, :, part] = dS_total[rev, cols] if flip else dS_total
                    if "dC" in keep:
                        dC = cells.buffer(self._work[suffix], "dC_total", dS_total.shape, dS_total.dtype)  # kept
                        keep["dC"][:, :, part] = dC[rev, cols] if flip else dC
                sq = np.einsum("tbd,tbd->tb", dS_total, dS_total)
                total_sq += sq[rev, cols] if flip else sq
                self._gstore["W" + suffix][...] = dW
                G = dX.shape[2]
                dX2 = dX.reshape(-1, G)
                self._gstore["b" + suffix][...] = dX2.sum(axis=0)
                for name, value in extra.items():
                    self._gstore[name + suffix][...] = value
                if layer == 0:
                    dE = self._gstore["U" + suffix]
                    dE[...] = 0.0
                    scatter_add_rows(dE, lc.ids.reshape(-1), dX2, work=self._work.setdefault(suffix, {}))
                else:
                    inputs = lc.inputs
                    self._gstore["U" + suffix][...] = dX2.T @ inputs.reshape(-1, inputs.shape[2])
                    d_in = dX @ self._store["U" + suffix]                # (T, B, D_in)
                    if flip:
                        d_in = d_in[rev, cols]
                    d_inputs = d_in if d_inputs is None else d_inputs + d_in
            total_sq *= fw.mask
            norms[layer] = np.sqrt(total_sq.sum(axis=1))
            if layer == self.cfg.layers - 1:
                self.example_grad_norms = np.sqrt(total_sq)                # (T, B) the top layer, per example
            dTop = d_inputs
        # vanishing float32 gradients turn subnormal (slow on x86): flush them to 0 from the next pass on
        self._flush_subnormal = self.dtype == np.float32 and bool((norms < 1e-20).any())
        return norms

    # -------------------------------------------------------------------------------------------- public API
    def loss_and_grads(self, batch: Batch, only_last: bool = False, details: bool = False) -> Result:
        """Forward, loss and exact BPTT for ``batch``; gradients land in ``self.grad`` / ``self.grads``.

        ``only_last``: the loss of each sequence's last real step alone (labelling / generation), for the
        long-range view of gradient flow; the loss reported is then that partial loss.
        ``details``: the Result also holds the forward pass, the top layer's dL/ds_t per unit and (LSTM)
        ||dL/dc_t|| (see ``Result``); the numbers of the pass are the same.
        """
        fw = self.forward(batch.ids, batch.lengths, reuse=True)
        probs, loss_sum, n, dTop, dV, dc = self._head(fw, batch.lengths, batch.targets, only_last, reuse=True)
        self.grad[...] = 0.0
        keep: dict | None = {} if details else None
        norms = self.backward(fw, dTop, keep)
        self.grads["V"][...] = dV
        self.grads["c"][...] = dc
        B = len(batch.lengths)
        if self.task != "classification":
            probs = probs.transpose(1, 0, 2)
        res = Result(loss=loss_sum / B, loss_sum=loss_sum, n_targets=n, probs=probs, grad_norms=norms[-1],
                     layer_grad_norms=norms, example_grad_norms=self.example_grad_norms)
        if keep is not None:
            res.forward = fw
            res.state_grads = keep["dS"].transpose(1, 0, 2)                      # (B, T, D)
            if "dC" in keep:
                dC = keep["dC"]
                sq_c = np.einsum("tbd,tbd->tb", dC, dC) * fw.mask                  # (T, B)
                res.cell_grad_norms = np.sqrt(sq_c.sum(axis=1))
                res.example_cell_grad_norms = np.sqrt(sq_c)
        return res

    def loss(self, batch: Batch) -> float:
        """The loss alone (forward pass only)."""
        return self.evaluate(batch)[0] / len(batch.lengths)

    def evaluate(self, batch: Batch) -> tuple[float, int, np.ndarray]:
        """(loss_sum, n_targets, probs) without gradients; probs (B, k) or (B, T, k)."""
        fw = self.forward(batch.ids, batch.lengths)
        probs, loss_sum, n, *_ = self._head(fw, batch.lengths, batch.targets)
        if self.task != "classification":
            probs = probs.transpose(1, 0, 2)
        return loss_sum, n, probs

    def predict(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Class probabilities: (B, k) for classification, (B, T, k) per step otherwise."""
        fw = self.forward(ids, lengths)
        probs = self._head(fw, np.asarray(lengths), None)[0]
        return probs if self.task == "classification" else probs.transpose(1, 0, 2)

    def hidden_states(self, ids: np.ndarray, lengths: np.ndarray, layer: int = -1) -> np.ndarray:
        """(B, T, D) hidden states s_t of ``layer`` (default: the top one), [forward; backward] when bidirectional."""
        fw = self.forward(ids, lengths)
        if layer in (-1, self.cfg.layers - 1):
            return fw.top.transpose(1, 0, 2).copy()
        outs = []
        for k, direction in enumerate(self.directions):
            S = fw.caches[layer][k].cell.S
            outs.append(S[fw.rev_index, np.arange(S.shape[1])[None, :]] if direction == "_rev" else S)
        return np.concatenate(outs, axis=-1).transpose(1, 0, 2).copy()

    def preactivations(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """(B, T, G*d) of the top layer's forward direction: the pre-activation a_t (vanilla) or gate values."""
        fw = self.forward(ids, lengths)
        cache = fw.caches[-1][0].cell
        A = cache.pre if cache.pre is not None else cache.A
        return A.transpose(1, 0, 2).copy()

    def generate(self, start_ids: list[int], n: int, temperature: float, rng: np.random.Generator,
                 exclude: tuple[int, ...] = ()) -> list[int]:
        """Sample ``n`` token ids after ``start_ids`` (temperature 0 = greedy), never one of ``exclude`` (e.g. the
        specials <pad>, <unk>, <sos>). Re-runs the last ``window`` tokens each step, as in training."""
        if self.task != "generation":
            raise ValueError("generate() needs a generation model")
        seq = list(start_ids)
        window = max(1, self.cfg.window)
        for _ in range(n):
            ctx = np.array([seq[-window:]], dtype=np.int64)
            p = self.predict(ctx, np.array([ctx.shape[1]]))[0, -1].astype(np.float64)
            p[list(exclude)] = 0.0
            if temperature <= 0:
                nxt = int(np.argmax(p))
            else:
                logp = np.log(np.maximum(p, 1e-300)) / temperature
                q = np.exp(logp - logp.max())
                q /= q.sum()
                nxt = int(rng.choice(len(q), p=q))
            seq.append(nxt)
        return seq[len(start_ids):]
