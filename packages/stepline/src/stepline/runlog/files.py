"""Small helpers for writing files safely: atomic replace, record names on disk."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import quote, unquote


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename over the target.

    A reader sees the old content or the new one, never a half-written file.
    """
    # unique per writer (process and thread), so concurrent writers never share a temporary file
    tmp = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def record_filename(key: str) -> str:
    """A record key ('step/fan.3.square') as a safe, reversible file name."""
    return quote(key, safe="") + ".json"


def key_from_filename(filename: str) -> str | None:
    """Inverse of :func:`record_filename`; None for files that are not records."""
    if filename.startswith(".") or not filename.endswith(".json"):
        return None
    return unquote(filename[: -len(".json")])
