"""A sweep on a generation task (the user's path: the sweep window open, the main window switches to a text to
continue, a sweep of two hidden sizes): only metrics that mean something for the task are offered, finished
cells never look like failed ones, and the importance text counts the runs that finished."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.core.presets import load_preset

from helpers import sweep_children
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (a fixture)

pytest.importorskip("pytestqt")


def test_a_generation_sweep_offers_its_own_metrics_and_no_failed_look(qtbot, no_leaks):
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.windows.sweep_window import FAILED_RGB, METRICS, open_sweep

    main = MainWindow(load_preset("negation").config.replace(hidden=8, n_examples=120, epochs=1),
                      backend="thread")
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    wait_snapshot(qtbot, main.controller)
    main.confirm = lambda q: True
    sweep = open_sweep(main)
    qtbot.addWidget(sweep)

    def offered():
        return [sweep.metric_box.itemData(i) for i in range(sweep.metric_box.count())]

    assert offered() == ["val_loss", "val_accuracy"]              # classification
    main.lessons.open("chars")                                    # now a generation task
    main._apply({"n_examples": 300, "hidden": 4, "epochs": 1, "batch_size": 16}, "x")
    assert sweep.base.task == "generation"
    assert offered() == ["val_loss", "val_perplexity"]            # no accuracy for generated text
    sweep.set_grid("hidden", "4, 8")
    assert sweep.start()
    qtbot.waitUntil(lambda: sweep.runner.finished and not sweep.timer.isActive(), timeout=60000)
    rows = sweep.runner.rows
    assert all(r["status"] == "ok" for r in rows.values()) and len(rows) == 2
    for i, key in enumerate(offered()):
        sweep.metric_box.setCurrentIndex(i)
        assert sweep.heat.titleLabel.text.startswith(METRICS[key])
        rgb = sweep.image.image
        for cell in sweep.cells:
            r, c = divmod(cell.index, sweep.shape[1])
            assert tuple(rgb[r, c]) != FAILED_RGB                    # finished: never the failed grey
            value = float(rows[cell.index][key])
            assert math.isfinite(value)
            shown = sweep.texts[cell.index].textItem.toPlainText().replace(" \u2605", "")
            assert shown == (f"{value:.3f}" if abs(value) < 1000 else f"{value:.3g}")
        text = sweep.results.importance_label.text()
        assert "over the 2 runs that finished" in text and "needs" not in text
        shares = dict(sweep.results.ranking)
        assert set(shares) == {"hidden"} and shares["hidden"] == pytest.approx(1.0)   # one setting explains all
    # the main window goes back to a classification lesson: the sweep on show keeps its own metrics
    main.lessons.open("negation")
    assert offered() == ["val_loss", "val_perplexity"]
    assert np.isfinite([sweep.cell_value(c.index) for c in sweep.cells]).all()
    sweep.close()
    main.close()
    assert not sweep_children()


def test_importance_never_says_finished_runs_did_not_finish(qtbot):
    from rnnviz.gui.windows.sweep_results import SweepResults

    results = SweepResults()
    qtbot.addWidget(results)
    ok = [{"index": i, "status": "ok", "settings": {"hidden": h}, "val_loss": 1.0 + i,
           "val_perplexity": float("nan"), "val_accuracy": float("nan")} for i, h in enumerate((4, 8))]
    results.show_rows([("hidden", [4, 8])], ok, "generation", "val_perplexity")
    text = results.importance_label.text()
    assert "2 runs finished, 0 with a final val perplexity" in text and "that finished" not in text
    assert results.ranking == [] and len(results.bars.opts["width"]) == 0        # no "hidden 0%" bar
    failed = [dict(ok[0]), dict(ok[1], status="failed", error="NaN")]
    results.show_rows([("hidden", [4, 8])], failed, "generation", "val_loss")
    assert "needs at least two runs that finished (1 so far)" in results.importance_label.text()
