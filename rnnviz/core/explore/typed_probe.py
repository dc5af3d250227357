"""A sentence typed by the user, made into a probe exactly as the dataset's own examples were made.

``probe_tokens`` cuts the text with the dataset's tokenizer (``core.text.tokenize``: words and punctuation, or
characters), lower-cases it as the data was (``_lowercase``), and adds ``<sos>`` / ``<eos>`` when the config does (not for
generation, which reads a continuous text). Tokens outside the vocabulary stay as typed here; the Trainer reads
them as ``<unk>`` and shows them so.

``typed_targets`` says what the typed probe's gradient flow is measured against, since a typed sentence has no
label: generation has a real one (the next typed token); classification and labelling use the model's own
prediction as the target, and say so on screen.
"""
from __future__ import annotations

import numpy as np

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.data.text import EOS, SOS, tokenize

MAX_TYPED_TOKENS = 400


def probe_tokens(text: str, dataset, config) -> list[str]:
    """The tokens of ``text`` as the model would read them (empty list for empty text)."""
    text = (text or "").strip("\r\n") if getattr(dataset, "tokenizer", "word") == "char" else (text or "").strip()
    if not text:
        return []
    mode = getattr(dataset, "tokenizer", None) or getattr(config, "tokenize", "word")
    tokens = tokenize(text, mode, _lowercase(dataset, config))[:MAX_TYPED_TOKENS]
    if not tokens:
        return []
    if getattr(dataset, "task", "") != "generation":
        tokens = ([SOS] if getattr(config, "sos", False) else []) + tokens + ([EOS] if getattr(config, "eos", False) else [])
    return tokens


def _lowercase(dataset, config) -> bool:
    """Files were lower-cased when the config said so; the built-in generated datasets ignore that setting, so
    for them typed text is lower-cased exactly when their vocabulary has no upper-case letter."""
    if str(getattr(dataset, "source", "")).startswith("generated:"):
        vocab = getattr(getattr(dataset, "vocab", None), "tokens", [])
        return not any(t.lower() != t for t in vocab if not (t.startswith("<") and t.endswith(">")))
    return bool(getattr(config, "lowercase", True))


def typed_targets(task: str, ids: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """(targets shown as the truth, targets the gradient is taken against, where they come from).

    generation:      the next typed token at every step but the last (a real target: "next token");
    classification:  no truth (IGNORE); gradient w.r.t. the predicted class ("predicted");
    labelling:       no truth (IGNORE per step); gradient w.r.t. the predicted tag at each step ("predicted").
    ``probs``: the model's probabilities for this sequence, (k,) or (T, k).
    """
    ids = np.asarray(ids)
    T = len(ids)
    if task == "generation":
        nxt = np.full(T, IGNORE, dtype=np.int64)
        nxt[:-1] = ids[1:]
        return nxt, nxt, ("next token" if T > 1 else "")
    if task == "classification":
        return np.array(IGNORE), np.array(int(np.argmax(probs))), "predicted"
    return np.full(T, IGNORE, dtype=np.int64), np.asarray(np.argmax(probs, axis=-1), dtype=np.int64), "predicted"
