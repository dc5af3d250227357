"""The settings dock is generated from the registry (core.config.SETTINGS), and the controller's "new model or
live change?" reads the registry's roles. Parametrized over the registry: a new field is checked without edits here."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QGroupBox, QLabel, QSpinBox, QWidget

from rnnviz.core.config import GENERATED, LIVE_FIELDS, SETTINGS, STRUCTURAL, Config
from rnnviz.gui.controls import DOCK, GROUPS, ControlsPanel, ScientificSpinBox

from helpers import other_value, small_config

NAMES = list(SETTINGS)
SHOWN = [n for n in NAMES if n in DOCK]
GROUP_OF_ROLE = {role: title for title, roles in GROUPS for role in roles}


@pytest.fixture
def panel(qtbot):
    p = ControlsPanel(Config())
    qtbot.addWidget(p)
    return p


def test_the_dock_shows_the_settings_it_showed_before_in_field_order():
    assert DOCK == ("dataset", "task", "n_examples", "delay", "cell", "activation", "hidden", "layers",
                    "bidirectional", "init", "spectral_radius", "forget_bias", "start_weights", "optimizer", "lr",
                    "batch_size", "clip", "bptt", "epochs", "seed")
    assert list(DOCK) == SHOWN                     # the registry's order
    assert {role for roles in dict(GROUPS).values() for role in roles} == {s.role for s in SETTINGS.values()}


@pytest.mark.parametrize("name", NAMES)
def test_every_field_is_either_in_the_dock_as_the_registry_says_or_absent(panel, name):
    s = SETTINGS[name]
    found = panel.findChildren(QWidget, name)
    if name not in DOCK:
        assert name not in panel.widgets and not found
        return
    w = panel.widgets[name]
    assert found == [w]
    assert w.toolTip() == s.tip
    label = next(lab for lab in panel.findChildren(QLabel) if lab.buddy() is w)
    assert label.text() == s.label and label.toolTip() == s.tip
    group = w.parent()
    assert isinstance(group, QGroupBox) and group.title() == GROUP_OF_ROLE[s.role]
    if name == "dataset":                          # built-in datasets + "Open file…" (files are added when opened)
        data = [w.itemData(i, Qt.ItemDataRole.UserRole) for i in range(w.count())]
        assert data[:len(GENERATED)] == list(GENERATED)
    elif s.type is bool:
        assert isinstance(w, QCheckBox) and w.text() == s.check_text
    elif s.choices:
        assert isinstance(w, QComboBox)
        assert [w.itemData(i, Qt.ItemDataRole.UserRole) for i in range(w.count())] == list(s.choices)
        assert [w.itemText(i) for i in range(w.count())] == [c.upper() if s.capitals else c for c in s.choices]
    else:
        assert isinstance(w, (QSpinBox, QDoubleSpinBox))
        lo, hi, inclusive = s.range
        assert w.maximum() == hi
        if inclusive:
            assert w.minimum() == lo
        else:                                      # the smallest value the box shows above an exclusive bound
            assert lo < w.minimum() <= lo + (1 if isinstance(w, QSpinBox) else 10.0 ** -w.decimals())
        assert w.specialValueText() == (s.special or "")
        if s.step is not None:
            assert w.singleStep() == s.step
        if s.decimals is not None:
            assert w.decimals() == s.decimals
        assert isinstance(w, ScientificSpinBox) == s.log_steps


@pytest.mark.parametrize("name", [n for n in SHOWN if n != "dataset"])
def test_an_edit_emits_the_registrys_type_and_set_config_shows_it_back(qtbot, panel, name):
    s, w = SETTINGS[name], panel.widgets[name]
    value = other_value(s)
    seen = []
    panel.settingChanged.connect(lambda k, v: seen.append((k, v)))
    if isinstance(w, QCheckBox):
        w.click()
    elif isinstance(w, QComboBox):
        w.setCurrentIndex(w.findData(value, Qt.ItemDataRole.UserRole))
        w.activated.emit(w.currentIndex())
    else:
        w.setValue(value)
    assert seen == [(name, value)] and type(seen[0][1]) is s.type
    panel.set_config(Config().replace(**{name: value}))
    assert len(seen) == 1                          # showing a Config emits nothing
    shown = (w.isChecked() if isinstance(w, QCheckBox) else
             w.currentData(Qt.ItemDataRole.UserRole) if isinstance(w, QComboBox) else w.value())
    assert shown == value


def test_the_largest_seed_fits_the_dock_and_comes_back_a_whole_number(qtbot, panel):
    top = SETTINGS["seed"].range[1]
    assert top == 2**32 - 1
    panel.set_config(Config(seed=top))
    assert panel.widgets["seed"].value() == top and panel.widgets["seed"].text() == str(top)
    seen = []
    panel.settingChanged.connect(lambda k, v: seen.append((k, v)))
    panel.widgets["seed"].setValue(top - 1)
    assert seen == [("seed", top - 1)] and isinstance(seen[0][1], int)


# ------------------------------------------------------------------------------- the controller reads the roles
@pytest.fixture
def controller(qtbot):
    from types import SimpleNamespace

    from rnnviz.gui.training.controller import Controller

    ctl = Controller(small_config(), backend="thread")      # never started: only the decision logic is used
    ctl.latest = SimpleNamespace(step=7)                     # as if trained for 7 steps
    sent = []
    ctl.worker.send = lambda *msg: sent.append(msg)
    ctl.sent = sent
    return ctl


@pytest.mark.parametrize("name", NAMES)
def test_a_change_is_live_or_asks_for_a_new_model_as_its_role_says(controller, name):
    ctl = controller
    old = ctl.config
    new = old.replace(**{name: other_value(SETTINGS[name])})
    assert ctl.needs_reset(new) == (name not in LIVE_FIELDS)
    questions = []

    def decline(question: str) -> bool:
        questions.append(question)
        return False

    applied = ctl.apply_config(new, confirm=decline)
    if name in LIVE_FIELDS:
        assert applied and not questions and ctl.config == new and ctl.sent     # taken between two steps
    else:
        assert not applied and ctl.config == old and not ctl.sent
        (question,) = questions
        assert question.startswith(f"Changing {name} changes ") and "step 7 will be lost" in question
        what = "the model's shape or data" if name in STRUCTURAL else "how the model trains"
        assert what in question
