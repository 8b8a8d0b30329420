"""Names that become paths: run ids, step and return names, and paths kept inside their root.

A run id, a step name or a return name comes from a user (a CLI argument, a pipeline file, an
SDK call) and ends up as part of a file name in a run log store or a catalog. Nothing here lets
one of them name a file outside the store's or the catalog's root.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import quote

from stepline.errors import StepLineError

RUN_ID_MAX = 128
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9 _.,+=@()-]+")
NAME_MAX = 100  # a file name made from a name stays well under the usual 255-byte limit


class UnsafeIdentifierError(StepLineError):
    """A run id or a name that cannot safely be part of a path."""


class PathEscapeError(StepLineError):
    """A path that would leave its root (``..``, an absolute path, a symlink pointing out)."""

    exit_code = 1


def check_run_id(run_id: str, *, source: str = "run id") -> str:
    """``run_id`` unchanged, or an error: letters, digits, ``.``, ``_`` and ``-``, starting with a
    letter or digit, at most :data:`RUN_ID_MAX` characters. A run id is never a path."""
    if isinstance(run_id, str) and len(run_id) <= RUN_ID_MAX and _RUN_ID.fullmatch(run_id):
        return run_id
    shown = repr(run_id)[:60] + ("..." if len(repr(run_id)) > 60 else "")
    raise UnsafeIdentifierError(f"{source} {shown} is not a valid run id", hint=(
        f"use letters, digits, '.', '_' and '-', starting with a letter or digit, at most {RUN_ID_MAX} characters"))


def safe_file_name(name: str) -> str:
    """``name`` as one path component: kept as it is when it is short and plain, otherwise a readable,
    escaped prefix and a hash of the whole name after ``~`` (a plain name never holds ``~``, so two
    names never share a file)."""
    if len(name) <= NAME_MAX and _PLAIN_NAME.fullmatch(name) and not name.startswith("."):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    readable = quote(name, safe="").replace("~", "%7E")
    if readable.startswith("."):  # never a hidden file, never '..'
        readable = "%2E" + readable[1:]
    return readable[:60] + "~" + digest


def safe_relative_path(name: str) -> str:
    """A dotted or slashed name (``fan.3.square``, ``objects/step/model``) made of safe components."""
    return "/".join(safe_file_name(part) for part in name.split("/"))


def inside(root: str | Path, path: str | Path, *, what: str = "path") -> Path:
    """``path`` resolved (symlinks followed), or an error when it is not inside ``root`` resolved."""
    base = Path(root).resolve()
    target = (base / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
    if target != base and not target.is_relative_to(base):
        raise PathEscapeError(f"{what} '{path}' resolves to '{target}', outside '{base}'",
                              hint="a path (or a symlink in it) may not leave its folder")
    return target
