"""The Snapshot the window draws, built from a Trainer through its public fields (it never changes the run).

``build_snapshot(trainer)`` copies the histories, the evaluations and the weights into a frozen Snapshot and
adds what is computed for the screen only: the eigenvalues of W's gate blocks, the probe, and the gradient flow of
the monitor batch when the Trainer's last one is from an earlier step (it records one every ``monitor_every``
steps for the history; the Snapshot's curve is always that of its own step). ``build_probe``
runs the probe sequence (a validation example, or typed tokens: ``typed_probe``) through the model:
the hidden states s_t = g(U x_t + W s_{t-1} + b), the outputs y_t = softmax(V s_t + c) and ||dL/ds_t|| of its
own loss, and with ``bptt`` the slow-motion BPTT trace (``bptt_trace``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from rnnviz.core.data.batch import IGNORE, Batch
from rnnviz.core.explore import bptt_trace
from rnnviz.core.explore.amortize import eigenvalues_of
from rnnviz.core.explore.reach import reach as reach_matrix
from rnnviz.core.explore.typed_probe import typed_targets
from rnnviz.core.nn.gates import SIGMOID_GATES, gate_values
from rnnviz.core.snapshot import EQUATION_MAX_NUMBERS, Probe, Snapshot, frozen_array
from rnnviz.core.train import overfit


def equation_params(model: Any, ids: np.ndarray) -> tuple[dict, str]:
    """(params, note): the top layer's forward-direction parameters the equation view needs for the probe ``ids``
    (``Probe.params``), or ({}, why not) for a model of several layers or one too large to copy each frame."""
    cfg = model.cfg
    if cfg.layers > 1:
        return {}, f"the equation view shows one-layer models (this one has {cfg.layers} layers)"
    U, W = model.params["U"], model.params["W"]                       # (G*d, n), (G*d, d)
    V = model.params["V"]                                              # (k, D)
    size = len(ids) * U.shape[0] + W.size + V.size
    if size > EQUATION_MAX_NUMBERS:
        return {}, (f"this model is too large for the live equation view ({size:,} numbers in U xₜ, W and V; "
                    f"at most {EQUATION_MAX_NUMBERS:,})")
    params = {"Ux": U.T[ids], "W": W, "b": model.params["b"], "V": V, "c": model.params["c"]}   # Ux: (T, G*d)
    if cfg.cell == "gru":
        params["b_hn"] = model.params["b_hn"]
    return {k: frozen_array(v, np.float64) for k, v in params.items()}, ""


def build_probe(trainer: Any, bptt: bool = False, reach: bool = False) -> Probe:
    """Hidden states, predictions and gradient flow of ``trainer``'s probe sequence (and its slow-motion BPTT
    trace when ``bptt``, its who-reaches-whom matrix when ``reach``)."""
    ds, model = trainer.dataset, trainer.model
    if trainer.probe_tokens is not None:
        tokens = list(trainer.probe_tokens)
        ids = ds.vocab.encode(tokens)
        tokens = [t if i != ds.vocab.unk_id else "<unk>" for t, i in zip(tokens, ids)]
        target = np.full(len(ids), IGNORE) if ds.task != "classification" else np.array(IGNORE)
        source = "typed"
    else:
        i = trainer.probe_index
        tokens, ids = list(ds.val.tokens[i]), np.asarray(ds.val.ids[i])
        target = np.asarray(ds.val.targets[i])
        source = f"validation #{i}"
    T = len(ids)
    flush = model.flush_subnormal        # the probe's backward pass must not change how the next step runs
    try:
        with np.errstate(all="ignore"):
            grad_target, target_from = target, "label"
            if source == "typed":   # no label: see typed_probe for what the gradient is taken against
                target, grad_target, target_from = typed_targets(ds.task, ids, model.predict(ids[None, :],
                                                                                             np.array([T]))[0])
            batch = Batch(ids=ids[None, :], lengths=np.array([T]), index=np.array([0]),
                          targets=(grad_target[None] if grad_target.ndim else np.array([int(grad_target)])))
            if (grad_target != IGNORE).any():
                res = model.loss_and_grads(batch, details=True)
                fw = res.forward     # that pass's own forward, in the model's workspace: copied before the next
                probs, norms, state_grads = res.probs[0], res.grad_norms, np.array(res.state_grads[0])
            else:
                fw = model.forward(batch.ids, batch.lengths)
                probs, norms, target_from = model.predict(batch.ids, batch.lengths)[0], np.full(T, np.nan), ""
                state_grads = None
            states = np.array(fw.top[:, 0, :])                                  # (T, D)
            cache = fw.caches[-1][0].cell
            pre = np.array((cache.pre if cache.pre is not None else cache.A)[:, 0, :])   # (T, G*d)
            gates = gate_values(model.cfg.cell, cache)
            if state_grads is None:
                state_grads = np.full(states.shape, np.nan)
            slow = bptt_trace.trace(model, ids, grad_target) if bptt and target_from else None
            rows, matrix = reach_matrix(model, ids, grad_target) if reach and target_from else (None, None)
            params, params_note = equation_params(model, ids)
    finally:
        model.flush_subnormal = flush
    predicted = probs.argmax(axis=-1)
    return Probe(tokens=tuple(tokens), ids=frozen_array(ids), states=frozen_array(states),
                 probs=frozen_array(probs), target=frozen_array(target), predicted=frozen_array(predicted),
                 grad_norms=frozen_array(norms), preact=frozen_array(pre), source=source,
                 target_from=target_from, bptt=slow,
                 gates={k: frozen_array(v, model.dtype) for k, v in gates.items()},   # the model's own numbers
                 state_grads=frozen_array(state_grads, np.float64),
                 reach=None if matrix is None else frozen_array(matrix),
                 reach_rows=None if rows is None else frozen_array(rows),
                 params=params, params_note=params_note)


def targets_per_sequence(dataset: Any) -> float:
    """Predicted targets per validation sequence, on average (classification: 1): loss per sequence / this =
    loss per token."""
    val = dataset.val
    if dataset.task == "classification" or len(val) == 0:
        return 1.0
    return sum(int(np.count_nonzero(np.asarray(t) != IGNORE)) for t in val.targets) / len(val)


def build_snapshot(trainer: Any, bptt: bool = False, reach: bool = False, state_space: Any = None,
                   flow: bool = True, parts: Any = None) -> Snapshot:
    """A frozen, copied record of everything the window draws (a few milliseconds). ``bptt``: the probe carries
    its slow-motion BPTT trace, ``reach`` its who-reaches-whom matrix (each costly: only when that view is shown).
    ``state_space``: a ``state_space.StateSpaceView`` whose frame the snapshot carries (only while that panel is
    shown). ``flow``: the gradient flow is measured for this step when the Trainer's last one is older (a forward
    and backward pass of the monitor batch, two for labelling and generation); False: the last one recorded is
    carried, ``grad_norms_step`` says its step. ``parts``: an ``amortize.LiveParts`` that gives the eigenvalues and
    the gradient flow (each on its own clock while training runs; their steps are carried); None: both of now."""
    ds, model, config = trainer.dataset, trainer.model, trainer.config
    steps, losses = trainer.loss_history.view()
    pg_steps, pg_values = trainer.param_grad_history.view()
    gf_steps, gf_values = trainer.grad_flow.view()
    sat_steps, sat_values = trainer.gate_saturation.view()
    evals = trainer.eval_history
    nan = float("nan")
    last = trainer.last_eval or {}
    blocks = model.W_blocks()
    k = ds.n_classes
    if parts is not None:
        eigs, eig_step = parts.eigenvalues(trainer)
        norms, norms_last, norms_c, flow_step = parts.gradient_flow(trainer, measure=flow)
    else:
        eigs, eig_step = eigenvalues_of(model), trainer.step_count
        flow_step = getattr(trainer, "monitor_step", -1)
        if flow_step == trainer.step_count or not flow:
            norms, norms_last, norms_c = trainer.monitor_norms, trainer.monitor_norms_last, trainer.monitor_norms_c
        else:
            norms, norms_last, norms_c = trainer.measure_monitor()
            flow_step = trainer.step_count
    monitor = trainer.monitor_batch
    probe = build_probe(trainer, bptt, reach) if len(ds.val) else None
    val_steps = np.array([e["step"] for e in evals], np.int64)
    val_loss = np.array([e["val_loss"] for e in evals], np.float64)
    return Snapshot(
        step=trainer.step_count, epoch=trainer.epoch, epoch_progress=trainer.epoch_progress,
        steps_per_second=trainer.steps_per_second, lr=trainer.lr, clip=config.clip, task=ds.task,
        cell=config.cell, classes=tuple(ds.classes), config=config.to_dict(), n_params=model.n_params,
        fault=trainer.fault,
        train_steps=frozen_array(steps), train_loss=frozen_array(losses[:, 0]),
        val_steps=frozen_array(val_steps), val_loss=frozen_array(val_loss),
        val_accuracy=frozen_array([nan if e["val_accuracy"] is None else e["val_accuracy"] for e in evals],
                                  np.float64),
        val_perplexity=frozen_array([nan if e["val_perplexity"] is None else e["val_perplexity"]
                                     for e in evals], np.float64),
        grad_norms=frozen_array(norms), grad_norms_last=frozen_array(norms_last),
        grad_flow_steps=frozen_array(gf_steps), grad_flow=frozen_array(gf_values),
        param_grad_steps=frozen_array(pg_steps),
        param_grad_norms={name: frozen_array(pg_values[:, j]) for j, name in enumerate(model.param_names)},
        confusion=frozen_array(last.get("confusion", np.zeros((k, k) if ds.task != "generation" else (0, 0),
                                                              np.int64))),
        per_class_accuracy=frozen_array(last.get("per_class_accuracy", np.full(k, nan))),
        W=frozen_array(model.params["W"]), gate_names=tuple(blocks),
        eigenvalues={g: frozen_array(e) for g, e in eigs.items()},
        spectral_radius={g: float(np.max(np.abs(e))) if e.size else nan for g, e in eigs.items()},
        probe=probe,
        sample_text=trainer.sample_text, sample_temperature=trainer.temperature,
        confusion_examples=dict(trainer.last_cells),
        markers=tuple(trainer.markers),
        grad_norms_step=int(flow_step), grad_norms_align=trainer.monitor_align,
        grad_norms_count=frozen_array(trainer.monitor_counts, np.int64),
        grad_norms_examples=frozen_array(monitor.index, np.int64),
        grad_norms_c=frozen_array(norms_c),
        gate_saturation_steps=frozen_array(sat_steps),
        gate_saturation={g: frozen_array(sat_values[:, j]) for j, g in enumerate(SIGMOID_GATES[config.cell])},
        state_space=state_space.frame(trainer, probe) if state_space is not None else None,
        val_loss_per_token=frozen_array(val_loss / targets_per_sequence(ds)),
        overfitting=overfit.detect(val_steps, val_loss, steps, losses[:, 0],
                                   min_steps=int(getattr(trainer, "steps_per_epoch", 0) or 0)),
        best_step=int(trainer.best["step"]) if getattr(trainer, "best", None) is not None else -1,
        sample_step=int(getattr(trainer, "sample_step", -1)), sample_prompt=getattr(trainer, "sample_prompt", ""),
        eigenvalues_step=int(eig_step),
    )
