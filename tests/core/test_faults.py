"""Numeric faults: NaN/Inf or exploding values are caught in the very step they happen, training pauses with the
cause explained, and the state from before that step (weights, optimiser moments, data position) is kept."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from rnnviz.core.errors import TrainingFault
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.live import messages as m
from rnnviz.core.live.loop import TrainingLoop
from rnnviz.core.train.trainer import WEIGHT_LIMIT, Trainer

from helpers import EXPLODING, batch_at, small_config



def state_of(trainer: Trainer) -> dict:
    """Copies of everything a step changes."""
    opt = trainer.optimizer
    return {"flat": trainer.model.flat.copy(), "m": opt.m.copy(), "v": opt.v.copy(), "t": opt.t,
            "pos": trainer.state_dict()["pos"], "step": trainer.step_count, "n_loss": trainer.loss_history.n,
            "n_pg": trainer.param_grad_history.n}


def assert_state_is(trainer: Trainer, before: dict) -> None:
    after = state_of(trainer)
    for key in ("flat", "m", "v"):
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    for key in ("t", "pos", "step", "n_loss", "n_pg"):
        assert after[key] == before[key], key


def run_to_fault(trainer: Trainer, limit: int = 500) -> tuple[dict, TrainingFault]:
    """Step until a fault; return the state copied just before the faulty step and the exception."""
    for _ in range(limit):
        before = state_of(trainer)
        try:
            trainer.step()
        except TrainingFault as exc:
            return before, exc
        assert np.isfinite(trainer.model.flat).all() and np.abs(trainer.model.flat).max() <= WEIGHT_LIMIT
    pytest.fail(f"no fault in {limit} steps")


def test_real_exploding_setup_faults_in_the_step_it_explodes():
    """relu, spectral radius 3, no clipping, lr 1: the weights reach ~1e10 in a few steps. That is caught,
    instead of the panels drawing garbage; every step before it was finite and below the limit."""
    trainer = Trainer(small_config(**EXPLODING))
    before, exc = run_to_fault(trainer)
    n = before["step"] + 1
    msg = str(exc)
    assert msg == trainer.fault
    assert f"at step {n}:" in msg and "weights" in msg and "gradient norm before clipping" in msg
    assert "clipping" in msg.lower() and "learning rate" in msg.lower()
    norm = float(re.search(r"gradient norm before clipping: ([^,]+),", msg).group(1))
    assert norm == pytest.approx(trainer.last_grad_norm, rel=1e-2) and norm > 1e6
    assert_state_is(trainer, before)
    steps, losses = trainer.loss_history.view()
    assert len(steps) == n - 1 and np.isfinite(losses).all()      # no NaN row for the loss plot
    assert np.isfinite(trainer.param_grad_history.view()[1]).all()
    # independently: the same update from the kept state does blow up (so the fault is not a false alarm)
    probe = Trainer(small_config(**EXPLODING))
    probe.model.flat[...] = before["flat"]
    res = probe.model.loss_and_grads(batch_at(trainer, before["pos"]))
    with np.errstate(all="ignore"):
        new = before["flat"] - 1.0 * probe.model.grad
    assert not (np.abs(new).max() <= WEIGHT_LIMIT)
    snap = build_snapshot(trainer)
    assert snap.fault == msg and np.isfinite(snap.W).all() and np.isfinite(snap.train_loss).all()
    assert np.isfinite(res.loss)


def test_adam_moments_are_not_polluted_by_the_faulty_step():
    trainer = Trainer(small_config(optimizer="adam", lr=0.01, epochs=1000))
    for _ in range(5):
        trainer.step()
    trainer.optimizer.lr = 1e30               # the next update moves every weight by ~1e30
    before = state_of(trainer)
    with pytest.raises(TrainingFault, match=r"at step 6: the weights grew past 1e\+06 \(largest \|weight\| [0-9.]+e\+(29|30)\)"):
        trainer.step()
    assert_state_is(trainer, before)           # m, v and t too, not only the weights
    assert before["t"] == 5 and np.abs(before["m"]).sum() > 0


def test_restore_keeps_the_last_good_weights_and_a_lower_lr_goes_on():
    trainer = Trainer(small_config(**EXPLODING))
    before, _ = run_to_fault(trainer)
    with pytest.raises(TrainingFault):            # still faulted: nothing moves until restored
        trainer.step()
    assert_state_is(trainer, before)
    trainer.restore_last_good()
    assert trainer.fault is None
    assert_state_is(trainer, before)
    # the faulty batch comes again: with a lower learning rate and clipping it trains on, finite
    twin = Trainer(small_config(**EXPLODING))
    twin.model.flat[...] = before["flat"]
    batch = batch_at(trainer, before["pos"])
    trainer.apply_live("lr", 0.01)
    trainer.apply_live("clip", 1.0)
    loss = trainer.step()
    assert loss == pytest.approx(twin.model.loss_and_grads(batch).loss, rel=1e-6)
    for _ in range(60):
        trainer.step()
    assert np.isfinite(trainer.model.flat).all() and np.isfinite(trainer.loss_history.view()[1]).all()
    assert trainer.step_count == before["step"] + 61


def test_nan_gradient_is_caught_in_its_step(monkeypatch):
    trainer = Trainer(small_config(epochs=1000))
    for _ in range(3):
        trainer.step()
    real = trainer.model.loss_and_grads

    def poisoned(batch, **kw):
        res = real(batch, **kw)
        trainer.model.grad[7] = np.nan
        return res

    monkeypatch.setattr(trainer.model, "loss_and_grads", poisoned)
    before = state_of(trainer)
    with pytest.raises(TrainingFault, match=r"at step 4: the gradient became NaN .*norm before clipping: nan"):
        trainer.step()
    assert_state_is(trainer, before)


@pytest.mark.parametrize("kind", ["FloatingPointError", "RuntimeWarning"])
def test_raised_overflow_becomes_a_fault_not_a_crash(monkeypatch, kind):
    """np.seterr(all='raise') or ``-W error`` elsewhere turns overflow into exceptions: still a fault."""
    trainer = Trainer(small_config(optimizer="adam", epochs=1000))
    trainer.step()
    real = trainer.optimizer.step

    def overflowing(grad):
        real(grad)                    # the weights and moments have moved when the error comes
        if kind == "FloatingPointError":
            raise FloatingPointError("overflow encountered in multiply")
        warnings.warn("overflow encountered in exp", RuntimeWarning)

    monkeypatch.setattr(trainer.optimizer, "step", overflowing)
    before = state_of(trainer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(TrainingFault, match=f"at step 2: a value \\({kind}: overflow encountered"):
            trainer.step()
    assert_state_is(trainer, before)


class RaisesInStep:
    """A stand-in trainer without its own fault handling: its third step raises FloatingPointError."""

    def __init__(self, config, dataset=None):
        self.inner = Trainer(config, dataset=dataset)
        self.config = self.inner.config
        self.steps_per_epoch = self.inner.steps_per_epoch
        self.model = self.inner.model

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def step(self):
        if self.inner.step_count == 2:
            np.seterr(over="raise")
            try:
                np.exp(np.float64(1e5))
            finally:
                np.seterr(over="warn")
        return self.inner.step()


def test_loop_turns_a_floating_point_error_into_the_fault_state():
    events = []
    loop = TrainingLoop(events.append, factory=f"{__name__}:RaisesInStep", interval=0.0)
    loop.handle(m.Configure(small_config()))
    loop.handle(m.Start())
    for _ in range(10):
        loop.tick()
    kinds = [type(e) for e in events]
    assert m.Error not in kinds and m.Fault in kinds
    message = next(e for e in events if isinstance(e, m.Fault)).message
    assert message.startswith("Training paused at step 3: a numeric error inside the step (FloatingPointError: ")
    assert "clipping" in message
    assert loop.faulted and not loop.running and not loop.stopped
    assert [e for e in events if isinstance(e, m.TrainingState)][-1].faulted is True


