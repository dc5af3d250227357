"""What a setting is: the record each ``Config`` field carries, the words of the choice settings, the gates of a cell.

``Config`` (core.config) declares every field with ``setting(default, role, tip, ...)``; the facts of a setting —
its type and default, its range or choices, its role, whether a live change leaves a marker, its dock label, its
tooltip and how the dock shows it — live in that one record. Validation, the role sets the controller, the race and
the trainer read, the ``--set`` help and the settings dock are all derived from the records.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ROLES = ("data", "model", "training", "live")
"""data: a change loads a new Dataset. model: a change builds a model of another shape.
training: a change builds a new model that trains differently. live: the running trainer takes it between two steps."""

# gate names of each cell, in the order their blocks are stacked in U, W and b (G = len(GATES[cell]))
GATES = {"rnn": ("s",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}

TASKS = ("classification", "labelling", "generation")
CELLS = tuple(GATES)
ACTIVATIONS = ("tanh", "sigmoid", "relu")
INITS = ("uniform", "normal", "xavier", "orthogonal", "identity")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adagrad")
TOKENIZERS = ("word", "char")
DTYPES = ("float32", "float64")
GENERATED = ("negation", "names", "pos", "delayed-recall", "chars", "dogs")
START_WEIGHTS = ("random", "worked-example")   # "random", or a built-in preset whose [weights] table is the start


@dataclass(frozen=True)
class Setting:
    """The facts of one setting. ``name``, ``type`` and ``default`` are filled in from its Config field.

    range:    (low, high, low_inclusive) for a number; high is always inclusive.
    choices:  the allowed texts of a choice setting.
    reloads_data: a change needs a new Dataset although the role is not "data" (the seed draws generated data and
              the train/validation split).
    marked:   a change during training leaves a marker on the loss plot (live settings only).
    Dock hints: ``special`` is the text the dock shows for the lowest value ("off", "full"), ``step`` the arrows'
    step, ``decimals`` the decimals shown, ``log_steps`` makes the arrows multiply or divide by 2 and accept 1e-3,
    ``capitals`` shows the choices in capitals, ``check_text`` is the text beside a check box.
    """

    role: str
    tip: str
    label: str
    range: tuple[Any, Any, bool] | None = None
    choices: tuple[str, ...] = ()
    reloads_data: bool = False
    marked: bool = False
    special: str | None = None
    step: float | None = None
    decimals: int | None = None
    log_steps: bool = False
    capitals: bool = False
    check_text: str = ""
    name: str = ""
    type: type = object
    default: Any = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"setting role {self.role!r} is not one of {', '.join(ROLES)}")
        if self.range is not None and self.choices:
            raise ValueError("a setting has a range or choices, not both")
        if self.marked and self.role != "live":
            raise ValueError("only a live setting can leave a marker: the others start a new model")

    @property
    def changes_data(self) -> bool:
        """A change needs a new Dataset."""
        return self.role == "data" or self.reloads_data

    @property
    def low(self) -> Any:
        return None if self.range is None else self.range[0]

    @property
    def high(self) -> Any:
        return None if self.range is None else self.range[1]

    def accepts(self, value: Any) -> bool:
        """``value`` (already of the right type) is inside the range and among the choices."""
        if self.choices and value not in self.choices:
            return False
        if self.range is not None:
            lo, hi, inclusive = self.range
            return (lo <= value <= hi) if inclusive else (lo < value <= hi)
        return True


def setting(default: Any, role: str, tip: str, label: str, **facts: Any) -> Any:
    """A Config field that carries its Setting: ``hidden: int = setting(32, "model", "d, the size...", "Hidden")``."""
    return dataclasses.field(default=default, metadata={"setting": Setting(role=role, tip=tip, label=label, **facts)})


def settings_of(cls: type) -> dict[str, Setting]:
    """name -> Setting of every field of the dataclass ``cls``, in field order, with name, type and default."""
    out = {}
    for f in dataclasses.fields(cls):
        if "setting" not in f.metadata:
            raise ValueError(f"field {f.name} of {cls.__name__} has no setting(...)")
        out[f.name] = dataclasses.replace(f.metadata["setting"], name=f.name, type=type(f.default), default=f.default)
    return out
