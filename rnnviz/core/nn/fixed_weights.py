"""Fixed starting weights written in a preset (``Config.start_weights``): a lesson's numbers instead of random ones.

The ``[weights]`` table of the preset (``core.presets``) gives parameters in the textbook's shapes: ``U`` (G*d, n),
``W`` (G*d, d), ``b`` (G*d), ``V`` (k, D), ``c`` (k) and any other parameter of the model by name. A list (of
numbers or of rows) is the whole parameter; a table names the columns of ``U`` by input token and the rows of ``V``
(entries of ``c``) by class; the columns and rows it does not name keep their random values. Anything that does
not fit the model is a one-line ConfigError naming the preset, the parameter and the shapes.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from rnnviz.core.errors import ConfigError
from rnnviz.core.presets import load_preset

NAMED = {"U": ("column", "input token"), "V": ("row", "class"), "c": ("entry", "class")}


def apply(model, name: str, tokens: Sequence[str], classes: Sequence[str]) -> None:
    """Put the ``[weights]`` of preset ``name`` into ``model`` (vocabulary ``tokens`` by id, ``classes`` by id)."""
    preset = load_preset(name)
    where = f"{name}"
    if not preset.weights:
        raise ConfigError("start_weights", f"{where}: the preset {preset.source} has no [weights] table")
    ids = {"U": {t: i for i, t in enumerate(tokens)}, "V": {c: i for i, c in enumerate(classes)}}
    ids["c"] = ids["V"]
    for key, value in preset.weights.items():
        if key not in model.params:
            raise ConfigError("start_weights", f"{where}: [weights] {key} is not a parameter of this model "
                                               f"({', '.join(model.param_names)})")
        current = model.get(key)                               # the shape users see
        if isinstance(value, dict):
            if key not in NAMED:
                raise ConfigError("start_weights", f"{where}: [weights] {key} must be a list (only U, V and c "
                                                   f"may name their {'/'.join(v[0] + 's' for v in NAMED.values())})")
            part, by = NAMED[key]
            for label, numbers in value.items():
                if label not in ids[key]:
                    raise ConfigError("start_weights", f"{where}: [weights] {key} names the {by} {label!r}, which "
                                                       f"this data does not have")
                k = ids[key][label]
                if key == "U":
                    current[:, k] = _fit(numbers, current[:, k].shape, where, f"{key}[:, {label!r}]")
                elif key == "V":
                    current[k] = _fit(numbers, current[k].shape, where, f"{key}[{label!r}, :]")
                else:
                    current[k] = _fit(numbers, (), where, f"{key}[{label!r}]")
        else:
            current = _fit(value, current.shape, where, key)
        model.set(key, current)


def _fit(value, shape: tuple, where: str, what: str) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.shape != tuple(shape):
        raise ConfigError("start_weights", f"{where}: [weights] {what} has shape {a.shape}, this model needs "
                                           f"{tuple(shape)}; set Start weights to random for another hidden size, "
                                           f"cell or data")
    return a
