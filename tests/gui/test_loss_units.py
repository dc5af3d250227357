"""One loss convention on every surface: nats per sequence on the loss axis, the status bar, the CSV export and the
command line, with the loss per token beside it (generation: ln perplexity, so "135 nats" beside "perplexity 7" is
explained). Each number is checked against one computed here: per token = the per-sequence loss x sequences / the
targets counted in the validation split. And the memorising note of the loss panel with its "best weights"
button, from a run on labels drawn at random."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from rnnviz import cli
from rnnviz.core.config import Config
from rnnviz.core.data.batch import IGNORE
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.snapshot import LOSS_UNIT
from rnnviz.core.train.trainer import Trainer

from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytest.importorskip("pytestqt")

CASES = {"generation": Config(dataset="chars", task="generation", tokenize="char", hidden=8, window=16,
                              n_examples=300, epochs=2, lowercase=False),
         "labelling": Config(dataset="pos", task="labelling", hidden=8, n_examples=200, epochs=2)}


def per_token_here(trainer) -> float:
    """The last validation loss per token, from the split's own target count."""
    val = trainer.dataset.val
    targets = sum(int(np.count_nonzero(np.asarray(t) != IGNORE)) for t in val.targets)
    return trainer.last_eval["val_loss"] * len(val) / targets


@pytest.mark.parametrize("task", list(CASES))
def test_every_surface_shows_the_same_numbers_in_the_same_unit(qtbot, tmp_path, capsys, task):
    from rnnviz.gui.features.export import write_metrics_csv
    from rnnviz.gui.main_window import MainWindow

    cfg = CASES[task]
    trainer = Trainer(cfg)
    trainer.train()
    snap = build_snapshot(trainer)
    val_loss, per_token = trainer.last_eval["val_loss"], per_token_here(trainer)
    assert snap.val_loss_per_token[-1] == pytest.approx(per_token, rel=1e-12)
    if task == "generation":        # every window predicts `window` characters: per token = per window / T
        assert per_token == pytest.approx(val_loss / cfg.window, rel=1e-12)
        assert per_token == pytest.approx(math.log(trainer.last_eval["val_perplexity"]), rel=1e-12)

    win = MainWindow(trainer.config, dataset=trainer.dataset, backend="thread", start=False)
    qtbot.addWidget(win)
    win.show_snapshot(snap, everything=True)
    loss = win.panels["loss"]
    assert loss.loss_plot.getAxis("left").labelText in loss.AXIS_NAMES and "sequence" in \
        loss.AXIS_NAMES[0] and LOSS_UNIT in loss.AXIS_NAMES[0]
    x = float(snap.val_steps[-1])
    hover = loss._loss_text(x, 0.0)
    assert f"loss {val_loss:.4g} nats per sequence = {per_token:.4g} nats per token" in hover
    status = win.status_labels["val"].text()
    assert status.startswith(f"Val loss {val_loss:.3f}/seq = {per_token:.3f}/token, ")
    assert win.status_labels["loss"].text() == f"Loss {trainer.last_loss:.4g}/seq"
    if task == "generation":
        assert status.endswith(f"perplexity {trainer.last_eval['val_perplexity']:.2f}")
        assert f"= exp({per_token:.4g} nats per token)" in loss._metric_text(x, 0.0)
    win.close()

    write_metrics_csv(snap, tmp_path / "window.csv")
    rows = list(csv.DictReader(open(tmp_path / "window.csv", encoding="utf-8")))
    last = [r for r in rows if r["val_loss"]][-1]
    assert float(last["val_loss"]) == val_loss and float(last["val_loss_per_token"]) == pytest.approx(per_token)

    sets = [f"{k}={getattr(cfg, k)}" for k in ("dataset", "task", "hidden", "n_examples")]
    sets += [f"{k}={getattr(cfg, k)}" for k in ("tokenize", "window", "lowercase")] if task == "generation" else []
    args = ["train", "--json", "--out", str(tmp_path / "cli"), "--epochs", "2"]
    assert cli.main(args + [a for s in sets for a in ("--set", s)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result["loss_unit"] == LOSS_UNIT and f"losses in {LOSS_UNIT}" in out[0]
    assert result["val_loss"] == val_loss and result["val_loss_per_token"] == pytest.approx(per_token, rel=1e-12)
    assert f"val_loss {val_loss:.4f}  = {per_token:.4f} per token" in out[-3]
    cli_rows = list(csv.DictReader(open(tmp_path / "cli" / "metrics.csv", encoding="utf-8")))
    assert float(cli_rows[-1]["val_loss_per_token"]) == pytest.approx(per_token, rel=1e-12)


def random_labels(tmp_path, n=160):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    path = tmp_path / "random.tsv"
    path.write_text("".join(" ".join(rng.choice(words, 8)) + f"\t{'ab'[rng.integers(2)]}\n" for _ in range(n)),
                    encoding="utf-8")
    return str(path)


def test_the_loss_panel_says_when_the_model_memorises_and_goes_back_to_the_best_weights(qtbot, no_leaks, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    cfg = Config(dataset=random_labels(tmp_path), task="classification", hidden=32, epochs=25)
    win = MainWindow(cfg, backend="thread")
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    ctl = win.controller
    try:
        wait_snapshot(qtbot, ctl)
        loss = win.panels["loss"]
        assert loss.overfit_box.isHidden()
        ctl.step_batch(25 * ctl.steps_per_epoch)
        snap = wait_snapshot(qtbot, ctl, lambda s: s.overfitting is not None and not ctl.running, timeout=60)
        win.show_snapshot(snap, everything=True)
        found = snap.overfitting
        trainer = ctl.worker.loop.trainer
        losses = [e["val_loss"] for e in trainer.eval_history]
        best_step = trainer.eval_history[int(np.argmin(losses))]["step"]
        assert found.since_step == best_step == snap.best_step
        assert not loss.overfit_box.isHidden()
        text = loss.overfit_label.text()
        assert f"validation loss rising since step {best_step}: the model is memorising the training set" in text
        assert (f"(validation {found.best_loss:.3g} \u2192 {found.latest_loss:.3g}, training "
                f"{found.train_then:.3g} \u2192 {found.train_now:.3g})") in text
        assert found.best_loss == min(losses) and found.latest_loss == losses[-1]
        helps = loss.helps_label.text() + " " + loss.best_button.text()
        assert helps == f"What helps: a smaller model, weight decay, fewer epochs, or the weights of step {best_step}"
        for what in ("Hidden size", "Weight decay", "Epochs", "best validation loss"):
            assert what in loss.helps_label.toolTip()
        check_short_note(qtbot, snap, found)
        kept = trainer.best["params"].copy()
        step = snap.step
        loss.best_button.click()
        back = wait_snapshot(qtbot, ctl, lambda s: bool(s.markers) and s.markers[-1][1].startswith("weights of step"))
        assert back.markers[-1] == (step, f"weights of step {best_step}")
        assert back.val_loss[-1] == min(losses) and np.array_equal(trainer.model.flat, kept)
    finally:
        win.close()


def check_short_note(qtbot, snap, found) -> None:
    """On a short panel the note is one row, a short finding and the button, and its numbers and what helps are in
    the tooltips; taller again, the whole note is back."""
    from rnnviz.gui.panels.loss import SHORT_BELOW, LossPanel

    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(420, SHORT_BELOW - 80)
    panel.show()
    qtbot.waitExposed(panel)
    panel.render(snap)
    numbers = (f"validation {found.best_loss:.3g} \u2192 {found.latest_loss:.3g}, training "
               f"{found.train_then:.3g} \u2192 {found.train_now:.3g}")
    assert "\u26a0 memorising the training set" in panel.overfit_label.text()
    assert numbers not in panel.overfit_label.text()
    assert numbers in panel.overfit_label.toolTip() and found.message in panel.overfit_label.toolTip()
    assert panel.helps_label.isHidden() and "Weight decay" in panel.best_button.toolTip()
    qtbot.waitUntil(lambda: abs(panel.best_button.y() - panel.overfit_label.y()) < panel.best_button.height())
    assert panel.view.height() > panel.overfit_box.height()          # the plots keep the larger part
    panel.resize(420, SHORT_BELOW + 200)
    qtbot.waitUntil(lambda: not panel.helps_label.isHidden())
    assert numbers in panel.overfit_label.text() and found.message in panel.overfit_label.text()
    qtbot.waitUntil(lambda: panel.best_button.y() > panel.overfit_label.y() + panel.overfit_label.height() - 2)
