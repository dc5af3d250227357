"""The memory a configuration takes, estimated before it is built (``nn.memory``), against what training really
allocates (tracemalloc: NumPy reports its buffers to it), and the refusal past the budget."""
from __future__ import annotations

import tracemalloc

import pytest

from rnnviz.cli import main
from rnnviz.core.config import Config
from rnnviz.core.data.load import load_dataset
from rnnviz.core.errors import MESSAGE_LIMIT, ConfigError
from rnnviz.core.nn import memory
from rnnviz.core.train.trainer import Trainer, memory_estimate

FACTOR = 2.0        # the stated accuracy: measured / estimated within [1/2, 2] (0.8 to 1.2 seen)

CASES = {
    "rnn classification": Config(n_examples=400),
    "lstm classification": Config(n_examples=400, cell="lstm", hidden=64),
    "gru two layers, both directions": Config(n_examples=400, cell="gru", hidden=32, layers=2, bidirectional=True),
    "labelling": Config(dataset="pos", task="labelling", n_examples=300, hidden=48, batch_size=64),
    "generation lstm float64": dict(task="generation", tokenize="word", hidden=48, window=32, batch_size=16,
                                    cell="lstm", dtype="float64", max_vocab=600),
    "generation words": dict(task="generation", tokenize="word", hidden=32, window=40, batch_size=24,
                             max_vocab=600),
}


def _config(name: str, tmp_path) -> Config:
    case = CASES[name]
    if isinstance(case, Config):
        return case
    text = tmp_path / "words.txt"                  # 6,000 words of 500 different ones
    text.write_text(" ".join(f"w{(i * 7919) % 500}" for i in range(6000)))
    return Config(dataset=str(text), **case)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_estimate_matches_what_training_allocates(name, tmp_path):
    cfg = _config(name, tmp_path)
    dataset = load_dataset(cfg)
    est = memory_estimate(cfg, dataset)
    tracemalloc.start()
    try:
        trainer = Trainer(cfg, dataset=dataset)
        for _ in range(3):
            trainer.step()
        trainer.evaluate()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 1 / FACTOR <= peak / est.peak <= FACTOR, (name, peak, est)


def test_the_parts_follow_their_formulas():
    cfg = Config(hidden=10, batch_size=4)
    a = memory.estimate(cfg, 100, 3, 40, 20, 7, 9, 256, 2000)
    b = memory.estimate(cfg.replace(batch_size=8), 100, 3, 40, 20, 7, 9, 256, 2000)
    assert b.parts["training activations"] == 2 * a.parts["training activations"]     # linear in B
    f = memory.estimate(cfg.replace(dtype="float64"), 100, 3, 40, 20, 7, 9, 256, 2000)
    assert f.parts["input table"] == 2 * a.parts["input table"] == 2 * 100 * 10 * 4   # n G d s
    g = memory.estimate(cfg.replace(task="generation"), 5000, 5000, 40, 20, 7, 9, 256, 2000)
    assert g.parts["evaluation history"] == 0 and g.largest == "evaluation" and g.lower[0] == "max_vocab"


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("RNNVIZ_MEMORY_MB", "300")
    assert memory.budget() == (300 * 2**20, "RNNVIZ_MEMORY_MB=300")
    for bad in ("lots", "0", "-5", "1e9", "9" * 30):
        monkeypatch.setenv("RNNVIZ_MEMORY_MB", bad)
        with pytest.raises(ConfigError, match="RNNVIZ_MEMORY_MB"):
            memory.budget()
    monkeypatch.delenv("RNNVIZ_MEMORY_MB")
    limit, source = memory.budget()
    assert limit >= 2**30 and "half of this machine" in source


@pytest.mark.parametrize("changes, setting", [
    (dict(hidden=4096, layers=2), "hidden"),
    (dict(dataset="delayed-recall", n_examples=200, delay=10000, max_len=20000, batch_size=1000), "batch_size"),
])
def test_over_the_budget_names_the_setting_to_lower(monkeypatch, changes, setting):
    monkeypatch.setenv("RNNVIZ_MEMORY_MB", "256")
    cfg = Config(**changes)
    with pytest.raises(ConfigError) as info:
        Trainer(cfg)
    text = str(info.value)
    assert info.value.field == setting and text.startswith(f"setting '{setting}': training needs about")
    assert "more than the budget of 256 MB (RNNVIZ_MEMORY_MB=256)" in text and len(text) <= MESSAGE_LIMIT


def test_a_generation_file_with_a_huge_vocabulary_is_one_line(tmp_path, capsys, monkeypatch):
    """The red-team case: a text of 300,000 different words and a large max_vocab asked for gigabytes for the
    output layer and died with MemoryError; now one line naming max_vocab, exit 2, nothing written."""
    monkeypatch.setenv("RNNVIZ_MEMORY_MB", "4096")
    path = tmp_path / "words.txt"
    path.write_text(" ".join(f"w{i}" for i in range(300_000)))
    out = tmp_path / "run"
    code = main(["train", "--data", str(path), "--task", "generation", "--set", "tokenize=word",
                 "--set", "max_vocab=1000000", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("rnnviz: error: setting 'max_vocab': training needs about") and "GB" in err[0]
    assert "now max_vocab=1000000" in err[0] and len(err[0]) <= MESSAGE_LIMIT + 20
    assert not out.exists()
