"""Sessions: everything needed to reopen a training run and go on exactly where it stopped, in one file, no pickle.

A session is a checkpoint plus the run's history and position: settings, vocabulary, classes, the weights
(U, W, b, V, c, …), the optimiser state (m, v, t), the loss / gradient / evaluation histories the plots draw, the
markers, the position in the epoch's data order and the states of both random generators: the Trainer's
``state_dict`` written without pickle. Reopened (``load_state_dict``), a Trainer takes the same batches in the
same order with the same weights, so ``train N, save, open, train M`` gives the same numbers as ``train N + M``
(tested bit for bit). Not stored: which validation examples make each confusion count (they come back with the
next evaluation).

Layout (``np.savez`` through ``files.atomic_save_npz``; read by ``files.read_npz``, never pickle):
  meta.json, config.json, vocab.json, classes.json, state.json   uint8 bytes of JSON text
                                     (meta.json: format, version, step, epoch, task, data_sha256)
  param/<name>                       each parameter, in the shape users see
  optim/m, optim/v (P,), optim/t ()  the optimiser state
  order (N_train,) int64             this epoch's data order; state.json holds the position in it
  hist/<loss|param_grad|grad_flow|gate_saturation>/steps (n,) int64, .../values (n, width) float64   the bounded
                                     histories (gate_saturation: absent from older files)
  eval/confusion (M, k, k) int64, eval/per_class (M, k) float64   per evaluation (scalars in state.json)
  monitor/all, monitor/last (T,)     the last gradient flow of the monitor batch
  monitor/cell (T,) or (0,)          its ||dL/dc_t|| (LSTM; absent from older files)

The data are not stored: opening a session loads them again from its settings (a generated dataset by its seed,
or the file it names) and refuses, with a message naming the file, when they differ from the data it was trained
on: ``data_sha256`` is a fingerprint of the data as the model sees them (``data_fingerprint``: every example's
tokens, ids and targets, in order, the vocabulary and the classes), so reordered words, a changed label or a
replaced line are found even when the vocabulary, the classes and the number of examples stay the same. Version 1
files (written before the fingerprint) still open, checked by vocabulary, classes and size only, with a note
saying so.

Every array member is checked (numeric dtype, sane size) from its header before anything is read, and every number
of the file against the range a real run can produce (capacities, strides, positions, steps, epochs, counts,
temperature, optimiser state), before anything is allocated from it (`session_checks`).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.core.config import Config, from_dict
from rnnviz.core.config import _show as _short
from rnnviz.core.errors import CheckpointError, ConfigError, RnnvizError
from rnnviz.core.files import atomic_save_npz, check_format, json_from_array, json_to_array, read_npz
from rnnviz.core.io import checkpoint
from rnnviz.core.io.limits import plan_for
from rnnviz.core.io.session_checks import EVAL_SCALARS, HISTORIES, LATER_HISTORIES, check_state, want

FORMAT = "rnnviz-session"
VERSION = 2                 # 2: meta.json carries data_sha256; version 1 files still open (see check_dataset)
OLD_FORMAT_NOTE = ("{path} was saved by an earlier rnnviz, without a fingerprint of its data: only the vocabulary, "
                   "the classes and the number of examples were compared with {data} (save the session again to add "
                   "one)")
_text = json_to_array


def _float(x: Any) -> float | str | None:
    """A float for JSON, which has no NaN or infinity: those are written as the strings "nan", "inf", "-inf"."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else repr(x)


# ----------------------------------------------------------------------------------------------- saving
def data_fingerprint(dataset: Any) -> str:
    """SHA-256 of the data as the model sees them: the vocabulary, the classes, and every example of both splits
    in order (its tokens as shown, its ids, its targets). Computed once per Dataset (kept on it)."""
    cached = getattr(dataset, "_fingerprint", None)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    h.update(json.dumps([dataset.task, list(dataset.vocab.tokens), list(dataset.classes)]).encode("utf-8"))
    for split in (dataset.train, dataset.val):
        h.update(b"\x1d%d" % len(split))
        for tokens, ids in zip(split.tokens, split.ids):
            h.update("\x1f".join(tokens).encode("utf-8", "surrogatepass") + b"\x1e")
            h.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
        targets = split.targets
        if isinstance(targets, np.ndarray):
            h.update(np.ascontiguousarray(targets, dtype=np.int64).tobytes())
        else:
            for t in targets:
                h.update(np.ascontiguousarray(t, dtype=np.int64).tobytes() + b"\x1e")
    digest = h.hexdigest()
    try:
        dataset._fingerprint = digest
    except AttributeError:      # a Dataset that takes no new attributes: computed again next time
        pass
    return digest


def session_arrays(trainer: Any) -> dict[str, np.ndarray]:
    """The arrays of a session file for ``trainer`` (from its ``state_dict``; call between two steps)."""
    sd = trainer.state_dict()
    evals = sd["evals"]
    state = {
        "step_count": sd["step_count"], "epoch": sd["epoch"], "pos": sd["pos"],
        "fault": sd["fault"], "temperature": _float(sd["temperature"]),
        "last_grad_norm": _float(sd["last_grad_norm"]), "last_loss": _float(sd["last_loss"]),
        "sample_text": sd["sample_text"], "sample_step": sd["sample_step"], "probe_index": sd["probe_index"], "probe_tokens": sd["probe_tokens"],
        "monitor_every": sd["monitor_every"], "flush_subnormal": bool(sd["flush_subnormal"]),
        "markers": [[s, t] for s, t in sd["markers"]],
        "rng": sd["rng"], "sample_rng": sd["sample_rng"],
        "history": {key: {x: int(h[x]) for x in ("n", "stride", "offered", "capacity")}
                    for key, h in sd["histories"].items()},
        "evals": [{k: _float(e[k]) if k not in ("step", "epoch") else int(e[k]) for k in EVAL_SCALARS}
                  for e in evals],
        "last_eval_is_latest": sd["last_eval_is_latest"],
    }
    arrays = {
        "meta.json": _text({"format": FORMAT, "version": VERSION, "step": sd["step_count"],
                            "epoch": sd["epoch"], "task": trainer.dataset.task,
                            "data_sha256": data_fingerprint(trainer.dataset)}),
        # the sampling temperature lives on the Trainer (the slider): the settings saved carry the one in force
        "config.json": _text(trainer.config.replace(temperature=float(sd["temperature"])).to_dict()),
        "vocab.json": _text(json.loads(trainer.dataset.vocab.to_json())),
        "classes.json": _text(list(trainer.dataset.classes)),
        "state.json": _text(state),
        "order": sd["order"],
        "monitor/all": np.asarray(sd["monitor_norms"], dtype=np.float64),
        "monitor/last": np.asarray(sd["monitor_norms_last"], dtype=np.float64),
        "monitor/cell": np.asarray(sd["monitor_norms_c"], dtype=np.float64),
    }
    for name, value in sd["params"].items():
        arrays[f"param/{name}"] = value
    for key, value in sd["optimizer"].items():
        arrays[f"optim/{key}"] = np.array(value)
    for key, h in sd["histories"].items():
        arrays[f"hist/{key}/steps"] = h["steps"]
        arrays[f"hist/{key}/values"] = h["values"]
    k = trainer.dataset.n_classes if trainer.dataset.task != "generation" else 0
    arrays["eval/confusion"] = np.array([np.asarray(e["confusion"], dtype=np.int64) for e in evals],
                                        dtype=np.int64).reshape(len(evals), k, k)
    arrays["eval/per_class"] = np.array([np.asarray(e["per_class_accuracy"], dtype=np.float64) for e in evals],
                                        dtype=np.float64).reshape(len(evals), k)
    return arrays


def save_session(path: str | Path, trainer: Any) -> Path:
    """Write ``trainer``'s session to ``path`` (atomically: a crash never leaves half a file)."""
    path = Path(path)
    atomic_save_npz(path, session_arrays(trainer))
    return path


# ---------------------------------------------------------------------------------------------- loading
@dataclass
class Session:
    """A session file read and checked: everything except the dataset (see ``restore_trainer``)."""

    path: Path
    meta: dict
    config: Config
    vocab: Any            # text.Vocab
    classes: list
    state: dict
    arrays: dict = field(default_factory=dict)   # name -> np.ndarray (every array member, read)

    @property
    def step(self) -> int:
        return int(self.state["step_count"])

    @property
    def version(self) -> int:
        return int(self.meta["version"])

    @property
    def notes(self) -> list[str]:
        """What the user should know about this file (an old format checked less strictly)."""
        if "data_sha256" in self.meta:
            return []
        return [OLD_FORMAT_NOTE.format(path=self.path, data=self.config.dataset)]


def _json(arrays: dict, key: str, path: Path) -> Any:
    return json_from_array(arrays, key, path, kind="rnnviz session")


def load_session(path: str | Path) -> Session:
    """Read and check a session file. Anything damaged, truncated, foreign or newer raises CheckpointError
    (one message naming the file and what is wrong) and builds nothing."""
    from rnnviz.core.data.text import Vocab
    from rnnviz.core.nn.model import RNNModel

    path = Path(path)
    try:
        arrays = read_npz(path, plan=plan_for(path, "session"))   # every member checked against its settings first
    except CheckpointError:
        raise
    except Exception as exc:         # whatever else a damaged archive makes the zip reader raise
        raise CheckpointError(f"{path}: not a readable session file ({type(exc).__name__}: {exc})") from None
    meta = _json(arrays, "meta.json", path)
    if isinstance(meta, dict) and meta.get("format") == checkpoint.FORMAT:
        raise CheckpointError(f"{path}: this is an rnnviz checkpoint (weights only), not a session; "
                              f"`rnnviz train` writes checkpoints, File ▸ Save session writes sessions")
    version = check_format(meta, path, FORMAT, VERSION, "session")
    fingerprint = meta.get("data_sha256")
    want(fingerprint is None if version < 2 else isinstance(fingerprint, str) and len(fingerprint) == 64, path,
         f"data_sha256 = {_short(fingerprint)}")
    try:
        config = from_dict(_json(arrays, "config.json", path))
    except (ConfigError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: its settings are invalid: {exc}") from None
    try:
        vocab = Vocab.from_json(json.dumps(_json(arrays, "vocab.json", path)))
    except CheckpointError:
        raise
    except Exception as exc:   # the vocabulary's own validation
        raise CheckpointError(f"{path}: its vocabulary is damaged: {exc}") from None
    classes = _json(arrays, "classes.json", path)
    want(isinstance(classes, list) and bool(classes) and all(isinstance(c, str) for c in classes), path,
         "the class list")
    state = _json(arrays, "state.json", path)
    want(isinstance(state, dict), path, "state.json is not a record")
    try:
        check_state(path, state, arrays, config, len(vocab), len(classes), RNNModel)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: damaged session file ({type(exc).__name__}: {exc})") from None
    return Session(path=path, meta=meta, config=config, vocab=vocab, classes=classes, state=state, arrays=arrays)


def restore_trainer(session: Session, dataset: Any = None, trainer_cls: Any = None) -> Any:
    """A Trainer in exactly the state the session was saved in. ``dataset``: the data, already loaded from the
    session's settings (else they are loaded here). Raises CheckpointError; builds nothing on error."""
    try:
        return _restore(session, dataset, trainer_cls)
    except RnnvizError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise CheckpointError(f"{session.path}: damaged session file ({type(exc).__name__}: {exc})") from None


def _restore(session: Session, dataset: Any, trainer_cls: Any) -> Any:
    from rnnviz.core.train.trainer import Trainer

    path, cfg, st, a = session.path, session.config, session.state, session.arrays
    if dataset is None:
        dataset = load_session_data(session)
    check_dataset(session, dataset)
    trainer = (trainer_cls or Trainer)(cfg, dataset=dataset, monitor_every=st["monitor_every"])
    state = trainer.state_dict()       # what the file does not hold (e.g. the confusion examples) starts fresh
    if state["monitor_norms"].size != a["monitor/all"].size:
        raise CheckpointError(f"{path}: the validation data differ from the session's (monitor batch width)")
    state["params"] = {name: a[f"param/{name}"] for name in trainer.model.param_names}
    state["optimizer"] = {"m": a["optim/m"], "v": a["optim/v"], "t": int(a["optim/t"])}
    state["flush_subnormal"] = bool(st.get("flush_subnormal", False))
    state.update({key: st[key] for key in ("step_count", "epoch", "pos", "fault", "sample_text", "probe_tokens",
                                           "markers", "rng", "sample_rng")})
    if "sample_step" in st:                      # (older sessions: the step of their sample is unknown)
        state["sample_step"] = st["sample_step"]
    state["order"] = a["order"]
    state.update({key: float(st[key]) for key in ("temperature", "last_grad_norm", "last_loss")})
    if st["probe_index"] < len(dataset.val):
        state["probe_index"] = st["probe_index"]
    for key in HISTORIES:
        if key not in st["history"] and key in LATER_HISTORIES:
            continue
        h, values = st["history"][key], a[f"hist/{key}/values"]
        width = state["histories"][key]["values"].shape[1]
        if values.shape[1] != width:
            raise CheckpointError(f"{path}: history {key} has {values.shape[1]} columns, the model {width}")
        state["histories"][key] = {"steps": a[f"hist/{key}/steps"], "values": values, "n": h["n"],
                                   "stride": h["stride"], "offered": h["offered"], "capacity": h["capacity"]}
    state["monitor_norms"], state["monitor_norms_last"] = a["monitor/all"], a["monitor/last"]
    if "monitor/cell" in a:
        state["monitor_norms_c"] = a["monitor/cell"]
    evals = []
    for e, conf, pca in zip(st["evals"], a["eval/confusion"], a["eval/per_class"]):
        record = {k: e[k] for k in EVAL_SCALARS}
        record["confusion"] = conf.astype(np.int64)
        record["per_class_accuracy"] = pca.astype(np.float64)
        evals.append(record)
    state["evals"] = evals
    state["last_eval_is_latest"] = bool(st.get("last_eval_is_latest"))
    try:
        trainer.load_state_dict(state)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path}: damaged session file: {exc}") from None
    return trainer


def load_session_data(session: Session) -> Any:
    """The dataset the session's settings name, loaded again (a clear error when it cannot be)."""
    from rnnviz.core.data.load import load_dataset

    try:
        return load_dataset(session.config)
    except RnnvizError as exc:
        raise CheckpointError(f"{session.path}: cannot load the data it was trained on "
                              f"({session.config.dataset}): {exc}") from None


def check_dataset(session: Session, dataset: Any) -> None:
    """The loaded data must be the data the session was trained on (CheckpointError naming the file if not)."""
    path, source = session.path, session.config.dataset
    changed = f"{path}: the data in {source} have changed since the session was saved"
    if dataset.vocab != session.vocab:
        raise CheckpointError(f"{changed} (a different vocabulary of {len(dataset.vocab)} tokens, the session has "
                              f"{len(session.vocab)})")
    if list(dataset.classes) != list(session.classes):
        raise CheckpointError(f"{changed} (different classes)")
    n = len(dataset.train)
    if session.arrays["order"].size != n:
        raise CheckpointError(f"{changed} ({n} training examples, the session's data order covers "
                              f"{session.arrays['order'].size})")
    want = session.meta.get("data_sha256")
    if want is not None and data_fingerprint(dataset) != want:
        raise CheckpointError(f"{changed} (same vocabulary, classes and number of examples, but other examples or "
                              f"another order: their fingerprint differs)")


def open_session(path: str | Path, dataset: Any = None) -> Any:
    """``restore_trainer(load_session(path), dataset)``."""
    return restore_trainer(load_session(path), dataset)


def settings_toml(config: Config, title: str | None = None) -> str:
    """The settings as a preset file (``[settings]``, readable by ``presets.parse_preset``; "Copy settings")."""
    from rnnviz.core.config import to_toml

    head = "# rnnviz settings: save as a .toml preset, or paste the lines into `--set key=value`\n"
    lesson = ""
    if title:
        escaped = title.replace("\\", "\\\\").replace('"', '\\"')
        lesson = f'[lesson]\ntitle = "{escaped}"\n\n'
    return head + lesson + "[settings]\n" + to_toml(config.to_dict())


def resume_for_cli(path: str | Path, epochs: int | None = None) -> tuple[Any, Config, str]:
    """``rnnviz train --session FILE``: (trainer, config, run name). ``epochs`` is the total to train to."""
    session = load_session(path)
    trainer = restore_trainer(session)
    trainer.dataset.notes.extend(session.notes)
    if epochs is not None:
        trainer.apply_live("epochs", int(epochs))
    if trainer.done:
        raise ConfigError("epochs", f"{path}: the session has already trained {trainer.epoch} of "
                                    f"{trainer.config.epochs} epochs; ask for more with --epochs N "
                                    f"(N > {trainer.epoch})")
    name = Path(path).name.split(".")[0] or "session"
    return trainer, trainer.config, name
