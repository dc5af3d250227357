"""Atomic saving: a temporary file beside the target, written, fsynced, renamed over it, the folder fsynced.

A kill at any moment leaves the old file or the new one, never a torn or empty one. Temporaries are named
``.NAME.PID-RANDOM.rnnviz-tmp`` and locked (``flock``) while written, so ``remove_stale_temporaries`` can tell a
live one from one left by a killed process and removes only the latter (each save does so in its folder).
``check_output_folder`` / ``check_output_file`` try a real write where the output will go before any work starts.
Failures of the file system are ``OutputError`` (one line: the path and why; for a full disk, how much space
was needed and how much is free).
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Self

from rnnviz.core.errors import OutputError

try:
    import fcntl
except ImportError:      # not on Windows: the pid in a temporary's name tells whether its writer lives
    fcntl = None

TMP_SUFFIX = ".rnnviz-tmp"      # every temporary file or folder rnnviz makes ends so; stale ones are removed
# what rnnviz 0.x left when a save was killed: tempfile.mkstemp(prefix=".NAME.", suffix=".tmp"), 8 random characters
LEGACY_TMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
STALE_SECONDS = 2.0            # a temporary this old whose writer holds no lock on it is left over from a kill


def lock_while_writing(fd: int) -> None:
    """Hold an exclusive lock on ``fd`` while its temporary is being written: others then know it is alive."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:       # a file system without locks: the pid in the name tells instead
            pass


def _writer_alive(path: str, name: str) -> bool:
    """Is the temporary ``path`` still being written? Its writer holds a lock on it (or, where locks are not
    available, the process whose id is in its name is still running)."""
    if fcntl is not None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return True       # cannot look: leave it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False      # nobody holds it: its writer is gone
        except BlockingIOError:
            return True
        except OSError:
            pass              # no locks here: fall back to the pid
        finally:
            os.close(fd)
    try:
        pid = int(name.rsplit(".", 2)[-2].split("-")[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, OverflowError, ProcessLookupError):
        return False
    except OSError:
        return True
    return True


def remove_stale_temporaries(folder) -> list[str]:
    """Remove the temporary files and staging folders rnnviz left in ``folder`` when a save was killed (names
    starting with "." and ending with TMP_SUFFIX, or LEGACY_TMP of earlier versions; older than STALE_SECONDS;
    whose writer is gone). Returns the names removed. Anything else is never touched."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and (name.endswith(TMP_SUFFIX) or LEGACY_TMP.fullmatch(name))):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if now - st.st_mtime < STALE_SECONDS or _writer_alive(entry.path, name):
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed.append(name)
        except OSError:
            continue
    return removed


def temp_path(folder: Path, name: str) -> Path:
    """A fresh temporary name beside ``name``: ``.NAME.PID-RANDOM.rnnviz-tmp`` (the name cut to 60 characters,
    so a temporary never needs a longer name than its target allows)."""
    return folder / f".{name[:60]}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}"


def fsync_folder(folder) -> None:
    """Make a rename in ``folder`` durable (skipped where a folder cannot be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.2f} GB"


def describe_failure(exc: OSError, path, needed: int | None = None) -> str:
    """The reason of a failed write in words; for a full disk, how much was needed and how much is free."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        free = _free_bytes(Path(path).parent)
        need = f"needed about {_mb(needed)}, " if needed else ""
        return f"the disk is full ({need}{_mb(free)} free)" if free is not None else "the disk is full"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if exc.errno == errno.EISDIR:
        return "it is a folder"
    return exc.strerror or type(exc).__name__


def _free_bytes(folder) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def check_room(folder, needed: int, path) -> None:
    """OutputError when ``folder``'s file system has less than ``needed`` bytes free for ``path``."""
    free = _free_bytes(folder)
    if free is not None and needed > free:
        raise OutputError(f"{path}: cannot be written: the disk is full (needed about {_mb(needed)}, "
                          f"{_mb(free)} free); nothing was changed", errno.ENOSPC)


def check_target(path: Path) -> None:
    """The target must be absent or a regular file: never replace a folder, a device (/dev/null) or a pipe."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written: {describe_failure(exc, path)}", exc.errno) from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: cannot be written: it is a folder", errno.EISDIR)
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: cannot be written: it is a device, pipe or socket, not a regular file")


def make_folder(folder: Path, what) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{what}: cannot be written: {folder} is a file, not a folder", errno.ENOTDIR) from None
    except OSError as exc:
        raise OutputError(f"{what}: cannot be written: {describe_failure(exc, folder)}", exc.errno) from None
    if not folder.is_dir():
        raise OutputError(f"{what}: cannot be written: {folder} is not a folder", errno.ENOTDIR)


def write_temp(tmp: Path, write: Callable[[BinaryIO], None], mode: int | None) -> None:
    """Create ``tmp`` (locked while written), call ``write`` on it, flush and fsync it."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        lock_while_writing(fd)
        if mode is not None:
            os.fchmod(fd, mode)
        fh = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write(path, write: Callable[[BinaryIO], None], size_hint: int | None = None) -> Path:
    """Call ``write(fh)`` on a temporary file beside ``path``, fsync it, rename it over ``path`` and fsync the
    folder: a kill at any moment leaves the old file or the new one, never a torn or empty one.

    The folder is made when missing. The target must be absent or a regular file (a folder or a device such as
    /dev/null is refused). ``size_hint``: the bytes about to be written, checked against the free space first.
    An existing file keeps its permissions. Temporaries left by a killed save in that folder are removed first.
    Any failure leaves the previous file untouched and removes the temporary; a failure of the file system (a
    full disk, a read-only folder) is an OutputError naming ``path`` and why; other exceptions pass through.
    """
    path = Path(path)
    folder = path.parent
    check_target(path)
    make_folder(folder, path)
    remove_stale_temporaries(folder)
    if size_hint:
        check_room(folder, size_hint, path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None
    tmp = temp_path(folder, path.name)
    try:
        write_temp(tmp, write, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"{path}: could not be written: {describe_failure(exc, path, size_hint)}; the previous file "
                              "is unchanged" if path.exists() else
                              f"{path}: could not be written: {describe_failure(exc, path, size_hint)}", exc.errno) from None
        raise
    fsync_folder(folder)
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    """``data`` to ``path`` through ``atomic_write``."""
    return atomic_write(path, lambda fh: fh.write(data), size_hint=len(data))


def atomic_write_text(path, text: str) -> Path:
    """``text`` as UTF-8 to ``path`` through ``atomic_write`` (line ends as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def open_log(path) -> BinaryIO:
    """A log file that a child process streams its output into (``stdout=``), opened for writing. The one file
    rnnviz writes in place rather than atomically: a log cut short by a crash is still the log of what happened."""
    return open(path, "wb")


# ------------------------------------------------------------------------------------------- output places
@dataclass
class OutputPlace:
    """Where a command will write, checked (``check_output_folder`` / ``check_output_file``), and the folders the
    check had to create. ``undo()`` removes those again while they are empty: a command that stops before it
    writes anything leaves nothing behind."""

    path: Path
    created: list[Path] = field(default_factory=list)

    def undo(self) -> None:
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                break

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind, *_exc) -> None:
        if kind is not None:
            self.undo()


def _missing_parents(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, the outermost first."""
    missing = []
    for p in [folder, *folder.parents]:
        if os.path.lexists(p):
            break
        missing.append(p)
    return missing[::-1]


def check_output_folder(folder, names=(), what: str = "output folder") -> OutputPlace:
    """Make sure files can be written into ``folder`` before any work starts: create it, write, sync and remove
    a probe file, and check that none of ``names`` inside it is a folder or a device. OutputError (one line
    naming the path and why) otherwise, with nothing left behind. Use the result as a context manager: the
    folders it made are removed again if the block fails before writing into them."""
    folder = Path(folder)
    where = f"{what} {folder}"
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{where}: cannot be used: {describe_failure(exc, folder)}", exc.errno) from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else "a device, pipe or socket"
        raise OutputError(f"{where}: cannot be used: it is {kind}, not a folder", errno.ENOTDIR)
    place = OutputPlace(folder, _missing_parents(folder) if st is None else [])
    with place:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"{where}: cannot be used: a part of it is a file, not a folder",
                              errno.ENOTDIR) from None
        except OSError as exc:
            raise OutputError(f"{where}: cannot be created: {describe_failure(exc, folder)}", exc.errno) from None
        _probe(folder, where)
        for name in names:
            check_target(folder / name)
    return place


def check_output_file(path, what: str = "output file") -> OutputPlace:
    """Make sure ``path`` can be written before any work starts: its folder is made and probed (as in
    ``check_output_folder``), the path is not a folder or a device, and a file of its very name can be created
    there (a name too long for the file system is found now). OutputError otherwise, with nothing left behind."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise OutputError(f"{what} {path}: cannot be used: it names a folder, not a file", errno.EISDIR)
    place = check_output_folder(path.parent, what=f"{what} {path}: the folder")
    with place:
        try:
            check_target(path)
        except OutputError as exc:
            raise OutputError(f"{what} {exc}", exc.errno) from None
        if not os.path.lexists(path):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                return OutputPlace(path, place.created)
            except OSError as exc:
                raise OutputError(f"{what} {path}: cannot be written: {describe_failure(exc, path)}",
                                  exc.errno) from None
            os.close(fd)
            os.unlink(path)
    return OutputPlace(path, place.created)


def _probe(folder: Path, where: str) -> None:
    remove_stale_temporaries(folder)
    probe = temp_path(folder, "probe")
    try:
        write_temp(probe, lambda fh: fh.write(b"rnnviz"), None)
    except OSError as exc:
        raise OutputError(f"{where}: cannot be written: {describe_failure(exc, probe)}", exc.errno) from None
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass
