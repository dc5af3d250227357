"""Remembered preferences (window size, theme, presentation mode, last lesson or data file, recent files) and
Edit ▸ Reset preferences. Every test keeps its QSettings in its own temporary folder (``isolated_settings``): the
user's real preferences are never read or written."""
from __future__ import annotations

import pytest

from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot, windows_deleted_here  # noqa: F401  (fixtures)


MADE: list = []      # the windows of the running test


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, windows_deleted_here):
    """QSettings (INI format, user scope: where ``preferences.store`` lives) in a folder of this test only. After
    the test, presentation mode and the theme (process-wide: fonts, pyqtgraph colours) go back to normal."""
    from PySide6.QtCore import QSettings

    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "after-the-test"))
    while MADE:
        win = MADE.pop()
        win.presentation.leave()
        win.presentation.set_theme("light")


def window(qtbot, config=None, start=False, size=(1200, 700)):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(config or small_config(), backend="thread", start=start)
    qtbot.addWidget(win)
    MADE.append(win)
    win.presentation.fullscreen = False         # offscreen: the size stays the test's
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    if start:
        wait_snapshot(qtbot, win.controller)
    return win


def no_dialogs(monkeypatch, win) -> list:
    shown: list = []
    monkeypatch.setattr(win, "show_error", lambda title, text: shown.append((title, text)))
    return shown


def data_file(tmp_path, name="reviews.tsv"):
    path = tmp_path / name
    lines = [f"{w} film number {i}\t{'pos' if w == 'good' else 'neg'}" for i in range(30) for w in ("good", "bad")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ isolation
def test_the_preferences_file_is_the_tests_own(qtbot, isolated_settings):
    from rnnviz.gui.features.preferences import store

    assert store().fileName().startswith(str(isolated_settings))


def test_a_child_rnnviz_of_the_tests_keeps_its_preferences_in_the_test_runs_folder():
    """Tests that start a real ``rnnviz`` window (Ctrl+C, SIGTERM) must not touch the user's preferences either:
    tests/conftest.py points XDG_CONFIG_HOME at a folder of the test run."""
    import os
    import subprocess
    import sys

    home = os.environ["XDG_CONFIG_HOME"]
    assert "rnnviz-test-config-" in home and not home.startswith(os.path.expanduser("~/.config"))
    code = "from rnnviz.gui.features.preferences import store; print(store().fileName())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == os.path.join(home, "rnnviz", "rnnviz.ini")


def test_a_window_that_did_not_restore_writes_no_preferences(qtbot, isolated_settings):
    """Windows built for render and tests neither read nor write the user's preferences."""
    win = window(qtbot)
    win.preferences.add_recent(__file__)
    win.presentation.set_theme("dark")
    win.close()
    assert not isolated_settings.exists() or not any(isolated_settings.rglob("*.ini"))


# ------------------------------------------------------------------------------------------------ round trip
def test_size_theme_and_recent_files_come_back(qtbot, tmp_path):
    first = window(qtbot)
    first.preferences.restore()
    first.resize(1150, 640)          # the offscreen screen is 800 px wide: Qt fits a restored width to it,
    qtbot.waitUntil(lambda: first.height() == 640)        # so the height tells whether the size came back
    first.presentation.set_theme("dark")
    first.preferences.add_recent(__file__)
    first.close()
    first.presentation.set_theme("light")       # the theme is process-wide: the next window starts light

    second = window(qtbot, size=(1500, 700))
    assert second.height() == 700 and second.presentation.theme == "light"
    second.preferences.restore()
    assert second.height() == 640
    assert second.presentation.theme == "dark" and not second.presentation.on
    assert second.preferences.recent == [__file__]
    menu = [a.text() for a in second.preferences.recent_menu.actions()]
    assert menu[0] == "test_preferences.py" and "Clear recent files" in menu
    second.close()


def test_start_up_writes_the_preferences_only_when_a_recent_file_has_gone(qtbot, tmp_path, isolated_settings):
    """Restoring reads the file; it writes it only to forget a recent file that is no longer there."""
    first = window(qtbot)
    first.preferences.restore()
    kept, gone = tmp_path / "kept.txt", tmp_path / "gone.txt"
    for path in (kept, gone):
        path.write_text("x\n")
        first.preferences.add_recent(path)
    first.close()
    (ini,) = isolated_settings.rglob("*.ini")
    written = ini.read_bytes()

    def restored() -> list[str]:
        win = window(qtbot)
        win.preferences.restore()
        recent = list(win.preferences.recent)
        win.preferences.active = False           # closing would remember the window: not what is checked here
        win.close()
        return recent

    ini.write_bytes(written)
    before = ini.stat().st_mtime_ns
    assert restored() == [str(gone), str(kept)]
    assert ini.stat().st_mtime_ns == before and ini.read_bytes() == written      # nothing written
    gone.unlink()
    assert restored() == [str(kept)]
    assert str(gone) not in ini.read_text() and str(kept) in ini.read_text()     # the gone file forgotten


def test_presentation_mode_is_remembered_and_the_command_line_wins(qtbot):
    first = window(qtbot)
    first.preferences.restore()
    first.presentation.enter()
    first.close()
    first.presentation.leave()

    second = window(qtbot)
    assert not second.presentation.on
    second.preferences.restore()
    assert second.presentation.on
    second.presentation.set_theme("dark")
    second.close()
    second.presentation.leave()
    second.presentation.set_theme("light")

    third = window(qtbot)
    third.preferences.restore(theme="light")        # rnnviz --theme light
    assert third.presentation.theme == "light" and third.presentation.on
    third.close()


# ------------------------------------------------------------------------------------------------ bad values
def test_corrupt_and_out_of_range_values_fall_back_to_the_defaults(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QByteArray

    from rnnviz.gui.features.preferences import RECENT_LIMIT, store

    files = []
    for i in range(RECENT_LIMIT + 5):
        files.append(str(tmp_path / f"f{i}.tsv"))
        (tmp_path / f"f{i}.tsv").write_text("x\ty\n")
    s = store()
    s.setValue("window/geometry", QByteArray(b"\x01\xd9\xd0\xcb not a geometry"))
    s.setValue("window/state", "a string, not bytes")
    s.setValue("look/theme", "purple")
    s.setValue("look/presentation", "maybe")
    s.setValue("last/kind", "lesson")
    s.setValue("last/lesson", "../../etc/passwd")
    s.setValue("recent/files", [files[0], 42, None, "x" * 200_000, files[0]] + files[1:])
    s.sync()

    win = window(qtbot)
    shown = no_dialogs(monkeypatch, win)
    default = win.size()
    r = win.preferences.restore(resume=True)
    assert win.size() == default
    assert win.presentation.theme == "light" and not win.presentation.on and not r.presentation
    assert win.preferences.recent == files[:RECENT_LIMIT]
    assert win.controller.config.dataset == "negation"
    message = win.statusBar().currentMessage()
    assert "window size could not be used" in message and "not one of rnnviz's lessons" in message
    assert shown == []
    win.close()


@pytest.mark.parametrize("kind, value", [("theme", 7), ("theme", ""), ("presentation", "1e9"),
                                         ("presentation", [True])])
def test_values_of_the_wrong_type_are_the_defaults(qtbot, kind, value):
    from rnnviz.gui.features.preferences import read, store

    s = store()
    s.setValue(f"look/{kind}", value)
    s.sync()
    r = read(store())
    assert r.theme == "light" and r.presentation is False


def test_a_garbled_preferences_file_reads_as_the_defaults(qtbot, monkeypatch):
    from rnnviz.gui.features.preferences import store

    path = store().fileName()
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\xff\xfe[look\x00]\ntheme=@ByteArray(\\x\nrecent/files=@Variant(\\0\\0\\0\x7f)\n" * 50)
    win = window(qtbot)
    shown = no_dialogs(monkeypatch, win)
    r = win.preferences.restore(resume=True)
    assert r.theme == "light" and not r.presentation and r.recent == [] and r.lesson is None and r.data is None
    assert win.presentation.theme == "light" and shown == []
    win.close()


def test_the_settings_of_a_data_file_that_are_not_settings_are_left_out(qtbot, monkeypatch):
    from rnnviz.gui.features.preferences import read, store

    for text in ("{not json", '{"hidden": -5}', '{"no_such_setting": 1}', "[1, 2]"):
        s = store()
        s.setValue("last/kind", "data")
        s.setValue("last/settings", text)
        s.sync()
        r = read(store())
        assert r.data is None and r.problems == ["the settings of the last data file could not be read"], text


# ------------------------------------------------------------------------------------------------ files gone
def test_a_remembered_file_that_is_gone_is_left_out_with_a_message(qtbot, monkeypatch, tmp_path):
    keep, gone = data_file(tmp_path, "keep.tsv"), data_file(tmp_path, "gone.tsv")
    first = window(qtbot)
    first.preferences.restore()
    first.preferences.add_recent(gone)
    first.preferences.add_recent(keep)
    first.close()
    gone.unlink()

    second = window(qtbot)
    shown = no_dialogs(monkeypatch, second)
    second.preferences.restore()
    assert second.preferences.recent == [str(keep)]
    assert "gone.tsv" in second.statusBar().currentMessage() and shown == []
    keep.unlink()                                   # gone while the window is open: the menu entry says so
    assert second.preferences.open_recent(str(keep)) is False
    assert second.preferences.recent == [] and "keep.tsv is no longer there" in second.statusBar().currentMessage()
    assert shown == []
    second.close()


# ------------------------------------------------------------------------------------------------ resuming
@pytest.mark.usefixtures("no_leaks")
def test_the_last_data_file_is_reopened_and_skipped_when_gone(qtbot, monkeypatch, tmp_path):
    path = data_file(tmp_path)
    first = window(qtbot, start=True)
    first.preferences.restore()
    monkeypatch.setattr(first, "ask_task", lambda p: "classification")
    first.open_file(str(path))
    assert first.controller.config.dataset == str(path)
    assert first.preferences.recent == [str(path)]
    first.close()

    second = window(qtbot, start=True)
    shown = no_dialogs(monkeypatch, second)
    second.preferences.restore(resume=True)
    assert second.controller.config.dataset == str(path) and second.controller.config.task == "classification"
    assert "reviews.tsv" in second.windowTitle() and shown == []
    assert "Your data: reviews.tsv" in second.lesson.text()          # the lesson bar speaks of the file
    second.close()

    path.unlink()
    third = window(qtbot, start=True)
    shown = no_dialogs(monkeypatch, third)
    third.preferences.restore(resume=True)
    assert third.controller.config.dataset == "negation" and shown == []
    assert f"the last data file is no longer there, left out: {path}" in third.statusBar().currentMessage()
    third.close()


@pytest.mark.usefixtures("no_leaks")
def test_the_last_lesson_is_reopened(qtbot):
    first = window(qtbot, start=True)
    first.preferences.restore()
    assert first.lessons.open("names")
    first.close()

    second = window(qtbot, start=True)
    second.preferences.restore(resume=True)
    assert second.preset.name == "names" and second.controller.config.dataset == "names"
    second.close()
    third = window(qtbot, start=True)
    third.preferences.restore(resume=False)          # a lesson named on the command line: not resumed
    assert third.controller.config.dataset == "negation"
    third.close()


# ------------------------------------------------------------------------------------------------ reset
def test_reset_preferences_forgets_everything_and_restores_the_defaults(qtbot, monkeypatch):
    from rnnviz.gui.features.preferences import read, store

    first = window(qtbot)
    first.preferences.restore()
    first.resize(1150, 620)
    qtbot.waitUntil(lambda: first.height() == 620)
    first.presentation.set_theme("dark")
    first.preferences.add_recent(__file__)
    first.close()
    first.presentation.set_theme("light")

    second = window(qtbot)
    default = second.preferences.default_size          # the size MainWindow starts with
    assert (default.width(), default.height()) == (1600, 1000)
    second.preferences.restore()
    assert second.presentation.theme == "dark" and second.height() == 620
    second.presentation.enter()
    second.actions_by_name["reset_preferences"].trigger()
    assert store().allKeys() == []
    assert second.presentation.theme == "light" and not second.presentation.on
    assert second.size() == default and second.preferences.recent == []
    assert "Preferences reset" in second.statusBar().currentMessage()
    second.close()                                  # it remembers again from now on: the defaults
    r = read(store())
    assert r.theme == "light" and not r.presentation and r.recent == []
