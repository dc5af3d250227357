"""The training loop: batches, BPTT, optimiser, evaluation and the Snapshots the window draws.

The Trainer knows nothing of any screen. A caller drives it one step at a time (``step()``), so a worker can
pause, change the learning rate or stop between any two steps; others watch through callbacks and
``snapshot()``. Same config and seed => identical numbers.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from rnnviz.core.config import MARKED_FIELDS, Config, validate
from rnnviz.core.data.batch import IGNORE, Batch, Dataset, iterate_batches, make_batch
from rnnviz.core.errors import TrainingFault
from rnnviz.core.explore import bptt_trace
from rnnviz.core.explore.typed_probe import typed_targets
from rnnviz.core.nn.model import RNNModel
from rnnviz.core.nn.optim import Optimizer, clip_global_norm
from rnnviz.core.snapshot import Probe, Snapshot, frozen_array
from rnnviz.core.train import confusion_cells, metrics
from rnnviz.core.train.history import History

LOSS_CAP = 20000        # training-loss and parameter-gradient history rows kept (decimated beyond)
GRAD_FLOW_CAP = 400     # gradient-flow heatmap rows kept
MARKER_CAP = 200        # setting-change markers kept (oldest dropped)
WEIGHT_LIMIT = 1e6      # a step that leaves any |weight| above this has exploded: fault (tanh/sigmoid saturate, relu overflows)
EVAL_CAP = 2000         # evaluations kept in eval_history (every second old one dropped when full; newest always kept)
EVAL_BATCH = 256

FAULT_ADVICE = ("Exploding gradients: the products of dS_t/dS_(t-1) along the sequence grew without bound. "
                "Try gradient clipping (e.g. clip = 1), a lower learning rate, or a smaller spectral radius of W "
                "(below 1). The weights shown are those of the last good step.")


class Trainer:
    """Trains an RNNModel on a Dataset one batch at a time.

    callbacks: objects with any of ``on_step(trainer, loss)``, ``on_evaluate(trainer, result)``,
    ``on_epoch_end(trainer)``.
    monitor_every: every this many steps the gradient flow of a fixed validation batch is recorded.
    """

    def __init__(self, config: Config, dataset: Dataset | None = None, callbacks: tuple = (),
                 monitor_every: int = 10):
        config = validate(config)
        if dataset is None:
            from rnnviz.core.data.load import load_dataset
            dataset = load_dataset(config)
        if dataset.task != config.task:
            config = config.replace(task=dataset.task)
        self.config = config
        self.dataset = dataset
        self.callbacks = list(callbacks)
        self.monitor_every = max(1, monitor_every)
        self.model = RNNModel(config, len(dataset.vocab), dataset.n_classes)
        self.optimizer = Optimizer(config.optimizer, self.model.flat, config.lr, config.momentum,
                                   config.weight_decay, self.model.matrix_mask.astype(self.model.dtype))
        self.pad_id = dataset.vocab.pad_id
        self.rng = np.random.default_rng(config.seed + 1)      # data order (weights use ``seed``)
        self.sample_rng = np.random.default_rng(config.seed + 2)
        n_train = len(dataset.train)
        self.steps_per_epoch = max(1, math.ceil(n_train / config.batch_size))
        self.step_count = 0
        self.epoch = 0
        self._order = self.rng.permutation(n_train)
        self._pos = 0
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
        self.loss_history = History(1, LOSS_CAP)
        self.param_grad_history = History(len(names), LOSS_CAP)
        self.eval_history: list[dict] = []
        self.last_eval: dict | None = None
        self.sample_text = ""
        monitor_n = min(config.batch_size, len(dataset.val))
        self.monitor_batch = make_batch(dataset.val, np.arange(monitor_n), self.pad_id, dataset.task)
        self.grad_flow = History(self.monitor_batch.ids.shape[1], GRAD_FLOW_CAP)
        self.monitor_norms = np.zeros(self.monitor_batch.ids.shape[1])
        self.monitor_norms_last = self.monitor_norms
        self.probe_index = 0
        self.probe_tokens: list[str] | None = None
        self.trace_bptt = False         # add the slow-motion BPTT trace (core.bptt_trace) to each probe
        self._record_monitor()

    # ---------------------------------------------------------------------------------------- settings
    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, new: Config) -> None:
        """Replacing the settings between steps: a changed MARKED_FIELDS setting after step 0 leaves a marker."""
        old = getattr(self, "_config", None)
        self._config = new
        if old is not None:
            for key in MARKED_FIELDS:
                if getattr(old, key) != getattr(new, key):
                    self.add_marker(key, getattr(old, key), getattr(new, key))

    def add_marker(self, key: str, old: float, new: float) -> None:
        """Record "key old→new" at the current step (only once training has started; at most MARKER_CAP kept).

        Several changes of one setting between the same two steps (a slider dragged while paused) make one
        marker from the first old value to the last new one, and none when it ends where it began."""
        if getattr(self, "step_count", 0) <= 0:
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

    def set_lr(self, lr: float) -> None:
        """Change the learning rate between steps."""
        self.config = self.config.replace(lr=float(lr))
        self.optimizer.lr = float(lr)

    def set_clip(self, clip: float) -> None:
        self.config = self.config.replace(clip=float(clip))

    def set_temperature(self, temperature: float) -> None:
        if max(0.0, float(temperature)) != self.temperature:
            self.add_marker("temperature", self.temperature, max(0.0, float(temperature)))
        self.temperature = max(0.0, float(temperature))
        if self.dataset.task == "generation":
            self._sample()

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
            self._record_monitor()
        elapsed = time.perf_counter() - start
        self._step_seconds = elapsed if self._step_seconds == 0 else 0.9 * self._step_seconds + 0.1 * elapsed
        for cb in self.callbacks:
            getattr(cb, "on_step", lambda *a: None)(self, res.loss)
        if self._pos >= len(self._order):
            self._end_epoch()
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
    def _record_monitor(self) -> None:
        """Gradient flow of the fixed monitor batch (does not change the weights)."""
        with np.errstate(all="ignore"):
            res = self.model.loss_and_grads(self.monitor_batch)
            self.monitor_norms = res.grad_norms.copy()
            if self.dataset.task != "classification":
                self.monitor_norms_last = self.model.loss_and_grads(self.monitor_batch, only_last=True).grad_norms
            else:
                self.monitor_norms_last = self.monitor_norms
        self.grad_flow.append(self.step_count, self.monitor_norms)

    def evaluate(self) -> dict:
        """Loss, accuracy, per-class accuracy and confusion matrix on the whole validation split."""
        ds, k = self.dataset, self.dataset.n_classes
        loss_sum, n_targets = 0.0, 0
        confusion = np.zeros((k, k), dtype=np.int64)
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
        if len(self.eval_history) >= self.eval_cap:     # bounded: thin the old ones, the newest always stays
            del self.eval_history[1::2]
        self.eval_history.append(result)
        if ds.task == "generation":
            self._sample()
        for cb in self.callbacks:
            getattr(cb, "on_evaluate", lambda *a: None)(self, result)
        return result

    def _sample(self, n: int = 240) -> None:
        vocab = self.dataset.vocab
        prompt = list(self.dataset.val.ids[0][:8]) if len(self.dataset.val) else [vocab.unk_id]
        with np.errstate(all="ignore"):
            specials = (vocab.pad_id, vocab.unk_id, vocab.sos_id, vocab.eos_id)
            out = self.model.generate(prompt, n, self.temperature, self.sample_rng, exclude=specials)
        join = "" if self.dataset.tokenizer == "char" else " "
        self.sample_text = join.join(vocab.decode(list(prompt) + out))

    def probe(self) -> Probe:
        """Hidden states, predictions and gradient flow of the probe sequence."""
        ds, model = self.dataset, self.model
        if self.probe_tokens is not None:
            tokens = list(self.probe_tokens)
            ids = ds.vocab.encode(tokens)
            tokens = [t if i != ds.vocab.unk_id else "<unk>" for t, i in zip(tokens, ids)]
            target = np.full(len(ids), IGNORE) if ds.task != "classification" else np.array(IGNORE)
            source = "typed"
        else:
            i = self.probe_index
            tokens, ids = list(ds.val.tokens[i]), np.asarray(ds.val.ids[i])
            target = np.asarray(ds.val.targets[i])
            source = f"validation #{i}"
        T = len(ids)
        with np.errstate(all="ignore"):
            fw = model.forward(ids[None, :], np.array([T]))
            states = fw.top[:, 0, :]
            cache = fw.caches[-1][0].cell
            pre = (cache.pre if cache.pre is not None else cache.A)[:, 0, :]
            grad_target, target_from = target, "label"
            if source == "typed":   # no label: see core.typed_probe for what the gradient is taken against
                target, grad_target, target_from = typed_targets(ds.task, ids, model.predict(ids[None, :],
                                                                                             np.array([T]))[0])
            batch = Batch(ids=ids[None, :], lengths=np.array([T]), index=np.array([0]),
                          targets=(grad_target[None] if grad_target.ndim else np.array([int(grad_target)])))
            if (grad_target != IGNORE).any():
                res = model.loss_and_grads(batch)
                probs, norms = res.probs[0], res.grad_norms
            else:
                probs, norms, target_from = model.predict(batch.ids, batch.lengths)[0], np.full(T, np.nan), ""
            slow = (bptt_trace.trace(model, ids, grad_target)
                    if getattr(self, "trace_bptt", False) and target_from else None)
        predicted = probs.argmax(axis=-1)
        return Probe(tokens=tuple(tokens), ids=frozen_array(ids), states=frozen_array(states),
                     probs=frozen_array(probs), target=frozen_array(target), predicted=frozen_array(predicted),
                     grad_norms=frozen_array(norms), preact=frozen_array(pre), source=source,
                     target_from=target_from, bptt=slow)

    @property
    def steps_per_second(self) -> float:
        return 1.0 / self._step_seconds if self._step_seconds > 0 else 0.0

    def snapshot(self) -> Snapshot:
        """A frozen, copied record of everything the window draws (a few milliseconds)."""
        ds, model = self.dataset, self.model
        steps, losses = self.loss_history.view()
        pg_steps, pg_values = self.param_grad_history.view()
        gf_steps, gf_values = self.grad_flow.view()
        evals = self.eval_history
        nan = float("nan")
        last = self.last_eval or {}
        blocks = model.W_blocks()
        with np.errstate(all="ignore"):
            eigs = {g: np.linalg.eigvals(b.astype(np.float64)) if np.isfinite(b).all() else np.zeros(0, complex)
                    for g, b in blocks.items()}
        k = ds.n_classes
        return Snapshot(
            step=self.step_count, epoch=self.epoch, epoch_progress=self._pos / max(len(self._order), 1),
            steps_per_second=self.steps_per_second, lr=self.lr, clip=self.config.clip, task=ds.task,
            cell=self.config.cell, classes=tuple(ds.classes), config=self.config.to_dict(), n_params=model.n_params,
            fault=self.fault,
            train_steps=frozen_array(steps), train_loss=frozen_array(losses[:, 0]),
            val_steps=frozen_array([e["step"] for e in evals], np.int64),
            val_loss=frozen_array([e["val_loss"] for e in evals], np.float64),
            val_accuracy=frozen_array([nan if e["val_accuracy"] is None else e["val_accuracy"] for e in evals],
                                      np.float64),
            val_perplexity=frozen_array([nan if e["val_perplexity"] is None else e["val_perplexity"]
                                         for e in evals], np.float64),
            grad_norms=frozen_array(self.monitor_norms), grad_norms_last=frozen_array(self.monitor_norms_last),
            grad_flow_steps=frozen_array(gf_steps), grad_flow=frozen_array(gf_values),
            param_grad_steps=frozen_array(pg_steps),
            param_grad_norms={name: frozen_array(pg_values[:, j]) for j, name in enumerate(model.param_names)},
            confusion=frozen_array(last.get("confusion", np.zeros((k, k) if ds.task != "generation" else (0, 0),
                                                                  np.int64))),
            per_class_accuracy=frozen_array(last.get("per_class_accuracy", np.full(k, nan))),
            W=frozen_array(model.params["W"]), gate_names=tuple(blocks),
            eigenvalues={g: frozen_array(e) for g, e in eigs.items()},
            spectral_radius={g: float(np.max(np.abs(e))) if e.size else nan for g, e in eigs.items()},
            probe=self.probe() if len(ds.val) else None,
            sample_text=self.sample_text, sample_temperature=self.temperature,
            confusion_examples=dict(getattr(self, "last_cells", {}) or {}),
            markers=tuple(self.markers),
        )
