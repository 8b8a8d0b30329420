"""An fsspec URL plus storage options: the filesystem, paths under it, and what may be shown."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

from stepline.api import Locality, atomic_write_bytes, mask_url, write_aside

#: Storage option keys whose values are never shown (run log, describe(), messages).
_SECRET_KEY = re.compile(r"secret|key|token|passw|credential|auth|session|sas|connection|private|cert",
                         re.IGNORECASE)
MASK = "***"
_MEMORY_CREATE_LOCK = threading.Lock()


def protocol_of(url: str) -> str:
    """The protocol of an fsspec URL ('file' for plain paths), without importing any backend."""
    head, sep, _ = url.partition("://")
    if not sep:
        return "file"
    return head.split("::")[-1].split("+")[0].lower()


#: Extras that install a protocol's implementation, where Stepline has one.
_EXTRA = {"s3": 'pip install "stepline[s3]"', "s3a": 'pip install "stepline[s3]"'}


def missing_implementation(url: str) -> str | None:
    """Why fsspec cannot open ``url`` here (a protocol whose package is not installed, or unknown),
    in one line with the install command; None when it can. The package is looked for, not imported:
    s3fs (botocore) takes longer to import than a render of 1,000 steps, which never opens the store."""
    from importlib.util import find_spec

    from fsspec.registry import known_implementations, registry

    for part in url.split("::"):
        protocol = protocol_of(part)
        if protocol in registry:  # imported already, or registered by a plugin
            continue
        if protocol not in known_implementations:
            return f"location '{mask_url(url)}': fsspec knows no protocol '{protocol}'"
        package = known_implementations[protocol]["class"].split(".")[0]
        if find_spec(package) is None:
            fix = _EXTRA.get(protocol, f"pip install {package}")
            return f"location '{mask_url(url)}' needs {package}, which is not installed: {fix}"
    return None


def locality_of(url: str) -> Locality:
    """PROCESS for memory://, MACHINE for local paths, NETWORK for everything else (s3, gs, ...)."""
    protocol = protocol_of(url)
    if protocol == "memory":
        return Locality.PROCESS
    if protocol in ("file", "local"):
        return Locality.MACHINE
    return Locality.NETWORK


def mask_options(options: Any) -> Any:
    """Storage options as they may be shown: values under secret-looking keys become ``***``."""
    if isinstance(options, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) and v not in (None, "", False) and not isinstance(v, dict)
                else mask_options(v) for k, v in options.items()}
    if isinstance(options, list):
        return [mask_options(v) for v in options]
    return options


def location_of(component: Any) -> Location:
    """The component's Location, made again after a fork: async filesystems (s3fs) are not fork-safe."""
    found = component.__dict__.get("_location")
    if found is None or found.pid != os.getpid():
        found = Location(component.settings.location, component.settings.storage_options)
        component.__dict__["_location"] = found
    return found


class OnLocation:
    """For a component whose settings hold an fsspec ``location`` and ``storage_options``: its
    :class:`Location` (made again after a fork or unpickling), its locality, its masked config."""

    @classmethod
    def from_config(cls, config, *, source: str = "config"):
        """As every component's, and the location's filesystem must be installed (checked before any
        step runs, instead of an ImportError in the middle of the run)."""
        component = super().from_config(config, source=source)
        problem = missing_implementation(component.settings.location)
        if problem:
            from stepline.api import ConfigError

            raise ConfigError(f"{cls.kind.replace('_', ' ')} '{cls.name}': {problem}", file=source)
        return component

    @property
    def where(self) -> Location:
        return location_of(self)

    @property
    def locality(self) -> Locality:
        return locality_of(self.settings.location)

    def location_config(self) -> dict[str, Any]:
        """``location`` and ``storage_options`` as ``describe()`` shows them: secrets masked."""
        config: dict[str, Any] = {"location": mask_url(self.settings.location)}
        if self.settings.storage_options:
            config["storage_options"] = mask_options(self.settings.storage_options)
        return config

    def __getstate__(self) -> dict[str, Any]:
        # the filesystem object holds sockets and event loops: rebuild it after pickling
        state = dict(self.__dict__)
        state.pop("_location", None)
        return state


class Location:
    """A root URL on some filesystem. Paths handed to the filesystem are ``root/rel``."""

    def __init__(self, url: str, storage_options: dict[str, Any]) -> None:
        from fsspec.core import url_to_fs

        self.pid = os.getpid()
        self.url = url
        # empty values are left out, so a config can switch an option off with ${VAR:-}
        options = {k: v for k, v in storage_options.items() if v not in ("", None)}
        self.fs, root = url_to_fs(url, skip_instance_cache=True, **options)
        self.root = root.rstrip("/")
        self.is_local = protocol_of(url) in ("file", "local")
        self.is_memory = protocol_of(url) == "memory"

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def rel(self, path: str, base: str) -> str:
        """``path`` relative to ``root/base``."""
        prefix = self.path(base).rstrip("/") + "/"
        if not path.startswith(prefix):
            raise ValueError(f"{path} is not under {prefix}")
        return path[len(prefix):]

    def fresh(self, rel: str = "") -> None:
        """Forget cached listings, so files written by other processes are seen."""
        self.fs.invalidate_cache(self.path(rel) if rel else None)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Replace one object atomically: readers see the old bytes or the new ones."""
        path = self.path(rel)
        if self.is_local:  # fsspec writes a local file in place: write aside, then rename over it
            atomic_write_bytes(path, data)
        else:  # one PUT per object on object stores; memory:// swaps the object in one assignment
            self.fs.pipe_file(path, data)

    def upload_file(self, local: Path, rel: str) -> None:
        """Copy a local file to ``root/rel``, atomically replacing what was there."""
        path = self.path(rel)
        if self.is_local:
            write_aside(path, lambda tmp: shutil.copyfile(local, tmp), os.replace)
        else:  # object stores make an upload visible only once complete (multipart included)
            self.fs.put_file(str(local), path)

    def create_bytes(self, rel: str, data: bytes) -> None:
        """Write an object that must not exist yet; FileExistsError if it does."""
        path = self.path(rel)
        if self.is_local:  # a hard link is atomic, complete, and fails with FileExistsError if taken
            atomic_write_bytes(path, data, os.link)
        elif self.is_memory:
            # memory:// checks, then stores: make that one step for the threads of this process
            with _MEMORY_CREATE_LOCK:
                self.fs.pipe_file(path, data, mode="create")
        else:
            # a conditional write (If-None-Match: * on S3)
            self.fs.pipe_file(path, data, mode="create")

    def read_bytes(self, rel: str) -> bytes:
        """The object's bytes; FileNotFoundError when absent."""
        return self.fs.cat_file(self.path(rel))

    def find(self, rel: str) -> list[str]:
        """Every file under ``root/rel`` (full paths), freshly listed."""
        self.fresh(rel)
        try:
            return [p for p in self.fs.find(self.path(rel)) if not os.path.basename(p).startswith(".tmp-")]
        except FileNotFoundError:
            return []

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """Read many objects at once (concurrently on async filesystems); absent ones are left out."""
        if not paths:
            return {}
        found = self.fs.cat(paths, on_error="return")
        return {p: v for p, v in found.items() if isinstance(v, bytes)}
