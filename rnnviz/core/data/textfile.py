"""Files to text: UTF-8 (with or without a BOM) or a DataError naming what the file really is, and lines.

Refused with one message naming the file (and the line when one is at fault): an empty file, UTF-16/32 with or
without a BOM, NUL bytes, bytes that are not UTF-8, known binary formats (PNG, JPEG, PDF, ZIP/xlsx/docx, gzip ...),
devices, pipes and sockets (a link to /dev/zero would never end), folders, missing files, unusable paths, and files
over ``MAX_FILE_BYTES``. Lines end at ``\\n`` only (a trailing ``\\r`` is dropped), so U+0085 (NEL), U+2028 and
friends stay inside the text.
"""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Iterator

from rnnviz.core.errors import DataError

MAX_FILE_BYTES = 64 * 1024 * 1024  # larger files are refused: this app trains small models live
# the first bytes of files people drop in by mistake
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx, Word .docx or .npz file is one)"),
    (b"PK\x05\x06", "an empty ZIP archive"), (b"\x1f\x8b", "a gzip-compressed file (unpack it first)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.xls / .doc)"),
    (b"\x93NUMPY", "a NumPy .npy array"), (b"BZh", "a bzip2-compressed file (unpack it first)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (unpack it first)"), (b"\x7fELF", "a program (ELF binary)"),
    (b"SQLite format 3\x00", "an SQLite database"), (b"RIFF", "a RIFF media file (WAV / AVI / WebP)"),
)


def decode_bytes(data: bytes, name: str) -> str:
    """UTF-8 text of ``data`` (a BOM is dropped); binary, UTF-16/32 and invalid UTF-8 are DataErrors."""
    if not data:
        raise DataError("the file is empty", name)
    for magic, what in SIGNATURES:
        if data.startswith(magic):
            raise DataError(f"this is {what}, not a text file; rnnviz reads UTF-8 text (.tsv, .csv, .conllu, "
                            ".txt)", name)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"\x00\x00\xfe\xff",):
        raise DataError("the file is UTF-16 or UTF-32 text (it starts with a byte-order mark); "
                        "save it as UTF-8", name)
    nul = data.find(b"\x00")
    if nul >= 0 and _looks_like_utf16(data):
        raise DataError("the file is UTF-16 text without a byte-order mark (every other byte is 0); save it as "
                        "UTF-8", name)
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError("binary content (a NUL byte): not a text file (UTF-16 text without a BOM looks like "
                        "this too; save it as UTF-8)", name, line)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} cannot be decoded "
                        "(Latin-1 or Windows-1252 text?); save the file as UTF-8", name, line) from None


def _looks_like_utf16(data: bytes) -> bool:
    """ASCII-range text as UTF-16 without a BOM: zeros fill every other byte (odd ones: LE, even ones: BE)."""
    head = data[:4096]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.9 and min(even.count(0), odd.count(0)) == 0


def path_exists(path: str | Path) -> bool:
    """``Path.exists`` that turns an unusable path (a name too long, a NUL byte ...) into a DataError."""
    try:
        return Path(path).exists()
    except (OSError, ValueError) as exc:
        what = getattr(exc, "strerror", None) or str(exc)
        raise DataError(f"cannot use this path ({what})", str(path)) from None


def read_text(path: str | Path) -> str:
    """The file's text (see ``decode_bytes``); a missing, unreadable or huge file is a DataError."""
    path = Path(path)
    name = str(path)
    if not path_exists(path):
        raise DataError("no such file", name)
    if path.is_dir():
        raise DataError("is a folder, not a file", name)
    try:
        st = path.stat()                  # follows symlinks: a link to /dev/zero or a pipe would never end
        if not stat.S_ISREG(st.st_mode):
            raise DataError("not a regular file (a device, pipe or socket)", name)
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise DataError(f"the file is {size / 2**20:.1f} MB; rnnviz reads files up to "
                            f"{MAX_FILE_BYTES // 2**20} MB", name)
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise DataError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB (it grew while being read)",
                            name)
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror or exc.__class__.__name__})", name) from None
    return decode_bytes(data, name)


def split_lines(text: str, name: str) -> Iterator[str]:
    """Lines split at ``\\n`` only, a trailing ``\\r`` removed (U+0085, U+2028 ... are not line breaks).

    One line at a time, so a loader that stops at a cap never splits the rest of a huge file.
    """
    if "\n" not in text and "\r" in text.rstrip("\r"):
        raise DataError("lines end with a bare carriage return (old Mac format); save the file with "
                        "LF or CRLF line ends", name)
    return _lines(text)


def _lines(text: str) -> Iterator[str]:
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        yield line[:-1] if line.endswith("\r") else line
        if end < 0:
            return
        start = end + 1
