"""The frozen record of one moment of training: everything the window draws, nothing it must compute.

A Snapshot is made by ``rnnviz.core.explore.capture.build_snapshot(trainer)``. Every array in it is a private,
read-only copy, so the window can keep it while training goes on in another thread. Panels only draw what is here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


EQUATION_MAX_NUMBERS = 60_000   # the probe carries the equation view's parameters up to this many numbers
# the one convention for losses on every surface (panels, status bar, CSV, command line)
LOSS_UNIT = "nats per sequence"
LOSS_PER_TOKEN = "nats per token"
LOSS_UNIT_NOTE = ("cross-entropy summed over the targets of each sequence (one target for classification, one per "
                  "tagged token or predicted character otherwise), averaged over the sequences; per token = the "
                  "summed loss of all targets / their number (generation: ln perplexity)")


def frozen_array(a: Any, dtype: Any = None) -> np.ndarray:
    """A read-only private copy of ``a``."""
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Probe:
    """The probe sequence: one example whose inside the window shows.

    tokens:      (T,) the tokens read, specials included
    ids:         (T,) their ids
    states:      (T, D) hidden states s_t of the top layer (D = d, or 2d when bidirectional: [forward; backward])
    probs:       classification: (k,) class probabilities at the true last step;
                 labelling / generation: (T, k) per-step probabilities
    target:      classification: () true class id; otherwise (T,) true ids (IGNORE where none)
    predicted:   classification: () argmax class; otherwise (T,) argmax per step
    grad_norms:  (T,) ||dL/ds_t|| of this probe's own loss, first timestep first
    preact:      (T, G*d) pre-activations of the top layer's forward direction (for slow-motion BPTT)
    source:      "validation #12" or "typed"
    """

    tokens: tuple[str, ...]
    ids: np.ndarray
    states: np.ndarray
    probs: np.ndarray
    target: np.ndarray
    predicted: np.ndarray
    grad_norms: np.ndarray
    preact: np.ndarray
    source: str = ""
    target_from: str = "label"     # where grad_norms' targets came from: "label", "next token" (typed, generation),
                                   # "predicted" (typed, no label: the model's own prediction), "" (none)
    bptt: Any = None               # core.bptt_trace.BPTTTrace of this probe when slow-motion BPTT was asked for
    gates: dict = field(default_factory=dict)   # LSTM / GRU: gate name -> (T, d) values of the top layer's forward
                                   # direction after activation (LSTM i, f, g, o and the cell state c; GRU r, z, n),
                                   # in the model's dtype (the numbers it computed)
    state_grads: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros((0, 0))))
                                   # (T, D) dL/ds_t per unit of this probe's own loss (NaN when it has no target)
    reach: np.ndarray | None = None      # (R, T) ||dL_t'/ds_t||, row r = the loss at step reach_rows[r] alone
                                         # (explore.reach; NaN where t > t' in a unidirectional model); when asked for
    reach_rows: np.ndarray | None = None  # (R,) the 0-based step t' of each row of ``reach``
    params: dict = field(default_factory=dict)  # the equation view's parameters (explore.capture.equation_params):
                                   # "Ux" (T, G*d) = the column U[:, x_t] of each probe token, "W" (G*d, d), "b" (G*d,),
                                   # "V" (k, D), "c" (k,), GRU "b_hn" (d,); {} when too large (EQUATION_MAX_NUMBERS)
    params_note: str = ""          # why ``params`` is empty


@dataclass(frozen=True)
class Snapshot:
    """Everything on screen at one moment. Shapes: N train steps kept, M evaluations, R gradient-flow rows."""

    # --- where we are ---
    step: int                      # optimiser steps taken
    epoch: int                     # completed epochs
    epoch_progress: float          # fraction of the current epoch done, in [0, 1]
    steps_per_second: float
    lr: float
    clip: float                    # clipping threshold (0 = off)
    task: str
    cell: str
    classes: tuple[str, ...]       # output class names, index = class id
    config: dict                   # Config.to_dict()
    n_params: int
    fault: str | None              # explanation when training stopped on NaN/Inf, else None
    # --- loss curves ---
    train_steps: np.ndarray        # (N,) step number of each recorded training loss
    train_loss: np.ndarray         # (N,) batch loss in nats per sequence: cross-entropy summed over the targets of
                                   # each sequence (one for classification), mean over the batch's sequences
    val_steps: np.ndarray          # (M,) step of each evaluation
    val_loss: np.ndarray           # (M,) the same per sequence, over the whole validation split
    val_accuracy: np.ndarray       # (M,) NaN for generation
    val_perplexity: np.ndarray     # (M,) exp(mean per-token loss), NaN unless generation
    # --- gradient flow of a fixed batch of validation examples (core.train.grad_flow), measured at ``step`` ---
    grad_norms: np.ndarray         # (T,) mean over the batch's examples that have position t of ||dL_b/ds_t||
                                   # (L_b: that example's own loss), aligned as grad_norms_align says
    grad_norms_last: np.ndarray    # (T,) the same from the last real step's loss alone (labelling/generation; else = grad_norms)
    grad_flow_steps: np.ndarray    # (R,) training step of each row below
    grad_flow: np.ndarray          # (R, T) grad_norms over training (a row every Trainer.monitor_every steps,
                                   # decimated to a cap)
    param_grad_steps: np.ndarray   # (N2,) training step of each entry below
    param_grad_norms: dict         # name -> (N2,) ||dL/dtheta|| of each parameter at each training step
    # --- validation details (from the last evaluation) ---
    confusion: np.ndarray          # (k, k) counts, rows = true class, columns = predicted; empty for generation
    per_class_accuracy: np.ndarray # (k,) diagonal / row sum, NaN for classes absent from validation
    # --- weights ---
    W: np.ndarray                  # (G*d, d) recurrent matrix of the first layer (gates stacked)
    gate_names: tuple[str, ...]    # names of the d-row blocks of W, e.g. ("i", "f", "g", "o")
    eigenvalues: dict              # gate name -> (d,) complex eigenvalues of that d x d block of W
    spectral_radius: dict          # gate name -> max |eigenvalue|
    # --- the probe and generation ---
    probe: Probe | None
    sample_text: str = ""          # generation: text sampled at the last evaluation
    sample_temperature: float = 1.0
    extra: dict = field(default_factory=dict)
    confusion_examples: dict = field(default_factory=dict)  # train.confusion_cells: which validation examples
                                                            # (and positions) make each confusion count
    markers: tuple = ()            # ((step, text), ...): live setting changes, e.g. (120, "lr 0.01→0.001")
    made_at: float = field(default_factory=time.perf_counter)  # when this Snapshot was built (perf_counter,
                                                                # CLOCK_MONOTONIC: comparable across processes)
    state_space: Any = None        # core.explore.state_space.StateSpace: validation states projected to 2-D by
                                   # PCA, while the state-space panel is shown (SetStateSpace); else None
    grad_norms_c: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros(0)))
                                   # LSTM: (T,) the same mean as grad_norms of ||dL_b/dc_t|| of the cell states
                                   # (same batch, loss, step and alignment); empty for the other cells
    gate_saturation_steps: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros(0, np.int64)))
                                   # (S,) training step of each entry below (recorded with the gradient flow)
    gate_saturation: dict = field(default_factory=dict)   # gate name -> (S,) share of that sigmoid gate's values on
                                   # the monitor batch below 0.05 or above 0.95 (nn.gates.saturation); {} for the RNN
    grad_norms_step: int = -1      # the training step grad_norms / grad_norms_last were measured at: ``step``,
                                   # except in snapshots of a running Trainer whose window does not show them
                                   # (``build_snapshot(flow=False)``: the last recorded; -1 unknown)
    grad_norms_align: str = "start"  # "start": position t is step t; "end": the last position is every example's
                                     # last token (classification of different lengths: core.train.grad_flow)
    grad_norms_count: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros(0, np.int64)))
                                   # (T,) how many examples grad_norms averages at each position
    grad_norms_examples: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros(0, np.int64)))
                                   # (B,) the validation examples (indices) the gradient flow is over
    val_loss_per_token: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros(0)))
                                   # (M,) val_loss per predicted token: the summed loss over all validation targets
                                   # / their number (classification: = val_loss; generation: ln perplexity)
    overfitting: Any = None        # core.train.overfit.Overfitting when the validation loss has risen while the
                                   # training loss fell (the rule is in that module), else None
    best_step: int = -1            # the step whose weights Trainer.restore_best brings back (-1: no evaluation yet)
    sample_step: int = -1          # generation: the step sample_text was sampled at (the last evaluation, or a
                                   # later temperature change); -1 unknown
    sample_prompt: str = ""        # generation: the text sample_text starts with, given to the model, not sampled
                                   # (the first tokens of validation example 0; Trainer.sample_prompt)
    eigenvalues_step: int = -1     # the training step ``eigenvalues`` and ``spectral_radius`` were computed at:
                                   # ``step``, except in a running Trainer's snapshots between two computations on
                                   # their own clock (explore.amortize; -1 unknown)

    def arrays(self) -> dict[str, np.ndarray]:
        """The top-level array fields by name (for tests and exports)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}


def confusion_members(cells: dict, true: int, pred: int) -> list[tuple[int, int]]:
    """From ``Snapshot.confusion_examples``: (example, position) of every target of class ``true`` predicted as ``pred`` (position -1: classification)."""
    if not cells or "true" not in cells:
        return []
    hit = np.flatnonzero((np.asarray(cells["true"]) == true) & (np.asarray(cells["pred"]) == pred))
    ex, pos = np.asarray(cells["example"]), np.asarray(cells["position"])
    return [(int(ex[i]), int(pos[i])) for i in hit]
