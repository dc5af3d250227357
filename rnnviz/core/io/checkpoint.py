"""Checkpoints without pickle: one ``.npz`` of plain numeric arrays plus JSON text (config, vocabulary, classes).

Layout of the archive (``np.savez``, read back by ``read_npz``: never ``np.load``, never pickle):
  meta.json     uint8 bytes of {"format": "rnnviz-checkpoint", "version": 1, "step", "epoch", "task"}
  config.json   uint8 bytes of Config.to_dict()
  vocab.json    uint8 bytes of Vocab.to_json()
  classes.json  uint8 bytes of the class-name list
  param/<name>  each parameter in the shape users see
  optim/m, optim/v, optim/t   the optimiser's state

Reading and writing go through ``rnnviz.core.files`` (safe ``read_npz``, atomic saves).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.core.config import from_dict
from rnnviz.core.errors import CheckpointError, ConfigError, RnnvizError
from rnnviz.core.files import atomic_save_npz, check_format, json_from_array, json_to_array, read_npz
from rnnviz.core.io.limits import plan_for
from rnnviz.core.nn.model import RNNModel

FORMAT = "rnnviz-checkpoint"
VERSION = 1


# ------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(path, trainer) -> Path:
    """Save the trainer's model, optimiser state, config, vocabulary and classes (from its ``state_dict``),
    atomically: a crash or a full disk leaves the previous file."""
    atomic_save_npz(Path(path), checkpoint_arrays(trainer))
    return Path(path)


def checkpoint_arrays(trainer) -> dict[str, np.ndarray]:
    """The arrays of a checkpoint file for ``trainer`` (call between two steps)."""
    state = trainer.state_dict()
    arrays = {
        "meta.json": json_to_array({"format": FORMAT, "version": VERSION, "step": state["step_count"],
                                    "epoch": state["epoch"], "task": trainer.dataset.task}),
        "config.json": json_to_array(trainer.config.to_dict()),
        "vocab.json": json_to_array(json.loads(trainer.dataset.vocab.to_json())),
        "classes.json": json_to_array(list(trainer.dataset.classes)),
    }
    for name, value in state["params"].items():
        arrays[f"param/{name}"] = np.ascontiguousarray(value)
    for key, value in state["optimizer"].items():
        arrays[f"optim/{key}"] = np.asarray(value)
    return arrays


@dataclass
class Checkpoint:
    config: object        # Config
    vocab: object         # text.Vocab
    classes: list
    model: RNNModel
    meta: dict
    optim_state: dict


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint; any damaged, foreign or newer file raises CheckpointError and builds nothing."""
    from rnnviz.core.data.text import Vocab

    path = Path(path)
    archive = read_npz(path, plan=plan_for(path, "checkpoint"))   # sizes checked against its settings first
    meta = json_from_array(archive, "meta.json", path)
    check_format(meta, path, FORMAT, VERSION, "checkpoint")
    for key in ("step", "epoch"):
        value = meta.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckpointError(f"{path}: meta.json {key} must be a whole number from 0, got {value!r}")
    settings = json_from_array(archive, "config.json", path)
    if not isinstance(settings, dict):
        raise CheckpointError(f"{path}: its settings are damaged (not a JSON object)")
    try:
        config = from_dict(settings)
    except (ConfigError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: its settings are invalid: {exc}") from None
    try:
        vocab = Vocab.from_dict(json_from_array(archive, "vocab.json", path), str(path))
    except (RnnvizError, ValueError, TypeError) as exc:   # the vocabulary's own validation (DataError)
        raise CheckpointError(f"{path}: its vocabulary is damaged: {exc}") from None
    classes = json_from_array(archive, "classes.json", path)
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes) \
            or len(set(classes)) != len(classes):
        raise CheckpointError(f"{path}: its class list is damaged")
    try:
        model = RNNModel(config, len(vocab), len(classes))
    except (ValueError, MemoryError) as exc:
        raise CheckpointError(f"{path}: its settings describe a model that cannot be built ({exc})") from None
    for name in model.param_names:
        key = f"param/{name}"
        if key not in archive:
            raise CheckpointError(f"{path}: parameter {name} is missing")
        arr = archive[key]
        if arr.dtype.kind != "f" or arr.shape != model.params[name].shape:
            raise CheckpointError(f"{path}: parameter {name} has shape {arr.shape} ({arr.dtype}), "
                                  f"expected {model.params[name].shape} floats")
        if not np.isfinite(arr).all():
            raise CheckpointError(f"{path}: parameter {name}: its weights contain NaN or infinity")
        model.set(name, arr)
    optim = {}
    for key in ("m", "v", "t"):
        name = f"optim/{key}"
        if name in archive:
            arr = archive[name]
            if arr.dtype.kind not in "fiu" or not np.isfinite(arr).all():
                raise CheckpointError(f"{path}: optimiser state {key} is damaged")
            optim[key] = arr
    if optim and (set(optim) != {"m", "v", "t"} or optim["m"].shape != model.flat.shape
                  or optim["v"].shape != model.flat.shape):
        raise CheckpointError(f"{path}: optimiser state does not match the model")
    if not np.isfinite(model.flat).all():
        raise CheckpointError(f"{path}: its weights contain NaN or infinity")
    return Checkpoint(config, vocab, classes, model, meta, optim)
