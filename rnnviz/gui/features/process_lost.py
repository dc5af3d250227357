"""What the window says when its training process dies (killed, out of memory, a crash): a banner at the top and
the status bar, installed by ``install(window)`` (see ``main_window.EXTENSIONS``).

The controller has already put the snapshot of the last checkpoint on screen (``Controller._on_lost``); the banner
says how the process ended (``messages.ProcessLost.how``, e.g. "was killed by signal 9 (SIGKILL)"), which step the
panels show, and what Space and R do now: Space goes on from that step in a new process with the same weights,
optimiser state and data position; R starts a new model. The banner goes away when the new process answers.
"""
from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QObject, Slot

from rnnviz.gui.banner import make_banner

STATE_TEXT = "Stopped: training process lost"


def what_now(step: int | None) -> str:
    """What the panels show and what Space and R do, the last checkpoint being at ``step`` (None: none)."""
    if step is None:
        return "Press Space or R to start a new model in a new training process."
    return (f"The panels show step {step}, the last state the window kept. Press Space to go on from there in a "
            f"new training process (same weights, optimiser state and data order), or R to start again with new "
            f"weights.")


class ProcessLostBanner(QObject):
    """The banner and status text for a lost training process. ``window.process_lost`` after ``install``;
    ``text`` is the message shown last (plain text, for tests)."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.text = ""
        self.frame, self.label = make_banner("processLostText")
        window.centralWidget().layout().insertWidget(0, self.frame)
        ctl = window.controller
        ctl.processLost.connect(self.show_lost)
        ctl.stateChanged.connect(self._on_state)        # the new process answers: it is over
        ctl.modelReset.connect(self._on_state)

    @Slot(object)
    def show_lost(self, event: Any) -> None:
        checkpoint = self.window.controller.checkpoint
        advice = what_now(int(checkpoint[0].step) if checkpoint is not None else None)
        self.text = f"Training stopped: the training process {event.how}. {advice}"
        self.label.setText(f"<b>Training stopped: the training process {html.escape(event.how)}.</b><br>"
                           f"{html.escape(advice)}")
        self.frame.show()
        self.window.status_labels["state"].setText(STATE_TEXT)

    @Slot(object)
    def _on_state(self, _state: Any) -> None:
        if self.window.controller.lost is None:
            self.frame.hide()


def install(window: Any) -> ProcessLostBanner:
    window.process_lost = ProcessLostBanner(window)
    return window.process_lost
