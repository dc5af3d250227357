"""``render``: train headless, then draw the whole window offscreen and save it as a PNG.

For slides, README pictures and for checking the window without a screen::

    from rnnviz.gui.windows.render import render
    render(Config(), steps=300, out="window.png", size=(1600, 1000))
"""
from __future__ import annotations

import os
import pathlib
import time
from typing import Any

from rnnviz.core.config import Config
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.state_space import StateSpaceView


def _application() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # no screen needed: draw offscreen unless the caller chose a platform
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["rnnviz-render"])
    return app


def _settle(app: Any, seconds: float = 0.15) -> None:
    """Let layouts and pyqtgraph's deferred range updates run."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def delete_closed(app: Any) -> None:
    """Delete the widgets closed with ``deleteLater`` now, while the application exists. ``processEvents`` leaves
    deferred deletions to an event loop that a headless render never runs; the window then died in the
    interpreter's teardown after the QApplication, which crashed the process after the PNG was written."""
    import gc

    from PySide6.QtCore import QEvent

    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def train_headless(config: Config, steps: int) -> Any:
    """A Trainer after ``steps`` steps (fewer when training stops on NaN/Inf; ``trainer.fault`` says why). When
    ``steps`` goes past the config's epochs, the epochs are raised to cover them, so the picture never shows more
    epochs done than asked for."""
    from rnnviz.core.errors import TrainingFault
    from rnnviz.core.train.trainer import Trainer

    trainer = Trainer(config)
    needed = -(-int(steps) // max(1, trainer.steps_per_epoch))          # epochs that hold ``steps`` steps
    if needed > config.epochs:
        trainer = Trainer(config.replace(epochs=needed), dataset=trainer.dataset)
    for _ in range(int(steps)):
        try:
            trainer.step()
        except TrainingFault:
            break
    return trainer


def render(config: Config, steps: int, out: str | os.PathLike, size: tuple[int, int] = (1600, 1000),
           preset: Any = None, title: str | None = None, presentation: bool = False,
           theme: str = "light") -> pathlib.Path:
    """Train ``steps`` steps headless (the real Trainer, in this process), build the whole window offscreen,
    draw the final Snapshot in every panel and save ``window.grab()`` to the PNG ``out``. Returns its path.

    ``presentation``: draw in presentation (projector) mode; ``theme``: "light" or "dark".
    Raises DataError / ConfigError for bad data or settings, OutputError when the PNG cannot be written (it is
    written atomically: ``gui.pictures``).
    """
    from rnnviz.gui.panels.registry import preset_order

    preset_order(preset)        # a preset naming an unknown panel fails before the training, not after it
    app = _application()
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.pictures import save_png
    from rnnviz.gui.style import apply_theme

    apply_theme(app)
    trainer = train_headless(config, steps)
    snap = build_snapshot(trainer, reach=True, state_space=StateSpaceView())   # a picture shows every panel's data
    window = MainWindow(trainer.config, dataset=trainer.dataset, preset=preset, title=title, start=False)
    try:
        window.resize(int(size[0]), int(size[1]))
        window.show()
        _settle(app)
        window.controller.steps_per_epoch = trainer.steps_per_epoch
        look = getattr(window, "presentation", None)
        if look is not None and theme != look.theme:
            look.set_theme(theme)
        for i in range(3 if presentation else 2):   # twice: the second time every plot has its final size
            window.show_snapshot(snap, everything=True)
            if presentation and look is not None:
                if i == 0:
                    look.fullscreen = False          # the picture keeps the size asked for
                    look.enter()
                look.refresh()
            window.status_labels["state"].setText(
                "Paused: NaN/Inf" if trainer.fault else f"After {trainer.step_count} steps")
            window.status_labels["speed"].setText(f"{snap.steps_per_second:.0f} steps/s (headless)")
            if trainer.fault:
                window.show_fault(trainer.fault)
            _settle(app)
        image = window.grab()
        if (image.width(), image.height()) != (int(size[0]), int(size[1])):
            # smaller than the window can be laid out: scale the picture to the size asked for
            from PySide6.QtCore import Qt

            image = image.scaled(int(size[0]), int(size[1]), Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        return save_png(image, out)
    finally:
        look = getattr(window, "presentation", None)
        if look is not None:            # module-wide settings (font sizes, default theme) go back as they were
            look.leave()
            if look.theme != "light":
                look.set_theme("light")
        window.close()
        window.deleteLater()
        app.processEvents()
        delete_closed(app)
