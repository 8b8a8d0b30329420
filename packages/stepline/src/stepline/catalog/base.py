"""The catalog contract.

Steps ``get`` files from the run's catalog into their data folder before the task and ``put``
files matching glob patterns into it afterwards. A backend implements byte-level primitives on
paths relative to its root; matching, hashing and the recorded items are shared here.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import ClassVar

from stepline.component import Component, Locality
from stepline.errors import StepLineError
from stepline.paths import PathEscapeError, check_run_id, inside
from stepline.runlog.models import DataCatalogItem


class CatalogError(StepLineError):
    """A get or put could not be done (nothing matched, a path escapes the folder)."""

    exit_code = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_pattern(pattern: str) -> None:
    path = PurePosixPath(pattern)
    if path.is_absolute() or ".." in path.parts or "\x00" in pattern:
        raise CatalogError(f"catalog pattern '{pattern}' escapes the data folder",
                           hint="use a path relative to compute_data_folder without '..'")


def check_catalog_path(path: str) -> str:
    """A path inside the catalog (``RUN_ID/...``): relative, no ``..``, starting with a valid run id."""
    parts = PurePosixPath(path).parts
    if PurePosixPath(path).is_absolute() or ".." in parts or not parts or "\x00" in path:
        raise CatalogError(f"catalog path '{path}' escapes the catalog", hint="catalog paths are RUN_ID/relative/path")
    check_run_id(parts[0], source="the run id of catalog path")
    return path


_WILDCARDS = frozenset("*?[")


def kept_apart(paths: Iterable[str | Path], data_folder: Path) -> tuple[Path, ...]:
    """Of ``paths`` (the folders and files services keep on this machine, ``Component.local_paths()``),
    those a put must never copy: each one, resolved, that is not the data folder nor holds it (a
    catalog's own folder, a run log folder, a ``.env`` file; not the data folder a catalog reads)."""
    data = data_folder.resolve()
    kept = []
    for path in paths:
        resolved = Path(path).resolve()
        if not data.is_relative_to(resolved):
            kept.append(resolved)
    return tuple(dict.fromkeys(kept))


def _under(path: Path, apart: tuple[Path, ...]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(place) for place in apart)


class Catalog(Component, abc.ABC):
    kind: ClassVar[str] = "catalog"

    @property
    def locality(self) -> Locality:
        return Locality.MACHINE

    @property
    def compute_data_folder(self) -> Path:
        return Path(getattr(self.settings, "compute_data_folder", "."))

    @property
    def location(self) -> str:
        """Where the catalog lives, as shown in the run log."""
        return ""

    # ---- primitives on paths relative to the catalog's root ------------------------------------
    @abc.abstractmethod
    def _upload(self, local: Path, remote: str) -> None: ...

    @abc.abstractmethod
    def _download(self, remote: str, local: Path) -> None: ...

    @abc.abstractmethod
    def _glob(self, run_id: str, pattern: str) -> list[str]:
        """Files under ``run_id/`` matching ``pattern``, relative to ``run_id/``."""

    @abc.abstractmethod
    def _write_bytes(self, remote: str, data: bytes) -> None: ...

    @abc.abstractmethod
    def _read_bytes(self, remote: str) -> bytes: ...

    @abc.abstractmethod
    def _copy_run(self, from_run_id: str, to_run_id: str) -> None: ...

    # ---- the public API used by the step context -----------------------------------------------
    def get(self, run_id: str, patterns: list[str]) -> list[DataCatalogItem]:
        """Copy matching files of the run's catalog into the data folder. A catalog whose
        ``store_copy`` setting is false holds no copies: the files are expected in the data folder,
        where an earlier step left them, and only their hashes are recorded."""
        items = []
        check_run_id(run_id)
        if not getattr(self.settings, "store_copy", True):
            return [DataCatalogItem(name=local.relative_to(self.compute_data_folder).as_posix(),
                                    data_hash=sha256_file(local), stage="get", stored=False,
                                    catalog_handler_location=self.location)
                    for pattern in patterns for local in self._local_matches(pattern, "get")]
        for pattern in patterns:
            check_pattern(pattern)
            matches = self._glob(run_id, pattern)
            if not matches:
                raise CatalogError(f"catalog get '{pattern}' matched nothing in the catalog of run {run_id}",
                                   hint="an earlier step must put it, or fix the pattern")
            for rel in matches:
                local = self._in_data_folder(rel)
                local.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self._download(check_catalog_path(f"{run_id}/{rel}"), local)
                except OSError as exc:
                    raise self._io_error("get", f"{run_id}/{rel}", exc) from None
                items.append(DataCatalogItem(name=rel, data_hash=sha256_file(local), stage="get",
                                             catalog_relative_path=f"{run_id}/{rel}",
                                             catalog_handler_location=self.location))
        return items

    def put(self, run_id: str, patterns: list[str], store_copy: bool = True, *, missing_ok: bool = False,
            exclude: Iterable[str | Path] = ()) -> list[DataCatalogItem]:
        """Copy files of the data folder matching ``patterns`` into the run's catalog (only their hash
        when the step or the catalog's ``store_copy`` setting says false), each file once.

        A pattern with a wildcard matches files only; a plain path names a file, or a folder whose
        files are all put. Nothing under ``exclude`` (the folders and files the run's services keep
        their own state in: see :func:`kept_apart`) nor under this catalog's own folders is put. With
        ``missing_ok`` (the puts of a task that failed), a pattern that matches nothing is skipped."""
        store_copy = store_copy and getattr(self.settings, "store_copy", True)
        items = []
        check_run_id(run_id)
        folder = self.compute_data_folder
        apart = kept_apart([*exclude, *self.local_paths()], folder)
        seen: set[Path] = set()
        for pattern in patterns:
            for local in self._local_matches(pattern, "put", apart, missing_ok=missing_ok):
                if local in seen:  # matched by an earlier pattern too
                    continue
                seen.add(local)
                rel = local.relative_to(folder).as_posix()
                self._in_data_folder(rel)  # a symlink to a file elsewhere is not put
                if store_copy:
                    try:
                        self._upload(local, f"{run_id}/{rel}")
                    except OSError as exc:
                        raise self._io_error("put", f"{run_id}/{rel}", exc) from None
                items.append(DataCatalogItem(name=rel, data_hash=sha256_file(local), stage="put",
                                             stored=store_copy, catalog_relative_path=f"{run_id}/{rel}",
                                             catalog_handler_location=self.location))
        return items

    def _local_matches(self, pattern: str, stage: str, apart: tuple[Path, ...] = (), *,
                       missing_ok: bool = False) -> list[Path]:
        """The files of the data folder ``pattern`` matches: with a wildcard, the files it matches (a
        folder it matches is skipped, as runnable skips it: ``*`` must not copy the working folder's
        trees); without one, the file it names, or every file under the folder it names. Files under
        a path of ``apart`` are left out."""
        check_pattern(pattern)
        folder = self.compute_data_folder
        if _WILDCARDS.isdisjoint(pattern):
            named = folder / pattern
            found = [named] if named.is_file() else sorted(f for f in named.rglob("*") if f.is_file())
        else:  # a trailing '**' means what it says in most tools: everything below
            found = sorted(p for p in folder.glob(pattern + "/*" if pattern.endswith("**") else pattern)
                           if p.is_file())
        matches = [f for f in found if not _under(f, apart)] if apart else found
        if not matches and not missing_ok:
            if found:
                raise CatalogError(f"catalog {stage} '{pattern}' matches only files Stepline keeps its own "
                                   "state in (the run log store's or catalog's folders, a secrets file)",
                                   hint="write the task's files elsewhere in the data folder")
            hint = ("the task must write it, or fix the pattern" if stage == "put" else
                    "the catalog keeps no copies (store_copy: false): an earlier step must leave the file here")
            raise CatalogError(f"catalog {stage} '{pattern}' matched no file in '{folder}'", hint=hint)
        return matches

    def put_bytes(self, run_id: str, name: str, data: bytes) -> str:
        """Store bytes (a pickled object, an execution log); return the catalog-relative path."""
        path = check_catalog_path(f"{check_run_id(run_id)}/{name}")
        try:
            self._write_bytes(path, data)
        except OSError as exc:
            raise self._io_error("write", path, exc) from None
        return path

    def _io_error(self, action: str, path: str, exc: OSError) -> CatalogError:
        """An I/O failure as a one-line error that fails the step (instead of a traceback)."""
        where = f" at '{self.location}'" if self.location else ""
        return CatalogError(f"cannot {action} '{path}' in the {self.name} catalog{where}: {exc}",
                            hint="check the catalog's settings and permissions")

    def _in_data_folder(self, rel: str) -> Path:
        """``rel`` in the data folder, refused when it (or a symlink on its way) leads out of it."""
        try:
            return inside(self.compute_data_folder, rel, what="catalog file")
        except PathEscapeError as exc:
            raise CatalogError(exc.message, hint=exc.hint) from None

    def get_bytes(self, path: str) -> bytes:
        try:
            return self._read_bytes(check_catalog_path(path))
        except FileNotFoundError:
            raise CatalogError(f"'{path}' is not in the {self.name} catalog",
                               hint="was it written by a run that used another catalog?") from None

    def copy_run(self, from_run_id: str, to_run_id: str) -> None:
        """Copy everything a run stored into another run's catalog (used by re-runs)."""
        self._copy_run(check_run_id(from_run_id), check_run_id(to_run_id))
