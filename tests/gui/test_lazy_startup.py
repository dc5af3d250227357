"""Start-up makes only what the first frame shows: the panels of the tabs behind the front one, the plots' right-click
menus, the sweep window and the export code are made when first used, and then work as if made at start-up."""
from __future__ import annotations

import subprocess
import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsView

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.train.trainer import Trainer
from rnnviz.gui.panel_set import PanelSlot
from rnnviz.gui.panels import plotting
from rnnviz.gui.panels.registry import FIXED_PLACES, PANELS

from helpers import small_config
from qt_helpers import idle_window, no_leaks  # noqa: F401  (fixtures)


window = idle_window


def _snapshot(steps=30):
    t = Trainer(small_config())
    for _ in range(steps):
        t.step()
    return build_snapshot(t, bptt=True)


def test_only_the_first_frame_is_made_at_start_up(window):
    made = [k for k, _ in window.panels.built()]
    assert made == window.order[:FIXED_PLACES + 1]
    for i in range(1, window.tabs.count()):
        page = window.tabs.widget(i)
        assert isinstance(page, PanelSlot) and window.tabs.tabText(i) == PANELS[page.key].title
    assert set(window.panels) == set(PANELS) and len(window.panels) == len(PANELS)     # every key, none made
    assert all(k in window.panels for k in PANELS) and [k for k, _ in window.panels.built()] == made


def test_each_tab_made_on_first_use_is_a_full_panel(qtbot, window):
    snap = _snapshot()
    window.controller.latest = snap
    window.show_snapshot(snap)
    for i in range(window.tabs.count()):
        key = window.tabs.widget(i).key if isinstance(window.tabs.widget(i), PanelSlot) else \
            next(k for k, p in window.panels.built() if p is window.tabs.widget(i))
        window.tabs.setCurrentIndex(i)
        qtbot.wait(1)
        panel = window.panels.peek(key)
        assert panel is not None and type(panel) is PANELS[key].load()          # the real panel class
        assert window.tabs.widget(i) is panel and window.tabs.indexOf(panel) == i
        assert window.tabs.tabText(i) == PANELS[key].title and window.tabs.currentIndex() == i
        assert panel.isVisible() and window._drawn.get(key) == window._frame_id   # drew the latest snapshot
        assert window.help.buttons[key].parent() is panel                         # its "?" button
        for view in getattr(panel, "_views", ()):                                 # "Export this panel" on its plots
            assert any(a.text().startswith("Export this panel") for a in view.scene().contextMenu)
    assert not window.panel_errors
    assert not any(isinstance(window.tabs.widget(i), PanelSlot) for i in range(window.tabs.count()))


def test_a_panel_made_later_gets_the_dataset_and_its_signals(qtbot, window):
    data = window.panels["data"]                    # made by asking for it, while its tab is at the back
    assert window.tabs.indexOf(data) >= 0 and data.isHidden()
    assert data.dataset is window.controller.dataset
    assert data.vocab_title.text().startswith(f"Vocabulary: {len(window.controller.dataset.vocab)}")
    chosen = []
    confusion = window.panels["confusion"]
    window.controller.set_probe = lambda i: chosen.append(i)     # explore_tools: a confusion cell -> the probe
    confusion.exampleChosen.emit(3)
    assert chosen == [3]


def test_the_right_click_menu_of_a_plot_is_made_on_first_use(qtbot, window):
    views = [v for v in window.panels["loss"].findChildren(QGraphicsView)]
    boxes = [item for v in views for item in v.scene().items() if isinstance(item, pg.ViewBox)]
    assert boxes and all(isinstance(b, plotting.LazyMenuViewBox) and b.menu is None for b in boxes)
    assert all(not b.menuEnabled() and b.getContextMenus(None) == [] for b in boxes)  # style_plot: no menu, as before
    layout = plotting.graphics_layout()
    qtbot.addWidget(layout)
    box = layout.addPlot().vb                      # a plot that keeps pyqtgraph's menu
    assert isinstance(box, plotting.LazyMenuViewBox) and box.menuEnabled() and box.menu is None
    menu = box.getMenu(None)
    assert menu is not None and box.menu is menu and "View All" in [a.text() for a in menu.actions()]
    assert box.getContextMenus(None) == menu.actions()
    box.setMenuEnabled(False)
    assert box.menu is None and box.getContextMenus(None) == []


def test_sweep_window_and_exports_load_when_first_used(qtbot, window, tmp_path):
    window.actions_by_name["sweep"].trigger()
    sweeps = getattr(window, "_sweep_windows", [])
    assert len(sweeps) == 1 and sweeps[0].isVisible()
    sweeps[0].close()
    snap = _snapshot()
    window.controller.latest = snap
    path = window.session_actions.export_view("bptt", str(tmp_path / "bptt.png"))   # a tab never brought up
    assert path is not None and path.stat().st_size > 1000
    assert window.session_actions.export_metrics(str(tmp_path / "m.csv")) is not None


def test_start_up_does_not_load_the_training_side():
    """The window's process imports neither the Trainer, the model's passes nor the snapshot builder: the
    training child does (process backend)."""
    code = ("import os, sys; os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n"
            "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
            "from rnnviz.gui.main_window import MainWindow\n"
            "w = MainWindow(start=False); w.show(); app.processEvents()\n"
            "print(sorted(m for m in ('rnnviz.core.train.trainer', 'rnnviz.core.explore.capture', "
            "'rnnviz.core.live.loop', 'rnnviz.gui.windows.sweep_window', 'rnnviz.gui.features.export', "
            "'rnnviz.gui.panels.bptt', 'rnnviz.gui.panels.weights') if m in sys.modules))\n"
            "os._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
