"""Bad input: a corpus of malformed files (tests/bad_files), big files made at run time, and fuzzing of every loader."""
from __future__ import annotations

import pytest

from helpers import BAD_CORPUS, BAD_FILES, small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

# ------------------------------------------------------------------------------------------------ the window
WINDOW_SAMPLE = ["image.tsv", "utf16le_no_bom.tsv", "conllu_renamed.tsv", "spreadsheet.xlsx", "header_only.tsv",
                 "conllu_missing_tag.conllu", "one_char.txt"]


@pytest.mark.usefixtures("no_leaks")
def test_open_file_in_the_window_shows_one_message_and_changes_nothing(qtbot, monkeypatch):
    """A sample of the corpus through "Open file…" in one real window: one dialog each, nothing changed, and the
    window still trains afterwards."""
    from PySide6.QtCore import Qt

    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(small_config(), backend="thread")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    ctl = win.controller
    wait_snapshot(qtbot, ctl)
    try:
        old_dataset, old_config, old_title = ctl.dataset, ctl.config, win.windowTitle()
        for name in WINDOW_SAMPLE:
            task, expected = next((t, e) for n, t, e in BAD_CORPUS if n == name and e[0] == "error")
            path = BAD_FILES / name
            errors = []
            monkeypatch.setattr(win, "ask_open_file", lambda: str(path))
            monkeypatch.setattr(win, "ask_task", lambda p, task=task: task)
            monkeypatch.setattr(win, "show_error", lambda title, text: errors.append((title, text)))
            win.actions_by_name["open"].trigger()
            assert len(errors) == 1, (name, errors)
            title, text = errors[0]
            assert title == "Could not use this file" and text.startswith(f"{path}:") and expected[2] in text, text
            if expected[1] is not None:
                assert text.startswith(f"{path}:{expected[1]}: ")
            assert ctl.dataset is old_dataset and ctl.config == old_config and win.windowTitle() == old_title
            assert win.controls.widgets["dataset"].currentText() == "negation"
        qtbot.keyClick(win, Qt.Key.Key_S)                 # the old dataset still trains
        assert wait_snapshot(qtbot, ctl, lambda s: s.step == 1).config["dataset"] == "negation"
    finally:
        win.close()
        qtbot.waitUntil(lambda: not ctl.thread.isRunning(), timeout=5000)
