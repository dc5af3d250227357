"""``render``: real training, the whole window offscreen, a PNG of the requested size; and the speed probe."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from rnnviz.gui.windows.render import render

from helpers import small_config
from qt_helpers import no_leaks  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    ptr = image.constBits()
    return np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]


def test_render_writes_the_whole_window(qapp, tmp_path):
    out = render(small_config(), 40, tmp_path / "sub" / "window.png", size=(1200, 800))
    assert out == tmp_path / "sub" / "window.png" and out.is_file()
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    px = _pixels(image).reshape(800, 1200, 4)[..., :3]
    colours = np.unique(px[::4, ::4].reshape(-1, 3), axis=0)
    assert len(colours) > 50, "the window looks empty"


def test_render_after_a_fault_shows_the_banner(qapp, tmp_path):
    cfg = small_config(optimizer="sgd", lr=50.0, spectral_radius=5.0, clip=0.0, activation="relu")
    out = render(cfg, 200, tmp_path / "nan.png", size=(1000, 700))
    px = _pixels(QImage(str(out))).reshape(700, 1000, 4)[..., :3].astype(int)
    # the banner's red (#b3261e) is on screen: B, G, R byte order
    red = (abs(px[..., 2] - 0xB3) < 12) & (abs(px[..., 1] - 0x26) < 12) & (abs(px[..., 0] - 0x1E) < 12)
    assert red.sum() > 2000


def test_measure_speed_reports_a_ratio(qapp):
    from rnnviz.gui.windows.bench_window import measure_speed

    report = measure_speed(small_config(), seconds=0.6, backend="thread", size=(1000, 700))
    assert report.headless > 0 and report.live > 0 and report.frames > 0
    assert 0 < report.ratio < 3
    assert "ratio" in str(report)


def test_steps_past_the_epochs_raise_the_epochs_and_train_as_the_same_run():
    """A picture of 3 epochs' worth of steps with epochs = 1 shows 3/3 epochs done, never 3/1; the run is the
    one the config's seed gives (the first epoch's losses are those of the config as it was)."""
    from rnnviz.core.train.trainer import Trainer
    from rnnviz.gui.windows.render import train_headless

    cfg = small_config(epochs=1)
    plain = Trainer(cfg)
    per_epoch = plain.steps_per_epoch
    first = [plain.step() for _ in range(per_epoch)]
    trainer = train_headless(cfg, 3 * per_epoch)
    assert trainer.step_count == 3 * per_epoch and trainer.config.epochs == 3 and trainer.epoch == 3
    steps, losses = trainer.loss_history.view()
    assert list(losses[:per_epoch, 0]) == first
    assert train_headless(cfg, per_epoch).config.epochs == 1          # enough epochs: the config stays
