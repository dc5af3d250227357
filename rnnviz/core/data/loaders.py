"""Read data files into raw examples (tokens and label names), refusing anything malformed.

Every problem is a ``DataError`` whose message names the file, the line and what is wrong, e.g.
``reviews.tsv:17: no tab between text and label``. A loader returns a complete result or raises: nothing is
ever half-loaded.

Formats (the caller picks one; ``rnnviz.core.data.load`` picks by extension and task):

- classification ``.tsv`` / ``.csv`` / ``.txt``: one example a line, ``text<TAB>label``, split on the LAST tab
  (``.csv``: on the last tab when the line has one, else on the last comma). Quotes are ordinary text.
  An optional header row (``text<TAB>label``, ``sentence,label`` ...) is skipped; blank lines too.
- labelling CoNLL-U: word lines of 10 tab-separated columns, sentences end at a blank line; comment lines
  (``#`` first), multiword ranges (``3-4``) and empty nodes (``8.1``) are skipped.
- labelling two columns: ``token<TAB>tag``, sentences end at a blank line. A token may start with ``#``.
- generation: any UTF-8 text.

Text: UTF-8 with or without a BOM, read by ``rnnviz.core.data.textfile`` (which names binary, UTF-16 ... files). Lines end
at ``\\n`` only, so U+0085 (NEL), U+2028 and friends stay inside the text, where tokenizing treats them as spaces.
Stated caps (``MAX_*`` below): more examples, tokens or classes are refused at the line where the cap is passed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rnnviz.core.data.text import tokenize_cut
from rnnviz.core.data.textfile import MAX_FILE_BYTES, decode_bytes, path_exists, read_text, split_lines  # noqa: F401
from rnnviz.core.errors import DataError

MAX_EXAMPLES = 200_000             # classification rows / labelling sentences: more is refused (with the line)
MAX_TOKENS = 3_000_000             # tokens kept from one file (after cutting at max_len): more is refused
MAX_STREAM_TOKENS = 2_000_000      # generation: a longer text is cut here, with a note
MAX_CLASSES = 1000                 # distinct labels / tags: more is refused (the confusion matrix is k x k)
HEADER_TEXT = {"text", "sentence", "sentences", "review", "document", "tweet", "comment", "utterance", "content",
               "phrase", "question", "title", "body", "message", "review_text", "input", "x", "sentence1", "query"}
HEADER_LABEL = {"label", "labels", "class", "category", "sentiment", "polarity", "target", "tag", "y", "score",
                "rating", "emotion", "intent", "topic", "output", "stance", "gold_label", "label_name"}
C1_RE = re.compile("[\u0080-\u009f]")
CONLLU_COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")


@dataclass
class RawExamples:
    """Examples before a vocabulary exists.

    tokens:    classification / labelling: the tokens of each example; generation: one list, the whole stream.
    labels:    classification: one label name per example; labelling: one tag per token; generation: [].
    lines:     the 1-based line where each example starts (generation: [1]).
    classes:   a fixed class order (generated data), or None: the data module sorts the label names.
    tokenizer: "word" or "char".
    notes:     warnings for the user (cut sequences, odd characters ...).
    """

    task: str
    tokens: list[list[str]]
    labels: list
    source: str
    lines: list[int] = field(default_factory=list)
    classes: list[str] | None = None
    tokenizer: str = "word"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


def _is_blank(line: str) -> bool:
    return not line.strip()


def _cut_note(n_cut: int, n_total: int, longest: int, line: int, max_len: int, unit: str) -> str:
    return (f"{n_cut} of {n_total} examples were longer than max_len={max_len} {unit} and were cut "
            f"(the longest, line {line}, has {longest})")


# ------------------------------------------------------------------------------------------- classification
def _header_word(s: str) -> str:
    return s.strip().strip("\"'").strip().lower()


def _looks_like_header(text: str, label: str) -> bool:
    """Both columns are header words (``text<TAB>label``, ``"sentence","label"`` ...): skipped outright."""
    return _header_word(text) in HEADER_TEXT and _header_word(label) in HEADER_LABEL


def _may_be_header(text: str, label: str) -> bool:
    """One column is a header word (``phrase<TAB>score``, pandas' ``,text,label``): a header when its label
    appears nowhere else in the file."""
    return (_header_word(text) in HEADER_TEXT or _header_word(text.rsplit(",", 1)[-1]) in HEADER_TEXT
            or _header_word(label) in HEADER_LABEL)


def parse_classification(text: str, name: str, mode: str = "word", lowercase: bool = True,
                         max_len: int = 400, csv: bool = False) -> RawExamples:
    """Rows ``text<TAB>label`` (``csv``: tab if present, else the last comma) -> RawExamples."""
    tokens: list[list[str]] = []
    labels: list[str] = []
    lines: list[int] = []
    n_cut, longest, longest_line = 0, 0, 0
    c1_rows = 0
    first = True
    guessed = 0                              # line of a first row that may be a header (decided at the end)
    header: tuple[str, str] | None = None
    header_line = repeated_headers = n_kept = 0
    distinct: set[str] = set()
    conllu_line = _conllu_line(text)
    if conllu_line:
        raise DataError("this looks like CoNLL-U (10 tab-separated columns starting with a word id), not "
                        "text<TAB>label: use task=labelling", name, conllu_line)
    for no, line in enumerate(split_lines(text, name), start=1):
        if _is_blank(line):
            continue
        if "\t" in line:
            body, label = line.rsplit("\t", 1)
        elif csv and "," in line:
            body, label = line.rsplit(",", 1)
        else:
            sep = "a tab or a comma" if csv else "a tab"
            hint = ""
            if first and line.lstrip()[:1] in ("{", "["):
                hint = " (this looks like JSON: export the data as text<TAB>label lines)"
            raise DataError(f"no separator: expected text, {sep}, then a label{hint}", name, no)
        key = (body.strip().lower(), label.strip().lower())
        if first:
            first = False
            if _looks_like_header(body, label):
                header, header_line = key, no
                continue
            guessed = no if _may_be_header(body, label) else 0
        elif key == header:
            repeated_headers += 1
            continue
        body, label = body.strip(), label.strip()
        if not label:
            raise DataError("the label (after the last separator) is empty", name, no)
        if not body:
            raise DataError("the text (before the last separator) is empty", name, no)
        toks, n = tokenize_cut(body, mode, lowercase, max_len)
        if not toks:
            raise DataError("the text has no tokens", name, no)
        if n > max_len:
            n_cut += 1
            if n > longest:
                longest, longest_line = n, no
        if C1_RE.search(body):
            c1_rows += 1
        if len(tokens) >= MAX_EXAMPLES:
            raise DataError(f"more than {MAX_EXAMPLES:,} examples; rnnviz trains small models live: use a "
                            "sample of the file", name, no)
        n_kept += len(toks)
        if n_kept > MAX_TOKENS:
            raise DataError(f"more than {MAX_TOKENS:,} tokens by this line; rnnviz trains small models live: use "
                            "a sample of the file or a smaller max_len", name, no)
        if label not in distinct:
            distinct.add(label)
            if len(distinct) > MAX_CLASSES:
                raise DataError(f"more than {MAX_CLASSES} different labels by this line: is the label really "
                                "the last column?", name, no)
        tokens.append(toks)
        labels.append(label)
        lines.append(no)
    guess_note = ""
    if guessed and labels.count(labels[0]) == 1 and len(tokens[0]) < max_len and not C1_RE.search(
            " ".join(tokens[0])):
        guess_note = (f"line {guessed} was read as a header row (its label {labels[0]!r} appears nowhere else) "
                      "and skipped")
        distinct.discard(labels[0])
        n_kept -= len(tokens[0])
        header, header_line = (" ".join(tokens[0]), labels[0]), guessed
        del tokens[0], labels[0], lines[0]
    if not tokens:
        if header is not None:
            raise DataError(f"no examples: only a header row (line {header_line})", name)
        if first:
            raise DataError("no examples: the file holds only blank lines or whitespace", name)
        raise DataError("no examples: the file has no text<TAB>label rows", name)
    if len(distinct) < 2:
        raise DataError(f"only one class ({labels[0]!r}) in the label column; classification needs at least two",
                        name)
    if len(tokens) >= 10 and len(distinct) == len(tokens):
        raise DataError(f"all {len(tokens)} labels are different: the label must be the last column "
                        "(text<TAB>label); is it the first?", name)
    raw = RawExamples("classification", tokens, labels, name, lines, tokenizer=mode)
    if guess_note:
        raw.notes.append(guess_note)
    if repeated_headers:
        raw.notes.append(f"{repeated_headers} more header row(s) like line {header_line} were skipped")
    unit = "characters" if mode == "char" else "tokens"
    if n_cut:
        raw.notes.append(_cut_note(n_cut, len(tokens), longest, longest_line, max_len, unit))
    if c1_rows:
        raw.notes.append(f"{c1_rows} rows contain C1 control characters (U+0080..U+009F), usually Windows-1252 "
                         "text decoded wrongly; they are kept as tokens")
    if len(distinct) > 50:
        raw.notes.append(f"{len(distinct)} different labels: is the label really in the last column?")
    if mode == "word" and len(tokens) >= 10 and sum(len(t) == 1 for t in tokens) > 0.8 * len(tokens):
        raw.notes.append("most texts are a single word: is this a token<TAB>tag file for labelling?")
    seen: dict[tuple[str, ...], set[str]] = {}
    for toks, lab in zip(tokens, labels):
        seen.setdefault(tuple(toks), set()).add(lab)
    dups = len(tokens) - len(seen)
    if dups:
        conflicts = sum(1 for labs in seen.values() if len(labs) > 1)
        raw.notes.append(f"{dups} rows repeat an earlier text" +
                         (f" ({conflicts} texts carry different labels)" if conflicts else ""))
    return raw


def load_classification(path: str | Path, mode: str = "word", lowercase: bool = True,
                        max_len: int = 400) -> RawExamples:
    """A classification file (``.csv``: comma allowed as separator; anything else: tab only)."""
    path = Path(path)
    return parse_classification(read_text(path), str(path), mode, lowercase, max_len,
                                csv=path.suffix.lower() == ".csv")


# ------------------------------------------------------------------------------------------- labelling
class _Sentences:
    """Collects (token, tag) lines into sentences, keeping at most ``max_len`` tokens of each and counting cuts."""

    def __init__(self, name: str, max_len: int, lowercase: bool):
        self.name, self.max_len, self.lowercase = name, max_len, lowercase
        self.tokens: list[list[str]] = []
        self.tags: list[list[str]] = []
        self.lines: list[int] = []          # first line of each sentence
        self.n_cut = self.longest = self.longest_line = 0
        self._tok: list[str] = []
        self._tag: list[str] = []
        self._len = self._start = 0
        self.n_kept = 0
        self.distinct: set[str] = set()

    def add(self, token: str, tag: str, line: int) -> None:
        if self._len == 0:
            self._start = line
            if len(self.tokens) >= MAX_EXAMPLES:
                raise DataError(f"more than {MAX_EXAMPLES:,} sentences; rnnviz trains small models live: use a "
                                "sample of the file", self.name, line)
        self._len += 1
        if self._len <= self.max_len:
            self._tok.append(token.lower() if self.lowercase else token)
            self._tag.append(tag)
            self.n_kept += 1
            if self.n_kept > MAX_TOKENS:
                raise DataError(f"more than {MAX_TOKENS:,} tokens by this line; rnnviz trains small models live: "
                                "use a sample of the file or a smaller max_len", self.name, line)
            if tag not in self.distinct:
                self.distinct.add(tag)
                if len(self.distinct) > MAX_CLASSES:
                    raise DataError(f"more than {MAX_CLASSES} different tags by this line: is the tag really in "
                                    "this column?", self.name, line)

    def close(self) -> None:
        """End the current sentence (a blank line or the end of the file)."""
        if self._len:
            self.tokens.append(self._tok)
            self.tags.append(self._tag)
            self.lines.append(self._start)
            if self._len > self.max_len:
                self.n_cut += 1
                if self._len > self.longest:
                    self.longest, self.longest_line = self._len, self._start
        self._tok, self._tag, self._len = [], [], 0

    def result(self) -> RawExamples:
        """The sentences as labelling examples; errors for no sentences or a single tag."""
        self.close()
        if not self.tokens:
            raise DataError("no sentences: the file has no token lines", self.name)
        distinct = {t for sent in self.tags for t in sent}
        if len(distinct) < 2:
            raise DataError(f"only one tag ({next(iter(distinct))!r}); labelling needs at least two", self.name)
        raw = RawExamples("labelling", self.tokens, self.tags, self.name, self.lines)
        if self.n_cut:
            raw.notes.append(_cut_note(self.n_cut, len(self.tokens), self.longest, self.longest_line, self.max_len,
                                       "tokens"))
        return raw


# ------------------------------------------------------------------------------------------- CoNLL-U
def parse_conllu(text: str, name: str, column: int = 4, lowercase: bool = False,
                 max_len: int = 400) -> RawExamples:
    """Sentences of a CoNLL-U text: FORM (column 2) as token, column ``column`` (1-based) as tag.

    ``_`` in UPOS (4) or XPOS (5) means "no tag" and is an error; in other columns it is a value.
    """
    if not 2 <= column <= 10:
        raise DataError(f"the tag column must be 2..10, got {column}", name)
    col_name = CONLLU_COLUMNS[column - 1]
    sentences = _Sentences(name, max_len, lowercase)
    expected = 1                             # the next word id of the sentence
    for no, line in enumerate(split_lines(text, name), start=1):
        if _is_blank(line):
            sentences.close()
            expected = 1
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise DataError(f"expected 10 tab-separated CoNLL-U columns, found {len(cols)}", name, no)
        wid = cols[0]
        if "-" in wid or "." in wid:
            a, _, b = wid.partition("-" if "-" in wid else ".")
            if _word_number(a) is None or _word_number(b) is None:
                raise DataError(f"the word id {_quote(wid)} is not a number, a range (3-4) or an empty node (8.1)",
                                name, no)
            continue
        number = _word_number(wid)
        if number is None or number < 1:
            raise DataError(f"the word id {_quote(wid)} is not a whole number from 1 (digits 0-9, at most "
                            f"{WORD_ID_DIGITS})", name, no)
        if number != expected:
            raise DataError(f"word id {wid} where {expected} was expected (is a blank line missing between "
                            "sentences?)", name, no)
        expected += 1
        form, tag = cols[1].strip(), cols[column - 1].strip()
        if not form:
            raise DataError("the word form (column 2) is empty", name, no)
        if not tag or (tag == "_" and column in (4, 5)):
            raise DataError(f"no tag in column {column} ({col_name})", name, no)
        sentences.add(form, tag, no)
    return sentences.result()


WORD_ID_DIGITS = 9        # a CoNLL-U word id: plain ASCII digits, at most this many (no ², no 5,000 digits)


def _word_number(text: str) -> int | None:
    """The integer of a CoNLL-U word id (or one end of a range), or None when it is not 1-9 ASCII digits."""
    if 0 < len(text) <= WORD_ID_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _quote(text: str, limit: int = 24) -> str:
    """``repr(text)`` of at most ``limit`` characters of it (a 5,000-digit id is shown by its start)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text):,} characters)"


def load_conllu(path: str | Path, column: int = 4, lowercase: bool = False, max_len: int = 400) -> RawExamples:
    path = Path(path)
    return parse_conllu(read_text(path), str(path), column, lowercase, max_len)


def looks_like_conllu(text: str) -> bool:
    """True when the first non-comment, non-blank line has 10 tab columns and a numeric id."""
    return _conllu_line(text) > 0


def _conllu_line(text: str) -> int:
    """The 1-based line of the first word line when the text looks like CoNLL-U (see above), else 0."""
    for no, line in enumerate(text.split("\n", 200)[:200], start=1):
        line = line.rstrip("\r")
        if _is_blank(line) or line.startswith("#"):
            continue
        cols = line.split("\t")
        return no if len(cols) == 10 and _word_number(cols[0].split("-")[0].split(".")[0]) is not None else 0
    return 0


# ------------------------------------------------------------------------------------------- two columns
def parse_two_column(text: str, name: str, lowercase: bool = False, max_len: int = 400) -> RawExamples:
    """Sentences of ``token<TAB>tag`` lines, blank line between sentences. ``#`` lines are tokens.

    ``-DOCSTART-`` lines (CoNLL-2003) are skipped. More than two columns: first = token, last = tag (noted).
    """
    sentences = _Sentences(name, max_len, lowercase)
    wide_line = spaced_line = n_spaced = 0
    for no, line in enumerate(split_lines(text, name), start=1):
        if _is_blank(line) or line.split("\t", 1)[0].strip() == "-DOCSTART-":
            sentences.close()
            continue
        if "\t" not in line:
            hint = " (this line has spaces but no tab)" if " " in line.strip() else ""
            raise DataError(f"expected token<TAB>tag, found no tab{hint}", name, no)
        cols = line.split("\t")
        token, tag = cols[0].strip(), cols[-1].strip()
        if len(cols) > 2 and not wide_line:
            wide_line = no
        if not token:
            raise DataError("the token (first column) is empty", name, no)
        if not tag:
            raise DataError("the tag (last column) is empty", name, no)
        if " " in token:
            n_spaced += 1
            spaced_line = spaced_line or no
        sentences.add(token, tag, no)
    raw = sentences.result()
    if spaced_line:
        raw.notes.append(f"{n_spaced} tokens contain spaces (first at line {spaced_line}): is this a "
                         "text<TAB>label file for classification?")
    if wide_line:
        raw.notes.append(f"some lines have more than two columns (first at line {wide_line}): "
                         "the first column is the token, the last the tag")
    return raw


def load_two_column(path: str | Path, lowercase: bool = False, max_len: int = 400) -> RawExamples:
    path = Path(path)
    return parse_two_column(read_text(path), str(path), lowercase, max_len)


def load_labelling(path: str | Path, column: int = 4, lowercase: bool = False, max_len: int = 400) -> RawExamples:
    """CoNLL-U when the name ends in ``.conllu`` or the content looks like it, else two columns."""
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() == ".conllu" or looks_like_conllu(text):
        return parse_conllu(text, str(path), column, lowercase, max_len)
    return parse_two_column(text, str(path), lowercase, max_len)


# ------------------------------------------------------------------------------------------- generation
def parse_generation(text: str, name: str, mode: str = "char", lowercase: bool = False,
                     max_tokens: int = MAX_STREAM_TOKENS) -> RawExamples:
    """The whole text as one token stream (CRLF and CR line ends become ``\\n``), cut at ``max_tokens``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError("no text: the file holds only whitespace", name)
    toks, n = tokenize_cut(text, mode, lowercase, max_tokens)
    if len(toks) < 2:
        unit = "character" if mode == "char" else "token"
        raise DataError(f"the text has only {len(toks)} {unit}; generation needs at least two", name)
    raw = RawExamples("generation", [toks], [], name, [1], tokenizer=mode)
    if n > max_tokens:
        raw.notes.append(f"the text has {n:,} {'characters' if mode == 'char' else 'tokens'}; only the first "
                         f"{max_tokens:,} are used")
    return raw


def load_generation(path: str | Path, mode: str = "char", lowercase: bool = False) -> RawExamples:
    path = Path(path)
    return parse_generation(read_text(path), str(path), mode, lowercase)
