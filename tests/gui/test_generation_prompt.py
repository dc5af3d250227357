"""The predictions panel on a generation model: the prompt is shown apart from the sampled text (underlined, in
its own colour, named in the caption) and the caption's step is the step the text was sampled at."""
from __future__ import annotations

import re

from PySide6.QtGui import QColor, QTextCursor

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import Trainer
from rnnviz.gui.panels.predictions import PROMPT_COLOUR, PredictionsPanel


def _format_at(panel, position: int):
    cursor = QTextCursor(panel.sample_box.document())
    cursor.setPosition(position + 1)            # the format of the character before the cursor
    return cursor.charFormat()


def test_prompt_apart_and_the_step_of_the_sample(qtbot):
    t = Trainer(load_preset("chars").config.replace(hidden=8, n_examples=1000, batch_size=8, eval_every=5))
    for _ in range(7):
        t.step()
    sampled_at = t.eval_history[-1]["step"]
    assert (t.step_count, sampled_at) == (7, 5)
    snap = build_snapshot(t)
    panel = PredictionsPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    panel.render(snap)
    caption = panel.caption.text()
    plain = re.sub(r"<[^>]+>", "", caption)
    assert f"step {sampled_at}," in plain and "step 7" not in plain
    prompt = t.sample_prompt
    assert prompt and f"prompt: \u201c{prompt}\u201d" in plain
    assert panel.sample_box.toPlainText() == t.sample_text
    for i in range(len(t.sample_text)):
        fmt = _format_at(panel, i)
        marked = fmt.fontUnderline() and fmt.foreground().color() == QColor(PROMPT_COLOUR)
        assert marked == (i < len(prompt)), (i, t.sample_text[i])
    # a new sample (the temperature slider) at step 7: the caption follows the sample, the prompt stays marked
    t.apply_live("temperature", 0.3)
    panel.render(build_snapshot(t))
    assert "step 7," in panel.caption.text() and "temperature 0.30" in panel.caption.text()
    assert _format_at(panel, 0).fontUnderline() and not _format_at(panel, len(prompt)).fontUnderline()
