"""The sweep window's parallel coordinates and importance after a real 3 x 3 sweep (three runs fail), and a click on
a run's line opening the A/B race whose B differs from the current settings exactly as the run."""
from __future__ import annotations

import math

import numpy as np

from rnnviz.core.explore import race
from rnnviz.core.explore import sweep_results as sr

from helpers import sweep_base_config
from qt_helpers import no_leaks, open_sweep_window  # noqa: F401  (no_leaks is a fixture)


class Click:
    def __init__(self, pos):
        self._pos = pos

    def scenePos(self):  # noqa: N802 (Qt name)
        return self._pos


def test_parallel_coordinates_importance_and_race(qtbot, no_leaks):
    from PySide6.QtCore import QPointF

    main_win, win = open_sweep_window(qtbot, sweep_base_config())
    win.set_grid("spectral_radius", "0.5, 1, 100", "lr", "0.01, 0.1, 1")
    assert win.start()
    qtbot.waitUntil(lambda: win.runner.finished and not win.timer.isActive(), timeout=60000)
    res = win.results
    rows = [win.runner.rows[c.index] for c in win.cells]
    failed = [r["index"] for r in rows if r["status"] != "ok"]
    assert len(failed) == 3 and sorted(res.lines) == list(range(9))           # failed runs are drawn too
    assert [a.key for a in res.axes] == ["spectral_radius", "lr", "val_loss", "val_accuracy"]
    assert [a.scale for a in res.axes[:2]] == ["log", "log"]                    # 0.5..100 and 0.01..1: decades
    ok = [r for r in rows if r["status"] == "ok"]
    lo = min(r["val_loss"] for r in ok)
    hi = max(r["val_loss"] for r in ok)
    alo = min(r["val_accuracy"] for r in ok)
    ahi = max(r["val_accuracy"] for r in ok)
    assert res.axes[2].scale == ("log" if hi / lo >= 10 else "linear") and res.axes[3].scale == "linear"
    for r in rows:
        x, y = res.lines[r["index"]].getData()
        assert list(x) == [0, 1, 2, 3]
        sr_, lr = r["settings"]["spectral_radius"], r["settings"]["lr"]
        assert math.isclose(y[0], (math.log10(sr_) - math.log10(0.5)) / (math.log10(100) - math.log10(0.5)),
                            abs_tol=1e-12)
        assert math.isclose(y[1], (math.log10(lr) + 2) / 2, abs_tol=1e-12)
        if r["status"] == "ok":
            if res.axes[2].scale == "log":
                assert math.isclose(lo * (hi / lo) ** y[2], r["val_loss"], rel_tol=1e-12)
            else:
                assert math.isclose(lo + y[2] * (hi - lo), r["val_loss"], rel_tol=1e-12)
            assert math.isclose(alo + y[3] * (ahi - alo), r["val_accuracy"], rel_tol=1e-12)
        else:
            assert y[2] == y[3] == sr.FAILED_AT
            pen = res.lines[r["index"]].opts["pen"]
            assert pen.color().getRgb()[:3] == (150, 150, 150)
    ranking = sr.importance(rows, ["spectral_radius", "lr"], "val_loss")
    assert res.ranking == ranking
    np.testing.assert_allclose(res.bars.opts["width"], [s for _, s in ranking])
    assert "6 runs that finished" in res.importance_label.text()

    # hover names a run, a click on its line offers its race: B = the main window's settings with the run's
    target = next(r for r in ok if r["settings"]["lr"] != main_win.controller.config.lr)
    _x, y = res.lines[target["index"]].getData()
    point = QPointF(0.5, float(np.interp(0.5, [0, 1], y[:2])))
    scene = res.plot.vb.mapViewToScene(point)
    assert res.run_at(point.x(), point.y()) == target["index"]
    res._moved(scene)
    assert win.cells[target["index"]].label().split(",")[0] in res.readout.text()
    asked = []
    win.ask_race = lambda text: asked.append(text) or True
    res._clicked(Click(scene))
    assert len(asked) == 1 and "A = the current settings" in asked[0]
    race_win = main_win._race_windows[-1]
    a, b = race_win.configs["A"], race_win.configs["B"]
    assert a == main_win.controller.config
    want = sorted((k, getattr(a, k), v) for k, v in target["settings"].items() if getattr(a, k) != v)
    assert sorted(race.differences(a, b)) == want and want
    race_win.close()
    # declining opens nothing
    win.ask_race = lambda text: False
    n = len(main_win._race_windows)
    res._clicked(Click(scene))
    assert len(main_win._race_windows) == n
    win.close()
    main_win.close()
