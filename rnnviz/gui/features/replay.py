"""The replay bar under the panels: while training is paused, a timeline slider scrubs back through the recent
snapshots the controller keeps (``core.replay.ReplayBuffer``: at most 1000 snapshots or 200 MB, whichever comes
first) and every panel shows that moment. Moving the slider to its right end, pressing "Live", or starting
training returns to the live view.

The bar sits between the controller and the window: it takes over ``frameReady`` so that live frames are drawn
only when not replaying (they still go into the buffer).

While replaying, the status bar's state field says "Replaying step N", whatever training state arrives meanwhile
(the state is shown again when replay ends). A setting changed meanwhile (the learning rate in the dock, say)
acts on the live model, not on the moment replayed: the bar goes back to live, where the change's marker is, and
says so ("Live again (lr changed)", also in the status bar's message) until the next scrub or training.
"""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Slot

from rnnviz.gui import style
from rnnviz.gui.fitting import FittingLabel

REPLAYING_COLOUR = "#c62828"
# the slider and the text beside it share the bar's width in these proportions whatever the text says, so the
# slider keeps its length under the cursor (entering replay made it shrink mid-drag, and the drag jumped back)
SLIDER_STRETCH, LABEL_STRETCH = 3, 2


class ReplayBar(QtWidgets.QFrame):
    """Slider over the replay buffer. ``replaying`` is the Snapshot shown, or None when live.

    Items (for tests): ``slider``, ``label``, ``live_button``.
    """

    def __init__(self, window: Any):
        super().__init__()
        self.setObjectName("replayBar")
        self.window = window
        self.controller = ctl = window.controller
        self.replaying: Any = None
        self._state_text: str | None = None      # the status field's text before replaying
        self.slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replaySlider")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(10)
        self.slider.setToolTip("Pause training, then drag to look back at earlier moments: every panel shows the "
                               "snapshot of that step. The right end is live.")
        self.title = style.label("<b>Replay</b>")
        self.label = FittingLabel(min_text="step 0000 of 0000")
        self.label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.label.setObjectName("replayText")
        self.label.setFont(style.font())
        self.live_button = QtWidgets.QPushButton("Live")
        self.live_button.setToolTip("Back to the newest snapshot")
        self.live_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(8, 2, 8, 2)
        row.addWidget(self.title)
        row.addWidget(self.slider, SLIDER_STRETCH)
        row.addWidget(self.label, LABEL_STRETCH)
        row.addWidget(self.live_button)
        self.slider.valueChanged.connect(self._scrub)
        self.live_button.clicked.connect(self.go_live)
        ctl.frameReady.disconnect(window.show_live_frame)
        ctl.frameReady.connect(self._on_frame)
        ctl.runningChanged.connect(self._on_running)
        ctl.modelReset.connect(self._on_reset)
        ctl.stateChanged.connect(self._on_state)          # after the window's own handler (connected before)
        ctl.configChanged.connect(self._on_config)
        self._config = ctl.config                        # the settings in force, to name what a change changed
        self._note = ""                                  # "Live again (lr changed)": why replay ended, until the next move
        window.tabs.currentChanged.connect(self._tab_changed)
        self._sync()

    # ------------------------------------------------------------------------------------------ state
    @property
    def buffer(self):
        return self.controller.replay

    def _sync(self) -> None:
        """Slider range = the buffer; the handle at the replayed snapshot, or at the end when live."""
        buf = self.buffer
        n = len(buf)
        paused = not self.controller.running
        at = buf.index_of(self.replaying) if self.replaying is not None else -1
        if self.replaying is not None and at < 0:       # dropped from the buffer meanwhile: go live
            self.replaying = None
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(at if at >= 0 else max(0, n - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(paused and n > 1)
        self.live_button.setEnabled(self.replaying is not None)
        if n == 0:
            self.label.setText("nothing recorded yet")
        elif not paused:
            self.label.setText(f"pause to scrub back · {buf.describe()}", "pause to scrub back")
        else:
            shown = self.replaying if self.replaying is not None else buf[n - 1]
            head = "Replaying step" if self.replaying is not None else "step"
            tail = " \u2014 Space goes on" if self.replaying is not None else ""
            where = f"{head} {shown.step} of {buf[n - 1].step}"
            note = self._note if self.replaying is None else ""
            if note:                    # why the view is live again matters more than the step the status shows
                self.label.setText(f"{note} · {where} · {buf.describe()}", f"{note} · {where}", note, where)
            else:
                self.label.setText(f"{where}{tail} · {buf.describe()}", f"{where}{tail}", where)

    # ------------------------------------------------------------------------------------------ actions
    def show_index(self, i: int) -> None:
        """Show buffered snapshot ``i`` (the last one = live)."""
        n = len(self.buffer)
        if n == 0:
            return
        i = max(0, min(n - 1, int(i)))
        if i == n - 1:
            self.go_live()
            return
        snap = self.buffer[i]
        self.replaying = snap
        self._note = ""
        self.window.show_snapshot(snap, everything=True)
        message = f"Replaying step {snap.step} \u2014 press Space to continue"
        self.window.statusBar().showMessage(message)
        state = getattr(self.window, "status_labels", {}).get("state")
        if state is not None:                  # the permanent fields leave the message area little room
            if self._state_text is None:
                self._state_text = state.text()
            state.setText(f"Replaying step {snap.step}")
        self._colour(REPLAYING_COLOUR)
        self._sync()

    def _colour(self, colour: str | None) -> None:
        """The title and text in ``colour`` (None: the window's); colours only, so nothing changes size."""
        for label in (self.title, self.label):
            pal = QtGui.QPalette(self.palette())
            if colour is not None:
                pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor(colour))
            label.setPalette(pal)

    @Slot()
    def go_live(self) -> None:
        was = self.replaying is not None
        self.replaying = None
        if was:
            self._leave_message()
            if self.controller.latest is not None:
                self.window.show_snapshot(self.controller.latest, everything=True)
        self._sync()

    # ------------------------------------------------------------------------------------------ signals
    @Slot(int)
    def _scrub(self, value: int) -> None:
        if self.controller.running:
            return
        self.show_index(value)

    @Slot(object)
    def _on_frame(self, snap: Any) -> None:
        if self.replaying is None:
            self.window.show_live_frame(snap)
        self._sync()

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        if running:
            self._note = ""
            self.go_live()
        self._sync()

    @Slot(object)
    def _on_reset(self, info: Any) -> None:
        self._note = ""
        if self.replaying is not None:
            self.replaying = None
            self._leave_message()
        self._sync()

    @Slot(object)
    def _on_state(self, _state: Any) -> None:
        """A training state while replaying: the window has written its word; keep "Replaying step N" on show and
        that word for when replay ends."""
        state = getattr(self.window, "status_labels", {}).get("state")
        if self.replaying is not None and state is not None:
            self._state_text = state.text()
            state.setText(f"Replaying step {self.replaying.step}")

    @Slot(object)
    def _on_config(self, config: Any) -> None:
        """A setting changed while replaying acts on the live model: back to live, and say so."""
        old, self._config = self._config, config
        if self.replaying is None:
            return
        changed = [k for k, v in config.to_dict().items() if getattr(old, k) != v]
        if not changed:
            return
        self._note = f"Live again ({', '.join(changed)} changed)"
        self.go_live()
        latest = self.controller.latest
        where = f" at step {latest.step}" if latest is not None else ""
        self.window.statusBar().showMessage(
            f"Back to live: {', '.join(changed)} changed on the live model{where}, "
            "not on the step replayed", 10000)

    def _leave_message(self) -> None:
        self.window.statusBar().clearMessage()
        self._colour(None)
        state = getattr(self.window, "status_labels", {}).get("state")
        if state is not None and self._state_text is not None:
            state.setText(self._state_text)
        self._state_text = None

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        # the window draws the live snapshot into a tab brought to the front; while replaying, the replayed one
        if self.replaying is not None:
            QtCore.QTimer.singleShot(0, self._redraw_replayed)

    def _redraw_replayed(self) -> None:
        if self.replaying is not None:
            self.window.show_snapshot(self.replaying, everything=True)


def install(window: Any) -> ReplayBar:
    """Put the replay bar under the panels."""
    bar = ReplayBar(window)
    window.centralWidget().layout().addWidget(bar)
    window.replay_bar = bar
    return bar
