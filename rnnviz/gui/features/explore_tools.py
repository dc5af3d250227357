"""Exploring tools wired into the window: the replay bar, the typed probe, the slow-motion
BPTT tab and the clickable confusion matrix. ``install(window)`` is called once the window is built.

- Replay: ``gui.replay`` (a bar under the panels).
- Typed probe: the hidden-states panel's text box -> ``Controller.set_probe_text``; kept across a reset of the
  same data, cleared when other data is loaded.
- Slow-motion BPTT: the trace is computed by the Trainer only while its tab is at the front
  (``Controller.set_bptt_trace``), since it costs a backward pass and T Jacobian norms per snapshot.
- Confusion matrix: a click lists the validation examples of a cell; picking one makes it the probe.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from rnnviz.gui.features import hero as hero_mod
from rnnviz.gui.features import replay

NO_TOKENS = "Typed probe: that text has no tokens (only spaces?) \u2014 showing the validation example again"


class ExploreTools(QObject):
    """The connections between the window's panels and the controller for the exploring features."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.controller = ctl = window.controller
        self.bar = replay.install(window)
        self.tracing = False
        self.typed = ""
        self._bptt_enlarged = False          # Ctrl+B gave the tabs the big place (again: the lesson's panel)
        window.panels.when_built(self._connect_panel)     # now, or when a tab's panel is made
        ctl.datasetChanged.connect(self._on_dataset)
        ctl.modelReset.connect(self._on_model_reset)
        window.tabs.currentChanged.connect(self._sync_trace)
        self._sync_trace()
        self._make_menu()

    def _connect_panel(self, key: str, panel: Any) -> None:
        if key == "hidden" and hasattr(panel, "probeTextChanged"):
            panel.probeTextChanged.connect(self.probe_text)
            panel.probeChanged.connect(self._probe_index)
        if key == "confusion" and hasattr(panel, "exampleChosen"):
            panel.exampleChosen.connect(self.choose_example)
            panel.set_examples(self.controller.dataset.val.tokens)

    # ------------------------------------------------------------------------------------------ menu
    def _make_menu(self) -> None:
        menu = self.window.menu("&Explore")
        menu.addSeparator()
        items = (("Type a probe sentence", "Ctrl+T", "Put the cursor in the typed-probe box (Hidden states)",
                  self.focus_typed),
                 ("Slow-motion BPTT", "Ctrl+B", "Show the slow-motion BPTT tab and play it", self.show_bptt),
                 ("Replay: back to live", "Ctrl+L", "Leave replay and show the newest snapshot", self.bar.go_live))
        self.actions: dict[str, QAction] = {}
        for text, key, tip, slot in items:
            action = QAction(text, self.window)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setStatusTip(tip)
            action.triggered.connect(slot)
            menu.addAction(action)
            self.window.addAction(action)
            self.actions[text] = action

    # ------------------------------------------------------------------------------------------ actions
    @Slot(str)
    def probe_text(self, text: str) -> None:
        """Probe with ``text`` (empty: the validation example of the spin box)."""
        self.typed = text or ""
        self.bar.go_live()
        tokens = self.controller.set_probe_text(self.typed)
        if self.typed and not tokens:
            self.window.statusBar().showMessage(NO_TOKENS, 8000)

    @Slot(int)
    def _probe_index(self, index: int) -> None:
        self.typed = ""
        self.bar.go_live()

    @Slot(int)
    def choose_example(self, index: int) -> None:
        """A validation example from the confusion matrix becomes the probe."""
        self.typed = ""
        hidden = self.window.panels.get("hidden")
        if hidden is not None and hasattr(hidden, "probe_text"):
            hidden.probe_text.clear()
        self.bar.go_live()
        self.controller.set_probe(int(index))
        self.window.statusBar().showMessage(f"Probe: validation example #{index}", 5000)

    def focus_typed(self) -> None:
        hidden = self.window.panels.get("hidden")
        if hidden is not None and hasattr(hidden, "probe_text"):
            hidden.probe_text.setFocus()
            hidden.probe_text.selectAll()

    def show_bptt(self) -> None:
        """Ctrl+B: the slow-motion BPTT tab at the front, in the big place (``features.hero``: a view that needs
        room gets it), played from the start; again (its tab still in the big place): the lesson's panel gets the
        big place back."""
        panel = self.window.panels.get("bptt")
        if panel is None:
            return
        tabs, hero = self.window.tabs, getattr(self.window, "hero", None)
        again = (self._bptt_enlarged and hero is not None and hero.place == hero_mod.TABS
                 and tabs.currentWidget() is panel)
        if tabs.indexOf(panel) >= 0:
            tabs.setCurrentWidget(panel)
        if hero is not None:
            hero.focus(0 if again else hero_mod.TABS)
        self._bptt_enlarged = not again
        panel.setFocus()
        panel.set_position(0)
        panel.play(True)

    # ------------------------------------------------------------------------------------------ signals
    @Slot()
    def _sync_trace(self, *args) -> None:
        panels, tabs = self.window.panels, self.window.tabs
        panel = panels.peek("bptt")         # not made yet: it is a tab that has never been in front
        on = panel is not None and (tabs.indexOf(panel) < 0 or tabs.currentWidget() is panel)
        if on != self.tracing:
            self.tracing = on
            self.controller.set_bptt_trace(on)

    @Slot(object)
    def _on_dataset(self, dataset: Any) -> None:
        confusion = self.window.panels.peek("confusion")      # one made later takes them then
        if confusion is not None and hasattr(confusion, "set_examples"):
            confusion.set_examples(dataset.val.tokens)
        # other data: a sentence typed for the old data is not sent to the new model (Reset keeps it: same data)
        self.typed = ""
        hidden = self.window.panels.peek("hidden")
        if hidden is not None and hasattr(hidden, "probe_text"):
            hidden.probe_text.clear()

    @Slot(object)
    def _on_model_reset(self, info: Any) -> None:
        # a new Trainer starts with the validation probe: ask again for the typed one (the BPTT trace is a view
        # option of the training loop and stays on)
        if self.typed:
            self.controller.set_probe_text(self.typed)


def install(window: Any) -> ExploreTools:
    window.explore_tools = tools = ExploreTools(window)
    return tools
