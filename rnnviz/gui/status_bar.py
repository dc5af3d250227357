"""The main window's status bar: the training state, epochs, step, speed, losses and the epoch's progress, from a
Snapshot; each field keeps its numbers whole on a small screen (``gui.fitting.FittingLabel``)."""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from rnnviz.core.snapshot import LOSS_PER_TOKEN, LOSS_UNIT, LOSS_UNIT_NOTE
from rnnviz.gui.fitting import FittingLabel

# each field asks for the width of the widest text it has shown and gives way on a small screen: the state's words
# first, down to "Training" (a shorter wording, then whole words and "…", the whole text in its tooltip); the fields
# of numbers only down to their shortest wording, so a number always stays readable
STATUS_MIN_TEXTS = {"state": "Training", "epoch": "Epochs 00/00", "step": "Step 0000", "speed": "00 steps/s",
                    "loss": "Loss 0.000/seq", "val": "Val 0.000/seq"}
TIPS = {"state": "Training state: Space starts or pauses, S trains one batch, E one epoch, R starts again with new "
                 "weights; when finished, raise Epochs to go on",
        "epoch": "Completed epochs / epochs to train",
        "step": "Optimiser steps taken", "speed": "Training steps per second",
        "loss": f"Loss of the last training batch, {LOSS_UNIT} ({LOSS_UNIT_NOTE})",
        "val": f"Validation loss at the last evaluation, {LOSS_UNIT} and {LOSS_PER_TOKEN} (labelling, generation), "
               "and the accuracy or perplexity"}


class StatusBar:
    """The fields (``labels`` by key, ``progress``) added to ``bar``, and what they show."""

    def __init__(self, bar: QStatusBar):
        self.labels: dict[str, QLabel] = {}
        bar.setSizeGripEnabled(False)       # its room goes to the fields (a projector's window is full screen)
        for key, tip in TIPS.items():
            label = FittingLabel(min_text=STATUS_MIN_TEXTS[key], tip=tip, whole=key != "state")
            label.setObjectName(f"status_{key}")
            bar.addPermanentWidget(label)
            self.labels[key] = label
        self.progress = QProgressBar()
        self.progress.setObjectName("epochProgress")
        self.progress.setRange(0, 1000)
        self.progress.setMinimumWidth(self.progress.fontMetrics().horizontalAdvance("all epochs done") + 24)
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("epoch progress")
        self.progress.setToolTip("How far through the current epoch training is")
        bar.addPermanentWidget(self.progress)
        self.labels["state"].setText("Ready: press Space")
        self.rate_mark: tuple[float, int] | None = None     # (time, step) the speed is measured from
        self.rate = float("nan")

    def throughput(self, step: int, now: float | None = None) -> float:
        """Training steps per second actually achieved (Speed limit and window included), from the step counts
        of snapshots at least half a second apart; NaN until there are two such snapshots."""
        now = time.perf_counter() if now is None else now
        mark = self.rate_mark
        if mark is None or step < mark[1]:
            self.rate_mark, self.rate = (now, step), float("nan")
        elif now - mark[0] >= 0.5:
            self.rate = (step - mark[1]) / (now - mark[0])
            self.rate_mark = (now, step)
        return self.rate

    def show(self, snap: Any, running: bool) -> None:
        """The fields of ``snap`` (the speed only while ``running``)."""
        labels = self.labels
        epochs = int(snap.config.get("epochs", 0)) if isinstance(snap.config, dict) else 0
        done = f"{snap.epoch}/{epochs}" if epochs else f"{snap.epoch}"
        labels["epoch"].setText(f"Epochs done {done}", f"Epochs {done}")     # the shorter where it does not fit
        labels["step"].setText(f"Step {snap.step}")
        rate = self.throughput(snap.step)
        labels["speed"].setText(f"{rate:.0f} steps/s" if running and rate == rate else "– steps/s")
        loss = float(snap.train_loss[-1]) if len(snap.train_loss) else float("nan")
        labels["loss"].setText(*([f"Loss {loss:.4g}/seq", f"Loss {loss:.3g}/seq", f"Loss {loss:.2g}/seq"]
                                 if loss == loss else ["Loss –"]))   # fewer digits where four do not fit
        labels["val"].setText(*self._val_texts(snap))
        self.progress.setValue(int(round(1000 * min(1.0, max(0.0, float(snap.epoch_progress))))))
        finished = bool(epochs) and snap.epoch >= epochs
        self.progress.setFormat("all epochs done" if finished else f"epoch {snap.epoch + 1}: %p%")

    @staticmethod
    def _val_texts(snap: Any) -> list[str]:
        """The validation field's wordings, longest first (the shorter where it does not fit)."""
        if not len(snap.val_loss):
            return ["Val –"]
        acc = float(snap.val_accuracy[-1]) if len(snap.val_accuracy) else float("nan")
        val = seq = f"{float(snap.val_loss[-1]):.3f}/seq"
        per_token = getattr(snap, "val_loss_per_token", ())
        if snap.task != "classification" and len(per_token) == len(snap.val_loss) and per_token[-1] == per_token[-1]:
            val += f" = {float(per_token[-1]):.3f}/token"
        if acc == acc:
            return [f"Val loss {val}, acc {acc:.1%}", f"Val {val}, acc {acc:.1%}", f"Val {seq}, acc {acc:.1%}"]
        if len(snap.val_perplexity) and snap.val_perplexity[-1] == snap.val_perplexity[-1]:
            ppl = f"{float(snap.val_perplexity[-1]):.2f}"                  # per token = ln(perplexity)
            return [f"Val loss {val}, perplexity {ppl}", f"Val {val}, perplexity {ppl}", f"Val {val}, ppl {ppl}",
                    f"Val {seq}, ppl {ppl}"]
        return [f"Val loss {val}", f"Val {val}"]

    def show_state(self, state: Any) -> None:
        """A ``messages.TrainingState``: the word for it."""
        if state.running:
            texts = ("Training",)
        elif state.faulted:
            texts = ("Paused: NaN/Inf", "NaN/Inf")
        elif state.done:
            texts = ("Finished: raise Epochs", "Finished")
        elif state.step:
            texts = ("Paused",)
        else:
            texts = ("Ready: press Space", "Ready")
        self.labels["state"].setText(*texts)          # the shorter wording where the numbers need the room
