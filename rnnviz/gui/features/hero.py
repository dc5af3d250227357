"""The lesson's panel gets the big place, and the window fits the screen it is on.

The panel grid has four places: 0 top left, 1 top right, 2 bottom left, 3 bottom right (the tabs). The first
panel of the window's order is what a lesson is about (a preset lists its panels hero first) and sits in place
0. The enlarged place gets ``ROW_SHARE`` of the grid's height and ``COLUMN_SHARE`` of its row's width, about
41 % of the panel area; the other row splits evenly. The shares are kept when the grid changes size (a resized
window, presentation mode) until the user drags a splitter handle. ``focus(place)`` enlarges another place:
View ▸ Enlarge the next panel (Z) goes round the four, Ctrl+B enlarges the tabs with the slow-motion BPTT
(explore_tools). A new lesson (or a new model) puts the lesson's panel back in front.

A view that needs room (its ``PanelSpec.room``: the slow-motion BPTT, the state space, who reaches whom) gets more
than the usual shares when it is in the big place and the usual ones leave it less than its room (a small
screen, presentation mode's larger fonts), up to ``ROOMY_SHARES``. Brought to the front of the tabs (its tab, a
menu, a key) while the tabs' place is smaller than its room, it takes the big place by itself; when a tab that
needs no room comes to the front again, the place that was big before comes back (unless the user has chosen
sizes of their own meanwhile: a dragged handle, Z).

Also here, because they are about what fits on the screen:
- ``fit_screen`` (called by the application before the window shows) makes the window fit the screen's free
  area, and the settings dock takes ``DOCK_SHARE`` of the window's width (within ``DOCK_WIDTHS``), also after the
  window is resized, until the user drags the dock's edge;
- the hidden-state panel always labels the tokens the lesson names (a preset's ``tokens``);
- the training loop measures the gradient flow of every running snapshot only while the gradient-flow panel is
  on screen (``Controller.set_grad_flow``; still snapshots always are).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence

from rnnviz.gui import fitting

from rnnviz.gui import style
from rnnviz.gui.panel_set import PanelSlot
from rnnviz.gui.panels.registry import FIXED_PLACES, PANELS

ROW_SHARE = 0.62          # the enlarged place's row: this share of the grid's height
COLUMN_SHARE = 0.66       # the enlarged place: this share of its row's width
DOCK_SHARE = 0.22         # the settings dock's share of the window's width when the window first shows
DOCK_WIDTHS = (230, 330)  # ... within these widths (px)
ROOMY_SHARES = (0.85, 0.8)  # a view that needs room may take up to these shares (row, column)
PLACES = 4
TABS = 3                  # the place of the tabs
ZOOM_KEY = "Z"
REDRAW_AFTER_MS = 100     # after the places change size, draw a reduced heatmap again this much later


def place_sizes(place: int, height: int, width: int, row_share: float = ROW_SHARE,
                column_share: float = COLUMN_SHARE) -> tuple[list[int], list[int], list[int]]:
    """(grid rows, top row, bottom row) sizes in px that enlarge ``place`` of a grid ``width`` x ``height``."""
    big_h = int(round(height * row_share))
    big_w = int(round(width * column_share))
    rows = [big_h, height - big_h] if place < 2 else [height - big_h, big_h]
    even = [width // 2, width - width // 2]
    enlarged = [big_w, width - big_w] if place % 2 == 0 else [width - big_w, big_w]
    return rows, (enlarged if place < 2 else even), (enlarged if place >= 2 else even)


class Hero(QObject):
    """The place sizes, the dock width and the lesson's tokens of one window (``window.hero``)."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.place = 0
        self._applied: tuple | None = None      # (preset, order) the layout was last made for
        self._shown_once = False
        self._flow_shown: bool | None = None
        self._tokens: tuple[str, ...] = ()
        self._dragged = False                   # the user moved a splitter handle: keep their sizes
        self._pending = False
        self._dock_width: int | None = None     # the dock width fit_dock set (None: the user's own)
        self._redraw_timer = QTimer(self)        # a child timer: one redraw for a burst of size changes
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_AFTER_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._room_from: int | None = None      # the big place before a view that needs room took it by itself
        for split in self.splitters():
            split.splitterMoved.connect(self._on_dragged)
        window.grid.installEventFilter(self)
        action = QAction("Enlarge the next panel", window)
        action.setShortcut(QKeySequence(ZOOM_KEY))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"Give the next of the four places the big share of the window ({ZOOM_KEY}); a new "
                          "lesson puts its own panel back in the big place")
        action.triggered.connect(self.next_place)
        window.addAction(action)
        window.menu("&View").addAction(action)
        window.actions_by_name["zoom"] = action
        self.action = action
        window.controller.modelReset.connect(self._on_model_reset)
        window.frameDrawn.connect(self._sync_flow)
        window.tabs.currentChanged.connect(self._sync_flow)
        window.tabs.currentChanged.connect(self._on_tab)
        window.installEventFilter(self)
        self.follow_lesson()
        window.panels.when_built(self._new_panel)

    # --- places ---------------------------------------------------------------------------------------
    def splitters(self) -> tuple[Any, Any, Any]:
        grid = self.window.grid
        return grid, grid.widget(0), grid.widget(1)

    def focus(self, place: int) -> None:
        """Give ``place`` (0-3) the big share of the panel grid."""
        self._room_from = None
        self._focus(place)

    def _focus(self, place: int) -> None:
        self.place = int(place) % PLACES
        self._dragged = False
        self._apply()
        self._sync_flow()

    def _apply(self) -> None:
        """Set the splitters' sizes for ``self.place`` at the grid's present size."""
        self._pending = False
        grid, top, bottom = self.splitters()
        height = sum(grid.sizes()) or grid.height() or 1000
        width = sum(top.sizes()) or top.width() or 1600
        rows, top_sizes, bottom_sizes = place_sizes(self.place, height, width, *self.shares(height, width))
        grid.setSizes(rows)
        top.setSizes(top_sizes)
        bottom.setSizes(bottom_sizes)
        self._redraw_timer.start()          # once the panels have settled at their new sizes

    def _redraw(self) -> None:
        """Draw the shown snapshot again when a visible heatmap is drawn reduced (``heatmaps.ReducedNote``
        showing): its place may have grown. Nothing else needs drawing again after a change of sizes."""
        from rnnviz.gui.panels.heatmaps import ReducedNote

        w = self.window
        reduced = any(note.isVisible() and note.text() for _key, panel in w.panels.built()
                      for note in panel.findChildren(ReducedNote))
        if reduced and hasattr(w, "redraw"):
            w.redraw()

    def shares(self, height: int, width: int) -> tuple[float, float]:
        """(row, column) shares of the big place in a grid ``width`` x ``height``: the usual ones, or more for a
        view that needs room (``room``), up to ``ROOMY_SHARES``."""
        need_w, need_h = self.room(self.key_at(self.place))
        if not need_h:
            return ROW_SHARE, COLUMN_SHARE
        extra = self._chrome(self.place)
        row = min(max(ROW_SHARE, (need_h + extra) / max(height, 1)), ROOMY_SHARES[0])
        column = min(max(COLUMN_SHARE, (need_w + 8) / max(width, 1)), ROOMY_SHARES[1])
        return row, column

    def _chrome(self, place: int) -> int:
        """Height (px) a place takes beyond its panel: the tab bar, or the panel's frame."""
        return self.window.tabs.tabBar().sizeHint().height() + 4 if place == TABS else 10

    @staticmethod
    def room(key: str | None) -> tuple[int, int]:
        """(width, height) px panel ``key`` needs to be read (its spec's ``room``, grown with the fonts of
        presentation mode); (0, 0): no need."""
        spec = PANELS.get(key or "")
        if spec is None or not spec.room[1]:
            return 0, 0
        k = style.FONT_PT / style.BASE_POINT_SIZE
        return int(spec.room[0] * k), int(spec.room[1] * k)

    def key_at(self, place: int) -> str | None:
        """The key of the panel shown in ``place`` (the tabs: the one at the front)."""
        w = self.window
        if place < TABS:
            order = list(w.order[:FIXED_PLACES])
            return order[place] if place < len(order) else None
        page = w.tabs.currentWidget()
        if isinstance(page, PanelSlot):
            return page.key
        return next((key for key, panel in w.panels.built() if panel is page), None)

    @Slot(int)
    def _on_tab(self, _index: int) -> None:
        """A view that needs room came to the front of too small a tabs' place: it takes the big place; a view that
        needs none: the place that was big before it took it comes back."""
        tabs = self.window.tabs
        need_w, need_h = self.room(self.key_at(TABS))
        have_h = tabs.height() - self._chrome(TABS)
        if need_h and self.place != TABS and (have_h < need_h or tabs.width() < need_w):
            before = self.place
            self._focus(TABS)
            self._room_from = before
        elif not need_h and self._room_from is not None and self.place == TABS and not self._dragged:
            self.focus(self._room_from)
        elif self.place == TABS and not self._dragged:
            self._apply()                      # the shares of the view now at the front

    @Slot()
    def _on_dragged(self, *_args: Any) -> None:
        self._dragged = True
        self._room_from = None

    @Slot()
    def next_place(self) -> None:
        self.focus(self.place + 1)

    def area_shares(self) -> list[float]:
        """The share of the panel grid's area each place (0-3) has now."""
        grid, top, bottom = self.splitters()
        rows = grid.sizes()
        height = max(sum(rows), 1)
        shares = []
        for row, split in zip(rows, (top, bottom)):
            width = max(sum(split.sizes()), 1)
            shares += [row / height * size / width for size in split.sizes()]
        return shares

    # --- the lesson -------------------------------------------------------------------------------------
    def follow_lesson(self) -> None:
        """The lesson's own panel in the big place and its tokens labelled (when the lesson or order changed)."""
        w = self.window
        key = (id(w.preset), tuple(w.order))
        if key == self._applied:
            return
        self._applied = key
        self.focus(0)
        self._tokens = tuple(getattr(w.preset, "tokens", ()) or ())
        for _key, panel in w.panels.built():              # panels made later get them when made (_new_panel)
            self._new_panel(_key, panel)

    def _new_panel(self, _key: str, panel: Any) -> None:
        if hasattr(panel, "set_key_tokens"):
            panel.set_key_tokens(self._tokens)

    @Slot(object)
    def _on_model_reset(self, _info: Any = None) -> None:
        self.follow_lesson()

    # --- the screen -------------------------------------------------------------------------------------
    def eventFilter(self, obj: Any, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if obj is self.window.grid and event.type() == QEvent.Type.Resize:
            # the splitters share out the new size proportionally to sizes that the panels' minimum widths may
            # have bent when the grid was small: set the shares again once the new size is in place
            if not self._dragged and not self._pending:
                self._pending = True
                QTimer.singleShot(0, self, self._apply)
            return False
        if obj is self.window and event.type() == QEvent.Type.Resize and self._dock_width is not None:
            QTimer.singleShot(0, self, self._follow_dock)      # a window moved to a smaller screen: the dock follows
            return False
        if obj is self.window and event.type() == QEvent.Type.Show and not self._shown_once:
            self._shown_once = True
            self.fit_dock()
            self._sync_flow()
        return False

    def fit_screen(self) -> None:
        """Shrink the window to the screen's free area when it is larger (the application calls it before the
        window first shows; a 1024x768 projector cut the default size off), then size the dock."""
        fitting.fit_screen(self.window)
        self.fit_dock()

    def fit_dock(self) -> None:
        """The settings dock's width: ``DOCK_SHARE`` of the window's, within ``DOCK_WIDTHS``."""
        w = self.window
        if not w.dock.isHidden() and not w.dock.isFloating():
            width = int(min(max(w.width() * DOCK_SHARE, DOCK_WIDTHS[0]), DOCK_WIDTHS[1]))
            w.resizeDocks([w.dock], [width], Qt.Orientation.Horizontal)
            self._dock_width = None
            QTimer.singleShot(0, self, self._note_dock)        # its width once the layout has given it

    def _note_dock(self) -> None:
        self._dock_width = self.window.dock.width()

    def _follow_dock(self) -> None:
        """Fit the dock to the window's new width, unless the user has dragged it to a width of their own."""
        w = self.window
        if self._dock_width is None or w.dock.isHidden() or w.dock.isFloating():
            return
        if abs(w.dock.width() - self._dock_width) > 2:
            self._dock_width = None              # the user's width from now on
            return
        self.fit_dock()

    # --- the gradient flow --------------------------------------------------------------------------------
    @Slot()
    def _sync_flow(self, *_args: Any) -> None:
        """Ask the training loop for the gradient flow of every running snapshot only while it is on screen."""
        panel = self.window.panels.peek("gradients")     # never makes it (a tab not yet shown)
        shown = panel is not None and panel.isVisible()
        if shown != self._flow_shown:
            self._flow_shown = shown
            self.window.controller.set_grad_flow(shown)


def install(window: Any) -> Hero:
    window.hero = hero = Hero(window)
    return hero
