"""The training step of rnnviz's NumPy core against the same step in PyTorch CPU, over a grid of shapes.

numpy step:  model.loss_and_grads(batch) (forward + exact BPTT), the global gradient norm (as the Trainer takes it,
             clipping off), Adam on the flat parameter buffer.
torch step:  nn.Embedding(n, n) + nn.RNN / nn.LSTM / nn.GRU (one layer, batch_first) + nn.Linear, cross-entropy
             (classification: mean over the batch; labelling: summed over time, mean over the batch, as rnnviz),
             zero_grad, backward, torch.optim.Adam.  float32, torch.set_num_threads(1) to match rnnviz's single
             BLAS thread. The embedding width is the vocabulary size, the input width of rnnviz's one-hot x_t.
Every sequence has the full length T (no padding), vocabulary 50, 10 classes, random ids and targets (seed 0).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rnnviz.bench.flops import fraction_of_peak, interleaved_medians, step_flops
from rnnviz.core.config import CELLS

VOCAB, CLASSES = 50, 10
TASKS = ("classification", "labelling")
FULL_GRID = {"hidden": (32, 128, 256), "T": (20, 100), "batch": (1, 32)}
QUICK_GRID = {"hidden": (32,), "T": (20,), "batch": (32,)}


@dataclass(frozen=True)
class Shape:
    cell: str
    task: str
    hidden: int
    T: int
    batch: int

    @property
    def label(self) -> str:
        return f"{self.cell} {self.task[:5]} d={self.hidden} T={self.T} B={self.batch}"


def grid(quick: bool = False) -> list[Shape]:
    g = QUICK_GRID if quick else FULL_GRID
    return [Shape(c, task, d, T, B) for c, task, d, T, B in
            itertools.product(CELLS, TASKS, g["hidden"], g["T"], g["batch"])]


def make_data(shape: Shape, seed: int = 0):
    """(ids (B, T), targets (B,) or (B, T)) random but fixed."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(shape.batch, shape.T))
    if shape.task == "classification":
        targets = rng.integers(0, CLASSES, size=shape.batch)
    else:
        targets = rng.integers(0, CLASSES, size=(shape.batch, shape.T))
    return ids, targets


def numpy_step(shape: Shape, dtype: str):
    """A no-argument function doing one rnnviz training step on a fixed batch."""
    from rnnviz.core.config import Config
    from rnnviz.core.data.batch import Batch
    from rnnviz.core.nn.model import RNNModel
    from rnnviz.core.nn.optim import Optimizer, clip_global_norm

    cfg = Config(cell=shape.cell, task=shape.task, hidden=shape.hidden, dtype=dtype, optimizer="adam", lr=1e-3,
                 clip=0.0, batch_size=shape.batch)
    model = RNNModel(cfg, VOCAB, CLASSES)
    opt = Optimizer("adam", model.flat, lr=1e-3, momentum=0.9)
    ids, targets = make_data(shape)
    batch = Batch(ids=ids, lengths=np.full(shape.batch, shape.T, dtype=np.int64), targets=targets,
                  index=np.arange(shape.batch))

    def step():
        model.loss_and_grads(batch)
        clip_global_norm(model.grad, 0.0)
        opt.step(model.grad)

    return step


def torch_available() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install
        return False, f"PyTorch not importable ({type(exc).__name__}: {exc}); torch rows skipped"
    return True, ""


def torch_step(shape: Shape):
    """The same training step in PyTorch CPU, float32 (see the module docstring)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[shape.cell]
    emb = nn.Embedding(VOCAB, VOCAB)
    rnn = rnn_cls(VOCAB, shape.hidden, batch_first=True)
    head = nn.Linear(shape.hidden, CLASSES)
    params = list(emb.parameters()) + list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    ids_np, targets_np = make_data(shape)
    ids, targets = torch.from_numpy(ids_np), torch.from_numpy(targets_np)
    B = shape.batch
    classify = shape.task == "classification"

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(emb(ids))                                  # (B, T, d)
        if classify:
            loss = nn.functional.cross_entropy(head(out[:, -1]), targets)
        else:
            loss = nn.functional.cross_entropy(head(out).reshape(-1, CLASSES), targets.reshape(-1),
                                               reduction="sum") / B
        loss.backward()
        opt.step()

    return step


def run_core(quick: bool, peaks: dict, with_torch: bool, rounds: int, min_seconds: float,
             shapes: list[Shape] | None = None, progress=None) -> list[dict]:
    """One row per shape: median ms per step for numpy float32 / float64 (and torch), ratios, fraction of peak."""
    rows = []
    for shape in shapes if shapes is not None else grid(quick):
        fns = {"numpy_f32": numpy_step(shape, "float32"), "numpy_f64": numpy_step(shape, "float64")}
        if with_torch:
            fns["torch_f32"] = torch_step(shape)
        med = interleaved_medians(fns, rounds, min_seconds)
        flops = step_flops(shape.cell, shape.task, shape.hidden, shape.T, shape.batch, CLASSES)
        row = {"cell": shape.cell, "task": shape.task, "hidden": shape.hidden, "T": shape.T, "batch": shape.batch,
               "flops": flops,
               "numpy_f32_ms": med["numpy_f32"] * 1e3, "numpy_f64_ms": med["numpy_f64"] * 1e3,
               "f64_over_f32": med["numpy_f64"] / med["numpy_f32"],
               "numpy_f32_peak": fraction_of_peak(flops, med["numpy_f32"], peaks["float32"]),
               "numpy_f64_peak": fraction_of_peak(flops, med["numpy_f64"], peaks["float64"]),
               "torch_f32_ms": None, "numpy_over_torch": None, "torch_f32_peak": None}
        if with_torch:
            row["torch_f32_ms"] = med["torch_f32"] * 1e3
            row["numpy_over_torch"] = med["numpy_f32"] / med["torch_f32"]
            row["torch_f32_peak"] = fraction_of_peak(flops, med["torch_f32"], peaks["float32"])
        rows.append(row)
        if progress:
            progress(row)
    return rows
