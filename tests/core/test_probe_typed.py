"""Probe by typing: tokens as the dataset's, <unk> for unknown words, states equal to the core's hidden_states for
the same ids, honest targets, and it keeps updating as training goes on (the process backend included)."""
from __future__ import annotations

import numpy as np

from rnnviz.core.data.batch import IGNORE, Batch
from rnnviz.core.explore.capture import build_probe
from rnnviz.core.explore.typed_probe import probe_tokens
from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import Trainer

from helpers import core_states, small_config


def test_tokens_follow_the_dataset_tokenizer_case_and_specials(tmp_path):
    t = Trainer(small_config(n_examples=100))
    cfg, ds = t.config, t.dataset
    assert probe_tokens("This film, NOT good!", ds, cfg) == ["this", "film", ",", "not", "good", "!"]
    assert probe_tokens("  ", ds, cfg) == [] and probe_tokens("", ds, cfg) == []
    # the built-in datasets are lower case whatever `lowercase` says (their vocabulary has no capitals)
    assert probe_tokens("Not good", ds, cfg.replace(sos=True, eos=True, lowercase=False)) == [
        "<sos>", "not", "good", "<eos>"]
    chars = Trainer(load_preset("chars").config.replace(hidden=8))
    assert probe_tokens("To be", chars.dataset, chars.config) == ["t", "o", " ", "b", "e"]
    # a file read with lowercase = false keeps the case, and <sos>/<eos> as configured
    path = tmp_path / "films.tsv"
    path.write_text("".join(f"{w} Film {i}\t{'pos' if i % 2 else 'neg'}\n" for i, w in
                            enumerate(["Good", "bad", "The", "the"] * 10)), encoding="utf-8")
    from rnnviz.core.config import Config
    from rnnviz.core.data.load import load_dataset

    fcfg = Config(dataset=str(path), task="classification", lowercase=False, sos=True, eos=True)
    fds = load_dataset(fcfg)
    assert probe_tokens("The Film", fds, fcfg) == ["<sos>", "The", "Film", "<eos>"]
    assert probe_tokens("The Film", fds, fcfg.replace(lowercase=True)) == ["<sos>", "the", "film", "<eos>"]




def test_typed_states_equal_the_cores_and_unknown_words_read_unk():
    t = Trainer(small_config(n_examples=200))
    for _ in range(20):
        t.step()
    tokens = probe_tokens("the film was not zzyzx", t.dataset, t.config)
    t.set_probe_text(tokens)
    p = build_probe(t)
    ids, states = core_states(t, tokens)
    assert p.source == "typed"
    assert p.tokens == ("the", "film", "was", "not", "<unk>")
    assert ids[-1] == t.dataset.vocab.unk_id
    np.testing.assert_array_equal(p.ids, ids)
    np.testing.assert_array_equal(p.states, states)
    # no label: the truth stays empty, the gradient is the loss against the predicted class, and it says so
    assert int(p.target) == IGNORE and p.target_from == "predicted"
    res = t.model.loss_and_grads(Batch(ids=ids[None], lengths=np.array([len(ids)]),
                                       targets=np.array([int(np.argmax(p.probs))]), index=np.array([0])))
    np.testing.assert_allclose(p.grad_norms, res.grad_norms, rtol=1e-6)
    np.testing.assert_allclose(p.probs, res.probs[0], rtol=1e-6)


def test_generation_typed_probe_has_real_next_token_targets():
    t = Trainer(load_preset("chars").config.replace(hidden=8))
    t.step()
    tokens = probe_tokens("to be", t.dataset, t.config)
    t.set_probe_text(tokens)
    p = build_probe(t)
    ids = t.dataset.vocab.encode(tokens)
    assert p.target_from == "next token"
    np.testing.assert_array_equal(p.target[:-1], ids[1:])
    assert p.target[-1] == IGNORE
    assert np.isfinite(p.grad_norms).all()


