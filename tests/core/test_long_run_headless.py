"""Long runs: every history stays within its stated cap, memory stays flat, training does not slow down."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import EVAL_CAP, GRAD_FLOW_CAP, LOSS_CAP, Trainer

from helpers import SMALL_CAPS, SmallCaps, rss_mb, soak_lesson, tenth_rates


# --- headless -------------------------------------------------------------------------------------------
def test_headless_histories_stay_within_small_caps():
    losses, evals = {}, []

    class Record:
        def on_step(self, trainer, loss):
            losses[trainer.step_count] = loss

        def on_evaluate(self, trainer, result):
            evals.append(result)

    cfg = soak_lesson(n_examples=300, hidden=16)
    trainer = SmallCaps(cfg, callbacks=(Record(),))
    sizes = []
    for i in range(4000):
        trainer.step()
        if i % 200 == 199:
            sizes.append((trainer.loss_history.nbytes, trainer.param_grad_history.nbytes,
                          trainer.grad_flow.nbytes, len(trainer.eval_history)))
            assert trainer.loss_history.n <= SMALL_CAPS["loss"] and trainer.grad_flow.n <= SMALL_CAPS["grad_flow"]
            assert len(trainer.eval_history) <= SMALL_CAPS["eval"]
    assert len(evals) > 4 * SMALL_CAPS["eval"]                  # the eval cap was hit several times
    assert len({s[:3] for s in sizes}) == 1                 # history buffers never grow
    # what is kept is right: the recorded losses at the kept steps, the newest evaluation, steps increasing
    steps, values = trainer.loss_history.view()
    np.testing.assert_array_equal(values[:, 0], [losses[int(s)] for s in steps])
    assert steps[0] == 1 and np.all(np.diff(steps) > 0)
    kept = trainer.eval_history
    assert kept[-1] is evals[-1] and kept[0] is evals[0]
    assert all(any(e is k for e in evals) for k in kept)
    snap = build_snapshot(trainer)
    assert len(snap.val_steps) == len(kept) and np.all(np.diff(snap.val_steps) > 0)
    np.testing.assert_array_equal(snap.val_loss, [e["val_loss"] for e in kept])
    assert len(snap.train_steps) <= SMALL_CAPS["loss"] and snap.grad_flow.shape[0] <= SMALL_CAPS["grad_flow"]


@pytest.mark.ondemand
def test_headless_100k_steps():
    """100,000 steps of the default soak_lesson with the real caps: memory flat after the caps fill, no slowdown."""
    trainer = Trainer(soak_lesson())
    n, times, steps, rss = 100_000, [], [], []
    start = time.perf_counter()
    for i in range(1, n + 1):
        trainer.step()
        if i % 1000 == 0:
            times.append(time.perf_counter() - start)
            steps.append(i)
            rss.append(rss_mb())
            if i % 5000 == 0:
                build_snapshot(trainer)
    first, last = tenth_rates(times, steps)
    figures = {"seconds": round(times[-1], 1), "rss_mb_at_10k": round(rss[9], 1), "rss_mb_max": round(max(rss), 1),
               "rss_mb_end": round(rss[-1], 1), "steps_per_s_first_tenth": round(first), "steps_per_s_last_tenth":
               round(last), "loss_rows": trainer.loss_history.n, "grad_flow_rows": trainer.grad_flow.n,
               "evals_kept": len(trainer.eval_history), "epochs": trainer.epoch}
    print("\nheadless 100k:", json.dumps(figures))
    assert trainer.loss_history.n <= LOSS_CAP and trainer.grad_flow.n <= GRAD_FLOW_CAP
    assert len(trainer.eval_history) <= EVAL_CAP <= trainer.epoch
    assert max(rss[10:]) - rss[9] < 20.0        # MB: nothing grows once the caps are full
    assert last >= 0.6 * first
