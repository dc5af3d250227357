"""The files of one run published together, and read back only as a consistent set.

``RunWriter`` stages every file of a run (``rnnviz train --out``: metrics.csv, checkpoint.npz, session.npz;
``rnnviz sweep --out``: sweep.csv) in a folder beside them, then renames them into place and writes the manifest
``rnnviz-run.json`` last; ``read_run`` checks a folder's files against its manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np

from rnnviz.core.errors import CheckpointError, OutputError
from rnnviz.core.files.atomic import (
    atomic_write_text,
    check_room,
    check_target,
    describe_failure,
    fsync_folder,
    lock_while_writing,
    make_folder,
    remove_stale_temporaries,
    temp_path,
    write_temp,
)
from rnnviz.core.files.npz import no_constant, npz_size, savez_writer

RUN_MANIFEST = "rnnviz-run.json"
RUN_FORMAT = "rnnviz-run"


class RunWriter:
    """Write the files of one run so that a reader never pairs files of two runs.

    Each file is first written into a staging folder inside ``folder`` (``.rnnviz-stage.….rnnviz-tmp``, on the
    same file system); ``publish()`` then renames them into ``folder`` one after the other and writes the
    manifest ``rnnviz-run.json`` last (atomically): the run id, when, ``info`` and every file's size and SHA-256.
    A full disk or a kill while writing leaves the previous files and their manifest untouched (the staging
    folder is removed, or by the next run when the process was killed); a kill in the instant between the
    renames leaves files that the old manifest no longer describes, which ``read_run`` reports.
    Use as ``with RunWriter(folder) as run: run.add_text("metrics.csv", text); ...; run.publish(info)``.
    """

    def __init__(self, folder, what: str = "output folder"):
        self.folder = Path(folder)
        self.what = what
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(6)}"
        self.stage: Path | None = None
        self.files: dict[str, dict] = {}
        self._fd: int | None = None

    def __enter__(self) -> Self:
        make_folder(self.folder, f"{self.what} {self.folder}")
        remove_stale_temporaries(self.folder)
        stage = temp_path(self.folder, "rnnviz-stage")
        try:
            stage.mkdir()
            self._fd = os.open(stage, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            lock_while_writing(self._fd)
        except OSError as exc:
            raise OutputError(f"{self.what} {self.folder}: cannot be written: {describe_failure(exc, stage)}",
                              exc.errno) from None
        self.stage = stage
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None

    def add(self, name: str, write: Callable[[BinaryIO], None], size_hint: int | None = None) -> None:
        """Write the file ``name`` of the run (staged: nothing in the folder changes before ``publish``)."""
        if self.stage is None:
            raise RuntimeError("RunWriter.add outside its with-block")
        if name in self.files or name == RUN_MANIFEST or Path(name).name != name:
            raise ValueError(f"{name!r}: not a new plain file name")
        target = self.folder / name
        check_target(target)
        if size_hint:
            check_room(self.folder, size_hint, target)
        staged = self.stage / name
        try:
            write_temp(staged, write, None)
        except OSError as exc:
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"{target}: could not be written: {describe_failure(exc, target, size_hint)}; the "
                              f"files in {self.folder} are unchanged", exc.errno) from None
        # hashed as it lies on disk (np.savez seeks back to finish its zip headers: not the stream written)
        self.files[name] = {"bytes": staged.stat().st_size, "sha256": _sha256(staged)}

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, lambda fh: fh.write(data), size_hint=len(data))

    def add_text(self, name: str, text: str) -> None:
        self.add_bytes(name, text.encode("utf-8"))

    def add_npz(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        self.add(name, savez_writer(arrays), size_hint=npz_size(arrays))

    def publish(self, info: dict | None = None) -> Path:
        """Move every staged file into the folder, then write the manifest. Returns the manifest's path."""
        if self.stage is None:
            raise RuntimeError("RunWriter.publish outside its with-block")
        fsync_folder(self.stage)
        try:
            for name in self.files:
                os.replace(self.stage / name, self.folder / name)
        except OSError as exc:
            raise OutputError(f"{self.folder / name}: could not be put in place: {describe_failure(exc, self.folder)}; "
                              f"the files in {self.folder} may now be of two runs ({RUN_MANIFEST} tells which)",
                              exc.errno) from None
        fsync_folder(self.folder)
        manifest = {"format": RUN_FORMAT, "version": 1, "run_id": self.run_id,
                    "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "info": info or {}, "files": self.files}
        return atomic_write_text(self.folder / RUN_MANIFEST, json.dumps(manifest, indent=1) + "\n")


def read_run(folder, error=CheckpointError) -> dict:
    """The manifest of the run published in ``folder`` after checking that every file it names is there with
    its recorded size and SHA-256: the files can be read together. ``error`` naming the first file that does not
    belong (a kill between the renames, a file replaced by hand) or a missing or damaged manifest."""
    folder = Path(folder)
    path = folder / RUN_MANIFEST
    try:
        raw = path.read_bytes() if path.stat().st_size <= 2**20 else None
    except FileNotFoundError:
        raise error(f"{path}: no such file (no run was published in {folder}, or it was interrupted)") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        manifest = json.loads(raw.decode("utf-8"), parse_constant=no_constant) if raw is not None else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        manifest = None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("format") != RUN_FORMAT:
        raise error(f"{path}: not an rnnviz run manifest (damaged)")
    for name, rec in files.items():
        member = folder / str(name)
        if Path(str(name)).name != name or not isinstance(rec, dict):
            raise error(f"{path}: damaged entry {name!r}")
        try:
            size = member.stat().st_size
        except OSError:
            raise error(f"{member}: missing: the run {manifest.get('run_id')} is incomplete") from None
        if size != rec.get("bytes") or _sha256(member) != rec.get("sha256"):
            raise error(f"{member}: is not the file of run {manifest.get('run_id')} that {RUN_MANIFEST} "
                        "records (replaced since, or a save was interrupted): the files in this folder may come "
                        "from two runs")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()
