"""LiveCaption: a caption whose text changes every frame is as high as its lines, lays its panel out again only
when its number of lines changes, and keeps its text clear of the panel's "?" button."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QVBoxLayout, QWidget

from rnnviz.gui.fitting import LiveCaption

LINE = "200 validation examples, 5000 states at step {}; colour: next character; the probe path with tokens."


class LayoutRequests(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):     # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def panel_with_caption(qtbot, width: int):
    panel = QWidget()
    qtbot.addWidget(panel)
    box = QVBoxLayout(panel)
    filler = QWidget()
    caption = LiveCaption(LINE.format(1))
    box.addWidget(filler, 1)
    box.addWidget(caption)
    panel.resize(width, 300)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(20)
    return panel, filler, caption


def test_a_new_text_of_as_many_lines_does_not_lay_the_panel_out(qtbot):
    panel, filler, caption = panel_with_caption(qtbot, 900)
    one_line = caption.height()
    assert one_line >= caption.fontMetrics().lineSpacing()
    requests = LayoutRequests()
    panel.installEventFilter(requests)
    for step in range(2, 12):
        caption.setText(LINE.format(step * 1000))
        qtbot.wait(5)
    assert caption.text() == LINE.format(11000)
    assert requests.count == 0 and caption.height() == one_line
    caption.setText("<br>".join([LINE.format(1)] * 3))            # three lines: the caption grows, the plot gives way
    qtbot.wait(20)
    assert requests.count >= 1 and caption.height() >= 3 * one_line - 2
    assert filler.height() + caption.height() <= panel.height()


def test_a_narrow_panel_wraps_the_text_onto_more_lines(qtbot):
    wide_panel, _, wide = panel_with_caption(qtbot, 900)
    narrow_panel, _, narrow = panel_with_caption(qtbot, 200)
    assert narrow.height() >= 3 * wide.height(), (wide_panel.width(), narrow_panel.width())


@pytest.mark.parametrize("panel_name, caption_name", [("StateSpacePanel", "info"), ("WeightsPanel", "radius_label")])
def test_the_help_button_keeps_its_corner_free(qtbot, panel_name, caption_name):
    """A panel's caption under its plots ends before the "?" button (the state-space caption's last words were
    drawn under it, and the weights panel's warning "ρ > 1")."""
    from PySide6.QtWidgets import QToolButton

    from rnnviz.gui import panels
    from rnnviz.gui.features.help import _Corner

    panel = getattr(panels, panel_name)()
    qtbot.addWidget(panel)
    button = QToolButton(panel)
    button.setText("?")
    _Corner(panel, button)
    panel.resize(480, 340)
    panel.show()
    qtbot.waitExposed(panel)
    caption = getattr(panel, caption_name)
    assert isinstance(caption, LiveCaption)
    room = caption.contentsMargins().right()
    assert room >= button.width()
    text_right = caption.mapTo(panel, caption.rect().topRight()).x() - room
    assert text_right < button.x()
