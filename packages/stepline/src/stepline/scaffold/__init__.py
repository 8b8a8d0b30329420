"""``stepline new-backend KIND NAME DIR``: a standalone backend package, ready to test and publish.

The package ``stepline-NAME`` has a pyproject with its entry point and a pin on this Stepline's
minor version, a small working implementation that imports only :mod:`stepline.api`, tests that run
the contract kit of its kind, an example pipeline configured with it, and a README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from stepline.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Kind:
    """What ``new-backend`` writes for one kind of backend."""

    section: str  # the configuration section the backend fills
    impl: str  # the implementation module
    suffix: str  # appended to the class name
    title: str  # for the README and the package description
    extra_files: tuple[str, ...] = ()  # example files besides pipeline.yaml and config.yaml


#: The kinds `new-backend` writes, by the name on the command line.
TEMPLATES: dict[str, Kind] = {
    "executor": Kind("executor", "executor", "Executor", "An executor"),
    "run-log-store": Kind("run_log_store", "store", "RunLogStore", "A run log store"),
    "catalog": Kind("catalog", "catalog", "Catalog", "A catalog"),
    "secrets": Kind("secrets", "secrets", "Secrets", "A secrets backend", ("secrets.json",)),
    "experiment-tracker": Kind("experiment_tracker", "tracker", "Tracker", "An experiment tracker"),
}

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def pin(version: str) -> str:
    """``>=X.Y.Z,<X.(Y+1)``: the releases whose public API is this one's (see :mod:`stepline.api`)."""
    parts = re.match(r"^(\d+)\.(\d+)", version)
    if not parts:
        return ">=0"
    major, minor = int(parts[1]), int(parts[2])
    return f">={version},<{major}.{minor + 1}"


def write_backend(kind: str, name: str, folder: Path) -> list[Path]:
    """Write the package for a backend of ``kind`` called ``name`` into ``folder`` (missing or
    empty); return the files written. Bad input is a one-line :class:`ConfigError`."""
    if kind not in TEMPLATES:
        raise ConfigError(f"unknown backend kind '{kind}'",
                          hint=did_you_mean(kind, TEMPLATES) or f"one of {', '.join(TEMPLATES)}")
    if not _NAME.match(name):
        raise ConfigError(f"backend name '{name}' is not lower-case words joined by '-'",
                          hint="e.g. my-store: the package is stepline-my-store, the type: my-store")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"'{folder}' exists and is not an empty folder", hint="give a new folder")
    spec = TEMPLATES[kind]
    module = "stepline_" + name.replace("-", "_")
    cls = "".join(part.capitalize() for part in name.split("-")) + spec.suffix
    try:
        version = metadata.version("stepline")
    except metadata.PackageNotFoundError:
        version = "0"
    config = (files(__name__) / "templates" / kind / "config.yaml.tmpl").read_text().replace("__NAME__", name).strip()
    tokens = {"__DIST__": f"stepline-{name}", "__MODULE__": module, "__CLASS__": cls, "__NAME__": name,
              "__PIN__": pin(version), "__IMPL__": spec.impl, "__TITLE__": spec.title, "__KIND__": kind,
              "__SECTION__": spec.section, "__CONFIG__": config}
    layout = {
        "pyproject.toml": ("common", "pyproject.toml"),
        "README.md": ("common", "README.md"),
        f"src/{module}/__init__.py": ("common", "__init__.py"),
        f"src/{module}/plugin.py": ("common", "plugin.py"),
        f"src/{module}/{spec.impl}.py": (kind, "impl.py"),
        "tests/test_contract.py": (kind, "test_contract.py"),
        "example/pipeline.yaml": (kind, "pipeline.yaml"),
        "example/config.yaml": (kind, "config.yaml"),
        **{f"example/{extra}": (kind, extra) for extra in spec.extra_files},
    }
    written = []
    for target, (source_folder, source) in layout.items():
        text = (files(__name__) / "templates" / source_folder / f"{source}.tmpl").read_text()
        for token, value in tokens.items():
            text = text.replace(token, value)
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
