"""Crafted sessions and unexpected failures in the window: File ▸ Open session… shows one message naming the file
and the window keeps its model, training goes on; a data file whose words were reordered is refused; an old
session opens with a note in the status bar; a failure while ``rnnviz --session`` opens the window leaves no
thread running."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.core.config import Config
from rnnviz.core.io import session as S
from rnnviz.core.train.trainer import Trainer

from crafted_sessions import CRAFTED, as_version_1, craft
from helpers import small_config
from qt_helpers import no_leaks, wait_snapshot  # noqa: F401  (no_leaks is a fixture)

pytestmark = pytest.mark.usefixtures("no_leaks")

KINDS = ["capacity-absurd", "temperature-nan", "temperature-inf", "temperature-negative", "position-past-order",
         "stride-absurd", "optimiser-v-negative", "confusion-negative", "rng-huge"]


def _window(qtbot, config, backend="thread"):
    from rnnviz.gui.main_window import MainWindow

    win = MainWindow(config, backend=backend)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    wait_snapshot(qtbot, win.controller, timeout=30)
    return win


def _open(win, path) -> list[str]:
    """File ▸ Open session… on ``path``; the messages shown."""
    shown: list[str] = []
    win.show_error = lambda title, message: shown.append(message)
    win.confirm = lambda question: True
    win.session_actions.ask_open_path = lambda: str(path)
    win.actions_by_name["open_session"].trigger()
    return shown


def _still_trains(qtbot, win, before_step):
    ctl = win.controller
    ctl.step_batch(2)
    wait_snapshot(qtbot, ctl, lambda s: s.step == before_step + 2, timeout=30)


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_crafted_sessions_give_one_message_and_the_model_stays(qtbot, tmp_path, backend):
    config = small_config()
    trainer = Trainer(config)
    for _ in range(trainer.steps_per_epoch + 1):        # an evaluation in the file
        trainer.step()
    good = S.save_session(tmp_path / "good.npz", trainer)
    win = _window(qtbot, config, backend)
    ctl = win.controller
    try:
        ctl.step_batch(3)
        wait_snapshot(qtbot, ctl, lambda s: s.step == 3, timeout=30)
        before = (ctl.config, ctl.dataset, win.windowTitle())
        for kind in KINDS:
            change, words = CRAFTED[kind]
            path = craft(good, tmp_path / f"{kind}.npz", change)
            shown = _open(win, path)
            assert len(shown) == 1 and shown[0].startswith(f"{path}: ") and words in shown[0], (kind, shown)
            assert "\n" not in shown[0]
        assert (ctl.config, ctl.dataset, win.windowTitle()) == before and ctl.latest.step == 3
        _still_trains(qtbot, win, 3)
    finally:
        win.close()


def test_an_unexpected_failure_while_opening_is_one_message_too(qtbot, tmp_path, monkeypatch):
    config = small_config()
    trainer = Trainer(config)
    trainer.step()
    good = S.save_session(tmp_path / "good.npz", trainer)
    win = _window(qtbot, config)
    try:
        def no_memory(*args, **kwargs):
            raise MemoryError("Unable to allocate 7.28 TiB")

        monkeypatch.setattr(S, "restore_trainer", no_memory)
        shown = _open(win, good)
        assert shown == [f"{good}: could not be opened: not enough memory"]
        monkeypatch.setattr(S, "restore_trainer", lambda *a: (_ for _ in ()).throw(KeyError("hist/loss")))
        shown = _open(win, good)
        assert shown == [f"{good}: could not be opened (KeyError: 'hist/loss')"]
        _still_trains(qtbot, win, 0)
    finally:
        win.close()


def test_an_unexpected_failure_loading_a_data_file_keeps_the_model(qtbot, tmp_path, monkeypatch):
    from rnnviz.gui.training import controller as controller_module

    data = tmp_path / "big.tsv"
    data.write_text("a b\tx\nc d\ty\n" * 10)
    win = _window(qtbot, small_config())
    try:
        monkeypatch.setattr(controller_module, "load_dataset_live", lambda cfg: (_ for _ in ()).throw(MemoryError()))
        shown: list[str] = []
        win.show_error = lambda title, message: shown.append(message)
        win.ask_open_file = lambda: str(data)
        win.ask_task = lambda path: "classification"
        before = (win.controller.config, win.controller.dataset)
        win.actions_by_name["open"].trigger()
        assert shown == [f"{data}: could not be used: not enough memory"]
        assert (win.controller.config, win.controller.dataset) == before
        _still_trains(qtbot, win, 0)
    finally:
        win.close()


def test_reordered_words_are_refused_and_an_old_session_opens_with_a_note(qtbot, tmp_path):
    data = tmp_path / "reviews.tsv"
    rows = [(f"{'good' if i % 2 else 'bad'} film {i % 5} was {'fine' if i % 3 else 'dull'}", "pos" if i % 2 else
             "neg") for i in range(60)]
    data.write_text("".join(f"{t}\t{lab}\n" for t, lab in rows))
    config = Config(dataset=str(data), hidden=8, epochs=20)
    trainer = Trainer(config)
    for _ in range(3):
        trainer.step()
    path = S.save_session(tmp_path / "mine.npz", trainer)
    old = craft(path, tmp_path / "old.npz", as_version_1)
    win = _window(qtbot, small_config())
    try:
        data.write_text("".join(f"{' '.join(reversed(t.split()))}\t{lab}\n" for t, lab in rows))
        shown = _open(win, path)
        assert len(shown) == 1 and shown[0].startswith(f"{path}: the data in {data} have changed"), shown
        data.write_text("".join(f"{t}\t{lab}\n" for t, lab in rows))     # back as it was: both open
        with qtbot.waitSignal(win.session_actions.opened, timeout=30000):
            assert _open(win, old) == []
        assert "Note: " in win.statusBar().currentMessage() and "without a fingerprint" in \
            win.statusBar().currentMessage()
        snap = wait_snapshot(qtbot, win.controller, lambda s: s.step == 3, timeout=30)
        np.testing.assert_array_equal(snap.W, trainer.model.params["W"])
    finally:
        win.close()


def test_a_failure_after_the_window_is_built_stops_its_training_thread(qtbot, monkeypatch, tmp_path):
    """``rnnviz --session``: whatever fails once the window exists, its thread and process end before the error
    goes on (no "QThread: Destroyed while thread is still running")."""
    from rnnviz.gui import app as app_module
    from rnnviz.gui.features.session_actions import SessionActions
    from rnnviz.gui.training.worker import LIVE_THREADS

    def boom(self, path=None):
        raise RuntimeError("opening went wrong")

    monkeypatch.setattr(SessionActions, "open_session", boom)
    with pytest.raises(RuntimeError, match="opening went wrong"):
        app_module.run(small_config(), session=str(tmp_path / "x.npz"))
    assert not [t for t in list(LIVE_THREADS) if t.isRunning()]
