"""The command line as a user types it: presets, train --json, gradcheck, clear errors with exit code 2."""
import json
import subprocess
import sys

import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.core.data.batch import iterate_batches
from rnnviz.core.data.load import load_dataset
from rnnviz.core.io.checkpoint import load_checkpoint


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rnnviz", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_presets_lists_name_and_description(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"negation", "names", "pos", "delayed-recall", "chars"} <= set(names)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_train_json_last_line(tmp_path, capsys):
    code = main(["train", "--preset", "negation", "--set", "n_examples=300", "--set", "hidden=8", "--epochs", "2",
                 "--out", str(tmp_path), "--json"])
    assert code == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("negation: classification")
    assert sum(line.startswith("epoch ") and "[" in line for line in out) == 2
    result = json.loads(out[-1])
    for key in ("train_loss", "val_loss", "val_accuracy", "epochs", "steps", "seconds", "grad_norms"):
        assert key in result
    assert result["epochs"] == 2 and 0 <= result["val_accuracy"] <= 1
    # grad_norms: ||dL/ds_t|| of the last validation batch, recomputed from the saved model
    ckpt = load_checkpoint(tmp_path / "checkpoint.npz")
    val = load_dataset(ckpt.config).val
    last = list(iterate_batches(val, ckpt.config.batch_size, ckpt.vocab.pad_id, "classification"))[-1]
    expected = ckpt.model.loss_and_grads(last).grad_norms
    assert len(result["grad_norms"]) == last.ids.shape[1] > 0
    np.testing.assert_allclose(result["grad_norms"], expected, rtol=1e-5)
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,step,train_loss,val_loss") and len(csv_lines) == 3
    assert (tmp_path / "checkpoint.npz").is_file()


def test_train_json_generation_has_null_accuracy(tmp_path, capsys):
    assert main(["train", "--preset", "chars", "--set", "hidden=8", "--epochs", "1", "--out", str(tmp_path),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["val_accuracy"] is None and result["val_perplexity"] > 1


@pytest.mark.parametrize("args, words", [
    (["train", "--preset", "negation", "--set", "hidden=-3"], "hidden"),
    (["train", "--preset", "negation", "--set", "cell=transformer"], "cell"),
    (["train", "--preset", "nope"], "unknown preset"),
    (["train", "--data", "/no/such/file.tsv", "--task", "classification"], "file.tsv"),
    (["train", "--data", "x.tsv"], "x.tsv: no such file"),
])
def test_user_errors_exit_2_with_one_line(args, words):
    proc = run(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr


def test_bad_file_one_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"good movie\tpos\nno label here\n")
    proc = run("train", "--data", str(bad), "--task", "classification")
    assert proc.returncode == 2
    assert "bad.tsv" in proc.stderr and ":2" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_gradcheck_passes(capsys):
    assert main(["gradcheck", "--preset", "pos", "--set", "hidden=6", "--set", "n_examples=50", "--set",
                 "cell=gru"]) == 0
    out = capsys.readouterr().out
    assert "worst relative error" in out and "OK" in out


def test_gradcheck_fails_above_tolerance(capsys):
    assert main(["gradcheck", "--preset", "negation", "--set", "hidden=6", "--set", "n_examples=50",
                 "--tolerance", "1e-30"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_help_runs():
    proc = run("--help")
    assert proc.returncode == 0 and "train" in proc.stdout and "render" in proc.stdout
