"""Checkpoints without pickle: one ``.npz`` of plain numeric arrays plus JSON text (config, vocabulary, classes).

Layout of the archive (``np.savez``, read back with ``allow_pickle=False``):
  meta.json     uint8 bytes of {"format": "rnnviz-checkpoint", "version": 1, "step", "epoch", "task"}
  config.json   uint8 bytes of Config.to_dict()
  vocab.json    uint8 bytes of Vocab.to_json()
  classes.json  uint8 bytes of the class-name list
  param/<name>  each parameter in the shape users see
  optim/m, optim/v, optim/t   the optimiser's state
Saving writes a temporary file beside the target and renames it, so a crash never destroys the previous file.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import from_dict
from .errors import CheckpointError, ConfigError
from .model import RNNModel

FORMAT = "rnnviz-checkpoint"
VERSION = 1
MAX_ARRAY_ELEMENTS = 50_000_000  # refuse absurd shapes before allocating them


def _text(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode("utf-8"), dtype=np.uint8)


def atomic_save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path, trainer) -> Path:
    """Save the trainer's model, optimiser state, config, vocabulary and classes."""
    model = trainer.model
    arrays = {
        "meta.json": _text({"format": FORMAT, "version": VERSION, "step": trainer.step_count,
                            "epoch": trainer.epoch, "task": trainer.dataset.task}),
        "config.json": _text(trainer.config.to_dict()),
        "vocab.json": _text(json.loads(trainer.dataset.vocab.to_json())),
        "classes.json": _text(list(trainer.dataset.classes)),
    }
    for name in model.param_names:
        arrays[f"param/{name}"] = np.ascontiguousarray(model.params[name])
    for key, value in trainer.optimizer.state().items():
        arrays[f"optim/{key}"] = np.asarray(value)
    atomic_save_npz(Path(path), arrays)
    return Path(path)


@dataclass
class Checkpoint:
    config: object        # Config
    vocab: object         # text.Vocab
    classes: list
    model: RNNModel
    meta: dict
    optim_state: dict


def _read_json(archive, key: str, path) -> object:
    if key not in archive.files:
        raise CheckpointError(f"{path}: not an rnnviz checkpoint (no {key})")
    raw = archive[key]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: {key} is damaged")
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: {key} is damaged (not valid JSON)") from None


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint; any damaged, foreign or newer file raises CheckpointError and builds nothing."""
    from .text import Vocab

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc.__class__.__name__})") from None
    if not hasattr(archive, "files"):
        raise CheckpointError(f"{path}: not an rnnviz checkpoint (a bare array, not an archive)")
    try:
        with archive:
            meta = _read_json(archive, "meta.json", path)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"{path}: not an rnnviz checkpoint")
            if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
                raise CheckpointError(f"{path}: made by a newer rnnviz (format version {meta.get('version')}); "
                                      f"this one reads version {VERSION}")
            try:
                config = from_dict(_read_json(archive, "config.json", path))
            except (ConfigError, TypeError, AttributeError) as exc:
                raise CheckpointError(f"{path}: its settings are invalid: {exc}") from None
            try:
                vocab = Vocab.from_json(json.dumps(_read_json(archive, "vocab.json", path)))
            except Exception as exc:  # the vocabulary's own validation
                raise CheckpointError(f"{path}: its vocabulary is damaged: {exc}") from None
            classes = _read_json(archive, "classes.json", path)
            if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
                raise CheckpointError(f"{path}: its class list is damaged")
            model = RNNModel(config, len(vocab), len(classes))
            for name in model.param_names:
                key = f"param/{name}"
                if key not in archive.files:
                    raise CheckpointError(f"{path}: parameter {name} is missing")
                arr = archive[key]
                if arr.dtype.kind != "f" or arr.shape != model.params[name].shape:
                    raise CheckpointError(f"{path}: parameter {name} has shape {arr.shape} ({arr.dtype}), "
                                          f"expected {model.params[name].shape} floats")
                model.set(name, arr)
            optim = {}
            for key in ("m", "v", "t"):
                name = f"optim/{key}"
                if name in archive.files:
                    arr = archive[name]
                    if arr.dtype.kind not in "fiu" or arr.size > MAX_ARRAY_ELEMENTS:
                        raise CheckpointError(f"{path}: optimiser state {key} is damaged")
                    optim[key] = arr
            if optim and (set(optim) != {"m", "v", "t"} or optim["m"].shape != model.flat.shape
                          or optim["v"].shape != model.flat.shape):
                raise CheckpointError(f"{path}: optimiser state does not match the model")
    except CheckpointError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({exc})") from None
    if not np.isfinite(model.flat).all():
        raise CheckpointError(f"{path}: its weights contain NaN or infinity")
    return Checkpoint(config, vocab, classes, model, meta, optim)
