"""Small helpers for writing files safely: atomic replace, record names on disk."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

_SEQUENCE = itertools.count()
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _create_aside(folder: str) -> tuple[int, str]:
    """A new, empty temporary file in ``folder`` (made if missing): (open descriptor, path). Its name
    is unique per process (the pid) and call (a counter); a name left by a crashed process is skipped."""
    while True:
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{next(_SEQUENCE)}")
        try:
            return os.open(tmp, _FLAGS, 0o600), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)


def write_aside(path: str | Path, fill: Callable[[str], Any], publish: Callable[[str, str], None] = os.replace) -> None:
    """Fill a temporary file next to local ``path`` (``fill(tmp)``), then ``publish(tmp, path)``:
    ``os.replace`` (the default) replaces atomically, ``os.link`` creates only when ``path`` does not
    exist. A reader sees the old content or the new one, never a half-written file, and the
    temporary file (unique per writer) never stays behind."""
    fd, tmp = _create_aside(os.path.dirname(os.fspath(path)) or ".")
    os.close(fd)
    _publish(tmp, os.fspath(path), lambda: fill(tmp), publish)


def atomic_write_bytes(path: str | Path, data: bytes, publish: Callable[[str, str], None] = os.replace) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`write_aside`): one file creation, one
    write and one rename, the least a crash-safe record can cost."""
    fd, tmp = _create_aside(os.path.dirname(os.fspath(path)) or ".")

    def fill() -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    _publish(tmp, os.fspath(path), fill, publish)


def _publish(tmp: str, path: str, fill: Callable[[], Any], publish: Callable[[str, str], None]) -> None:
    try:
        fill()
        publish(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if publish is not os.replace:  # os.link leaves the temporary name too
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def read_bytes(path: str) -> bytes:
    """The whole content of local file ``path`` (FileNotFoundError when absent), read with plain
    system calls: a record is read at every step, and a buffered file object costs more than the read."""
    fd = os.open(path, _READ_FLAGS)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`write_aside`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


_RECORD_NAME_MAX = 200  # file systems allow 255 bytes in a name


@functools.lru_cache(maxsize=4096)
def record_filename(key: str) -> str:
    """A record key ('step/fan.3.square') as a safe file name: escaped and reversible, or for a key
    too long for a file name, an escaped prefix, ``~`` and a hash of the whole key."""
    escaped = quote(key, safe="").replace("~", "%7E")
    if len(escaped) <= _RECORD_NAME_MAX:
        return escaped + ".json"
    return f"{escaped[:100]}~{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:24]}.json"


def key_from_filename(filename: str) -> str | None:
    """Inverse of :func:`record_filename`; None for files that are not records. For a hashed name, the
    key's start and the hash (enough to tell a step record from a branch record: the full name is
    in the record)."""
    if filename.startswith(".") or not filename.endswith(".json"):
        return None
    stem = filename[: -len(".json")]
    readable, hashed, digest = stem.rpartition("~")
    if hashed:
        return unquote(readable) + "~" + digest
    # most names have no escape but the slash after the kind ('step%2Fs12'), and a run's summary reads
    # every top-level step's name: those need no unquote
    kind, slash, name = stem.partition("%2F")
    if "%" not in kind and "%" not in name:
        return kind + "/" + name if slash else kind
    return unquote(stem)


class SummaryCache:
    """Run summaries parsed from files, kept while each file stays the same.

    A store's file is only ever replaced (atomic rename: a new inode), so (inode, mtime, size)
    says whether the summary parsed last time still holds; a long-lived reader (``stepline ui``)
    then pays one ``stat`` per run for a listing instead of a read and a parse.
    """

    def __init__(self) -> None:
        # no lock: one dict assignment is atomic, and the cache must stay picklable with its store
        self._found: dict[str, tuple[tuple[int, int, int], object]] = {}

    def get(self, path: str, parse):
        """The summary of ``path`` (``parse(path)`` when it changed); None when the file is absent."""
        try:
            stat = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._found.get(path)
        if cached and cached[0] == version:
            return cached[1]
        summary = parse(path)
        if summary is not None:
            self._found[path] = (version, summary)
        return summary
