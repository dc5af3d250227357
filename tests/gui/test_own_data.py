"""Your own data in the window, on the lecturer's paths: a lesson first, then Lessons ▸ Your own data (or File ▸ Open
data file…) and a real corpus. The settings must suit the file whatever was loaded before, be the ones
``rnnviz train --data F`` chooses, and the lesson bar and title must speak of the file, not of the old lesson."""
from __future__ import annotations

import json

import pytest

from rnnviz import cli
from rnnviz.core.config import Config
from rnnviz.core.data.suggest import suggest
from rnnviz.core.presets import load_preset

from qt_helpers import confirming_window, no_leaks, wait_snapshot  # noqa: F401  (fixtures)

pytest.importorskip("pytestqt")

POLARITY = "sentence_polarity/rt_polarity_subset1000.tsv"
UPOS = "ud_ewt/en_ewt-ud-dev.subset.upos.tsv"
SHAKESPEARE = "tinyshakespeare/input_first100k.txt"


window = confirming_window


def cli_choice(path, tmp_path, capsys) -> dict:
    """What ``rnnviz train --data PATH --json`` chooses (0 epochs of training are not allowed: 1, tiny model)."""
    code = cli.main(["train", "--data", str(path), "--epochs", "1", "--json", "--out", str(tmp_path / "cli")])
    assert code == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("start", ["chars", "pos"])
@pytest.mark.parametrize("name, task, tokens", [(POLARITY, "classification", "word"), (UPOS, "labelling", "word"),
                                               (SHAKESPEARE, "generation", "char")])
def test_own_data_after_a_lesson_gets_settings_for_the_file(qtbot, window, real_data, tmp_path, capsys, start,
                                                            name, task, tokens):
    path = str(real_data / name)
    window.lessons.open(start)
    wait_snapshot(qtbot, window.controller, lambda s: s.config["dataset"] == start)
    window.controller.set_temperature(1.15)            # a live change in the old lesson must not travel along
    asked = []
    window.ask_open_file = lambda: path
    window.ask_task = lambda p: asked.append(p) or suggest(p).task     # the dialog's preselection, accepted
    window.lessons.actions["your-own-data"].trigger()
    assert asked == [path]
    ctl = window.controller
    want = suggest(path).config
    assert ctl.config == want                          # nothing of the lesson before, everything for the file
    assert (want.task, want.tokenize, want.temperature) == (task, tokens, 1.0)
    snap = wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == path, timeout=30)
    assert snap.task == task and snap.step == 0
    # the bar and the title speak of the file and the settings in force
    text = window.lesson.text()
    assert name.split("/")[-1] in text and task in text and name.split("/")[-1] in window.windowTitle()
    old = load_preset(start)
    assert old.text[:30] not in text and old.title not in window.windowTitle()
    assert ("characters" if tokens == "char" else "word tokens") in text
    assert f"{want.epochs} epochs" in text and f"hidden size d {want.hidden}" in text
    for line in suggest(path).lines():
        assert line in window.lesson.toolTip()
    assert window.controls.widgets["task"].currentData() == task
    shown = "predictions" if task == "generation" else "confusion"          # what this task has to show
    assert shown in window.order[:3] and window.panels[shown].isVisible()
    if task == "generation":                              # the sampled text is the lesson's panel: the big place
        assert window.order[0] == "predictions" and window.hero.place == 0
    assert window.controls.widgets["hidden"].value() == want.hidden
    # the command line chooses the same
    result = cli_choice(path, tmp_path, capsys)
    assert result["task"] == task and result["chosen"]["settings"] == {
        k: getattr(want, k) for k in result["chosen"]["settings"]}
    assert Config(**{**result["config"], "epochs": want.epochs}) == want
    assert result["chosen"]["overridden"] == (["epochs"] if want.epochs != 1 else [])


def test_file_open_from_a_trained_lesson_asks_first_and_keeps_it_when_declined(qtbot, window, real_data):
    path = str(real_data / UPOS)
    ctl = window.controller
    ctl.step_batch(2)
    wait_snapshot(qtbot, ctl, lambda s: s.step >= 2)
    asked = []
    window.confirm = lambda q: asked.append(q) or False
    window.ask_open_file = lambda: path
    window.ask_task = lambda p: "labelling"
    title, text = window.windowTitle(), window.lesson.text()
    window.actions_by_name["open"].trigger()
    assert asked and ctl.config.dataset == "negation"
    assert (window.windowTitle(), window.lesson.text()) == (title, text)


def test_the_dataset_lists_open_file_runs_the_same_flow(qtbot, window, tmp_path):
    data = tmp_path / "tags.tsv"
    data.write_text("\n".join("the\tDT\ndog\tNN\nruns\tVB\n" for _ in range(20)), encoding="utf-8")
    seen = []
    window.ask_open_file = lambda: str(data)
    window.ask_task = lambda p: seen.append(p) or suggest(p).task
    window.controls.openFileRequested.emit()
    assert seen == [str(data)]
    assert window.controller.config == suggest(data).config and window.controller.config.task == "labelling"


def test_the_task_dialog_preselects_the_detected_task_says_why_and_lists_the_settings(qtbot, tmp_path):
    from rnnviz.gui.features.own_data import TaskDialog

    data = tmp_path / "tags.tsv"
    data.write_text("\n".join("the\tDT\ndog\tNN\nruns\tVB\n" for _ in range(20)), encoding="utf-8")
    dialog = TaskDialog(str(data))
    qtbot.addWidget(dialog)
    assert dialog.buttons["labelling"].isChecked() and dialog.task == "labelling"
    assert "(suggested)" in dialog.buttons["labelling"].text()
    assert "token&lt;TAB&gt;tag lines in 20 groups separated by blank lines" in dialog.why.text()
    table = dialog.table.text()
    assert "Max. length" in table and "the longest example has 3 tokens: max_len 10 cuts none" in table
    dialog.buttons["generation"].setChecked(True)        # another task: the settings follow it
    assert dialog.task == "generation" and "Window" in dialog.table.text()
    assert dialog.choice.reasons["task"].startswith("chosen instead of labelling")
    dialog.buttons["classification"].setChecked(True)    # one word per line in groups: readable, but says so
    assert dialog.task == "classification"


def test_an_unreadable_file_is_one_message_before_any_dialog(qtbot, window, tmp_path):
    from helpers import BAD_FILES

    errors, asked = [], []
    window.ask_open_file = lambda: str(BAD_FILES / "image.tsv")
    window.ask_task = lambda p: asked.append(p) or "classification"
    window.show_error = lambda title, text: errors.append((title, text))
    window.actions_by_name["open"].trigger()
    assert asked == [] and len(errors) == 1
    assert errors[0][0] == "Could not use this file" and "PNG image" in errors[0][1]
    assert window.controller.config.dataset == "negation"


def test_a_window_opened_on_a_file_says_what_was_chosen(qtbot, no_leaks, tmp_path):
    """``rnnviz --data F``: the window starts with the CLI's choice and its bar says so."""
    from rnnviz.gui.main_window import MainWindow

    data = tmp_path / "reviews.tsv"
    data.write_text("".join(f"film {i} was {'good' if i % 2 else 'bad'}\t{'pos' if i % 2 else 'neg'}\n"
                            for i in range(40)), encoding="utf-8")
    cfg = suggest(data).config
    win = MainWindow(cfg, backend="thread")
    qtbot.addWidget(win)
    try:
        assert "reviews.tsv" in win.lesson.text() and "classification" in win.lesson.text()
        assert not win.lesson.isHidden()
    finally:
        win.close()


def test_leaving_a_file_or_a_lesson_by_the_dock_retitles_and_never_keeps_a_stale_bar(qtbot, window, real_data,
                                                                                   tmp_path):
    """Paths between features: a text file, then the dock's Dataset back to a built-in one; a lesson, then the
    dock to another dataset and back; a file, then File > Open session. The title and the lesson bar always speak
    of the data being trained, and a lesson's own text comes back with its dataset."""
    from rnnviz.core.io.session import save_session
    from rnnviz.core.train.trainer import Trainer
    from rnnviz.gui.features.own_data import OWN_DATA_PRESET

    ctl = window.controller
    path = str(real_data / SHAKESPEARE)
    window.ask_task = lambda p: suggest(p).task
    assert window.own_data.open(path)
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == path, timeout=30)
    assert "input_first100k.txt" in window.windowTitle() and window.lesson.isVisible()
    window.controls.settingChanged.emit("dataset", "negation")           # the dock's Dataset box
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "negation", timeout=30)
    assert window.windowTitle() == "rnnviz — negation"
    assert not window.lesson.isVisible()                                   # no word of the Shakespeare file left

    names = load_preset("names")
    assert window.lessons.open("names")
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "names", timeout=30)
    assert window.windowTitle() == f"rnnviz — {names.title}" and window.lesson.isVisible()
    window.controls.settingChanged.emit("dataset", "pos")
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "pos", timeout=30)
    assert window.windowTitle() == "rnnviz — pos" and not window.lesson.isVisible()
    window.controls.settingChanged.emit("dataset", "names")               # back to the lesson's own data
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "names", timeout=30)
    assert window.windowTitle() == f"rnnviz — {names.title}"
    assert window.lesson.text() == names.text
    assert window.lesson.isVisible()

    saved = save_session(tmp_path / "neg.rnnviz.npz", Trainer(Config(dataset="negation", hidden=4, n_examples=40)))
    assert window.own_data.open(path)
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == path, timeout=30)
    assert window.preset.name == OWN_DATA_PRESET
    window.ask_open_file = lambda: str(saved)
    assert window.session_actions.open_session(str(saved))
    wait_snapshot(qtbot, ctl, lambda s: s.config["dataset"] == "negation", timeout=30)
    assert window.windowTitle() == "rnnviz — neg.rnnviz.npz" and not window.lesson.isVisible()
