"""Qt-free helpers shared by tests in more than one folder (core, cli, gui)."""
from __future__ import annotations

import dataclasses
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from rnnviz.bench import core, flops
from rnnviz.core.config import TASKS, Config, Setting
from rnnviz.core.data.batch import make_batch
from rnnviz.core.errors import TrainingFault
from rnnviz.core.explore import sweep
from rnnviz.core.presets import load_preset
from rnnviz.core.train.history import History
from rnnviz.core.train.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]
BAD_FILES = Path(__file__).resolve().parent / "bad_files"
C, L, G = TASKS


def other_value(s: Setting):
    """A valid value of setting ``s`` (from the registry, core.config.SETTINGS) different from its default."""
    if s.type is bool:
        return not s.default
    if s.choices:
        return next(c for c in s.choices if c != s.default)
    if s.name == "dataset":
        return "names"
    lo, hi, _ = s.range
    return next(v for v in (s.type(s.default + 1), s.type((lo + hi) / 2), hi) if v != s.default and s.accepts(v))


# rnnviz bench --json rows
ROW_KEYS = {"cell", "task", "hidden", "T", "batch", "flops", "numpy_f32_ms", "numpy_f64_ms", "f64_over_f32",
            "numpy_f32_peak", "numpy_f64_peak", "torch_f32_ms", "numpy_over_torch", "torch_f32_peak"}


def check_bench_rows(rows, with_torch):
    assert len(rows) == len(core.grid(quick=True)) == 6
    for r in rows:
        assert set(r) == ROW_KEYS
        assert r["flops"] == flops.step_flops(r["cell"], r["task"], r["hidden"], r["T"], r["batch"], core.CLASSES)
        assert r["numpy_f32_ms"] > 0 and r["numpy_f64_ms"] > 0
        assert r["f64_over_f32"] == pytest.approx(r["numpy_f64_ms"] / r["numpy_f32_ms"])
        if with_torch:
            assert r["torch_f32_ms"] > 0
            assert r["numpy_over_torch"] == pytest.approx(r["numpy_f32_ms"] / r["torch_f32_ms"])
        else:
            assert r["torch_f32_ms"] is r["numpy_over_torch"] is r["torch_f32_peak"] is None


def trainer_for(preset="negation", steps=15, **changes):
    cfg = load_preset(preset).config.replace(**{"hidden": 6, "n_examples": 120, "dtype": "float64", **changes})
    t = Trainer(cfg)
    for _ in range(steps):
        t.step()
    return t


def batch_at(trainer, pos: int):
    """The batch ``trainer`` takes at position ``pos`` of this epoch's data order (read from its state_dict)."""
    order = trainer.state_dict()["order"]
    return make_batch(trainer.dataset.train, order[pos:pos + trainer.config.batch_size], trainer.pad_id,
                      trainer.dataset.task)


def trained_on(preset, **changes):
    t = Trainer(load_preset(preset).config.replace(**{"hidden": 8, "n_examples": 200, **changes}))
    t.run_epoch()
    return t


EXPLODING = dict(optimizer="sgd", lr=1.0, spectral_radius=3.0, clip=0.0, activation="relu", epochs=1000)


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def tenth_rates(times: list[float], steps: list[int], part: float = 0.1) -> tuple[float, float]:
    """Steps per second over the first and the last ``part`` of the run (by time; a tenth by default)."""
    t, s = np.asarray(times), np.asarray(steps, dtype=float)
    span = t[-1] - t[0]

    def rate(a: float, b: float) -> float:
        i, j = np.searchsorted(t, a), np.searchsorted(t, b, side="right") - 1
        return (s[j] - s[i]) / (t[j] - t[i])

    return rate(t[0], t[0] + span * part), rate(t[-1] - span * part, t[-1])


def soak_lesson(**changes):
    """The default lesson (negation, 2000 examples, 57 steps an epoch), never stopping on `epochs`."""
    return load_preset("negation").config.replace(epochs=100000, **changes)


SMALL_CAPS = {"loss": 256, "grad_flow": 64, "eval": 64}


class SmallCaps(Trainer):
    """The real Trainer with small history caps, so a short run goes through many decimations."""

    def __init__(self, config, dataset=None, **kw):
        super().__init__(config, dataset=dataset, **kw)
        self.loss_history = History(1, SMALL_CAPS["loss"])
        self.param_grad_history = History(len(self.model.param_names), SMALL_CAPS["loss"])
        self.grad_flow = History(self.monitor_batch.ids.shape[1], SMALL_CAPS["grad_flow"])
        self.eval_cap = SMALL_CAPS["eval"]
        self.record_monitor()


SESSION_CASES = {
    "rnn-classification-adam": Config(n_examples=240, hidden=12, epochs=50),
    "lstm-generation-momentum": Config(dataset="chars", task="generation", tokenize="char", n_examples=1000,
                                       hidden=10, cell="lstm", optimizer="momentum", lr=0.05, epochs=50,
                                       batch_size=8),
    "gru-labelling-rmsprop": Config(dataset="pos", task="labelling", n_examples=120, hidden=10, cell="gru",
                                    optimizer="rmsprop", lr=0.005, epochs=50),
}


def sweep_children():
    return [p for p in multiprocessing.active_children() if p.name == sweep.PROCESS_NAME]


def sweep_base_config():
    return load_preset("negation").config.replace(hidden=8, n_examples=200, activation="relu", optimizer="sgd",
                                                  clip=0.0, epochs=2)


def direct_run(cfg):
    """The same cell trained by hand in this process: (val_loss, val_accuracy, train_loss, steps) or the fault."""
    trainer = Trainer(cfg)
    try:
        trainer.train()
    except TrainingFault as exc:
        return "failed", str(exc), trainer
    return "ok", "", trainer


# file, task, expected: ("error", line or None, words in the message) or ("loads", words in the notes or None)
BAD_CORPUS = [
    ("empty.tsv", C, ("error", None, "the file is empty")),
    ("header_only.tsv", C, ("error", None, "only a header row (line 1)")),
    ("header_only_crlf.csv", C, ("error", None, "only a header row (line 1)")),
    ("no_label_column.tsv", C, ("error", 1, "no separator")),
    ("one_class.tsv", C, ("error", None, "only one class ('pos')")),
    ("latin1.tsv", C, ("error", 2, "not UTF-8 text: byte 0xe9 at column 7")),
    ("utf16_bom.tsv", C, ("error", None, "UTF-16")),
    ("utf16le_no_bom.tsv", C, ("error", None, "UTF-16 text without a byte-order mark")),
    ("utf16be_no_bom.tsv", C, ("error", None, "UTF-16 text without a byte-order mark")),
    ("utf32_bom.tsv", C, ("error", None, "UTF-32")),
    ("binary.tsv", C, ("error", 1, "binary content")),
    ("image.tsv", C, ("error", None, "this is a PNG image")),
    ("whitespace_only.tsv", C, ("error", None, "only blank lines or whitespace")),
    ("crlf.tsv", C, ("loads", None)),
    ("bom.tsv", C, ("loads", None)),
    ("bom_header_crlf.csv", C, ("loads", None)),
    ("bare_cr.tsv", C, ("error", None, "bare carriage return")),
    ("nul_bytes.tsv", C, ("error", 2, "NUL byte")),
    ("mixed_tabs_spaces.tsv", C, ("error", 2, "no separator")),
    ("label_only_line.tsv", C, ("error", 2, "the text (before the last separator) is empty")),
    ("label_only_no_tab.tsv", C, ("error", 2, "no separator")),
    ("text_only_trailing_tab.tsv", C, ("error", 2, "the label (after the last separator) is empty")),
    ("duplicated_header.tsv", C, ("loads", "1 more header row(s) like line 1 were skipped")),
    ("header_unknown.tsv", C, ("loads", "line 1 was read as a header row (its label 'score' appears nowhere else)")),
    ("quoted_header.csv", C, ("loads", None)),
    ("label_first.tsv", C, ("error", None, "all 12 labels are different")),
    ("spreadsheet.xlsx", C, ("error", None, "ZIP archive (an Excel .xlsx")),
    ("records.json", C, ("error", 1, "looks like JSON")),
    ("sentences.conllu", C, ("error", None, "use task=labelling")),
    ("conllu_renamed.tsv", C, ("error", 2, "looks like CoNLL-U")),
    ("web_page.tsv", C, ("error", 1, "no separator")),
    ("invalid_utf8_mid.tsv", C, ("error", 2, "not UTF-8 text: byte 0xed at column 5")),
    ("quoted.csv", C, ("loads", None)),
    ("unicode.tsv", C, ("loads", None)),
    ("two_column_ok.tsv", C, ("loads", None)),
    ("conllu_short_row.conllu", L, ("error", 3, "expected 10 tab-separated CoNLL-U columns, found 4")),
    ("conllu_bad_id.conllu", L, ("error", 3, "the word id 'two'")),
    ("conllu_id_gap.conllu", L, ("error", 4, "word id 4 where 3 was expected")),
    ("conllu_missing_tag.conllu", L, ("error", 3, "no tag in column 4 (UPOS)")),
    ("conllu_empty_form.conllu", L, ("error", 3, "word form (column 2) is empty")),
    ("conllu_spaces.conllu", L, ("error", 2, "found 1")),
    ("conllu_comments_only.conllu", L, ("error", None, "no sentences")),
    ("conllu_one_tag.conllu", L, ("error", None, "only one tag ('X')")),
    ("conllu_utf16.conllu", L, ("error", None, "UTF-16")),
    ("conllu_crlf_bom.conllu", L, ("loads", None)),
    ("sentences.conllu", L, ("loads", None)),
    ("conllu_renamed.tsv", L, ("loads", None)),
    ("two_column_missing_tag.txt", L, ("error", 3, "expected token<TAB>tag, found no tab")),
    ("two_column_empty_tag.txt", L, ("error", 2, "the tag (last column) is empty")),
    ("two_column_spaces.txt", L, ("error", 1, "this line has spaces but no tab")),
    ("two_column_ok.tsv", L, ("loads", None)),
    ("crlf.tsv", L, ("error", None, "single sentence of 12 tokens")),
    ("header_only.tsv", L, ("error", None, "only one tag ('label')")),
    ("image.tsv", L, ("error", None, "PNG image")),
    ("spreadsheet.xlsx", L, ("error", None, "ZIP archive")),
    ("one_char.txt", G, ("error", None, "only 1 ")),      # 1 token (CLI, words), 1 character (window)
    ("two_chars.txt", G, ("error", None, "only 1 token")),       # word tokens by default: "ab" is one word
    ("empty.txt", G, ("error", None, "the file is empty")),
    ("whitespace.txt", G, ("error", None, "only whitespace")),
    ("image.txt", G, ("error", None, "PNG image")),
    ("binary.txt", G, ("error", 1, "binary content")),
    ("latin1.txt", G, ("error", 1, "not UTF-8")),
    ("crlf.tsv", G, ("error", None, "window=64 needs at least 129")),
    ("records.json", G, ("error", None, "window=64 needs at least 129")),
]


def same(a, b, path: str = "value") -> None:
    """Equal all the way down: dataclass fields, arrays (dtype and values, NaN = NaN), dicts, sequences, objects."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} came back as {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), path
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, path
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        same(vars(a), vars(b), path)
    else:
        assert a == b, path


def small_config(**changes) -> Config:
    """The default lesson (negation), small enough to train in a blink."""
    try:
        base = load_preset("negation").config
    except Exception:
        base = Config()
    values = {"hidden": 16, "n_examples": 300, "epochs": 50}
    values.update(changes)
    return base.replace(**values)


def core_states(trainer, tokens):
    ids = trainer.dataset.vocab.encode(tokens)
    return ids, trainer.model.hidden_states(ids[None, :], np.array([len(ids)]))[0]
