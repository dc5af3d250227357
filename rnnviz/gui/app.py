"""The application: ``run(config)`` opens the window and returns the exit code (``sys.exit`` is the caller's)."""
from __future__ import annotations

import sys
from typing import Any

from rnnviz.core.config import Config

# the training process starts after the window's first paint, or this long after the window was shown when no paint
# comes (a window that is not exposed)
START_FALLBACK_MS = 1000


def run(config: Config | None = None, title: str | None = None, preset: Any = None,
        backend: str = "process", presentation: bool = False, theme: str | None = None,
        session: str | None = None, resume: bool = False) -> int:
    """Create the QApplication and the window, show it, run the event loop; return its exit code.

    preset: a Preset or a preset name; it gives the title, the lesson text and the panel order
    (``config`` still decides the settings when given). session: a saved session file to open at once.
    The window takes the remembered preferences (``features.preferences``): ``theme`` (None: the remembered one)
    and ``presentation`` win over them; ``resume`` opens the last lesson or data file.
    """
    from PySide6.QtWidgets import QApplication

    from rnnviz.gui import first_paint
    from rnnviz.gui.controls import LECTURE_SPEED
    from rnnviz.gui.icon import app_icon
    from rnnviz.gui.interrupt import CloseOnInterrupt
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.style import apply_theme

    first_paint.mark("imports")
    if isinstance(preset, str):
        from rnnviz.core.presets import load_preset

        preset = load_preset(preset)
    if config is None:
        config = preset.config if preset is not None else Config()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("rnnviz")
    app.setWindowIcon(app_icon())
    apply_theme(app)
    with CloseOnInterrupt() as interrupt:          # Ctrl+C in the terminal closes the window cleanly
        # the training process starts once the first frame is painted (below): before, it would take CPU from it
        window = interrupt.window = MainWindow(config, preset=preset, title=title, backend=backend, start=False)
        first_paint.mark("built")
        app.aboutToQuit.connect(window.controller.shutdown)
        try:
            window.set_speed(LECTURE_SPEED)   # slow enough to watch every panel move; the Speed box changes it
            window.hero.fit_screen()          # a 1024x768 projector: the window fits its screen
            window.show()
            window.preferences.restore(theme=theme, presentation=presentation, resume=resume and not session)
            window.lessons.on_shown()          # a lesson with an action (Your own data: the file dialog)
            if session:
                window.session_actions.open_session(session)
        except BaseException:
            window.close()                 # training stopped and its thread ended before the error goes on
            raise
        first_paint.mark("shown")
        if first_paint.requested():
            first_paint.exit_after_first_paint(app)
        first_paint.after_first_paint(app, window.controller.start, fallback_ms=START_FALLBACK_MS)
        return interrupt.run_event_loop(app)
