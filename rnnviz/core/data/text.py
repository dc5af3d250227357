"""Text to tokens to ids: the tokenizer and the vocabulary.

``tokenize`` cuts a text into words (and punctuation) or into characters. ``Vocab`` gives every token an id:
the four specials first, in a fixed order (``<pad>`` = 0, ``<unk>`` = 1, ``<sos>`` = 2, ``<eos>`` = 3), then the
training tokens, most frequent first (ties alphabetically, so the same data always gives the same ids).

>>> tokenize("This movie isn't good!")
['this', 'movie', "isn't", 'good', '!']
>>> v = Vocab.build([["a", "b", "a"]])
>>> v.tokens
['<pad>', '<unk>', '<sos>', '<eos>', 'a', 'b']
>>> v.encode(["a", "zebra"]).tolist()
[4, 1]
"""
from __future__ import annotations

import json
import re
from collections import Counter
from itertools import islice, repeat
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from rnnviz.core.errors import DataError

# a word (letters, digits, underscore; one inner apostrophe as in "isn't", "monster's") or one other visible char
WORD_RE = re.compile(r"\w+(?:'\w+)?|[^\w\s]")

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<sos>", "<eos>"
SPECIALS = (PAD, UNK, SOS, EOS)
VOCAB_FORMAT = "rnnviz-vocab"
VOCAB_VERSION = 1
SHORT_TEXT = 100_000  # tokenize_cut: texts up to this many characters are tokenized in one regex call


def iter_tokens(text: str, mode: str = "word", lowercase: bool = True) -> Iterator[str]:
    """The tokens of ``text`` one at a time (lets a caller stop early on a huge text)."""
    if mode not in ("word", "char"):
        raise ValueError(f"tokenize mode must be 'word' or 'char', got {mode!r}")
    if lowercase:
        text = text.lower()
    if mode == "char":
        return iter(text)
    return (m.group(0) for m in WORD_RE.finditer(text))


def tokenize(text: str, mode: str = "word", lowercase: bool = True) -> list[str]:
    """Cut ``text`` into tokens.

    word: words (with an inner apostrophe kept: ``isn't``) and each punctuation character on its own;
          every kind of whitespace separates (spaces, tabs, newlines, U+0085, U+2028 ...) and is dropped.
    char: every character is a token, spaces and newlines included.
    """
    return list(iter_tokens(text, mode, lowercase))


def tokenize_cut(text: str, mode: str, lowercase: bool, max_len: int) -> tuple[list[str], int]:
    """(the first ``max_len`` tokens, the full token count), never holding more than ``max_len`` tokens."""
    if mode == "char" or len(text) <= SHORT_TEXT:     # one call into the regex engine, or plain characters
        if mode not in ("word", "char"):
            raise ValueError(f"tokenize mode must be 'word' or 'char', got {mode!r}")
        if lowercase:
            text = text.lower()
        if mode == "char":
            return list(text[:max_len]), len(text)
        toks = WORD_RE.findall(text)
        return toks[:max_len], len(toks)
    it = iter_tokens(text, mode, lowercase)
    head = list(islice(it, max_len))
    rest = sum(1 for _ in it)
    return head, len(head) + rest


class Vocab:
    """Token <-> id table. ``tokens[id]`` is the token; specials occupy ids 0..3.

    counts: list aligned with ``tokens``: how often each token occurs in the data it was built from
            (0 for the specials).
    """

    pad_id, unk_id, sos_id, eos_id = 0, 1, 2, 3
    specials = SPECIALS

    def __init__(self, tokens: Sequence[str] = (), counts: Sequence[int] | None = None):
        """``tokens``: the ordinary tokens (no specials), in id order starting at 4."""
        tokens = [str(t) for t in tokens]
        if counts is None:
            counts = [0] * len(tokens)
        if len(counts) != len(tokens):
            raise ValueError("counts must have one entry per token")
        self._tokens: list[str] = list(SPECIALS) + tokens
        self._counts: list[int] = [0] * len(SPECIALS) + [int(c) for c in counts]
        self._index: dict[str, int] = {}
        for i, tok in enumerate(self._tokens):
            if tok in self._index:
                raise ValueError(f"token {tok!r} appears twice in the vocabulary")
            self._index[tok] = i

    # ------------------------------------------------------------------------------------- building
    @classmethod
    def build(cls, token_lists: Iterable[Iterable[str]], min_freq: int = 1, max_size: int | None = None) -> "Vocab":
        """A vocabulary of the tokens in ``token_lists``.

        min_freq: tokens seen fewer times are left out (they will read as ``<unk>``).
        max_size: the largest vocabulary, the four specials included; the most frequent tokens are kept.
        Order: most frequent first, ties alphabetically. Tokens spelled like a special are not added again.
        """
        if max_size is not None and max_size < len(SPECIALS):
            raise ValueError(f"max_size must be at least {len(SPECIALS)} (the specials), got {max_size}")
        counter: Counter[str] = Counter()
        for toks in token_lists:
            counter.update(toks)
        for s in SPECIALS:
            counter.pop(s, None)
        items = sorted(((t, c) for t, c in counter.items() if c >= min_freq), key=lambda tc: (-tc[1], tc[0]))
        if max_size is not None:
            items = items[: max_size - len(SPECIALS)]
        return cls([t for t, _ in items], [c for _, c in items])

    # ------------------------------------------------------------------------------------- lookups
    @property
    def tokens(self) -> list[str]:
        """All tokens, index = id (a copy)."""
        return list(self._tokens)

    @property
    def itos(self) -> list[str]:
        return self.tokens

    @property
    def counts(self) -> list[int]:
        """Occurrences in the building data, index = id (a copy; specials count 0)."""
        return list(self._counts)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self._tokens == other._tokens and self._counts == other._counts

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {self._tokens[4:10]}{' ...' if len(self) > 10 else ''})"

    def id_of(self, token: str) -> int:
        """The id of ``token`` (``unk_id`` when unknown)."""
        return self._index.get(token, self.unk_id)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """(T,) int64 ids; unknown tokens become ``unk_id``."""
        index, unk = self._index, self.unk_id
        if not isinstance(tokens, (list, tuple)):
            tokens = list(tokens)
        return np.fromiter(map(index.get, tokens, repeat(unk)), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of ``ids``; an id outside the vocabulary is a ValueError."""
        out = []
        n = len(self._tokens)
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise ValueError(f"id {i} is outside the vocabulary (0..{n - 1})")
            out.append(self._tokens[i])
        return out

    # ------------------------------------------------------------------------------------- files
    def to_dict(self) -> dict:
        return {"format": VOCAB_FORMAT, "version": VOCAB_VERSION, "specials": list(SPECIALS),
                "tokens": self._tokens[len(SPECIALS):], "counts": self._counts[len(SPECIALS):]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: object, path: str | None = None) -> "Vocab":
        """Inverse of ``to_dict``; anything malformed is a DataError naming ``path``."""
        def bad(what: str) -> DataError:
            return DataError(f"not a valid rnnviz vocabulary file: {what}", path or "vocabulary")

        if not isinstance(data, dict) or data.get("format") != VOCAB_FORMAT:
            raise bad(f"expected a JSON object with \"format\": \"{VOCAB_FORMAT}\"")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version > VOCAB_VERSION:
            raise bad(f"unsupported version {version!r} (this rnnviz reads version {VOCAB_VERSION})")
        if data.get("specials") != list(SPECIALS):
            raise bad(f"specials must be {list(SPECIALS)}")
        tokens, counts = data.get("tokens"), data.get("counts")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise bad("\"tokens\" must be a list of strings")
        if not isinstance(counts, list) or len(counts) != len(tokens) or not all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise bad("\"counts\" must be a list of non-negative whole numbers, one per token")
        if len(set(tokens)) != len(tokens) or set(tokens) & set(SPECIALS):
            raise bad("a token appears twice")
        return cls(tokens, counts)

    @classmethod
    def from_json(cls, text: str, path: str | None = None) -> "Vocab":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise DataError(f"not a valid rnnviz vocabulary file: not JSON ({exc})", path or "vocabulary") from None
        return cls.from_dict(data, path)

    def save(self, path: str | Path) -> None:
        """Write the JSON through a temporary file and a rename: a crash never leaves half a vocabulary."""
        from rnnviz.core.files import atomic_write

        data = self.to_json().encode("utf-8")
        atomic_write(path, lambda fh: fh.write(data))

    @classmethod
    def load(cls, path: str | Path) -> "Vocab":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError("no such file", str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the vocabulary ({exc.__class__.__name__})", str(path)) from None
        return cls.from_json(text, str(path))
