"""Sessions (core, headless): save mid-training, open, train on == never interrupted; damaged files refused."""
from __future__ import annotations

from rnnviz.core.io import session as S
from rnnviz.core.io.checkpoint import save_checkpoint
from rnnviz.core.train.trainer import Trainer

from helpers import SESSION_CASES


def test_cli_train_session_continues_the_run(tmp_path, capsys):
    import json

    from rnnviz.cli import main

    cfg = SESSION_CASES["rnn-classification-adam"].replace(epochs=4)
    straight, half = Trainer(cfg), Trainer(cfg)
    straight.train()
    for _ in range(9):
        half.step()
    path = S.save_session(tmp_path / "half.npz", half)
    assert main(["train", "--session", str(path), "--out", str(tmp_path / "out"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["steps"], result["epochs"]) == (straight.step_count, 4)
    assert (result["train_loss"], result["val_loss"]) == (straight.last_loss, straight.last_eval["val_loss"])
    assert S.load_session(tmp_path / "out" / "session.npz").step == straight.step_count
    # nothing left to train, or not a session: one line on stderr, exit 2
    assert main(["train", "--session", str(tmp_path / "out" / "session.npz")]) == 2
    assert "already trained 4 of 4 epochs" in capsys.readouterr().err
    save_checkpoint(tmp_path / "ck.npz", half)
    assert main(["--session", str(tmp_path / "ck.npz")]) == 2       # no window opens for a bad file
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a session" in err
