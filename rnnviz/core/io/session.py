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
  param/<name>                       each parameter, in the shape users see
  optim/m, optim/v (P,), optim/t ()  the optimiser state
  order (N_train,) int64             this epoch's data order; state.json holds the position in it
  hist/<loss|param_grad|grad_flow|gate_saturation>/steps (n,) int64, .../values (n, width) float64   the bounded
                                     histories (gate_saturation: absent from older files)
  eval/confusion (M, k, k) int64, eval/per_class (M, k) float64   per evaluation (scalars in state.json)
  monitor/all, monitor/last (T,)     the last gradient flow of the monitor batch
  monitor/cell (T,) or (0,)          its ||dL/dc_t|| (LSTM; absent from older files)

The data are not stored: opening a session loads them again from its settings (a generated dataset by its seed,
or the file it names) and refuses, with a message, when the vocabulary, the classes or the split differ.
Every array member is checked (numeric dtype, sane size) from its header before anything is read.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.core.config import Config, from_dict
from rnnviz.core.errors import CheckpointError, ConfigError, RnnvizError
from rnnviz.core.files import atomic_save_npz, check_format, json_from_array, json_to_array, read_npz
from rnnviz.core.io import checkpoint

FORMAT = "rnnviz-session"
VERSION = 1
HISTORIES = ("loss", "param_grad", "grad_flow", "gate_saturation")
LATER_HISTORIES = ("gate_saturation",)   # absent from files saved before it existed: the restored run starts it anew
_EVAL_SCALARS = ("step", "epoch", "val_loss", "val_accuracy", "val_perplexity", "train_loss")
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_COUNT_LIMIT = 2**62    # largest step, epoch or index a session may hold: the histories store steps as int64
_text = json_to_array


def _float(x: Any) -> float | str | None:
    """A float for JSON, which has no NaN or infinity: those are written as the strings "nan", "inf", "-inf"."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _unfloat(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, str) and v in _NONFINITE:
        return _NONFINITE[v]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError(f"not a number: {v!r}")


# ----------------------------------------------------------------------------------------------- saving
def session_arrays(trainer: Any) -> dict[str, np.ndarray]:
    """The arrays of a session file for ``trainer`` (from its ``state_dict``; call between two steps)."""
    sd = trainer.state_dict()
    evals = sd["evals"]
    state = {
        "step_count": sd["step_count"], "epoch": sd["epoch"], "pos": sd["pos"],
        "fault": sd["fault"], "temperature": _float(sd["temperature"]),
        "last_grad_norm": _float(sd["last_grad_norm"]), "last_loss": _float(sd["last_loss"]),
        "sample_text": sd["sample_text"], "probe_index": sd["probe_index"], "probe_tokens": sd["probe_tokens"],
        "monitor_every": sd["monitor_every"], "flush_subnormal": bool(sd["flush_subnormal"]),
        "markers": [[s, t] for s, t in sd["markers"]],
        "rng": sd["rng"], "sample_rng": sd["sample_rng"],
        "history": {key: {x: int(h[x]) for x in ("n", "stride", "offered", "capacity")}
                    for key, h in sd["histories"].items()},
        "evals": [{k: _float(e[k]) if k not in ("step", "epoch") else int(e[k]) for k in _EVAL_SCALARS}
                  for e in evals],
        "last_eval_is_latest": sd["last_eval_is_latest"],
    }
    arrays = {
        "meta.json": _text({"format": FORMAT, "version": VERSION, "step": sd["step_count"],
                            "epoch": sd["epoch"], "task": trainer.dataset.task}),
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


def _json(arrays: dict, key: str, path: Path) -> Any:
    return json_from_array(arrays, key, path, kind="rnnviz session")


def _want(cond: bool, path: Path, what: str) -> None:
    if not cond:
        raise CheckpointError(f"{path}: damaged session file: {what}")


def load_session(path: str | Path) -> Session:
    """Read and check a session file. Anything damaged, truncated, foreign or newer raises CheckpointError
    (one message naming the file and what is wrong) and builds nothing."""
    from rnnviz.core.data.text import Vocab
    from rnnviz.core.nn.model import RNNModel

    path = Path(path)
    arrays = read_npz(path)      # every member checked (plain numbers, sane shapes) before it is read
    meta = _json(arrays, "meta.json", path)
    if isinstance(meta, dict) and meta.get("format") == checkpoint.FORMAT:
        raise CheckpointError(f"{path}: this is an rnnviz checkpoint (weights only), not a session; "
                              f"`rnnviz train` writes checkpoints, File ▸ Save session writes sessions")
    check_format(meta, path, FORMAT, VERSION, "session")
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
    _want(isinstance(classes, list) and bool(classes) and all(isinstance(c, str) for c in classes), path,
          "the class list")
    state = _json(arrays, "state.json", path)
    _want(isinstance(state, dict), path, "state.json is not a record")
    try:
        _check_state(path, state, arrays, config, len(vocab), len(classes), RNNModel)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: damaged session file ({type(exc).__name__}: {exc})") from None
    return Session(path=path, meta=meta, config=config, vocab=vocab, classes=classes, state=state, arrays=arrays)


def _check_state(path: Path, state: dict, arrays: dict, config: Config, n_vocab: int, k: int, model_cls) -> None:
    def integer(name: str, lo: int = 0) -> int:
        v = state.get(name)
        _want(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= _COUNT_LIMIT, path, f"{name} = {v!r}")
        return v

    step = integer("step_count")
    integer("epoch")
    integer("pos")
    integer("probe_index")
    integer("monitor_every", 1)
    for name in ("temperature", "last_grad_norm", "last_loss"):
        try:
            state[name] = _unfloat(state.get(name))
        except TypeError:
            state[name] = None
        _want(state[name] is not None, path, name)
    _want(state.get("fault") is None or isinstance(state.get("fault"), str), path, "fault")
    _want(isinstance(state.get("sample_text"), str), path, "sample_text")
    _want(isinstance(state.get("flush_subnormal", False), bool), path, "flush_subnormal")
    tokens = state.get("probe_tokens")
    _want(tokens is None or (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens)), path,
          "probe_tokens")
    markers = state.get("markers")
    _want(isinstance(markers, list) and all(isinstance(m, list) and len(m) == 2 and isinstance(m[0], int)
                                            and isinstance(m[1], str) for m in markers), path, "markers")
    for name in ("rng", "sample_rng"):
        rng = state.get(name)
        _want(isinstance(rng, dict) and rng.get("bit_generator") == "PCG64", path, f"{name} state")
    # the model: every parameter present with the right shape, finite floats
    model = model_cls(config, n_vocab, k)
    for name in model.param_names:
        arr = arrays.get(f"param/{name}")
        if arr is None:
            raise CheckpointError(f"{path}: parameter {name} is missing")
        if arr.dtype.kind != "f" or arr.shape != model.params[name].shape:
            raise CheckpointError(f"{path}: parameter {name} has shape {arr.shape} ({arr.dtype}), "
                                  f"expected {model.params[name].shape} floats")
        if not np.isfinite(arr).all():
            raise CheckpointError(f"{path}: parameter {name} contains NaN or infinity")
    P = model.flat.shape
    for key, shape in (("m", P), ("v", P), ("t", ())):
        arr = arrays.get(f"optim/{key}")
        _want(arr is not None and arr.shape == shape and arr.dtype.kind in "fiu", path,
              f"optimiser state {key} does not match the model")
    order = arrays.get("order")
    _want(order is not None and order.ndim == 1 and order.dtype.kind in "iu", path, "the data order")
    _want(state["pos"] <= order.size, path, "the position in the data order")
    hist = state.get("history")
    _want(isinstance(hist, dict), path, "history")
    for key in HISTORIES:
        h = hist.get(key)
        if h is None and key in LATER_HISTORIES and f"hist/{key}/steps" not in arrays:
            continue
        _want(isinstance(h, dict) and all(isinstance(h.get(x), int) and not isinstance(h.get(x), bool)
                                          for x in ("n", "stride", "offered", "capacity")), path, f"history {key}")
        steps, values = arrays.get(f"hist/{key}/steps"), arrays.get(f"hist/{key}/values")
        _want(steps is not None and values is not None and steps.ndim == 1 and values.ndim == 2
              and steps.shape[0] == values.shape[0] == h["n"] and 0 <= h["n"] <= h["capacity"]
              and h["stride"] >= 1 and steps.dtype.kind in "iu" and values.dtype.kind == "f", path,
              f"history {key} arrays")
        _want(steps.size == 0 or int(steps.max()) <= step, path, f"history {key} goes past step {step}")
    _want(arrays["hist/param_grad/values"].shape[1] == len(model.param_names), path, "parameter-gradient history")
    evals = state.get("evals")
    _want(isinstance(evals, list) and all(isinstance(e, dict) and set(_EVAL_SCALARS) <= set(e) for e in evals),
          path, "evaluations")
    try:
        for e in evals:
            _want(all(isinstance(e[x], int) and not isinstance(e[x], bool) for x in ("step", "epoch")), path,
                  "evaluation steps")
            for x in ("val_loss", "val_accuracy", "val_perplexity", "train_loss"):
                e[x] = _unfloat(e[x])
    except TypeError as exc:
        raise CheckpointError(f"{path}: damaged session file: an evaluation ({exc})") from None
    conf, pca = arrays.get("eval/confusion"), arrays.get("eval/per_class")
    kk = 0 if config.task == "generation" else k
    _want(conf is not None and conf.shape == (len(evals), kk, kk) and conf.dtype.kind in "iu", path,
          "confusion matrices")
    _want(pca is not None and pca.shape == (len(evals), kk) and pca.dtype.kind == "f", path,
          "per-class accuracies")
    for name in ("monitor/all", "monitor/last"):
        arr = arrays.get(name)
        _want(arr is not None and arr.ndim == 1 and arr.dtype.kind == "f", path, name)
    _want(arrays["monitor/all"].size == arrays["hist/grad_flow/values"].shape[1], path, "gradient-flow width")


# -------------------------------------------------------------------------------------------- restoring
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
        record = {k: e[k] for k in _EVAL_SCALARS}
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
    """The loaded data must be the data the session was trained on."""
    path = session.path
    if dataset.vocab != session.vocab:
        raise CheckpointError(f"{path}: the data in {session.config.dataset} have changed since the session was "
                              f"saved (a different vocabulary of {len(dataset.vocab)} tokens, the session has "
                              f"{len(session.vocab)})")
    if list(dataset.classes) != list(session.classes):
        raise CheckpointError(f"{path}: the data in {session.config.dataset} have changed since the session was "
                              f"saved (different classes)")
    order = session.arrays["order"]
    n = len(dataset.train)
    if order.size != n or not np.array_equal(np.sort(order), np.arange(n)):
        raise CheckpointError(f"{path}: the data in {session.config.dataset} have changed since the session was "
                              f"saved ({n} training examples, the session's data order covers {order.size})")


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
    trainer = open_session(path)
    if epochs is not None:
        trainer.apply_live("epochs", int(epochs))
    if trainer.done:
        raise ConfigError("epochs", f"{path}: the session has already trained {trainer.epoch} of "
                                    f"{trainer.config.epochs} epochs; ask for more with --epochs N "
                                    f"(N > {trainer.epoch})")
    name = Path(path).name.split(".")[0] or "session"
    return trainer, trainer.config, name
