"""What the arrays of a checkpoint or a session may hold, checked against the file's own settings before they are
read (the ``plan`` of ``files.read_npz``).

A crafted archive can declare members that expand to gigabytes (a zip bomb) yet agree with their ``.npy``
headers. Before any large member is inflated, ``plan_for`` reads the small JSON members (each at most
``JSON_BYTES``), builds the settings, vocabulary size and classes they describe, refuses a model whose weights
alone pass the memory budget (``nn.memory``), and then requires every array to be no larger than the shape those
settings give (parameters, optimiser state) or the bound the Trainer itself keeps (histories, evaluations, the
data order). A member this reader does not know may hold at most ``OTHER_BYTES``; when the settings cannot be
read at all, every array may hold at most that (the loader then says what is wrong with the settings).
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

import numpy as np

from rnnviz.core.config import Config, from_dict
from rnnviz.core.data.loaders import MAX_EXAMPLES, MAX_TOKENS
from rnnviz.core.data.text import SPECIALS
from rnnviz.core.errors import CheckpointError, RnnvizError
from rnnviz.core.nn import memory
from rnnviz.core.nn.params import param_specs
from rnnviz.core.train.trainer import EVAL_CAP, GRAD_FLOW_CAP, LOSS_CAP

JSON_BYTES = 64 * 2**20        # one JSON member: a vocabulary of a million words is about 20 MB
OTHER_BYTES = 2**20            # a member not described here, or any member when the settings cannot be read
ORDER_LIMIT = max(MAX_EXAMPLES, MAX_TOKENS)    # training examples (or generation windows) a data file can give


def _size(dtype: np.dtype, shape: tuple) -> int:
    return math.prod(shape) * dtype.itemsize


def _show(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n / 1024:,.1f} kB"


def _settings(read: Callable[[str], np.ndarray], headers: dict) -> tuple[Config, int, int] | None:
    """(config, vocabulary size, number of classes) from the small members, or None when they cannot be read."""
    def member(key: str) -> Any:
        if key not in headers:
            return None
        return json.loads(read(key).tobytes().decode("utf-8"))

    try:
        config = from_dict(member("config.json"))
        vocab = member("vocab.json")
        classes = member("classes.json")
        n_vocab = len(SPECIALS) + len(vocab["tokens"])
        if not isinstance(classes, list) or not classes:
            return None
        return config, n_vocab, len(classes)
    except (RnnvizError, ValueError, TypeError, KeyError, AttributeError, RecursionError, UnicodeDecodeError):
        return None


def _limits(config: Config, n_vocab: int, k: int, kind: str) -> dict[str, int]:
    """{member: the most bytes it may hold}: the shape the settings give (parameters, optimiser state) or the
    bound the Trainer keeps (histories, evaluations, the data order), at 8 bytes a number. The loader checks the
    exact shapes and types afterwards; this only keeps a file from making rnnviz inflate more than it needs."""
    specs = param_specs(config, n_vocab, k)
    P = sum(math.prod(s.shape) for s in specs)
    shapes: dict[str, tuple] = {f"param/{s.name}": s.shape for s in specs}
    shapes.update({"optim/m": (P,), "optim/v": (P,), "optim/t": ()})
    if kind == "session":
        kk = 0 if config.task == "generation" else k
        T = max(config.max_len, config.window + 1)      # the monitor batch's length
        shapes.update({"order": (ORDER_LIMIT,), "monitor/all": (T,), "monitor/last": (T,),
                       "hist/loss/steps": (LOSS_CAP,), "hist/loss/values": (LOSS_CAP, 1),
                       "hist/param_grad/steps": (LOSS_CAP,), "hist/param_grad/values": (LOSS_CAP, len(specs)),
                       "hist/grad_flow/steps": (GRAD_FLOW_CAP,), "hist/grad_flow/values": (GRAD_FLOW_CAP, T),
                       "eval/confusion": (EVAL_CAP, kk, kk), "eval/per_class": (EVAL_CAP, kk)})
    return {key: 8 * math.prod(shape) for key, shape in shapes.items()}


def plan_for(path: Any, kind: str) -> Callable[[dict, Callable[[str], np.ndarray]], None]:
    """The ``read_npz`` plan of a ``kind`` ("checkpoint" or "session") file at ``path``."""
    def plan(headers: dict, read: Callable[[str], np.ndarray]) -> None:
        for key, (dtype, shape) in headers.items():
            if key.endswith(".json") and _size(dtype, shape) > JSON_BYTES:
                raise CheckpointError(f"{path}: member {key} holds {_show(_size(dtype, shape))} of text; at most "
                                      f"{_show(JSON_BYTES)} are read")
        found = _settings(read, headers)
        if found is None:
            for key, (dtype, shape) in headers.items():
                if not key.endswith(".json") and _size(dtype, shape) > OTHER_BYTES:
                    raise CheckpointError(f"{path}: its settings cannot be read, and member {key} holds "
                                          f"{_show(_size(dtype, shape))}; nothing was loaded")
            return
        config, n_vocab, k = found
        try:
            memory.check(config, memory.estimate(config, n_vocab, k, 1, 1, 1, 1, 1, 1))
        except RnnvizError as exc:
            raise CheckpointError(f"{path}: its settings describe a model too large to load here ({exc})") from None
        limits = _limits(config, n_vocab, k, kind)
        for key, (dtype, shape) in headers.items():
            if key.endswith(".json"):
                continue
            have, most = _size(dtype, shape), limits.get(key, OTHER_BYTES)
            if have > most:
                what = "member" if key in limits else "unknown member"
                raise CheckpointError(f"{path}: {what} {key} declares {_show(have)} (shape {shape}); its settings "
                                      f"allow at most {_show(most)}")

    return plan
