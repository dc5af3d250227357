"""The "?" on every panel (its equation in the seed notation, true for the cell and task in force) and a tooltip
on every control of the dock."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from rnnviz.core.config import Config
from rnnviz.gui.features.help import help_text
from rnnviz.gui.panels.registry import PANELS

from qt_helpers import idle_window, no_leaks  # noqa: F401  (fixtures)

# symbols each panel's text must contain (HTML as written in rnnviz/gui/panels/help_texts.py)
SYMBOLS = {
    "loss": ["L = (1/B)", "&minus;log y<sub>t</sub>[target<sub>t</sub>]", "softmax(V s"],
    "hidden": ["s<sub>t</sub> = g(U x<sub>t</sub> + W s<sub>t-1</sub> + b)"],
    "gradients": ["||&part;L/&part;s<sub>t</sub>||", "W<sup>T</sup>", "||&part;L/&part;&theta;||"],
    "confusion": ["C[i, j]", "C[i, i] / &Sigma;<sub>j</sub> C[i, j]"],
    "weights": ["&lambda;", "&rho; = max |&lambda;|", "|&lambda;| = 1"],
    "predictions": ["y = softmax(V s<sub>T</sub> + c)"],
    "data": ["&lt;pad&gt;", "true last step", "U[:, id]", "lengths"],
    "bptt": ["&part;L/&part;s<sub>t-1</sub> = (&part;s<sub>t</sub>/&part;s<sub>t-1</sub>)<sup>T</sup>",
             "||&part;s<sub>t</sub>/&part;s<sub>t-1</sub>||"],
    "statespace": ["X &minus; &mu; = U S V<sup>T</sup>", "S<sub>i</sub><sup>2</sup> / &Sigma; S<sub>j</sub><sup>2</sup>",
                   "s<sub>t</sub> = g(U x<sub>t</sub> + W s<sub>t-1</sub> + b)"],
    "gates": ["0.05", "0.95"],
    "reach": ["||&part;L<sub>t&prime;</sub>/&part;s<sub>t</sub>||", "t &le; t&prime;"],
    "equation": ["U[j, x<sub>t</sub>]", "W[j,k] s<sub>t-1</sub>[k]", "&part;L/&part;s<sub>t</sub>[j]"],
}


window = idle_window


def test_every_panel_has_a_help_button_that_shows_its_equation(qtbot, window):
    from PySide6.QtCore import Qt

    shown = []
    window.help.show = lambda title, text: shown.append((title, text))
    assert set(window.help.buttons) == set(window.panels) == set(PANELS) == set(SYMBOLS)
    for key, button in window.help.buttons.items():
        if not button.isVisible():                     # a tab at the back: bring it to the front
            window.tabs.setCurrentWidget(window.panels[key])
        assert button.isVisible() and button.text() == "?" and button.toolTip()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        title, text = shown[-1]
        assert title == window.panels[key].title
        for symbol in SYMBOLS[key]:
            assert symbol in text, (key, symbol)
        assert "Look for" in text or key == "data"
    assert len(shown) == len(PANELS)


def test_help_texts_follow_the_cell_and_the_task():
    lstm = Config(cell="lstm")
    assert "c<sub>t</sub> = f &#8857; c<sub>t-1</sub> + i &#8857; g" in help_text("hidden", lstm)
    assert "gate order i, f, g, o" in help_text("hidden", lstm)
    assert "W<sup>T</sup> diag" not in help_text("gradients", lstm)      # the vanilla chain rule is not the LSTM's
    assert "through f" in help_text("gradients", lstm)
    gru = Config(cell="gru")
    assert "(1 &minus; z) &#8857; n + z &#8857; s<sub>t-1</sub>" in help_text("hidden", gru)
    assert "r, z, n" in help_text("weights", gru)
    relu = Config(activation="relu")
    assert "g = relu" in help_text("hidden", relu)
    gen = Config(dataset="chars", task="generation", tokenize="char")
    assert "perplexity" in help_text("loss", gen) and "&tau;" in help_text("predictions", gen)
    assert "at every real step" in help_text("predictions", Config(dataset="pos", task="labelling"))
    assert "validation tokens" in help_text("confusion", Config(dataset="pos", task="labelling"))
    assert "clipped to a global norm of 5" in help_text("gradients", Config(clip=5.0))
    assert "not clipped" in help_text("gradients", Config(clip=0.0))
    tags = help_text("data", Config(dataset="pos", task="labelling"))
    assert "Why the output is taken" not in help_text("data", gen) and "target id is -100" in tags
    assert "Why padded steps are skipped" in help_text("data", gen) and "the next token" in help_text("data", gen)
    assert "Why the output is taken at the true last step" in help_text("data", Config())


def test_the_text_is_made_for_the_settings_in_force(window):
    shown = []
    window.help.show = lambda title, text: shown.append(text)
    window.controller.config = window.controller.config.replace(cell="lstm")
    window.help.explain("hidden")
    assert "o &#8857; tanh(c<sub>t</sub>)" in shown[-1]


def test_default_help_is_a_message_box(qtbot, window):
    window.help.explain("data")
    box = window.help.box
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=3000)
    assert "Padding" in box.text() and box.windowTitle().startswith("Data")
    box.close()


def test_every_control_in_the_dock_has_a_tooltip(window):
    """Walk every input widget of the dock: each says in its tooltip what it changes."""
    inputs = (QAbstractButton, QAbstractSpinBox, QComboBox, QAbstractSlider, QLineEdit)
    seen = 0
    for widget in window.controls.findChildren(QWidget):
        if not isinstance(widget, inputs) or widget.parent() is None:
            continue
        if isinstance(widget, QLineEdit) and isinstance(widget.parent(), (QAbstractSpinBox, QComboBox)):
            continue                                   # the text field inside a spin box or combo box
        if isinstance(widget, QAbstractSlider) and widget.objectName() == "":
            continue                                   # a scroll bar of the scroll area
        tip = widget.toolTip() or (widget.defaultAction().toolTip()
                                   if hasattr(widget, "defaultAction") and widget.defaultAction() else "")
        assert len(tip) > 15, (type(widget).__name__, widget.objectName())
        seen += 1
    assert seen >= 20
    for slider in window.lessons.sliders.values():     # the lesson bar's controls too
        assert "distractor" in slider.toolTip()
