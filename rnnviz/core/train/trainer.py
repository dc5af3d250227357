"""The training loop: batches, BPTT, optimiser, evaluation.

The Trainer knows nothing of any screen. A caller drives it one step at a time (``step()``), so a worker can
pause, change a live setting (``apply_live``) or stop between any two steps; others watch through callbacks and
its public fields (``rnnviz.core.explore.capture`` builds the Snapshot the window draws from them).
``state_dict()`` / ``load_state_dict()`` carry everything needed to go on exactly where a run stopped.
Same config and seed => identical numbers.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from rnnviz.core.config import LIVE_FIELDS, MARKED_FIELDS, Config, from_dict, validate
from rnnviz.core.data.batch import Batch, Dataset, iterate_batches, make_batch
from rnnviz.core.errors import TrainingFault
from rnnviz.core.nn import fixed_weights, gates, memory
from rnnviz.core.nn.model import RNNModel
from rnnviz.core.nn.optim import Optimizer, clip_global_norm
from rnnviz.core.train import confusion_cells, metrics
from rnnviz.core.train import grad_flow as aligned_flow
from rnnviz.core.train.history import History

LOSS_CAP = 20000        # training-loss and parameter-gradient history rows kept (decimated beyond)
GRAD_FLOW_CAP = 400     # gradient-flow heatmap rows kept
MARKER_CAP = 200        # setting-change markers kept (oldest dropped)
WEIGHT_LIMIT = 1e6      # a step that leaves any |weight| above this has exploded: fault (tanh/sigmoid saturate, relu overflows)
EVAL_CAP = 2000         # evaluations kept in eval_history (every second old one dropped when full; newest always kept)
EVAL_BATCH = 256
SAMPLE_PROMPT = 8       # generation: a sample starts from this many tokens of validation example 0 (its prompt)
HISTORIES = {"loss": "loss_history", "param_grad": "param_grad_history", "grad_flow": "grad_flow",
             "gate_saturation": "gate_saturation"}
HISTORY_CAPS = {"loss": LOSS_CAP, "param_grad": LOSS_CAP, "grad_flow": GRAD_FLOW_CAP,
                "gate_saturation": GRAD_FLOW_CAP}   # rows each keeps at most

FAULT_ADVICE = ("Exploding gradients: the products of dS_t/dS_(t-1) along the sequence grew without bound. "
                "Try gradient clipping (e.g. clip = 1), a lower learning rate, or a smaller spectral radius of W "
                "(below 1). The weights shown are those of the last good step.")


def memory_estimate(config: Config, dataset: Dataset) -> memory.Estimate:
    """The memory training ``config`` on ``dataset`` takes (``nn.memory``, with this Trainer's EVAL_BATCH and
    EVAL_CAP)."""
    return memory.estimate_for(config, dataset, EVAL_BATCH, EVAL_CAP)


def check_memory(config: Config, dataset: Dataset) -> memory.Estimate:
    """The estimate, or a ConfigError naming the setting to lower when it is over the memory budget."""
    return memory.check(config, memory_estimate(config, dataset))


class Trainer:
    """Trains an RNNModel on a Dataset one batch at a time.

    callbacks: objects with any of ``on_step(trainer, loss)``, ``on_evaluate(trainer, result)``,
    ``on_epoch_end(trainer)``.
    monitor_every: every this many steps the gradient flow of a fixed validation batch (``grad_flow``: the mean
    over its examples of ||dL_b/ds_t||) is recorded in ``grad_flow``; ``measure_monitor`` gives it for any step.
    """

    def __init__(self, config: Config, dataset: Dataset | None = None, callbacks: tuple = (),
                 monitor_every: int = 10):
        config = validate(config)
        if dataset is None:
            from rnnviz.core.data.load import load_dataset
            dataset = load_dataset(config)
        if dataset.task != config.task:
            config = config.replace(task=dataset.task)
        check_memory(config, dataset)          # ConfigError naming the setting to lower, before any allocation
        self._config = config
        self.dataset = dataset
        self.callbacks = list(callbacks)
        self.monitor_every = max(1, monitor_every)
        self.model = RNNModel(config, len(dataset.vocab), dataset.n_classes)
        if config.start_weights != "random":                 # a lesson's fixed numbers (nn.fixed_weights)
            fixed_weights.apply(self.model, config.start_weights, dataset.vocab.tokens, dataset.classes)
        self.optimizer = Optimizer(config.optimizer, self.model.flat, config.lr, config.momentum,
                                   config.weight_decay, self.model.matrix_mask.astype(self.model.dtype))
        self.pad_id = dataset.vocab.pad_id
        self.rng = np.random.default_rng(config.seed + 1)      # data order (weights use ``seed``)
        self.sample_rng = np.random.default_rng(config.seed + 2)
        n_train = len(dataset.train)
        self.steps_per_epoch = max(1, math.ceil(n_train / config.batch_size))
        self.step_count = 0
        self.epoch = 0
        self._order = self.rng.permutation(n_train)     # this epoch's data order
        self._pos = 0                                   # examples of it already taken
        self.fault: str | None = None
        self.markers: list[tuple[int, str]] = []     # (step, "lr 0.01→0.001"): live changes during training
        self.temperature = config.temperature
        self.last_grad_norm = 0.0
        self.last_loss = float("nan")
        self._step_seconds = 0.0
        self._last_good = self.model.flat.copy()          # weights and optimiser state before the current step
        self._good_m = self.optimizer.m.copy()
        self._good_v = self.optimizer.v.copy()
        self._good_t = self.optimizer.t
        self.eval_cap = EVAL_CAP
        names = self.model.param_names
        self.loss_history = History(1, HISTORY_CAPS["loss"])
        self.param_grad_history = History(len(names), HISTORY_CAPS["param_grad"])
        self.eval_history: list[dict] = []
        self.last_eval: dict | None = None
        self.last_cells: dict[str, np.ndarray] = {}     # confusion_cells of the last evaluation ({} before one)
        self.best: dict[str, Any] | None = None         # the weights at the lowest validation loss (restore_best)
        self.sample_text = ""                           # generation: sample_prompt, then the sampled tokens
        self.sample_step = -1                           # the step sample_text was sampled at (-1: none yet)
        monitor_n = min(config.batch_size, len(dataset.val))
        self.monitor_batch = make_batch(dataset.val, np.arange(monitor_n), self.pad_id, dataset.task)
        self.grad_flow = History(self.monitor_batch.ids.shape[1], HISTORY_CAPS["grad_flow"])
        self.monitor_align = aligned_flow.alignment(dataset.task, self.monitor_batch.lengths)
        self.monitor_counts = aligned_flow.counts(self.monitor_batch.lengths, self.monitor_batch.ids.shape[1],
                                               self.monitor_align)
        self.monitor_norms = np.zeros(self.monitor_batch.ids.shape[1])
        self.monitor_norms_last = self.monitor_norms
        self.monitor_norms_c = np.zeros(0)              # LSTM: ||dL/dc_t|| of the monitor batch (else empty)
        self.monitor_step = -1                          # the step monitor_norms were measured at (-1: unknown)
        # share of saturated sigmoid-gate values on the monitor batch (nn.gates.saturation), one column per gate of
        # gates.SIGMOID_GATES[cell] (none for the vanilla RNN), recorded with the gradient flow
        self.gate_saturation = History(len(gates.SIGMOID_GATES[config.cell]), GRAD_FLOW_CAP)
        self.probe_index = 0                            # the validation example the window looks inside
        self.probe_tokens: list[str] | None = None      # or typed tokens instead (core.explore.typed_probe)
        self.record_monitor()

    # ---------------------------------------------------------------------------------------- settings
    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, new: Config) -> None:
        """Replacing the settings between steps: a changed MARKED_FIELDS setting after step 0 leaves a marker."""
        old, self._config = self._config, new
        for key in MARKED_FIELDS:
            if getattr(old, key) != getattr(new, key):
                self.add_marker(key, getattr(old, key), getattr(new, key))

    def add_marker(self, key: str, old: float, new: float) -> None:
        """Record "key old→new" at the current step (only once training has started; at most MARKER_CAP kept).

        Several changes of one setting between the same two steps (a slider dragged while paused) make one
        marker from the first old value to the last new one, and none when it ends where it began."""
        if self.step_count <= 0:
            return
        if self.markers and self.markers[-1][0] == self.step_count and self.markers[-1][1].startswith(key + " "):
            old_text = self.markers.pop()[1][len(key) + 1:].split("\u2192")[0]
            if old_text == f"{new:g}":
                return
            self.markers.append((self.step_count, f"{key} {old_text}\u2192{new:g}"))
        else:
            self.markers.append((self.step_count, f"{key} {old:g}\u2192{new:g}"))
        del self.markers[:-MARKER_CAP]

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def apply_live(self, key: str, value: Any) -> None:
        """Put the live setting ``key`` (one of LIVE_FIELDS) in force between two steps.

        lr goes to the optimiser, clip and epochs to the settings (each leaves a marker once training has
        started); temperature resamples the generated text (and leaves a marker too). Any other key is a
        ValueError: changing it needs a new Trainer."""
        if key == "lr":
            self.config = self.config.replace(lr=float(value))
            self.optimizer.lr = float(value)
        elif key == "clip":
            self.config = self.config.replace(clip=float(value))
        elif key == "epochs":
            self.config = self.config.replace(epochs=int(value))
        elif key == "eval_every":
            self.config = self.config.replace(eval_every=int(value))
        elif key == "temperature":
            temperature = max(0.0, float(value))
            if temperature != self.temperature:
                self.add_marker("temperature", self.temperature, temperature)
            self.temperature = temperature
            if self.dataset.task == "generation":
                self._sample()
        else:
            raise ValueError(f"{key} is not a live setting (live: {', '.join(sorted(LIVE_FIELDS))}); "
                             f"changing it needs a new model")

    def set_probe(self, index: int) -> None:
        """Make validation example ``index`` the probe sequence."""
        if not 0 <= index < len(self.dataset.val):
            raise IndexError(f"probe index {index} outside 0..{len(self.dataset.val) - 1}")
        self.probe_index = int(index)
        self.probe_tokens = None

    def set_probe_text(self, tokens: list[str]) -> None:
        """Probe with typed tokens (unknown ones read as <unk>)."""
        self.probe_tokens = list(tokens) if tokens else None

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    @property
    def epoch_progress(self) -> float:
        """The share of this epoch's training examples already taken, in [0, 1]."""
        return self._pos / max(len(self._order), 1)

    # -------------------------------------------------------------------------------------------- steps
    def _next_batch(self) -> Batch:
        idx = self._order[self._pos : self._pos + self.config.batch_size]
        self._pos += len(idx)
        return make_batch(self.dataset.train, idx, self.pad_id, self.dataset.task)

    def step(self) -> float:
        """One training batch: forward, BPTT, clipping, optimiser update. Returns the batch loss.

        Raises TrainingFault (and sets ``fault``) in the very step where the loss, the gradient (its norm) or the
        new weights stop being finite (or grow past WEIGHT_LIMIT), or a floating-point error/overflow warning
        escapes NumPy. The Trainer is
        then exactly as before that step: weights, optimiser state (Adam m, v, t) and data position (the same
        batch comes again), and no history row was written.
        """
        if self.fault:
            raise TrainingFault(self.fault)
        start = time.perf_counter()
        pos = self._pos
        batch = self._next_batch()
        model, cfg, opt = self.model, self.config, self.optimizer
        norm, stepped = float("nan"), False
        try:
            with np.errstate(all="ignore"):
                res = model.loss_and_grads(batch)
                grad = model.grad
                opt.add_weight_decay(grad)
                norm = clip_global_norm(grad, cfg.clip)
                if not math.isfinite(res.loss):
                    self._fail("the loss", norm, pos)
                if not math.isfinite(norm):
                    self._fail("the gradient", norm, pos)
                np.copyto(self._last_good, model.flat)
                np.copyto(self._good_m, opt.m)
                np.copyto(self._good_v, opt.v)
                self._good_t, stepped = opt.t, True
                opt.step(grad)
                peak = float(np.max(np.abs(model.flat)))     # NaN when any weight is NaN
                if not peak <= WEIGHT_LIMIT:
                    what = ("the weights" if not math.isfinite(peak) else
                            f"the weights grew past {WEIGHT_LIMIT:.0e} (largest |weight| {peak:.3g}) and")
                    self._fail(what, norm, pos, rollback=True)
        except TrainingFault:
            raise
        except (FloatingPointError, OverflowError, RuntimeWarning) as exc:   # np.seterr/warnings set to raise
            self._fail(f"a value ({type(exc).__name__}: {exc})", norm, pos, rollback=stepped)
        self.step_count += 1
        self.last_loss, self.last_grad_norm = res.loss, norm
        self.loss_history.append(self.step_count, res.loss)
        g2 = grad * grad
        self.param_grad_history.append(self.step_count, np.sqrt(np.add.reduceat(g2, model.offsets[:-1])))
        if self.step_count % self.monitor_every == 0:
            self.record_monitor()
        elapsed = time.perf_counter() - start
        self._step_seconds = elapsed if self._step_seconds == 0 else 0.9 * self._step_seconds + 0.1 * elapsed
        for cb in self.callbacks:
            getattr(cb, "on_step", lambda *a: None)(self, res.loss)
        if self._pos >= len(self._order):
            self._end_epoch()
        elif cfg.eval_every and self.step_count % cfg.eval_every == 0:
            self.evaluate()
        return res.loss

    def _fail(self, what: str, norm: float, pos: int | None = None, rollback: bool = False) -> None:
        """Enter the fault state: put back the state from before the step (weights and optimiser when
        ``rollback``, the data position ``pos``), explain what went wrong, raise TrainingFault."""
        if rollback:
            np.copyto(self.model.flat, self._last_good)
            np.copyto(self.optimizer.m, self._good_m)
            np.copyto(self.optimizer.v, self._good_v)
            self.optimizer.t = self._good_t
        if pos is not None:
            self._pos = pos
        self.last_grad_norm = norm
        verb = "are about to become" if what.endswith(" and") else "became"
        self.fault = (f"Training paused at step {self.step_count + 1}: {what} {verb} NaN or infinite "
                      f"(gradient norm before clipping: {norm:.3g}, learning rate {self.lr:.3g}, "
                      f"clip {self.config.clip:.3g}). {FAULT_ADVICE}")
        raise TrainingFault(self.fault)

    def _end_epoch(self) -> None:
        self.epoch += 1
        self._order = self.rng.permutation(len(self.dataset.train))
        self._pos = 0
        self.evaluate()
        for cb in self.callbacks:
            getattr(cb, "on_epoch_end", lambda *a: None)(self)

    def run_epoch(self) -> None:
        """Train to the end of the current epoch."""
        start_epoch = self.epoch
        while self.epoch == start_epoch:
            self.step()

    def train(self, epochs: int | None = None, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Train until ``epochs`` epochs are complete (default: the config's) or ``should_stop()``."""
        target = self.config.epochs if epochs is None else epochs
        while self.epoch < target and not should_stop():
            self.step()

    def restore_last_good(self) -> None:
        """Clear a fault and go on from the last good step (e.g. after lowering the learning rate).

        ``step`` already put the weights, the optimiser state and the data position back when it faulted, so
        the next step retries the faulty batch from exactly the state before it."""
        self.fault = None

    # ------------------------------------------------------------------------------------------ measures
    def record_monitor(self, restart: bool = False) -> None:
        """Record the gradient flow of the fixed monitor batch (does not change the weights). ``restart``: drop
        the rows recorded so far first (the weights were replaced before the first step, as in an A/B race)."""
        if restart:
            self.grad_flow = History(self.grad_flow.values.shape[1], self.grad_flow.capacity)
            self.gate_saturation = History(self.gate_saturation.values.shape[1], self.gate_saturation.capacity)
        with np.errstate(all="ignore"):
            self.monitor_norms, self.monitor_norms_last, self.monitor_norms_c = aligned_flow.measure(
                self.model, self.monitor_batch, self.dataset.task, self.monitor_align, on_forward=self._saturation)
        self.monitor_step = self.step_count
        self.grad_flow.append(self.step_count, self.monitor_norms)

    def _saturation(self, forward: Any) -> None:
        """Record the share of saturated sigmoid-gate values of the monitor batch's forward pass (not the RNN)."""
        if self.config.cell != "rnn":
            self.gate_saturation.append(self.step_count, gates.saturation(
                self.config.cell, forward.caches[-1][0].cell, forward.mask))

    def measure_monitor(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(norms, norms_last, norms_c) of the monitor batch with the weights of now, as ``record_monitor`` measures
        them, without recording them and without changing how the next step runs (the float32 flush flag a
        backward pass sets is put back)."""
        flush = self.model.flush_subnormal
        try:
            with np.errstate(all="ignore"):
                return aligned_flow.measure(self.model, self.monitor_batch, self.dataset.task, self.monitor_align)
        finally:
            self.model.flush_subnormal = flush

    def evaluate(self) -> dict:
        """Loss, accuracy, per-class accuracy and confusion matrix on the whole validation split."""
        ds, k = self.dataset, self.dataset.n_classes
        loss_sum, n_targets = 0.0, 0
        kk = k if ds.task != "generation" else 0        # generation has no confusion matrix (k: the vocabulary)
        confusion = np.zeros((kk, kk), dtype=np.int64)
        cells = []      # which examples (and positions) make each count: core.confusion_cells
        with np.errstate(all="ignore"):
            for batch in iterate_batches(ds.val, EVAL_BATCH, self.pad_id, ds.task):
                s, n, probs = self.model.evaluate(batch)
                loss_sum += s
                n_targets += n
                if ds.task != "generation":
                    confusion += metrics.confusion_matrix(batch.targets, probs.argmax(axis=-1), k)
                    cells.append(confusion_cells.collect(batch, probs.argmax(axis=-1)))
        self.last_cells = confusion_cells.merge(cells) if ds.task != "generation" else {}
        n_val = len(ds.val)
        result = {
            "step": self.step_count,
            "epoch": self.epoch,
            "val_loss": loss_sum / n_val,
            "val_accuracy": metrics.accuracy(confusion) if ds.task != "generation" else None,
            "val_perplexity": math.exp(min(loss_sum / max(n_targets, 1), 700)) if ds.task == "generation" else None,
            "confusion": confusion if ds.task != "generation" else np.zeros((0, 0), dtype=np.int64),
            "per_class_accuracy": metrics.per_class_accuracy(confusion) if ds.task != "generation" else np.zeros(0),
            "train_loss": self.last_loss,
        }
        self.last_eval = result
        if math.isfinite(result["val_loss"]) and (self.best is None or result["val_loss"] < self.best["val_loss"]):
            self.best = {"step": self.step_count, "val_loss": result["val_loss"], "params": self.model.flat.copy(),
                         "m": self.optimizer.m.copy(), "v": self.optimizer.v.copy(), "t": int(self.optimizer.t)}
        if len(self.eval_history) >= self.eval_cap:     # bounded: thin the old ones, the newest always stays
            del self.eval_history[1::2]
        self.eval_history.append(result)
        if ds.task == "generation":
            self._sample()
        for cb in self.callbacks:
            getattr(cb, "on_evaluate", lambda *a: None)(self, result)
        return result

    def restore_best(self) -> int:
        """Go back to the weights (and optimiser state) of the lowest validation loss so far, kept at each new best
        evaluation; training goes on from there (the step count and the data order go on). A marker says so and the
        validation split is evaluated again. Returns the step whose weights were restored; ValueError before any
        evaluation."""
        if self.best is None:
            raise ValueError("no evaluation yet: there are no best weights to go back to")
        best = self.best
        np.copyto(self.model.flat, best["params"])
        np.copyto(self.optimizer.m, best["m"])
        np.copyto(self.optimizer.v, best["v"])
        self.optimizer.t = best["t"]
        self.fault = None
        self.markers.append((self.step_count, f"weights of step {best['step']}"))
        del self.markers[:-MARKER_CAP]
        self.evaluate()
        return int(best["step"])

    def _prompt_ids(self) -> list[int]:
        """The tokens every sample starts from: the first ``SAMPLE_PROMPT`` of validation example 0 (<unk> when
        there is no validation example)."""
        vocab = self.dataset.vocab
        return list(self.dataset.val.ids[0][:SAMPLE_PROMPT]) if len(self.dataset.val) else [vocab.unk_id]

    @property
    def sample_prompt(self) -> str:
        """The text ``sample_text`` starts with: given to the model, not sampled ("" before the first sample)."""
        if not self.sample_text:
            return ""
        join = "" if self.dataset.tokenizer == "char" else " "
        return join.join(self.dataset.vocab.decode(self._prompt_ids()))

    def _sample(self, n: int = 240) -> None:
        """Sample ``n`` tokens after the prompt (``_prompt_ids``) at ``temperature``; note the step."""
        vocab = self.dataset.vocab
        prompt = self._prompt_ids()
        with np.errstate(all="ignore"):
            specials = (vocab.pad_id, vocab.unk_id, vocab.sos_id, vocab.eos_id)
            out = self.model.generate(prompt, n, self.temperature, self.sample_rng, exclude=specials)
        join = "" if self.dataset.tokenizer == "char" else " "
        self.sample_text = join.join(vocab.decode(list(prompt) + out))
        self.sample_step = self.step_count

    @property
    def steps_per_second(self) -> float:
        return 1.0 / self._step_seconds if self._step_seconds > 0 else 0.0

    # -------------------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to go on exactly from here, as copies (plain values and NumPy arrays): the settings
        in force, the weights, the optimiser state (m, v, t), step and epoch, this epoch's data order and the
        position in it, both random generators, the histories, the evaluations, the markers, the probe choice,
        the fault and the last measurements. Call between two steps; ``load_state_dict`` takes it back."""
        model, opt = self.model, self.optimizer
        evals = self.eval_history
        return {
            "config": self.config.to_dict(),
            "params": {name: model.get(name) for name in model.param_names},
            "optimizer": {"m": opt.m.copy(), "v": opt.v.copy(), "t": int(opt.t)},
            "flush_subnormal": model.flush_subnormal,
            "step_count": int(self.step_count), "epoch": int(self.epoch),
            "order": np.array(self._order, dtype=np.int64), "pos": int(self._pos),
            "rng": self.rng.bit_generator.state, "sample_rng": self.sample_rng.bit_generator.state,
            "fault": self.fault, "temperature": float(self.temperature),
            "last_loss": float(self.last_loss), "last_grad_norm": float(self.last_grad_norm),
            "sample_text": self.sample_text, "sample_step": int(self.sample_step),
            "probe_index": int(self.probe_index),
            "probe_tokens": list(self.probe_tokens) if self.probe_tokens is not None else None,
            "markers": [(int(s), str(t)) for s, t in self.markers],
            "monitor_every": int(self.monitor_every),
            "monitor_norms": np.array(self.monitor_norms), "monitor_norms_last": np.array(self.monitor_norms_last),
            "monitor_norms_c": np.array(self.monitor_norms_c),
            "histories": {key: getattr(self, attr).state_dict() for key, attr in HISTORIES.items()},
            "eval_cap": int(self.eval_cap),
            "evals": [{k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in e.items()} for e in evals],
            "last_eval_is_latest": self.last_eval is not None and bool(evals) and self.last_eval is evals[-1],
            "last_cells": dict(self.last_cells),        # read-only arrays: shared, not copied
            "best": None if self.best is None else {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                                    for k, v in self.best.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on from ``state`` (a ``state_dict`` of a Trainer with the same settings and data; the live settings
        in it may differ and are taken over). Everything is checked before anything changes: a state that does
        not fit this Trainer raises ValueError (KeyError for a missing part) and leaves the Trainer as it was."""
        model, opt = self.model, self.optimizer
        config = from_dict(state["config"])
        other = [k for k, v in config.to_dict().items() if getattr(self.config, k) != v and k not in LIVE_FIELDS]
        if other:
            raise ValueError("the state was saved with other settings: " + ", ".join(
                f"{k} {getattr(config, k)!r} (here {getattr(self.config, k)!r})" for k in other))
        params = {name: np.asarray(value) for name, value in state["params"].items()}
        if sorted(params) != sorted(model.param_names):
            raise ValueError(f"the state has parameters {sorted(params)}, the model {sorted(model.param_names)}")
        for name, value in params.items():
            if value.shape != model.params[name].shape:
                raise ValueError(f"parameter {name} has shape {value.shape}, the model {model.params[name].shape}")
        m, v = np.asarray(state["optimizer"]["m"]), np.asarray(state["optimizer"]["v"])
        if m.shape != opt.m.shape or v.shape != opt.v.shape:
            raise ValueError(f"optimiser state of {m.shape} / {v.shape} values, the model has {opt.m.shape}")
        if not (np.isfinite(m).all() and np.isfinite(v).all()) or (v < 0).any():
            raise ValueError("optimiser state m, v must be finite, and v (a mean of squares) not negative")
        order, pos = np.asarray(state["order"], dtype=np.int64), int(state["pos"])
        n_train = len(self.dataset.train)
        if order.shape != (n_train,) or not 0 <= pos <= n_train:
            raise ValueError(f"data order of {order.size} examples at position {pos}; the data have {n_train}")
        if not np.array_equal(np.sort(order), np.arange(n_train)):
            raise ValueError(f"the data order is not an order of the {n_train} training examples")
        step_count, epoch, t = int(state["step_count"]), int(state["epoch"]), int(state["optimizer"]["t"])
        if not (0 <= epoch <= step_count and t >= 0):
            raise ValueError(f"step {step_count}, epoch {epoch}, optimiser step {t}: an epoch takes at least a "
                             f"step, and none is negative")
        temperature = float(state["temperature"])
        if not (math.isfinite(temperature) and temperature >= 0):
            raise ValueError(f"sampling temperature {temperature} (must be finite and not negative)")
        for key, attr in HISTORIES.items():      # before anything is allocated from the state's numbers
            capacity, own = int(state["histories"][key]["capacity"]), getattr(self, attr).capacity
            if not 4 <= capacity <= own:
                raise ValueError(f"history {key} of capacity {capacity}; this Trainer keeps at most {own} rows")
        histories = {key: History.from_state(state["histories"][key]) for key in HISTORIES}
        for key, attr in HISTORIES.items():
            width, want = histories[key].values.shape[1], getattr(self, attr).values.shape[1]
            if width != want:
                raise ValueError(f"history {key} has {width} columns, this Trainer {want}")
        monitor = np.array(state["monitor_norms"]), np.array(state["monitor_norms_last"])
        if any(a.shape != self.monitor_norms.shape for a in monitor):
            raise ValueError(f"monitor gradient flow of {monitor[0].shape}, "
                             f"the monitor batch {self.monitor_norms.shape}")
        for key, rng in (("rng", self.rng), ("sample_rng", self.sample_rng)):
            type(rng.bit_generator)().state = state[key]      # raises for a state of another kind
        probe_index = int(state["probe_index"])
        if not 0 <= probe_index < max(len(self.dataset.val), 1):
            raise ValueError(f"probe index {probe_index} outside the {len(self.dataset.val)} validation examples")
        evals = [{k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in e.items()}
                 for e in state["evals"]]
        tokens = state["probe_tokens"]
        plain = {"step_count": step_count, "epoch": epoch, "fault": state["fault"],
                 "temperature": temperature, "last_loss": float(state["last_loss"]),
                 "last_grad_norm": float(state["last_grad_norm"]), "sample_text": str(state["sample_text"]),
                 "sample_step": int(state.get("sample_step", -1)),       # (older states: unknown)
                 "probe_index": probe_index, "probe_tokens": list(tokens) if tokens is not None else None,
                 "markers": [(int(s), str(t)) for s, t in state["markers"]],
                 "monitor_every": max(1, int(state["monitor_every"])), "eval_cap": int(state["eval_cap"]),
                 "eval_history": evals, "last_cells": dict(state["last_cells"]),
                 "last_eval": evals[-1] if evals and state["last_eval_is_latest"] else None}
        best = state.get("best")            # absent in a state saved before best weights were kept
        if best is not None:
            best = {"step": int(best["step"]), "val_loss": float(best["val_loss"]),
                    **{k: np.array(best[k], dtype=model.flat.dtype) for k in ("params", "m", "v")},
                    "t": int(best["t"])}
            if any(best[k].shape != model.flat.shape for k in ("params", "m", "v")):
                raise ValueError(f"best weights of {best['params'].shape}, the model has {model.flat.shape}")
            if not (0 <= best["step"] <= step_count and 0 <= best["t"] <= t):
                raise ValueError(f"best weights of step {best['step']} (optimiser step {best['t']}); the state is "
                                 f"at step {step_count} (optimiser step {t})")
            if not all(np.isfinite(best[k]).all() for k in ("params", "m", "v")) or (best["v"] < 0).any():
                raise ValueError("best weights and their optimiser state must be finite, v not negative")
        plain["best"] = best
        flush = bool(state["flush_subnormal"])
        # everything is read and fits: take it over
        self._config = config
        for name, value in params.items():
            model.set(name, value)
        opt.load_state({"m": m, "v": v, "t": t})
        opt.lr = config.lr
        model.flush_subnormal = flush
        np.copyto(self._last_good, model.flat)
        np.copyto(self._good_m, opt.m)
        np.copyto(self._good_v, opt.v)
        self._good_t = opt.t
        self._order, self._pos = order.copy(), pos
        self.rng.bit_generator.state = state["rng"]
        self.sample_rng.bit_generator.state = state["sample_rng"]
        self.monitor_norms, self.monitor_norms_last = monitor
        self.monitor_norms_c = np.array(state.get("monitor_norms_c", np.zeros(0)))   # (older states: none)
        self.monitor_step = -1                          # measured again when a snapshot needs it
        for key, attr in HISTORIES.items():
            setattr(self, attr, histories[key])
        for name, value in plain.items():
            setattr(self, name, value)
