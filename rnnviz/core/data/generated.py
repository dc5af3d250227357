"""The built-in datasets, made from small grammars: the same seed always gives the same data.

negation        classification  "the movie was good , not bad" -> positive; "the movie was bad , not good" -> negative
names           labelling       "harry potter met rose at the station" -> B-PER I-PER O B-PER O O O
pos             labelling       "the fly walks fast ." -> DT NN VB RB PC
delayed-recall  classification  "c 7 1 9 ... 4" -> c (the first token; ``delay`` distractor digits follow)
chars           generation      a few KB of simple sentences ("the dog runs. the dogs run. hello, my friend!")
dogs            labelling       "d o g s" -> o g s d: the next letter of "dogsdogs..." (the RNN articles' worked example)

Every generator takes ``(n, seed, ...)`` and returns ``loaders.RawExamples`` with a fixed class order.
"""
from __future__ import annotations

import numpy as np

from rnnviz.core.data.loaders import RawExamples
from rnnviz.core.errors import DataError

TASK_OF = {"negation": "classification", "names": "labelling", "pos": "labelling",
           "delayed-recall": "classification", "chars": "generation", "dogs": "labelling"}


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


# ------------------------------------------------------------------------------------------------ negation
NEG_SUBJECTS = ["this movie", "the movie", "the film", "the acting", "the plot", "the ending", "the music",
                "the story"]
NEG_BE = ["is", "was"]
NEG_ADVERBS = ["", "really", "very"]
POSITIVE = ["good", "great", "fun", "funny", "brilliant", "wonderful"]
NEGATIVE = ["bad", "boring", "awful", "dull", "terrible", "weak"]
# two-adjective templates: {a1}, {a2} of opposite polarity, "not" on exactly one of them (the label is the
# polarity of the adjective WITHOUT "not"). Swapping a1 and a2 keeps every word and flips the label.
NEG_FIRST = ["{s} {be} not {a1} , it {be} {a2}", "{s} {be} not {a1} but {a2}", "{s} {be} not {a1} ; it {be} {a2}"]
NEG_SECOND = ["{s} {be} {a1} , not {a2}", "{s} {be} {a1} and not {a2}", "{s} {be} {a1} , it {be} not {a2}"]
SIMPLE_SHARE = 0.25  # share of one-adjective sentences ("this movie is not good"), made in balanced fours


def negation(n: int, seed: int = 0) -> RawExamples:
    """Movie-review sentences whose label flips with "not"; classes ``negative``, ``positive``.

    Two families, both built so the two classes use the same words equally often:
    - simple (25%): "<subject> is [not] [really|very] <adj>", made in fours from one draw
      (good / not good / bad / not bad): per-class word counts are identical, and a bag of words can at best
      learn "not means negative" and be right 3 times in 4;
    - contrast (75%): "<subject> was not <a1> , it was <a2>" and similar with one "not" and one adjective of
      each polarity, made in pairs (a1 and a2 swapped): every sentence's word multiset also appears with the
      other label, so no bag-of-words model can beat chance on them. Only the order of words tells.
    Identical sentences are avoided while possible, so validation sentences are new to the model.
    """
    rng = np.random.default_rng(seed)
    n_simple = 4 * int(round(n * SIMPLE_SHARE / 4))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add_unit(unit: list[tuple[str, str]], tries: int) -> bool:
        if tries < 30 and any(s in seen for s, _ in unit):
            return False
        out.extend(unit)
        seen.update(s for s, _ in unit)
        return True

    tries = 0
    while len(out) < n_simple:
        s, be, adv = _pick(rng, NEG_SUBJECTS), _pick(rng, NEG_BE), _pick(rng, NEG_ADVERBS)
        p, q = _pick(rng, POSITIVE), _pick(rng, NEGATIVE)
        pre = f"{s} {be} "
        adj = (adv + " ") if adv else ""
        unit = [(f"{pre}{adj}{p}", "positive"), (f"{pre}not {adj}{p}", "negative"),
                (f"{pre}{adj}{q}", "negative"), (f"{pre}not {adj}{q}", "positive")]
        tries = 0 if add_unit(unit, tries) else tries + 1
    while len(out) < n:
        s, be = _pick(rng, NEG_SUBJECTS), _pick(rng, NEG_BE)
        p, q = _pick(rng, POSITIVE), _pick(rng, NEGATIVE)
        first = bool(rng.integers(2))  # "not" on the first adjective?
        tmpl = _pick(rng, NEG_FIRST if first else NEG_SECOND)
        unit = []
        for a1, a2 in ((p, q), (q, p)):
            free = a2 if first else a1  # the adjective without "not" decides
            unit.append((tmpl.format(s=s, be=be, a1=a1, a2=a2), "positive" if free in POSITIVE else "negative"))
        tries = 0 if add_unit(unit, tries) else tries + 1
    out = out[:n]
    order = rng.permutation(len(out))
    tokens = [out[i][0].split() for i in order]
    labels = [out[i][1] for i in order]
    return RawExamples("classification", tokens, labels, "generated:negation", classes=["negative", "positive"])


# ------------------------------------------------------------------------------------------------ names
FIRST_NAMES = ["harry", "hermione", "ron", "luna", "neville", "ginny", "albus", "draco",
               # first names that are ordinary words elsewhere in the data
               "rose", "will", "mark", "bill", "grace", "hope", "frank", "jack", "may", "drew", "pat", "joy"]
LAST_NAMES = ["potter", "granger", "weasley", "longbottom", "lovegood", "malfoy",
              # surnames that are ordinary words elsewhere in the data
              "baker", "smith", "cook", "hunter", "fisher", "miller", "turner", "mason", "king", "young",
              "green", "black", "brown", "white"]
NAME_TEMPLATES = [
    "{P} and {P} invented a new spell", "{P} met {P} at the station", "yesterday {P} gave the book to {P}",
    "{P} said that {P} will come tomorrow", "the letter from {P} arrived late", "{P} asked {P} about the black cat",
    "everyone knows that {P} can cook", "{P} and the old baker went to the market", "we hope {P} will visit the king",
    "{P} drew a map for {P}", "{P} may bring a rose for {P}", "the young hunter saw {P} near the river",
    "{P} paid the bill with {P}", "{P} will mark the papers", "{P} found a green stone", "{P} smiled at {P}",
    "after dinner {P} read a story to {P}", "the potter showed {P} a white bowl", "i told {P} the truth",
    "{P} and {P} played chess", "a letter came for {P}", "nobody saw {P} leave", "{P} hopes to meet {P}",
]
ORDINARY_TEMPLATES = [
    "the rose in the garden is red", "we will see the potter tomorrow", "she paid the bill at the market",
    "you may go home now", "they hope the baker will come", "the hunter drew a map of the forest",
    "he gave a frank answer", "the king and the young smith went home", "i will mark the papers on monday",
    "the cook made a new soup", "the miller and the fisher ate bread", "the turner and the mason built a house",
    "she sang with grace and joy", "in summer the fields are green", "the black dog and the white cat sleep",
    "a brown owl brought the letter", "we hope to see the king", "the potter made a bowl",
    "the children pat the dog", "they may ask the cook", "he will jack up the car", "the young king drew a sword",
]
NAME_SHARE = 0.7  # share of sentences with names


def names(n: int, seed: int = 0) -> RawExamples:
    """Sentences tagged ``B-PER`` (first word of a name), ``I-PER`` (rest of it), ``O`` (anything else).

    Many first names and surnames (rose, will, mark, may; potter, baker, king, young ...) are ordinary words in
    other sentences, where the words before them tell them apart ("the rose", "we will", "harry potter").
    """
    rng = np.random.default_rng(seed)
    tokens, tags = [], []
    for _ in range(n):
        named = rng.random() < NAME_SHARE
        tmpl = _pick(rng, NAME_TEMPLATES if named else ORDINARY_TEMPLATES)
        toks, tg = [], []
        for word in tmpl.split():
            if word == "{P}":
                toks.append(_pick(rng, FIRST_NAMES))
                tg.append("B-PER")
                if rng.random() < 0.6:
                    toks.append(_pick(rng, LAST_NAMES))
                    tg.append("I-PER")
            else:
                toks.append(word)
                tg.append("O")
        tokens.append(toks)
        tags.append(tg)
    return RawExamples("labelling", tokens, tags, "generated:names", classes=["B-PER", "I-PER", "O"])


# ------------------------------------------------------------------------------------------------ pos
POS_TAGS = ["CC", "DT", "IN", "JJ", "NN", "PC", "PR", "RB", "VB"]
DT_SG, DT_PL = ["the", "a", "this", "every"], ["the", "some", "these", "those"]
JJ = ["big", "small", "old", "young", "happy", "quick", "red", "light", "fast", "lazy"]
NN_SG = ["dog", "cat", "bird", "child", "teacher", "man", "woman", "fish", "duck", "fly", "watch", "park", "book",
         "light", "drink", "run", "walk", "play", "plant"]
NN_PL = ["dogs", "cats", "birds", "children", "teachers", "men", "women", "fish", "ducks", "flies", "watches",
         "parks", "books", "lights", "drinks", "runs", "walks", "plays", "plants"]
VB_INTRANS = [("run", "runs"), ("walk", "walks"), ("fly", "flies"), ("sleep", "sleeps"), ("swim", "swims"),
              ("play", "plays"), ("fish", "fishes"), ("duck", "ducks")]
VB_TRANS = [("see", "sees"), ("like", "likes"), ("watch", "watches"), ("drink", "drinks"), ("book", "books"),
            ("plant", "plants"), ("light", "lights"), ("park", "parks"), ("find", "finds"), ("walk", "walks")]
RB = ["quickly", "slowly", "often", "fast", "well", "today", "here"]
IN = ["in", "on", "near", "with", "under", "behind"]
CC = ["and", "but"]
PR_SG, PR_PL = ["he", "she", "it"], ["they", "we", "you", "i"]
PR_OBJ = ["him", "her", "them", "us", "me", "it"]
AMBIGUOUS_POS = sorted({"fish", "duck", "ducks", "fly", "flies", "watch", "watches", "park", "parks", "book",
                        "books", "light", "lights", "drink", "drinks", "run", "runs", "walk", "walks", "play",
                        "plays", "plant", "plants", "fast"})


def _noun_phrase(rng, out: list, subject: bool) -> bool:
    """Append (word, tag) pairs of a noun phrase; returns True when it is singular (3rd person)."""
    if rng.random() < 0.3:
        if subject:
            sg = rng.random() < 0.5
            out.append((_pick(rng, PR_SG if sg else PR_PL), "PR"))
            return sg
        out.append((_pick(rng, PR_OBJ), "PR"))
        return True
    sg = rng.random() < 0.5
    out.append((_pick(rng, DT_SG if sg else DT_PL), "DT"))
    if rng.random() < 0.4:
        out.append((_pick(rng, JJ), "JJ"))
    out.append((_pick(rng, NN_SG if sg else NN_PL), "NN"))
    return sg


def _clause(rng, out: list) -> None:
    sg = _noun_phrase(rng, out, subject=True)
    trans = rng.random() < 0.55
    base, third = _pick(rng, VB_TRANS if trans else VB_INTRANS)
    out.append((third if sg else base, "VB"))
    if trans:
        _noun_phrase(rng, out, subject=False)
    if rng.random() < 0.35:
        out.append((_pick(rng, RB), "RB"))
    if rng.random() < 0.35:
        out.append((_pick(rng, IN), "IN"))
        _noun_phrase(rng, out, subject=False)


def pos(n: int, seed: int = 0) -> RawExamples:
    """Sentences from a small grammar tagged DT JJ NN VB RB IN PR CC PC (PC = punctuation).

    Ambiguous words ("fish", "fly"/"flies", "watch", "park", "run", "light" as NN or VB; "light" also JJ;
    "fast" as JJ or RB) are tagged by their place in the sentence, so only context gives the tag.
    """
    rng = np.random.default_rng(seed)
    tokens, tags = [], []
    for _ in range(n):
        pairs: list[tuple[str, str]] = []
        _clause(rng, pairs)
        if rng.random() < 0.25:
            if rng.random() < 0.5:
                pairs.append((",", "PC"))
            pairs.append((_pick(rng, CC), "CC"))
            _clause(rng, pairs)
        pairs.append(("!" if rng.random() < 0.1 else ".", "PC"))
        tokens.append([w for w, _ in pairs])
        tags.append([t for _, t in pairs])
    return RawExamples("labelling", tokens, tags, "generated:pos", classes=list(POS_TAGS))


# ------------------------------------------------------------------------------------------------ delayed recall
RECALL_CLASSES = ["a", "b", "c", "d"]
RECALL_DISTRACTORS = [str(d) for d in range(10)]


def delayed_recall(n: int, seed: int = 0, delay: int = 10) -> RawExamples:
    """The label is the first token (a, b, c or d); ``delay`` random digits follow. Classes balanced."""
    if delay < 0:
        raise DataError(f"delay must be 0 or more, got {delay}", "generated:delayed-recall")
    rng = np.random.default_rng(seed)
    labels = [RECALL_CLASSES[i] for i in rng.permutation(np.resize(np.arange(len(RECALL_CLASSES)), n))]
    digits = rng.integers(0, len(RECALL_DISTRACTORS), size=(n, delay))  # (n, L)
    tokens = [[lab] + [RECALL_DISTRACTORS[d] for d in row] for lab, row in zip(labels, digits)]
    return RawExamples("classification", tokens, labels, "generated:delayed-recall", classes=list(RECALL_CLASSES))


# ------------------------------------------------------------------------------------------------ chars
CH_SUBJECTS = [("the dog", "the dogs"), ("a cat", "two cats"), ("the little bird", "the little birds"),
               ("my friend", "my friends"), ("the old man", "the old men"), ("the child", "the children")]
CH_VERBS = [("runs", "run"), ("sleeps", "sleep"), ("sings", "sing"), ("eats", "eat"), ("plays", "play"),
            ("jumps", "jump"), ("walks", "walk")]
CH_TAILS = ["", " in the park", " in the garden", " at home", " all day", " with me", " near the river",
            " every morning"]
CH_GREETINGS = ["hello!", "hello, my friend!", "hello world.", "hello, how are you?", "i am fine, thank you.",
                "good morning!", "see you soon."]


def chars_text(n_chars: int, seed: int = 0) -> str:
    """At least ``n_chars`` characters of lower-case lines, each one to three short sentences."""
    rng = np.random.default_rng(seed)
    lines: list[str] = []
    total = 0
    while total < n_chars:
        sentences = []
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.15:
                sentences.append(_pick(rng, CH_GREETINGS))
                continue
            sg = rng.random() < 0.5
            subj = _pick(rng, CH_SUBJECTS)[0 if sg else 1]
            verb = _pick(rng, CH_VERBS)[0 if sg else 1]
            sentences.append(f"{subj} {verb}{_pick(rng, CH_TAILS)}.")
        line = " ".join(sentences)
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def chars(n: int, seed: int = 0, min_chars: int = 0) -> RawExamples:
    """Character-level text of about ``3 * n`` characters (at least ``min_chars``; n=2000 gives ~6 KB)."""
    text = chars_text(max(3 * n, min_chars, 200), seed)
    return RawExamples("generation", [list(text)], [], "generated:chars", lines=[1], tokenizer="char")


# ------------------------------------------------------------------------------------------------ dogs
DOGS = ["d", "o", "g", "s"]


def dogs(n: int, seed: int = 0) -> RawExamples:
    """``n`` copies of the word "dogs" read one character at a time, each tagged with the letter that follows it
    in "dogsdogs..." (o, g, s, d). Classes in the articles' order d, o, g, s (the rows of their W_Y)."""
    tokens = [list(DOGS) for _ in range(n)]
    labels = [DOGS[1:] + DOGS[:1] for _ in range(n)]
    return RawExamples("labelling", tokens, labels, "generated:dogs", classes=list(DOGS), tokenizer="char")


def generate(name: str, n: int, seed: int = 0, delay: int = 10, min_chars: int = 0) -> RawExamples:
    """The built-in dataset ``name`` with ``n`` examples (chars: about 3n characters)."""
    if name == "negation":
        return negation(n, seed)
    if name == "names":
        return names(n, seed)
    if name == "pos":
        return pos(n, seed)
    if name == "delayed-recall":
        return delayed_recall(n, seed, delay)
    if name == "chars":
        return chars(n, seed, min_chars)
    if name == "dogs":
        return dogs(n, seed)
    raise DataError(f"unknown built-in dataset {name!r}; built-ins: {', '.join(TASK_OF)}")
