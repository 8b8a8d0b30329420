"""The entry points of group ``stepline``, remembered between processes (and whether any distribution
declares a pydantic plugin, which pydantic would otherwise look for the same way).

Finding them means reading the metadata of every installed distribution (a few hundred files in a
full environment), in every process, for the same answer. The answer is kept in a small JSON file
in the user's cache folder (``$XDG_CACHE_HOME/stepline``, else ``~/.cache/stepline``), one per
interpreter, with the modification time of every ``sys.path`` entry and the distributions' metadata
folders in it: installing, upgrading or removing a distribution changes the folder it lives in. When
an entry's time moved, its metadata folders are listed again; only a change among them (a folder
added, removed, replaced or changed, or its ``entry_points.txt``) means a new scan. A script's own folder,
first on ``sys.path`` and changed by every file written next to it, therefore costs one listing, not
a scan. A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from stepline.plugins import PROJECT
from stepline.runlog.files import atomic_write_text

#: Bump when the file's layout changes.
FORMAT = 3
#: The entry point group pydantic loads its plugins from.
PYDANTIC_GROUP = "pydantic"


@dataclass(frozen=True)
class FoundEntryPoint:
    """One entry point of group ``stepline`` and the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> Any:
        """The object the entry point names (``package.module:attr.attr``; extras in ``[...]`` are
        ignored), found the way ``importlib.metadata.EntryPoint.load`` finds it, without importing
        ``importlib.metadata`` (and the ``email`` package it loads: about 10 ms) on every start."""
        module, _, attrs = self.value.split("[", 1)[0].partition(":")
        found = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            found = getattr(found, attr)
        return found


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


#: The name endings of the metadata folders importlib.metadata finds distributions by.
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def distributions_in(entry: str) -> list[list] | None:
    """The distributions' metadata in one ``sys.path`` entry, as ``[name, folder's change time,
    entry_points.txt's change time]`` rows, sorted; None when the entry is not a folder that can be
    listed. Change times (not modification times): an installer that links or copies files from its
    cache keeps their modification times, but not their change times."""
    folder = entry or "."
    try:
        names = sorted(name for name in os.listdir(folder) if name.lower().endswith(_METADATA_SUFFIXES))
    except OSError:
        return None
    rows = []
    for name in names:
        rows.append([name, _changed(os.path.join(folder, name)), _changed(os.path.join(folder, name, "entry_points.txt"))])
    return rows


def _changed(path: str) -> int | None:
    try:
        return os.stat(path).st_ctime_ns
    except OSError:
        return None


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
        if cached["format"] == FORMAT and _still_valid(cached, state):
            found = Scan([FoundEntryPoint(*row) for row in cached["entry_points"]], int(cached["pydantic_plugins"]),
                         str(cached["stepline_version"]))
            if cached["sys_path"] != state:  # only times moved: remember them, so the next start lists nothing
                _write(path, state, cached["distributions"], found)
            return found
    except (OSError, ValueError, KeyError, TypeError):
        pass
    distributions = [distributions_in(entry) for entry, _ in state]  # before the scan: an install during it shows next time
    found = scan()
    _write(path, state, distributions, found)
    return found


def _still_valid(cached: dict, state: list[list]) -> bool:
    """True when the cache holds for ``state``: the same entries, and where an entry's time moved, the
    same metadata folders in it."""
    if cached["sys_path"] == state:
        return True
    known, distributions = cached["sys_path"], cached["distributions"]
    if [entry for entry, _ in known] != [entry for entry, _ in state] or len(distributions) != len(state):
        return False
    return all(old == new or distributions_in(new[0]) == listed
               for old, new, listed in zip(known, state, distributions))


def _write(path: Path, state: list[list], distributions: list, found: Scan) -> None:
    text = json.dumps({"format": FORMAT, "sys_path": state, "distributions": distributions,
                       "pydantic_plugins": found.pydantic_plugins, "stepline_version": found.stepline_version,
                       "entry_points": [[e.name, e.value, e.distribution, e.version] for e in found.entry_points]})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError:  # a cache that cannot be written is simply not used
        pass


def stepline_entry_points() -> list[FoundEntryPoint]:
    """The entry points of group ``stepline`` (see :func:`cached_scan`)."""
    return cached_scan().entry_points


def settle_pydantic_plugins() -> None:
    """Give pydantic the answer to its plugin search when the cache already has it: none.

    The first time pydantic builds a validator it imports its plugin loader, which imports
    :mod:`importlib.metadata` (and with it the ``email`` package: 10-25 ms here), and looks for
    plugins by reading the metadata of every installed distribution (about ten milliseconds more in a
    full environment), in every process. When the cache, valid for this ``sys.path``, says no
    distribution declares one, that loader is given the empty answer its search would produce:

    - not imported yet: a stand-in module (:class:`NoPydanticPlugins`) takes its place;
    - already imported: its table of loaded plugins is set to the empty one.

    Anything else (plugins installed, ``PYDANTIC_DISABLE_PLUGINS`` set, a pydantic whose loader is laid
    out differently) leaves pydantic to search as usual."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") is not None or cached_scan().pydantic_plugins:
        return
    loader = sys.modules.get(PYDANTIC_LOADER)
    if loader is None:
        sys.modules[PYDANTIC_LOADER] = NoPydanticPlugins(PYDANTIC_LOADER)
    elif getattr(loader, "_plugins", ()) is None:
        loader._plugins = {}


#: pydantic's plugin loader: the module its validators ask for ``get_plugins()``.
PYDANTIC_LOADER = "pydantic.plugin._loader"


class NoPydanticPlugins(types.ModuleType):
    """Stands in for pydantic's plugin loader where no distribution declares a pydantic plugin: its
    ``get_plugins()`` gives what the real one would find, none. Any other name asked of it loads the
    real loader in its place (with that same empty answer) and gives that module's."""

    _plugins: ClassVar[dict] = {}

    @staticmethod
    def get_plugins() -> tuple:
        return ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        if getattr(real, "_plugins", ()) is None:
            real._plugins = {}
        return getattr(real, name)
