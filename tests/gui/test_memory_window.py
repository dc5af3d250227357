"""A setting that would pass the memory budget, changed in the window: the same one-line message as the command
line (naming the setting to lower), and the model and settings in force stay."""
from __future__ import annotations

import pytest

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)


@pytest.mark.usefixtures("no_leaks")
def test_a_model_over_the_budget_is_refused_in_one_line(qtbot, monkeypatch):
    from rnnviz.core.errors import MESSAGE_LIMIT
    from rnnviz.gui.main_window import MainWindow

    monkeypatch.setenv("RNNVIZ_MEMORY_MB", "64")
    win = MainWindow(small_config(), backend="thread")
    qtbot.addWidget(win)
    win.show()
    ctl = win.controller
    wait_snapshot(qtbot, ctl)
    try:
        before = ctl.config
        errors = []
        monkeypatch.setattr(win, "show_error", lambda title, text: errors.append((title, text)))
        win._on_setting("hidden", 4096)          # as the dock's Hidden box does
        assert len(errors) == 1, errors
        title, text = errors[0]
        assert title == "Setting not used" and "\n" not in text and len(text) <= MESSAGE_LIMIT
        assert text.startswith("setting 'hidden': training needs about") and "(RNNVIZ_MEMORY_MB=64)" in text
        assert ctl.config == before and win.controls.widgets["hidden"].value() == before.hidden
    finally:
        win.close()
        qtbot.waitUntil(lambda: not ctl.thread.isRunning(), timeout=5000)
