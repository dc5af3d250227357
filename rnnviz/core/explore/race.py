"""A/B race: two configurations trained side by side from the same start, so only the changed settings differ.

A is the current configuration, B is A with some settings changed (``b_config``). Both use the same seed, so
the same Dataset (when no data setting differs) and the same batch order (when batch_size and seed agree too:
the data order comes from ``seed + 1`` alone). B's initial weights are A's wherever a parameter has the same
name and shape (``share_initial_weights``): e.g. rnn -> lstm shares ``V`` (k x d) and ``c`` (k), while ``U``,
``W``, ``b`` have 4d rows in the LSTM and start from B's own seed-drawn values. ``differences`` lists exactly
which settings differ, for the window's legend. Qt-free.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from rnnviz.core.config import DATA_FIELDS, Config, apply_sets
from rnnviz.core.errors import ConfigError
from rnnviz.core.nn.model import RNNModel

ARROW = "\u2192"


def b_config(a: Config, assignments: list[str]) -> Config:
    """A with ``key=value`` changes (ConfigError for a bad one, or when nothing changes)."""
    b = apply_sets(a, assignments)
    if not differences(a, b):
        raise ConfigError("b", "B must change at least one setting of A (e.g. --b cell=lstm)")
    return b


def differences(a: Config, b: Config) -> list[tuple[str, Any, Any]]:
    """(setting, A's value, B's value) for every setting that differs, in the Config's field order."""
    return [(f.name, getattr(a, f.name), getattr(b, f.name)) for f in fields(Config)
            if getattr(a, f.name) != getattr(b, f.name)]


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:g}" if isinstance(v, float) else str(v)


def differences_text(a: Config, b: Config) -> str:
    """``"cell: rnn → lstm, hidden: 32 → 64"`` (``"no difference"`` when there is none)."""
    diff = differences(a, b)
    return ", ".join(f"{k}: {_fmt(va)} {ARROW} {_fmt(vb)}" for k, va, vb in diff) or "no difference"


def same_data(a: Config, b: Config) -> bool:
    """Both load the same Dataset (no data setting and no seed differs)."""
    return all(getattr(a, n) == getattr(b, n) for n in DATA_FIELDS)


def same_batch_order(a: Config, b: Config) -> bool:
    """Both see the same batches in the same order: same data, same seed, same batch size."""
    return same_data(a, b) and a.batch_size == b.batch_size


def initial_model(config: Config, dataset: Any) -> RNNModel:
    """The model ``Trainer(config, dataset)`` starts from (its weights come from ``config.seed`` alone)."""
    return RNNModel(config, len(dataset.vocab), dataset.n_classes)


@dataclass(frozen=True)
class Sharing:
    """Which of B's parameters start equal to A's (``shared``) and which are B's own (``own``), and why."""

    shared: tuple[str, ...]
    own: tuple[str, ...]
    reason: str = ""            # why nothing could be shared, when so

    def text(self) -> str:
        if not self.shared:
            return f"no initial weights shared ({self.reason})" if self.reason else "no initial weights shared"
        text = f"same initial {', '.join(self.shared)}"
        if self.own:
            text += f"; B's own {', '.join(self.own)} (other shape)"
        return text


def plan_sharing(a: Config, b: Config, dataset: Any) -> Sharing:
    """Which parameters of B's model take A's initial values (same name and shape), without building a Trainer."""
    if not same_data(a, b):
        names = tuple(initial_model(b, dataset).param_names) if dataset is not None else ()
        return Sharing((), names, "B uses other data or another seed")
    ma, mb = initial_model(a, dataset), initial_model(b, dataset)
    shared = tuple(n for n in mb.param_names if n in ma.params and ma.params[n].shape == mb.params[n].shape)
    own = tuple(n for n in mb.param_names if n not in shared)
    return Sharing(shared, own)


def share_initial_weights(trainer: Any, donor: Config) -> Sharing:
    """Give ``trainer`` (B, before its first step) the initial weights of ``donor`` (A) where shapes match.

    Afterwards the trainer is as if it had started from those weights: the gradient flow recorded at step 0 is
    redone from them."""
    if trainer.step_count != 0:
        raise ValueError("initial weights can only be shared before the first step")
    plan = plan_sharing(donor, trainer.config, trainer.dataset)
    if not plan.shared:
        return plan
    source = initial_model(donor, trainer.dataset)
    model = trainer.model
    for name in plan.shared:
        model.set(name, source.params[name].astype(model.dtype))
    trainer.record_monitor(restart=True)
    return plan


def make_pair(a: Config, b: Config, dataset: Any = None) -> tuple[Any, Any, Sharing]:
    """Trainers A and B ready to race: one Dataset object when the data agree, B with A's shared weights."""
    from rnnviz.core.train.trainer import Trainer

    ta = Trainer(a, dataset=dataset)
    tb = Trainer(b, dataset=ta.dataset if same_data(a, b) else None)
    return ta, tb, share_initial_weights(tb, ta.config)
