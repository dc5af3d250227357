"""The race and sweep windows on a small screen (the offscreen screen's free area is smaller than their default
size, as a 1024x768 projector's is): they open fitted to it, the sweep window can be narrower than 1041 px with
nothing squeezed below its minimum, the race names the data actually raced and a data file by its name."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from rnnviz.core.presets import load_preset

from helpers import sweep_children
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (a fixture)

pytest.importorskip("pytestqt")


def _free():
    return QApplication.primaryScreen().availableGeometry()


def _squeezed(window) -> list[str]:
    """Visible child widgets of the sweep's control rows narrower than their minimum size hint (cut)."""
    out = []
    for w in window.findChildren(QWidget):
        if w.isVisible() and w.parent() is window and w.minimumSizeHint().width() > w.width() + 1:
            out.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}: {w.width()} < "
                       f"{w.minimumSizeHint().width()}")
    return out


def test_race_and_sweep_open_fitted_to_the_screen_and_the_race_names_its_data(qtbot, no_leaks):
    from rnnviz.gui.features.race_sweep_menu import open_race
    from rnnviz.gui.main_window import MainWindow

    free = _free()
    assert free.width() < 1500 and free.height() < 900          # the test's premise: a screen smaller than both
    preset = load_preset("negation")
    main = MainWindow(preset.config.replace(hidden=8, n_examples=120, epochs=1), preset=preset, backend="thread")
    qtbot.addWidget(main)
    main.hero.fit_screen()
    main.show()
    qtbot.waitExposed(main)
    wait_snapshot(qtbot, main.controller)
    main.confirm = lambda q: True
    # the user's path: the dock's Dataset from negation to pos, then Explore > A/B race
    box = main.controls.widgets["dataset"]
    box.setCurrentIndex(box.findData("pos", Qt.ItemDataRole.UserRole))
    box.activated.emit(box.currentIndex())
    assert main.controller.config.dataset == "pos"
    race = open_race(main, "cell=lstm")
    qtbot.addWidget(race)
    assert race.width() <= free.width() and race.height() <= free.height()
    assert race.windowTitle() == "rnnviz \u2014 A/B race \u2014 pos"            # not "Sentiment with negation"
    race.close()
    main._apply({"dataset": "negation"}, "x")
    race = open_race(main, "cell=lstm")                                       # the lesson's own data: its title
    qtbot.addWidget(race)
    assert race.windowTitle() == f"rnnviz \u2014 A/B race \u2014 {preset.title}"
    race.close()

    sweep = main.actions_by_name["sweep"].trigger() or main._sweep_windows[-1]
    qtbot.addWidget(sweep)
    assert sweep.width() <= free.width() and sweep.height() <= free.height()
    assert sweep.minimumSizeHint().width() <= 800
    main._apply({"n_examples": 100, "hidden": 4}, "x")
    sweep.set_grid("hidden", "2, 4")
    sweep.resize(800, 600)
    assert sweep.start()
    qtbot.waitUntil(lambda: sweep.runner.finished and not sweep.timer.isActive(), timeout=60000)
    qtbot.wait(50)
    assert sweep.status.text().startswith("Done: 2 cells")
    assert sweep.width() <= 800 and not _squeezed(sweep), _squeezed(sweep)
    status = sweep.status
    assert status.heightForWidth(status.width()) <= status.height() + 1            # its text wholly shown
    sweep.close()
    main.close()
    assert not sweep_children()


def test_race_header_names_a_data_file_by_its_name(qtbot, tmp_path):
    from rnnviz.core.explore import race
    from rnnviz.gui.windows.race import RaceWindow

    folder = tmp_path / "a_rather_long_folder_name" / "and_another_one_below_it"
    folder.mkdir(parents=True)
    data = folder / "reviews.tsv"
    data.write_text("".join(f"a good film number {i}\tpos\na bad film number {i}\tneg\n" for i in range(40)),
                    encoding="utf-8")
    a = load_preset("negation").config.replace(dataset=str(data), task="classification", hidden=4)
    b = race.b_config(a, ["cell=gru"])
    win = RaceWindow(a, b, start=False)
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    text = win.header.text()
    assert "reviews.tsv" in text and str(folder) not in text
    assert str(data) in win.header.toolTip()
    # one line for what A is and what B changes, one for what both share: no path wrapping over more
    lines = win.header.heightForWidth(win.header.width()) / win.header.fontMetrics().lineSpacing()
    assert lines < 3.6, lines
    win.close()
