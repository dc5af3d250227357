"""Reading and writing ``.npz`` archives without pickle.

Safe reading (for any rnnviz ``.npz``: checkpoints, sessions): ``read_npz`` checks the whole archive before
it allocates anything: a regular file (not a device, FIFO or folder), at most ``max_bytes`` on disk and
uncompressed (zip bombs), at most ``max_entries`` members, each a ``.npy`` whose header declares a plain numeric
dtype (no object arrays, no structured or text dtypes), at most ``max_elements`` elements and exactly as many data
bytes as the member holds (a header claiming 10^12 elements is refused before any memory is taken).
Saving (``atomic_save_npz``) goes through ``atomic.atomic_write``.
"""
from __future__ import annotations

import json
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rnnviz.core.errors import CheckpointError
from rnnviz.core.files.atomic import atomic_write

MAX_ARRAY_ELEMENTS = 100_000_000   # one array: refuse absurd shapes before allocating them
MAX_NPZ_BYTES = 2 * 2**30          # the file on disk and the sum of its members uncompressed
MAX_NPZ_ENTRIES = 512              # members of one archive
MAX_NDIM = 8
BOMB_BYTES = 64 * 2**20            # a compressed member declaring more than this ...
BOMB_RATIO = 50                    # ... and more than this many times its compressed size is refused
NUMERIC_KINDS = "fiub"             # float, signed/unsigned int, bool: nothing else is ever read

Headers = dict[str, tuple[np.dtype, tuple]]
Plan = Callable[[Headers, Callable[[str], np.ndarray]], None]


# ------------------------------------------------------------------------------------------- JSON members
def json_to_array(obj) -> np.ndarray:
    """(n,) uint8: the UTF-8 bytes of ``json.dumps(obj)``, for storing text in an ``.npz``."""
    return np.frombuffer(json.dumps(obj).encode("utf-8"), dtype=np.uint8)



def json_from_array(arrays: dict[str, np.ndarray], key: str, path, error=CheckpointError,
                    kind: str = "rnnviz checkpoint") -> object:
    """The JSON value stored under ``key`` by ``json_to_array``; a missing or damaged member is ``error``."""
    if key not in arrays:
        raise error(f"{path}: not an {kind} (no {key})")
    raw = arrays[key]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise error(f"{path}: {key} is damaged (expected UTF-8 bytes, found {raw.dtype} of shape {raw.shape})")
    try:
        return json.loads(raw.tobytes().decode("utf-8"), parse_constant=no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise error(f"{path}: {key} is damaged (not valid JSON)") from None


def no_constant(name: str):
    raise ValueError(f"{name} is not allowed in an rnnviz file")


# ------------------------------------------------------------------------------------------- safe reading
def _member_header(fh, name: str, path, error, max_elements: int, kinds: str) -> tuple[np.dtype, tuple, bool]:
    """(dtype, shape, fortran_order) from a ``.npy`` member's header, refusing anything not plain numeric."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        raise error(f"{path}: member {name} is not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise error(f"{path}: member {name} is an object array (pickled Python objects); rnnviz never loads "
                    "those")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds:
        raise error(f"{path}: member {name} has dtype {dtype}; only plain numbers are allowed")
    if not isinstance(shape, tuple) or len(shape) > MAX_NDIM or not all(
            isinstance(n, int) and n >= 0 for n in shape):
        raise error(f"{path}: member {name} has an invalid shape {shape!r}")
    n = math.prod(shape)
    if n > max_elements:
        raise error(f"{path}: member {name} claims shape {shape} ({n:,} elements); at most {max_elements:,} "
                    "are allowed")
    return dtype, shape, bool(fortran)


def check_npz(path, *, max_bytes: int = MAX_NPZ_BYTES, max_entries: int = MAX_NPZ_ENTRIES,
              max_elements: int = MAX_ARRAY_ELEMENTS, kinds: str = NUMERIC_KINDS,
              error=CheckpointError) -> dict[str, tuple[np.dtype, tuple]]:
    """{name: (dtype, shape)} of every member of the ``.npz`` at ``path``, after all the checks of ``read_npz``
    except reading the data. Nothing is allocated beyond the headers."""
    return {name: (dtype, shape) for name, (_, dtype, shape, _, _) in
            _inspect(path, max_bytes, max_entries, max_elements, kinds, error)[1].items()}


def _inspect(path, max_bytes, max_entries, max_elements, kinds, error):
    path = Path(path)
    try:
        st = os.stat(path)                      # follows symlinks: a link to /dev/zero is a device
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror or exc.__class__.__name__})") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: not a regular file (a device, pipe or socket)")
    if st.st_size > max_bytes:
        raise error(f"{path}: the file is {st.st_size / 2**20:,.0f} MB; at most {max_bytes / 2**20:,.0f} MB "
                    "are read")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError):      # NotImplementedError: a damaged "zip version" field
        raise error(f"{path}: not a readable .npz archive (not a zip file: truncated, or another kind of file)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror or exc.__class__.__name__})") from None
    try:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise error(f"{path}: the archive has {len(infos):,} members; at most {max_entries} are allowed")
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise error(f"{path}: the archive unpacks to {total / 2**20:,.0f} MB (a zip bomb?); at most "
                        f"{max_bytes / 2**20:,.0f} MB are allowed")
        members = {}
        for info in infos:
            name = info.filename
            if info.is_dir() or not name.endswith(".npy"):
                raise error(f"{path}: member {name!r} is not a .npy array")
            if info.flag_bits & 0x1:
                raise error(f"{path}: member {name} is encrypted")
            if info.compress_type != zipfile.ZIP_STORED and info.file_size > BOMB_BYTES and \
                    info.file_size > BOMB_RATIO * max(info.compress_size, 1):
                raise error(f"{path}: member {name} would expand from {info.compress_size / 2**20:,.1f} MB to "
                            f"{info.file_size / 2**20:,.0f} MB (a zip bomb?); rnnviz writes its archives "
                            "uncompressed")
            key = name[:-4]
            if key in members:
                raise error(f"{path}: member {name} appears twice")
            with zf.open(info) as fh:
                dtype, shape, fortran = _member_header(fh, name, path, error, max_elements, kinds)
                offset = fh.tell()
            want = math.prod(shape) * dtype.itemsize
            if info.file_size - offset != want:
                raise error(f"{path}: member {name} declares shape {shape} ({want:,} bytes of {dtype}) but holds "
                            f"{info.file_size - offset:,} bytes")
            members[key] = (info, dtype, shape, fortran, offset)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        zf.close()
        raise error(f"{path}: damaged archive ({exc.__class__.__name__}: {exc})") from None
    except BaseException:
        zf.close()
        raise
    return zf, members


def read_npz(path, *, max_bytes: int = MAX_NPZ_BYTES, max_entries: int = MAX_NPZ_ENTRIES,
             max_elements: int = MAX_ARRAY_ELEMENTS, kinds: str = NUMERIC_KINDS,
             error=CheckpointError, plan: Plan | None = None) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path`` as {name (without ``.npy``): array}, read without pickle.

    The whole archive is checked first (see the module docstring); any problem raises ``error`` (default
    CheckpointError) with a message ``"<path>: <what>"``, and nothing is returned half-read.
    kinds: the allowed ``dtype.kind`` letters (default float, int, unsigned, bool).
    plan: ``plan(headers, read)`` is called after the headers are checked and before any large member is
    inflated: ``headers`` is {name: (dtype, shape)} of every member, ``read(name)`` reads one member (for the
    small ones that say what the others must be, e.g. the settings); it raises ``error`` to refuse the file
    (a member larger than the file's own settings allow). Members it read are not read again.
    Each member is inflated into a buffer of exactly its declared size, and reading stops there.
    """
    zf, members = _inspect(path, max_bytes, max_entries, max_elements, kinds, error)
    out: dict[str, np.ndarray] = {}

    def read(key: str) -> np.ndarray:
        if key not in out:
            if key not in members:
                raise KeyError(key)
            out[key] = _read_member(zf, path, members[key], error)
        return out[key]

    try:
        with zf:
            if plan is not None:
                plan({key: (m[1], m[2]) for key, m in members.items()}, read)
            for key in members:
                read(key)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
            ValueError) as exc:
        raise error(f"{path}: damaged archive ({exc.__class__.__name__}: {exc})") from None
    return {key: out[key] for key in members}


def _read_member(zf: zipfile.ZipFile, path, member: tuple, error) -> np.ndarray:
    """One member's array: its declared bytes inflated into a buffer of exactly that size, no more."""
    info, dtype, shape, fortran, offset = member
    with zf.open(info) as fh:
        fh.read(offset)
        buf = bytearray(math.prod(shape) * dtype.itemsize)
        got = fh.readinto(buf) if buf else 0
        if got != len(buf) or fh.read(1):
            raise error(f"{path}: member {info.filename} is truncated")
    arr = np.frombuffer(buf, dtype=dtype)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def require_finite(arrays: dict[str, np.ndarray], path, keys=None, error=CheckpointError) -> None:
    """``error`` naming the first array (of ``keys``, default all float arrays) holding NaN or infinity."""
    for key in (arrays if keys is None else keys):
        arr = arrays[key]
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise error(f"{path}: {key} contains NaN or infinity")


# ------------------------------------------------------------------------------------------- saving
def npz_size(arrays: dict[str, np.ndarray]) -> int:
    """About the bytes of ``np.savez(arrays)``: the data plus a header per member."""
    return sum(np.asarray(a).nbytes + 256 + len(k) for k, a in arrays.items())


def savez_writer(arrays: dict[str, np.ndarray]) -> Callable[[BinaryIO], None]:
    for key, arr in arrays.items():
        if np.asarray(arr).dtype.hasobject:
            raise ValueError(f"{key}: object arrays are never saved")
    return lambda fh: np.savez(fh, **arrays)


def atomic_save_npz(path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` (plain numeric arrays only) to ``path`` as an ``.npz`` through ``atomic_write``."""
    return atomic_write(path, savez_writer(arrays), size_hint=npz_size(arrays))


def check_format(meta: object, path, fmt: str, version: int, what: str, error=CheckpointError) -> int:
    """``meta`` must be ``{"format": fmt, "version": 1..version, ...}``; returns the version, or raises ``error``
    naming the file: not this kind of file, a damaged version, or one written by a newer rnnviz."""
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise error(f"{path}: not an rnnviz {what}")
    found = meta.get("version")
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise error(f"{path}: its {what} format version {found!r} is damaged")
    if found > version:
        raise error(f"{path}: made by a newer rnnviz ({what} format version {found}); this one reads version "
                    f"{version}")
    return found
