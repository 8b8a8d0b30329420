"""The entry points of group ``stepline``, remembered between processes (and whether any distribution
declares a pydantic plugin, which pydantic would otherwise look for the same way).

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
from dataclasses import dataclass
from pathlib import Path

from stepline.plugins import PROJECT
from stepline.runlog.files import atomic_write_text

#: Bump when the file's layout changes.
FORMAT = 2
#: The entry point group pydantic loads its plugins from.
PYDANTIC_GROUP = "pydantic"


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


@dataclass(frozen=True)
class Scan:
    """What one pass over the installed distributions' metadata found."""

    entry_points: list[FoundEntryPoint]
    #: how many entry points of group ``pydantic`` (pydantic plugins) are declared
    pydantic_plugins: int
    #: the installed ``stepline`` distribution's version (its built-in plugins' origin)
    stepline_version: str


def scan() -> Scan:
    """The entry points of group ``stepline``, read from every distribution's metadata (the first of
    each distribution name on ``sys.path`` wins, as ``importlib.metadata.entry_points`` does), and the
    number of pydantic plugins and the version of ``stepline`` found in the same pass."""
    from importlib import metadata

    every = metadata.entry_points()
    found = []
    for ep in every.select(group=PROJECT):
        dist = ep.dist
        found.append(FoundEntryPoint(ep.name, ep.value, dist.metadata["Name"] if dist else "?",
                                     dist.version if dist else "?"))
    try:
        version = metadata.version(PROJECT)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "0+unknown"
    return Scan(found, len(every.select(group=PYDANTIC_GROUP)), version)


#: The last answer in this process and the ``sys.path`` state it holds for.
_last: tuple[list[list], Scan] | None = None


def cached_scan() -> Scan:
    """:func:`scan`'s answer: from the cache when nothing on ``sys.path`` changed since it was
    written, else scanned (and the cache rewritten)."""
    global _last
    state = search_path_state()
    if _last is not None and _last[0] == state:
        return _last[1]
    found = _read_or_scan(state)
    _last = (state, found)
    return found


def _read_or_scan(state: list[list]) -> Scan:
    try:
        path = cache_file()
    except RuntimeError:  # no home folder to put a cache in
        return scan()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["format"] == FORMAT and cached["sys_path"] == state:
            return Scan([FoundEntryPoint(*row) for row in cached["entry_points"]], int(cached["pydantic_plugins"]),
                        str(cached["stepline_version"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = scan()
    text = json.dumps({"format": FORMAT, "sys_path": state, "pydantic_plugins": found.pydantic_plugins,
                       "stepline_version": found.stepline_version,
                       "entry_points": [[e.name, e.value, e.distribution, e.version] for e in found.entry_points]})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError:  # a cache that cannot be written is simply not used
        pass
    return found


def stepline_entry_points() -> list[FoundEntryPoint]:
    """The entry points of group ``stepline`` (see :func:`cached_scan`)."""
    return cached_scan().entry_points


def settle_pydantic_plugins() -> None:
    """Give pydantic the answer to its plugin search when the cache already has it: none.

    The first time pydantic builds a validator it looks for plugins by reading the metadata of every
    installed distribution (about ten milliseconds in a full environment, in every process). When
    the cache, valid for this ``sys.path``, says no distribution declares one, pydantic's list of
    loaded plugins is set to the empty list that search would have produced. Anything else (plugins
    installed, ``PYDANTIC_DISABLE_PLUGINS`` set, a pydantic whose loader is laid out differently)
    leaves pydantic to search as usual."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") is not None or cached_scan().pydantic_plugins:
        return
    try:
        from pydantic.plugin import _loader
    except ImportError:
        return
    if getattr(_loader, "_plugins", ()) is None:
        _loader._plugins = {}
