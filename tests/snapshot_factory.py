"""Hand-made, realistic Snapshots (and a tiny Dataset) for GUI tests: no training needed.

    make_snapshot(task="classification", T=12, d=16, k=3, cell="rnn", step=2000, seed=0, ...)
    make_dataset(task="classification")

Every field of ``rnnviz.core.snapshot.Snapshot`` is filled with arrays of the documented shapes and plausible
values: a falling loss, rising accuracy, gradients that vanish towards the first timestep, a diagonal-heavy
confusion matrix, tanh hidden states in [-1, 1], eigenvalues of the actual W blocks, and the probe's slow-motion
BPTT trace (``probe.bptt``, as when that tab is shown) whose numbers obey the trace's own backward recursion.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnviz.core.config import GATES, Config
from rnnviz.core.data.batch import IGNORE, Dataset, Split
from rnnviz.core.explore import state_space as ss
from rnnviz.core.explore.bptt_trace import FACTOR_LABELS, VALUE_LABELS, BPTTTrace
from rnnviz.core.snapshot import Probe, Snapshot, frozen_array

WORDS = ("the", "movie", "was", "not", "good", "at", "all", "but", "i", "liked", "actors", "very", "much",
         "and", "plot", "boring", "story", "never", "really", "great")
SENTIMENT = ("negative", "positive", "neutral", "mixed", "sarcastic", "angry", "happy", "sad", "bored", "excited")
TAGS = ("DET", "NOUN", "VERB", "ADJ", "ADV", "PRON", "ADP", "CCONJ", "PART", "PUNCT", "AUX", "NUM", "PROPN",
        "SCONJ", "INTJ", "SYM", "X", "SPACE", "CONJ", "OTHER")
CHARS = tuple("<pad>|<unk>|<sos>|<eos>".split("|")) + tuple(" etaoinshrdlcumwfgypbvk.,")


def class_names(task: str, k: int) -> tuple[str, ...]:
    if task == "generation":
        names = CHARS
    elif task == "labelling":
        names = TAGS
    else:
        names = SENTIMENT
    return tuple(names[i] if i < len(names) else f"class {i}" for i in range(k))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def make_snapshot(task: str = "classification", T: int = 12, d: int = 16, k: int | None = None, cell: str = "rnn",
                  step: int = 2000, seed: int = 0, activation: str = "tanh", bidirectional: bool = False,
                  clip: float = 5.0, n_train: int | None = None, eval_every: int = 100, flow_rows: int = 40,
                  probe_index: int = 3, sample_text: str | None = None, temperature: float = 1.0,
                  extra: dict | None = None, bptt: bool = True) -> Snapshot:
    """A Snapshot as the Trainer would make it after ``step`` steps."""
    rng = np.random.default_rng(seed)
    if k is None:
        k = {"classification": 2, "labelling": 6, "generation": len(CHARS)}[task]
    G = len(GATES[cell])
    gates = GATES[cell]
    D = 2 * d if bidirectional else d
    cfg = Config().replace(task=task, cell=cell, hidden=d, activation=activation, bidirectional=bidirectional,
                           clip=clip, dataset="negation" if task != "generation" else "chars",
                           tokenize="char" if task == "generation" else "word").to_dict()
    classes = class_names(task, k)

    # --- loss curves
    N = n_train if n_train is not None else step
    train_steps = np.arange(1, N + 1, dtype=np.int64) * max(1, step // max(N, 1))
    base = 0.15 + 0.6 * np.exp(-train_steps / 400.0)
    if task != "classification":
        base = base * T      # summed over time
    train_loss = base * np.exp(rng.normal(0.0, 0.12, N))
    val_steps = np.arange(eval_every, step + 1, eval_every, dtype=np.int64)
    val_loss = (0.2 + 0.6 * np.exp(-val_steps / 450.0)) * (T if task != "classification" else 1)
    if task == "generation":
        val_accuracy = np.full(val_steps.size, np.nan)
        val_perplexity = np.exp(val_loss / T) * 2.0
    else:
        val_accuracy = 1.0 / k + (0.93 - 1.0 / k) * (1 - np.exp(-val_steps / 500.0))
        val_perplexity = np.full(val_steps.size, np.nan)

    # --- gradient flow: vanishing towards the first timestep, sharpening over training
    t = np.arange(T)
    decay = 0.55 if cell == "rnn" else 0.85
    grad_norms = 0.8 * decay ** (T - 1 - t) * np.exp(rng.normal(0, 0.1, T))
    grad_norms_last = grad_norms.copy() if task == "classification" else grad_norms * decay ** 2
    R = flow_rows
    grad_flow_steps = np.linspace(10, step, R).round().astype(np.int64)
    grad_flow = np.stack([0.8 * (decay + 0.15 * np.exp(-s / 500.0)) ** (T - 1 - t) for s in grad_flow_steps])
    grad_flow[0, 0] = 0.0                          # a zero must not break the log scale
    names = ("U", "W", "b", "V", "c") + (("b_hn",) if cell == "gru" else ())
    param_grad_steps = train_steps.copy()
    param_grad_norms = {n: (0.05 + 0.9 * (i + 1) / len(names) * np.exp(-param_grad_steps / 700.0))
                        * np.exp(rng.normal(0, 0.2, param_grad_steps.size)) for i, n in enumerate(names)}

    # --- validation details
    if task == "generation":
        confusion = np.zeros((0, 0), dtype=np.int64)
        per_class_accuracy = np.full(k, np.nan)
    else:
        support = rng.integers(20, 60, k)
        confusion = np.zeros((k, k), dtype=np.int64)
        for i in range(k):
            p = np.full(k, 0.25 / max(k - 1, 1))
            p[i] = 0.75
            confusion[i] = rng.multinomial(support[i], p / p.sum())
        if k > 2:
            confusion[-1] = 0                       # a class absent from validation
        rows = confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class_accuracy = np.where(rows > 0, np.diag(confusion) / np.maximum(rows, 1), np.nan)
        if val_accuracy.size:     # the last evaluation made this matrix: the curve ends at its accuracy
            val_accuracy = val_accuracy * (np.trace(confusion) / confusion.sum()) / val_accuracy[-1]

    # --- weights
    W = rng.normal(0.0, 1.1 / np.sqrt(d), (G * d, d))
    eigenvalues = {g: np.linalg.eigvals(W[i * d:(i + 1) * d]) for i, g in enumerate(gates)}
    spectral_radius = {g: float(np.abs(e).max()) for g, e in eigenvalues.items()}

    # --- probe
    if task == "generation":
        tokens = tuple(rng.choice(CHARS[4:], T))
        ids = np.array([CHARS.index(c) for c in tokens], dtype=np.int64)
    else:
        tokens = tuple(rng.choice(WORDS, T))
        ids = np.array([WORDS.index(w) + 4 for w in tokens], dtype=np.int64)
    states = np.tanh(rng.normal(0.0, 0.9, (T, D)))
    if activation == "relu" and cell == "rnn":
        states = np.maximum(rng.normal(0.0, 2.0, (T, D)), 0.0)
    preact = rng.normal(0.0, 1.0, (T, G * d))
    if task == "classification":
        probs = _softmax(rng.normal(0.0, 1.5, k))
        target = np.array(int(rng.integers(k)))
        predicted = np.array(int(probs.argmax()))
    else:
        probs = _softmax(rng.normal(0.0, 2.0, (T, k)))
        predicted = probs.argmax(axis=1)
        if task == "generation":
            target = np.append(ids[1:], CHARS.index("<eos>"))
        else:
            target = predicted.copy()
            target[1::4] = (target[1::4] + 1) % k      # some wrong tags
            target[-1] = IGNORE                        # a position without a target
    trace = _bptt_trace(task, cell, target, T, D, G * d, seed) if bptt else None
    views = _views(task, cell, T, d, D, k, len(CHARS) if task == "generation" else len(WORDS) + 4, ids, target,
                   step, flow_rows, seed)
    probe = Probe(tokens=tokens, ids=frozen_array(ids), states=frozen_array(states), probs=frozen_array(probs),
                  target=frozen_array(target), predicted=frozen_array(predicted),
                  grad_norms=frozen_array(trace.norms if bptt else grad_norms * 1.1), preact=frozen_array(preact),
                  source=f"validation #{probe_index}", bptt=trace, **views["probe"])
    if sample_text is None:
        sample_text = ("the cat sat on the mat. then it ate the rat and the bat. " * 3 if task == "generation"
                       else "")
    return Snapshot(
        step=step, epoch=step // 100, epoch_progress=(step % 100) / 100.0, steps_per_second=250.0, lr=cfg["lr"],
        clip=clip, task=task, cell=cell, classes=classes, config=cfg,
        n_params=int(G * d * (d + 30) + k * (d + 1)), fault=None,
        train_steps=frozen_array(train_steps), train_loss=frozen_array(train_loss),
        val_steps=frozen_array(val_steps), val_loss=frozen_array(val_loss),
        val_accuracy=frozen_array(val_accuracy), val_perplexity=frozen_array(val_perplexity),
        grad_norms=frozen_array(grad_norms), grad_norms_last=frozen_array(grad_norms_last),
        grad_flow_steps=frozen_array(grad_flow_steps), grad_flow=frozen_array(grad_flow),
        param_grad_steps=frozen_array(param_grad_steps),
        param_grad_norms={n: frozen_array(v) for n, v in param_grad_norms.items()},
        confusion=frozen_array(confusion), per_class_accuracy=frozen_array(per_class_accuracy),
        W=frozen_array(W), gate_names=gates, eigenvalues={g: frozen_array(e) for g, e in eigenvalues.items()},
        spectral_radius=spectral_radius, probe=probe, sample_text=sample_text, sample_temperature=temperature,
        extra=dict(extra or {}), **views["snapshot"],
        state_space=_state_space(task, classes, states, rng, step, f"validation #{probe_index}", bidirectional),
    )


def _state_space(task: str, classes: tuple[str, ...], probe_states: np.ndarray, rng: np.random.Generator, step: int,
                 probe_label: str, bidirectional: bool, n: int = 40) -> StateSpace:
    """A state-space frame of ``n`` random tanh paths (3-15 steps), fitted and coloured as the core does."""
    D = probe_states.shape[1]
    k = len(classes)
    lengths = rng.integers(3, 16, n)
    cls = rng.integers(0, k, n)
    drift = rng.normal(0.0, 0.6, (k, D))
    X = np.concatenate([np.tanh(np.cumsum(rng.normal(0.0, 0.3, (L, D)) + drift[c] / L, axis=0))
                        for L, c in zip(lengths, cls)])                                     # (M, D)
    mu, comps, explained = ss.fit_pca(X)
    if task == "classification":
        targets = cls
    else:
        targets = [rng.integers(0, k, L) for L in lengths]
        targets[0][-1] = IGNORE
    colour, names = ss.colour_ids(task, targets, lengths, list(classes))
    return ss.StateSpace(points=frozen_array((X - mu) @ comps.T), starts=frozen_array(np.concatenate([[0],
                         np.cumsum(lengths)])), examples=frozen_array(np.arange(n)), colour=frozen_array(colour),
                         names=names, colour_by=ss.COLOUR_BY[task], explained=frozen_array(explained), ranks=(1, 2),
                         components=frozen_array(comps), mean=frozen_array(mu),
                         probe=frozen_array((probe_states - mu) @ comps.T), probe_label=probe_label,
                         note="bidirectional: both directions' states concatenated" if bidirectional else "",
                         step=step)


def _views(task: str, cell: str, T: int, d: int, D: int, k: int, n: int, ids, target, step: int, rows: int,
           seed: int) -> dict:
    """The fields of the gates, who-reaches-whom and equation views (their own generator, so the other fields do
    not change with them): gate values in [0, 1] and a cell state (LSTM / GRU), dL/ds_t per unit, a triangle of
    ||dL_t'/ds_t|| that shrinks away from the diagonal (one row for classification), the equation's parameters,
    ||dL/dc_t|| (LSTM) and the saturated shares over training."""
    rng = np.random.default_rng(seed + 2000)
    G = len(GATES[cell])
    gates = {}
    if cell != "rnn":
        for name in GATES[cell]:
            gates[name] = frozen_array(np.tanh(rng.normal(0, 1, (T, d))) if name in ("g", "n")
                                       else 1 / (1 + np.exp(-rng.normal(0.5, 1.5, (T, d)))))
        if cell == "lstm":
            gates["c"] = frozen_array(np.cumsum(rng.normal(0, 0.5, (T, d)), axis=0))
    if task == "classification":
        reach_rows = np.array([T - 1])
        reach = (0.5 * 0.7 ** (T - 1 - np.arange(T)))[None, :]
    else:
        reach_rows = np.flatnonzero(np.asarray(target) != IGNORE)
        gap = reach_rows[:, None] - np.arange(T)[None, :]
        reach = np.where(gap >= 0, 0.5 * 0.6 ** np.maximum(gap, 0), np.nan)
    params = {"Ux": rng.normal(0, 0.5, (n, G * d))[ids], "W": rng.normal(0, 0.3, (G * d, d)),
              "b": rng.normal(0, 0.1, G * d), "V": rng.normal(0, 0.5, (k, D)), "c": rng.normal(0, 0.1, k)}
    if cell == "gru":
        params["b_hn"] = rng.normal(0, 0.1, d)
    S = max(2, rows // 4)
    sat_steps = np.linspace(0, step, S).round().astype(np.int64)
    names = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("r", "z")}[cell]
    return {"probe": dict(gates=gates, state_grads=frozen_array(rng.normal(0, 0.1, (T, D))),
                          reach=frozen_array(reach), reach_rows=frozen_array(reach_rows),
                          params={key: frozen_array(v) for key, v in params.items()}),
            "snapshot": dict(grad_norms_c=frozen_array(0.5 * 0.9 ** (T - 1 - np.arange(T)) if cell == "lstm"
                                                       else np.zeros(0)),
                             gate_saturation_steps=frozen_array(sat_steps if names else np.zeros(0, np.int64)),
                             gate_saturation={g: frozen_array(np.linspace(0.0, 0.1 * (i + 1), S))
                                              for i, g in enumerate(names)})}


def _bptt_trace(task: str, cell: str, target: np.ndarray, T: int, D: int, GD: int, seed: int) -> BPTTTrace:
    """A trace that obeys dL/ds_{t-1} = dL_{t-1}/ds_{t-1} + J_t^T dL/ds_t with J_t = diag(g'_t) A (A of spectral
    norm 0.9, g' in (0, 1]): ``factors`` are the ||J_t||_2, ``norms`` the ||dL/ds_t||. Its own generator, so the
    other fields do not change with it."""
    rng = np.random.default_rng(seed + 1000)
    A = rng.normal(0.0, 1.0, (D, D))
    A *= 0.9 / np.linalg.norm(A, 2)
    slope = rng.uniform(0.3, 1.0, (T, D))                   # g'(a_t)
    direct = np.zeros((T, D))
    if task == "classification":
        direct[-1] = rng.normal(0.0, 0.5, D)                # the output is read at the last step only
    else:
        has = np.asarray(target).reshape(-1) != IGNORE
        direct[has] = rng.normal(0.0, 0.5, (int(has.sum()), D))
    dS = direct.copy()
    factors = np.full(T, np.nan)
    for t in range(T - 1, 0, -1):
        J = slope[t][:, None] * A                           # ds_t/ds_{t-1}  (D, D)
        dS[t - 1] += J.T @ dS[t]
        factors[t] = np.linalg.norm(J, 2)
    dA = np.tile(dS * slope, (1, GD // D + 1))[:, :GD]       # (T, G*d)
    return BPTTTrace(dS=frozen_array(dS), direct=frozen_array(direct), norms=frozen_array(np.linalg.norm(dS, axis=1)),
                     dA=frozen_array(dA), factors=frozen_array(factors), cut=frozen_array(np.zeros(T, bool)),
                     loss=0.7, targets=frozen_array(target), cell=cell, value_label=VALUE_LABELS[cell],
                     factor_label=FACTOR_LABELS[cell])


# ------------------------------------------------------------------------------------------------ dataset
@dataclass
class StandInVocab:
    """The attributes of rnnviz.core.data.text.Vocab the GUI uses (until the real one exists)."""

    tokens: list[str]
    counts: list[int] = field(default_factory=list)
    pad_id: int = 0
    unk_id: int = 1
    sos_id: int = 2
    eos_id: int = 3

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, toks):
        index = {t: i for i, t in enumerate(self.tokens)}
        return [index.get(t, self.unk_id) for t in toks]

    def decode(self, ids):
        return [self.tokens[i] for i in ids]


def make_dataset(task: str = "classification", n: int = 10, seed: int = 0) -> Dataset:
    """A tiny word-level Dataset with <sos>/<eos>, sequences of different lengths."""
    rng = np.random.default_rng(seed)
    specials = ["<pad>", "<unk>", "<sos>", "<eos>"]
    vocab = StandInVocab(tokens=specials + list(WORDS), counts=[0, 0, 0, 0] + [int(c) for c in rng.integers(1, 50, len(WORDS))])
    classes = list(SENTIMENT[:2]) if task == "classification" else list(TAGS[:6])

    def split(m: int) -> Split:
        tokens, ids, targets = [], [], []
        for i in range(m):
            L = 3 + (i * 3) % 7
            words = list(rng.choice(WORDS, L))
            toks = ["<sos>"] + words + ["<eos>"]
            tokens.append(toks)
            ids.append(np.array(vocab.encode(toks), dtype=np.int64))
            if task == "classification":
                targets.append(int(rng.integers(len(classes))))
            else:
                tg = rng.integers(0, len(classes), len(toks))
                tg[0] = tg[-1] = IGNORE
                targets.append(tg.astype(np.int64))
        return Split(tokens=tokens, ids=ids,
                     targets=np.array(targets, dtype=np.int64) if task == "classification" else targets)

    return Dataset(name="tiny", task=task, vocab=vocab, classes=classes, train=split(n), val=split(n),
                   source="generated:tiny", tokenizer="word")
