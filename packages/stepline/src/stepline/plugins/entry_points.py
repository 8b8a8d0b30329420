"""The entry points of group ``stepline``, remembered between processes.

Finding them means reading the metadata of every installed distribution (a few hundred files in a
full environment), in every process, for the same answer. The answer is kept in a small JSON file
in the user's cache folder (``$XDG_CACHE_HOME/stepline``, else ``~/.cache/stepline``), one per
interpreter, with the modification time of every ``sys.path`` entry: installing, upgrading or
removing a distribution changes the folder it lives in, so any change there means a new scan. A cache
that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stepline.plugins import PROJECT

#: Bump when the file's layout changes.
FORMAT = 1


@dataclass(frozen=True)
class FoundEntryPoint:
    """One entry point of group ``stepline`` and the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str


def cache_file() -> Path:
    """This interpreter's cache file."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    interpreter = hashlib.sha256(f"{sys.prefix}\0{sys.executable}".encode()).hexdigest()[:16]
    return base / "stepline" / f"entry-points-{interpreter}.json"


def search_path_state() -> list[list]:
    """Every ``sys.path`` entry with its modification time (None when it does not exist)."""
    state = []
    for entry in sys.path:
        try:
            state.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            state.append([entry, None])
    return state


def scan() -> list[FoundEntryPoint]:
    """The entry points of group ``stepline``, read from every distribution's metadata (the first of
    each distribution name on ``sys.path`` wins, as ``importlib.metadata.entry_points`` does)."""
    from importlib import metadata

    found = []
    for ep in metadata.entry_points(group=PROJECT):
        dist = ep.dist
        found.append(FoundEntryPoint(ep.name, ep.value, dist.metadata["Name"] if dist else "?",
                                     dist.version if dist else "?"))
    return found


def stepline_entry_points() -> list[FoundEntryPoint]:
    """The entry points of group ``stepline``: from the cache when nothing on ``sys.path`` changed
    since it was written, else scanned (and the cache rewritten)."""
    state = search_path_state()
    try:
        path = cache_file()
    except RuntimeError:  # no home folder to put a cache in
        return scan()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["format"] == FORMAT and cached["sys_path"] == state:
            return [FoundEntryPoint(*row) for row in cached["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = scan()
    text = json.dumps({"format": FORMAT, "sys_path": state,
                       "entry_points": [[e.name, e.value, e.distribution, e.version] for e in found]})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return found
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
    return found
