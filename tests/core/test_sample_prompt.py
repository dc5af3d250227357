"""Generation: the Snapshot says which part of the sampled text is the prompt (given, not sampled) and the step
the text was sampled at, checked against the trainer's own sampling done again by hand."""
from __future__ import annotations

import numpy as np

from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import SAMPLE_PROMPT, Trainer


def _generation_trainer(**changes):
    cfg = load_preset("chars").config.replace(**{"hidden": 8, "n_examples": 1000, "batch_size": 8, "eval_every": 5,
                                                   **changes})
    return Trainer(cfg)


def test_the_sample_names_its_prompt_and_the_step_it_was_sampled_at():
    t = _generation_trainer()
    snap = build_snapshot(t)
    assert (snap.sample_text, snap.sample_prompt, snap.sample_step) == ("", "", -1)      # nothing sampled yet
    for _ in range(4):
        t.step()
    rng = np.random.default_rng()
    rng.bit_generator.state = t.sample_rng.bit_generator.state       # the generator before the next sample
    t.step()                                                         # step 5: evaluates and samples
    assert [e["step"] for e in t.eval_history][-1] == 5
    # the sample done again by hand: prompt = the first tokens of validation example 0, then generate()
    vocab = t.dataset.vocab
    ids = [int(i) for i in np.asarray(t.dataset.val.ids[0])[:SAMPLE_PROMPT]]
    prompt = "".join(vocab.tokens[i] for i in ids)
    out = t.model.generate(ids, 240, t.temperature, rng,
                           exclude=(vocab.pad_id, vocab.unk_id, vocab.sos_id, vocab.eos_id))
    expected = prompt + "".join(vocab.tokens[i] for i in out)
    for _ in range(2):
        t.step()
    snap = build_snapshot(t)
    assert snap.sample_text == expected
    assert snap.sample_prompt == prompt and len(prompt) == SAMPLE_PROMPT
    assert snap.step == 7 and snap.sample_step == 5          # the step it was sampled at, not the snapshot's
    # a temperature change samples again, at the current step
    t.apply_live("temperature", 0.5)
    snap = build_snapshot(t)
    assert snap.sample_step == 7 and snap.sample_text.startswith(prompt) and snap.sample_text != expected


def test_state_dict_keeps_the_sample_step():
    t = _generation_trainer()
    for _ in range(6):
        t.step()
    u = Trainer(t.config, dataset=t.dataset)
    u.load_state_dict(t.state_dict())
    assert (u.sample_step, u.sample_prompt, u.sample_text) == (5, t.sample_prompt, t.sample_text)
