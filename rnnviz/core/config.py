"""Settings of a run: data, model and training in one frozen record that is validated when it is made.

``Config`` is the settings registry: each field is declared with ``setting(...)`` (core.settings) and carries its
type, default, range or choices, role, dock label and tooltip. One flat record keeps ``--set key=value``, preset
TOML files and session files simple. ``Config(...)`` checks every field and raises ConfigError naming the first bad
one and what it allows; everything below (the role sets, ``allowed``, parsing, the ``--set`` help) reads ``SETTINGS``.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any

from rnnviz.core.errors import ConfigError
from rnnviz.core.settings import (
    ACTIVATIONS,
    CELLS,
    DTYPES,
    GATES,
    GENERATED,
    INITS,
    OPTIMIZERS,
    ROLES,
    START_WEIGHTS,
    TASKS,
    TOKENIZERS,
    Setting,
    setting,
    settings_of,
)

__all__ = ["ACTIVATIONS", "CELLS", "DTYPES", "GATES", "GENERATED", "INITS", "OPTIMIZERS", "ROLES", "START_WEIGHTS", "TASKS",
           "TOKENIZERS", "Config", "Setting", "SETTINGS", "FIELD_TYPES", "DATA_FIELDS", "MODEL_FIELDS",
           "TRAINING_FIELDS", "LIVE_FIELDS", "MARKED_FIELDS", "STRUCTURAL", "allowed", "validate", "parse_value",
           "from_dict", "apply_sets", "to_toml", "set_help"]

# how a tooltip ends: what a change does to the running model
_NEW_MODEL = " New model."
_LIVE = " Changes the running model at once, without a reset."


@dataclass(frozen=True)
class Config:
    """Every setting of a run; each field's ``setting(default, role, tooltip, dock label, ...)`` is its one record."""

    # --- data -------------------------------------------------------------------------------------
    dataset: str = setting(
        "negation", "data",
        "What the network learns from: a built-in generated dataset, or a file of your own (Open file…: .tsv/.csv "
        "text<TAB>label, .conllu, token<TAB>tag, or plain .txt). Changing it builds a new model.", "Dataset")
    task: str = setting(
        "classification", "data",
        "What the output means: classification (one label per sequence), labelling (one label per token) or "
        "generation (predict the next token). Changing it builds a new model.", "Task", choices=TASKS)
    tokenize: str = setting(
        "word", "data", "How text is cut into tokens: words, or single characters." + _NEW_MODEL, "Tokens",
        choices=TOKENIZERS)
    lowercase: bool = setting(
        True, "data", "Lower-case words before building the vocabulary." + _NEW_MODEL, "Lower-case",
        check_text="lower-case words")
    min_freq: int = setting(
        1, "data", "Tokens seen fewer times than this in the training split become <unk>." + _NEW_MODEL,
        "Min. frequency", range=(1, 10**9, True))
    max_vocab: int = setting(
        10000, "data", "Keep at most this many tokens (the special tokens included); rarer ones become <unk>."
        + _NEW_MODEL, "Max. vocabulary", range=(5, 10**7, True))
    sos: bool = setting(
        False, "data", "Prepend a start token <sos> to each sequence." + _NEW_MODEL, "Start token",
        check_text="prepend <sos>")
    eos: bool = setting(
        False, "data", "Append an end token <eos> to each sequence." + _NEW_MODEL, "End token",
        check_text="append <eos>")
    val_fraction: float = setting(
        0.2, "data", "Fraction of the examples held out for validation (stratified by class)." + _NEW_MODEL,
        "Validation share", range=(0.0, 0.9, False), step=0.05, decimals=2)
    n_examples: int = setting(
        2000, "data", "How many examples a generated dataset has (10 to 20000: more takes minutes to generate); "
        "the validation share (20% by default) is held out." + _NEW_MODEL, "Examples",
        range=(10, 20000, True), step=100)
    delay: int = setting(
        10, "data", "Delayed recall only: the number of distractor tokens between the token to remember and the "
        "answer. Longer delays make gradients vanish." + _NEW_MODEL, "Delay", range=(0, 10000, True))
    window: int = setting(
        64, "data", "Generation: tokens per training window (the sequence length T)." + _NEW_MODEL, "Window",
        range=(2, 100000, True))
    column: int = setting(
        4, "data", "CoNLL-U files: the 1-based column of the tag (4 = UPOS, 5 = XPOS)." + _NEW_MODEL, "Tag column",
        range=(2, 10, True))
    max_len: int = setting(
        400, "data", "Longer sequences are cut to this many tokens (with a warning)." + _NEW_MODEL, "Max. length",
        range=(1, 1000000, True))
    # --- model ------------------------------------------------------------------------------------
    cell: str = setting(
        "rnn", "model", "The recurrent cell: vanilla RNN s_t = g(U x_t + W s_(t-1) + b), or gated LSTM / GRU that "
        "keep gradients alive over long sequences." + _NEW_MODEL, "Cell", choices=CELLS, capitals=True)
    activation: str = setting(
        "tanh", "model", "g() of the vanilla RNN cell: tanh, sigmoid or relu (LSTM and GRU use their own gates)."
        + _NEW_MODEL, "Activation", choices=ACTIVATIONS)
    hidden: int = setting(
        32, "model", "d, the size of the hidden state s_t (number of hidden units)." + _NEW_MODEL, "Hidden size d",
        range=(1, 4096, True))
    layers: int = setting(
        1, "model", "How many recurrent layers are stacked (the hidden states of one are the inputs of the next)."
        + _NEW_MODEL, "Layers", range=(1, 8, True))
    bidirectional: bool = setting(
        False, "model", "Add a second RNN that reads each sequence backwards; outputs see both directions. "
        "Not for generation." + _NEW_MODEL, "Bidirectional", check_text="read both directions")
    init: str = setting(
        "uniform", "model", "How W (and U, V) start: uniform, normal, xavier, orthogonal or identity." + _NEW_MODEL,
        "Init of W", choices=INITS)
    spectral_radius: float = setting(
        0.0, "model", "If above 0: rescale W so its largest |eigenvalue| is this. Above 1, signals and gradients "
        "tend to explode; below 1 they vanish. 'off' keeps the initialiser's W." + _NEW_MODEL, "Spectral radius",
        range=(0.0, 100.0, True), special="off", step=0.1, decimals=2)
    forget_bias: float = setting(
        1.0, "model", "LSTM only: the initial bias of the forget gate (positive: the cell starts by keeping its "
        "memory)." + _NEW_MODEL, "Forget-gate bias", range=(-100.0, 100.0, True), step=0.5, decimals=2)
    dtype: str = setting(
        "float32", "model", "Number precision: float32 for speed, float64 for exact checks." + _NEW_MODEL,
        "Precision", choices=DTYPES)
    start_weights: str = setting(
        "random", "model", "Where the weights start: random (drawn as Init says), or the fixed numbers a lesson writes "
        "down (worked-example: the RNN articles' W_X, W_H, W_Y for the word 'dogs', hidden size 3)." + _NEW_MODEL,
        "Start weights", choices=START_WEIGHTS)
    # --- training ---------------------------------------------------------------------------------
    optimizer: str = setting(
        "adam", "training", "The update rule: sgd, momentum, rmsprop, adam or adagrad. New model (optimiser state "
        "restarts).", "Optimiser", choices=OPTIMIZERS)
    lr: float = setting(
        0.01, "live", "Learning rate: the size of each update." + _LIVE, "Learning rate",
        range=(0.0, 100.0, False), marked=True, decimals=12, log_steps=True)
    momentum: float = setting(
        0.9, "training", "Momentum of sgd with momentum, beta1 of adam." + _NEW_MODEL, "Momentum",
        range=(0.0, 0.9999, True), step=0.01, decimals=4)
    batch_size: int = setting(
        32, "training", "Examples per training step; one step averages their gradients (more than the training "
        "split is fine: one batch of all examples)." + _NEW_MODEL, "Batch size", range=(1, 100000, True))
    clip: float = setting(
        5.0, "live", "Global gradient-norm clipping: gradients longer than this are scaled down to it, which tames "
        "exploding gradients. 'off' = no clipping. Changes the running model at once.", "Clip gradients",
        range=(0.0, 1e9, True), marked=True, special="off", step=0.5, decimals=2)
    weight_decay: float = setting(
        0.0, "training", "L2 penalty on U, W and V (not on the biases)." + _NEW_MODEL, "Weight decay",
        range=(0.0, 10.0, True), step=0.0001, decimals=4)
    bptt: int = setting(
        0, "training", "Truncated backpropagation through time: gradients flow back at most this many steps. "
        "'full' = through the whole sequence (a length at least the sequence's is full BPTT too)." + _NEW_MODEL,
        "Truncated BPTT", range=(0, 100000, True), special="full")
    epochs: int = setting(
        10, "live", "How many passes over the training data before training stops. Changes the running model at "
        "once.", "Epochs", range=(1, 100000, True), marked=True)
    seed: int = setting(
        0, "training", "Random seed of the initial weights, the generated data and the data order: the same seed "
        "gives the same run." + _NEW_MODEL, "Seed", range=(0, 2**32 - 1, True), reloads_data=True)
    temperature: float = setting(
        1.0, "live", "Generation: the sampling temperature (0 = greedy, always the likeliest token)." + _LIVE,
        "Temperature", range=(0.0, 100.0, True), marked=True, step=0.1, decimals=2)
    eval_every: int = setting(
        0, "live", "Evaluate on the validation split every this many training steps as well as at the end of each "
        "epoch ('each epoch': only then). More evaluations show learning that happens within an epoch; they do not "
        "change the training. Changes the running model at once.", "Evaluate every", range=(0, 10**6, True),
        special="each epoch")

    def __post_init__(self) -> None:
        validate(self)

    def replace(self, **changes: Any) -> "Config":
        """A copy with ``changes`` applied (validated on construction)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SETTINGS: dict[str, Setting] = settings_of(Config)
"""name -> Setting of every Config field, in field order: the one registry everything else reads."""

FIELD_TYPES: dict[str, type] = {name: s.type for name, s in SETTINGS.items()}
DATA_FIELDS = frozenset(name for name, s in SETTINGS.items() if s.changes_data)
"""Settings whose change needs a new Dataset (the data settings and the seed)."""
MODEL_FIELDS = frozenset(name for name, s in SETTINGS.items() if s.role == "model")
TRAINING_FIELDS = frozenset(name for name, s in SETTINGS.items() if s.role == "training")
LIVE_FIELDS = frozenset(name for name, s in SETTINGS.items() if s.role == "live")
"""Settings the running Trainer takes between two steps; every other change builds a new model."""
MARKED_FIELDS = tuple(name for name, s in SETTINGS.items() if s.marked)
"""Live settings whose change during training leaves a marker, in field order."""
STRUCTURAL = DATA_FIELDS | MODEL_FIELDS
"""Settings that change the model's shape or data: changing them means a new model (a reset)."""

MAX_DATASET_CHARS = 4096             # a path longer than this is refused (the OS refuses it too)
MAX_RECURRENT_WEIGHTS = 50_000_000   # G*d*d per layer and direction, summed: larger models cannot train live


def allowed(name: str) -> str:
    """What field ``name`` accepts, in words: "a whole number from 1 (inclusive) to 4096", "one of rnn, lstm"..."""
    s = SETTINGS[name]
    if s.type is bool:
        return "true or false"
    if s.choices:
        return f"one of {', '.join(s.choices)}"
    kind = {int: "a whole number", float: "a finite number", str: "text"}.get(s.type, s.type.__name__)
    if s.range is not None:
        lo, hi, inclusive = s.range
        return f"{kind} from {lo} ({'inclusive' if inclusive else 'exclusive'}) to {hi}"
    if name == "dataset":
        return f"a built-in dataset ({', '.join(GENERATED)}) or a file path (one line, at most {MAX_DATASET_CHARS} " \
               "characters)"
    return kind


def _show(value: Any) -> str:
    """``repr(value)`` cut to one short line (a 5000-digit integer cannot even be printed)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number with thousands of digits"
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(name: str, value: Any) -> ConfigError:
    return ConfigError(name, f"must be {allowed(name)}; got {_show(value)}")


def _of_type(want: type, value: Any) -> bool:
    if want is bool:
        return isinstance(value, bool)
    if want is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if want is float:     # an int is fine (compared exactly, even one too large for a float)
        return not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float)
                                                                           and math.isfinite(value)))
    return isinstance(value, want)


def validate(cfg: Config) -> Config:
    """Check every field; raise ConfigError naming the first bad field and what is allowed. Returns ``cfg``.

    ``Config(...)`` runs it on construction; call it again only for a Config made without ``__init__``."""
    for name, s in SETTINGS.items():
        value = getattr(cfg, name)
        if not _of_type(s.type, value) or not s.accepts(value):
            raise _bad(name, value)
    if not cfg.dataset.strip() or len(cfg.dataset) > MAX_DATASET_CHARS or any(
            ord(ch) < 32 or ord(ch) == 127 for ch in cfg.dataset):
        raise _bad("dataset", cfg.dataset)
    if cfg.bidirectional and cfg.task == "generation":
        raise ConfigError("bidirectional", "cannot be used for generation (the model would see the next token)")
    weights = len(GATES[cfg.cell]) * cfg.hidden * cfg.hidden * cfg.layers * (2 if cfg.bidirectional else 1)
    if weights > MAX_RECURRENT_WEIGHTS:
        raise ConfigError("hidden", f"cell={cfg.cell}, hidden={cfg.hidden}, layers={cfg.layers}"
                                    f"{', bidirectional' if cfg.bidirectional else ''} make {weights:,} recurrent "
                                    f"weights; at most {MAX_RECURRENT_WEIGHTS:,} train live: use a smaller hidden "
                                    "size or fewer layers")
    return cfg


def unknown_setting(name: str, where: str = "") -> ConfigError:
    """The error for a setting name that is not a Config field (``where``: e.g. " in --grid"), with the closest
    name when there is one; the list of all (too long for one line) is in ``rnnviz --help`` under --set."""
    initials = "".join(word[:1] for word in name.lower().replace("-", "_").split("_"))   # learning_rate: lr
    close = [initials] if initials in FIELD_TYPES and "_" in name else difflib.get_close_matches(
        name, list(FIELD_TYPES), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return ConfigError(_show(name).strip("'\""), f"unknown setting{where}; {hint}the {len(FIELD_TYPES)} settings "
                                                  "are listed under --set in `rnnviz --help`")




def parse_value(name: str, text: str) -> Any:
    """Turn the text of ``--set name=text`` into the field's type, with a clear error."""
    if name not in FIELD_TYPES:
        raise unknown_setting(name)
    want = FIELD_TYPES[name]
    text = text.strip()
    if want is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise _bad(name, text)
    if want is int:
        try:
            return int(text)
        except ValueError:
            raise _bad(name, text) from None
    if want is float:
        try:
            return float(text)
        except ValueError:
            raise _bad(name, text) from None
    return text


def from_dict(values: dict[str, Any], base: Config | None = None) -> Config:
    """Build a Config from a mapping (preset, session, JSON); unknown keys are an error."""
    base = base or Config()
    if not isinstance(values, dict):
        raise ConfigError("settings", f"must be a table of key = value pairs, got {_show(values)}")
    changes = {}
    for key, value in values.items():
        if not isinstance(key, str) or key not in FIELD_TYPES:
            raise unknown_setting(str(key))
        if FIELD_TYPES[key] is float and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                raise _bad(key, value) from None
        changes[key] = value
    return dataclasses.replace(base, **changes)


def apply_sets(cfg: Config, assignments: list[str]) -> Config:
    """Apply ``key=value`` strings (the CLI's ``--set``)."""
    changes = {}
    for item in assignments:
        if "=" not in item:
            raise ConfigError(item, "expected key=value")
        key, text = item.split("=", 1)
        key = key.strip().replace("-", "_")
        changes[key] = parse_value(key, text)
    return from_dict(changes, cfg)


def to_toml(values: dict[str, Any]) -> str:
    """Write a flat mapping as TOML lines (the stdlib reads TOML but does not write it)."""
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            lines.append(f"{key} = {value!r}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    return "\n".join(lines) + "\n"


def set_help() -> str:
    """The ``--set`` help of the command line: every key of the registry, grouped by role."""
    groups = "; ".join(f"{role}: {', '.join(n for n, s in SETTINGS.items() if s.role == role)}" for role in ROLES)
    return (f"change a setting, e.g. --set cell=lstm --set hidden=64 (repeatable; - and _ are the same). Keys by "
            f"role — {groups}. The window changes live settings while it trains, without a new model.")
