"""Environments built by uv: one virtual environment per spec per machine, found again by the hash of
everything that decides its contents, built at most once (a file lock makes concurrent map workers
wait for the first builder instead of building the same environment again).

Layout under the environments folder (``$STEPLINE_ENVS_DIR``, default ``~/.cache/stepline/envs``)::

    <key>/venv/                 the virtual environment (uv venv + uv pip install / uv sync)
    <key>/environment.json      what was built (written last: an environment without it is unfinished)
    <key>.lock                  held while the environment is built

Stepline's own packages are layered under the step's: a ``.pth`` file in the environment adds the
site-packages Stepline runs from *after* the environment's own, so the step's versions win and
Stepline's task runtime is still importable. An interpreter of another minor version cannot load
those (compiled packages are built per minor version): it gets the runtime's requirements installed
and only Stepline's own (pure Python) source layered in.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from stepline.envs.spec import UvSpec
from stepline.errors import StepEnvironmentError

MANIFEST = "environment.json"
#: uv settings from the environment that change what an environment resolves to.
UV_SETTINGS = ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",
               "UV_NO_INDEX", "UV_PRERELEASE", "UV_RESOLUTION", "UV_EXCLUDE_NEWER", "UV_INDEX_STRATEGY")
INSTALL_UV = "install uv (https://docs.astral.sh/uv/: `pip install uv` or its installer) where the step runs"


@dataclass(frozen=True)
class Environment:
    """A built environment: its folder, its interpreter and what the run log records about it."""

    key: str
    folder: Path
    record: dict[str, Any]

    @property
    def python(self) -> str:
        return venv_python(self.folder / "venv")

    @property
    def bin(self) -> str:
        return str(Path(self.python).parent)


def venv_python(venv: Path) -> str:
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def envs_root() -> Path:
    """Where environments are kept: ``$STEPLINE_ENVS_DIR``, else the user's cache folder."""
    configured = os.environ.get("STEPLINE_ENVS_DIR")
    if configured:
        return Path(configured).expanduser().absolute()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "stepline" / "envs"


def find_uv() -> str | None:
    """The uv executable: on ``PATH``, else next to Stepline's interpreter (``pip install uv`` there)."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).with_name("uv.exe" if os.name == "nt" else "uv")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def require_uv() -> str:
    uv = find_uv()
    if uv is None:
        raise StepEnvironmentError("uv is not installed (not on PATH, not beside Stepline's Python)", hint=INSTALL_UV)
    return uv


def uv_reason(stderr: str) -> str:
    """uv's error output as one line: its message and causes, without the decoration."""
    lines = []
    for raw in re.sub(r"\x1b\[[0-9;]*m", "", stderr).splitlines():
        line = raw.strip().lstrip("×╰─▶│ ").strip()
        line = re.sub(r"^(error|cause|hint|warning):\s*", "", line)
        if line and not line.startswith(("Using Python", "Using CPython", "Resolved ", "Prepared ",
                                         "Installed ", "Audited ", "Creating virtual")):
            lines.append(line)
    text = ": ".join(lines) or "uv failed without a message"
    return text if len(text) <= 400 else text[:397] + "..."


def _uv_env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")  # environments use interpreters already on the machine
    env.pop("VIRTUAL_ENV", None)  # never install into the environment Stepline itself runs in
    return env


def _uv(uv: str, *args: str, what: str, extra_env: dict[str, str] | None = None) -> str:
    done = subprocess.run([uv, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
                          env={**_uv_env(), **(extra_env or {})})
    if done.returncode != 0:
        raise StepEnvironmentError(f"{what} failed: {uv_reason(done.stderr or done.stdout)}")
    return done.stdout


# ---- the interpreter ---------------------------------------------------------------------------------
def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _satisfied_by_own(request: str, own: str) -> bool:
    if re.fullmatch(r"\d+(\.\d+){0,2}", request):
        return own == request or own.startswith(request + ".")
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return own in SpecifierSet(request)
    except InvalidSpecifier:
        return False


@cache
def interpreter(request: str | None) -> tuple[str, str]:
    """(path, version) of the interpreter for ``python:``; Stepline's own when it satisfies the request."""
    own = platform.python_version()
    if request is None or _satisfied_by_own(request.strip(), own):
        return sys.executable, own
    uv = require_uv()
    done = subprocess.run([uv, "python", "find", "--no-project", request], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=_uv_env(), check=False)
    if done.returncode != 0:
        raise StepEnvironmentError(f"python: {request!r}: no such interpreter on this machine: "
                                   f"{uv_reason(done.stderr)}",
                                   hint="install that Python, or name an interpreter's path; Stepline never "
                                        "downloads interpreters")
    path = done.stdout.strip()
    probe = subprocess.run([path, "-c", "import platform; print(platform.python_version())"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    version = probe.stdout.strip()
    if not version:
        raise StepEnvironmentError(f"python: {request!r}: {path} does not run: {probe.stderr.strip()[-200:]}")
    return path, version


def foreign(version: str) -> bool:
    """True when an interpreter cannot load Stepline's own installed packages (another minor version):
    its environment then gets Stepline's source and its task runtime's requirements installed."""
    return _minor(version) != _minor(platform.python_version())


# ---- the key -----------------------------------------------------------------------------------------
def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def source_files(spec: UvSpec) -> dict[str, Path]:
    """The files an environment is built from (requirements file, project files), checked to exist."""
    files: dict[str, Path] = {}
    if spec.requirements:
        path = Path(spec.requirements)
        if not path.is_file():
            raise StepEnvironmentError(f"uv: requirements file '{spec.requirements}' not found in '{os.getcwd()}'",
                                       hint="the path is relative to the folder stepline runs in")
        files["requirements"] = path
    if spec.project:
        folder = Path(spec.project)
        for name in ("pyproject.toml", "uv.lock"):
            if not (folder / name).is_file():
                hint = "run `uv lock` in the project" if name == "uv.lock" else \
                    "point 'project' at a folder with a pyproject.toml and its uv.lock"
                raise StepEnvironmentError(f"uv: project '{spec.project}' has no {name}", hint=hint)
            files[name] = folder / name
    return files


def runtime_paths() -> list[str]:
    """The folders Stepline's own packages are imported from, layered into every environment."""
    import site

    import stepline

    paths = [p for p in site.getsitepackages() if Path(p).is_dir()]
    if site.ENABLE_USER_SITE and Path(site.getusersitepackages()).is_dir():
        paths.append(site.getusersitepackages())
    package_parent = str(Path(stepline.__file__).resolve().parent.parent)
    if not any(package_parent == str(Path(p).resolve()) for p in paths):
        paths.insert(0, package_parent)  # Stepline from a source folder on PYTHONPATH
    return paths


def environment_key(spec: UvSpec) -> tuple[str, dict[str, Any]]:
    """The hash that names a spec's environment on this machine, and what went into it."""
    path, version = interpreter(spec.python)
    inputs = {"spec": spec.model_dump(mode="json"), "python": [path, version], "runtime": runtime_paths(),
              "files": {name: _file_digest(p) for name, p in source_files(spec).items()},
              "uv": {k: os.environ[k] for k in UV_SETTINGS if os.environ.get(k)}}
    text = json.dumps(inputs, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24], inputs


# ---- building ----------------------------------------------------------------------------------------
_READY: dict[Path, Environment] = {}


def ensure(spec: UvSpec, source: str = "uv:") -> Environment:
    """The environment for ``spec``, built now unless this machine already has it."""
    key, inputs = environment_key(spec)
    root = envs_root()
    folder = root / key
    if folder in _READY:
        return _READY[folder]
    env = _load(folder, key)
    if env is None:
        from filelock import FileLock

        root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root / f"{key}.lock")):
            env = _load(folder, key) or _build(spec, source, key, inputs, folder)
    _READY[folder] = env
    return env


def _load(folder: Path, key: str) -> Environment | None:
    try:
        record = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    env = Environment(key=key, folder=folder, record=record)
    return env if Path(env.python).exists() else None


def _constraints() -> str:
    """Stepline's own requirements, so a step's packages cannot break the runtime layered under them."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        wanted = requires("stepline") or []
    except PackageNotFoundError:
        return ""
    return "\n".join(r for r in wanted if "extra ==" not in r) + "\n"


def _build(spec: UvSpec, source: str, key: str, inputs: dict[str, Any], folder: Path) -> Environment:
    uv = require_uv()
    if folder.exists():  # an unfinished build (killed): start again
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    venv = folder / "venv"
    started = time.monotonic()
    try:
        _uv(uv, "venv", "--quiet", "--no-project", "--python", inputs["python"][0], str(venv),
            what="uv venv")
        python = venv_python(venv)
        files = source_files(spec)
        # another minor version cannot load Stepline's installed packages: its runtime's are installed
        pins = runtime_pins() if foreign(inputs["python"][1]) else []
        if spec.project:
            _uv(uv, "sync", "--quiet", "--locked", "--no-dev", "--project", str(Path(spec.project).absolute()),
                "--python", python, what=f"uv sync of project '{spec.project}'",
                extra_env={"UV_PROJECT_ENVIRONMENT": str(venv)})
        if pins or (not spec.project and (spec.dependencies or spec.requirements)):
            constraints = folder / "constraints.txt"
            constraints.write_text(_constraints(), encoding="utf-8")
            args = ["pip", "install", "--quiet", "--python", python, "--constraints", str(constraints), *pins]
            if "requirements" in files:
                args += ["--requirement", str(files["requirements"].absolute())]
            _uv(uv, *args, *spec.dependencies, what="uv pip install")
        if pins:
            _link_source(folder)
        else:
            _layer_runtime(venv)
        described = _describe(python)
        lock = {name: digest for name, digest in inputs["files"].items()}
        record = {"manager": "uv", "key": key, "source": source,
                  "spec": spec.model_dump(mode="json", exclude_defaults=True),
                  "python": described["python"], "interpreter": inputs["python"][0],
                  "packages": described["packages"], "files": lock, "path": str(folder),
                  "uv": _uv(uv, "--version", what="uv --version").strip(),
                  "build_seconds": round(time.monotonic() - started, 3)}
        partial = folder / (MANIFEST + ".partial")
        partial.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(partial, folder / MANIFEST)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Environment(key=key, folder=folder, record=record)


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages")) or sorted(venv.glob("Lib/site-packages"))
    if not found:
        raise StepEnvironmentError(f"uv venv made no site-packages folder in {venv}")
    return found[0]


def _layer_runtime(venv: Path) -> None:
    # an import line, so the folders' own .pth files (editable installs of Stepline) are processed too
    line = f"import site; list(map(site.addsitedir, {runtime_paths()!r}))\n"
    (_site_packages(venv) / "_stepline_runtime.pth").write_text(line, encoding="utf-8")


#: What Stepline's task runtime imports besides the standard library (see stepline.envs.child).
RUNTIME_REQUIREMENTS = ("pydantic",)


def runtime_pins() -> list[str]:
    """The task runtime's requirements at the versions Stepline itself runs with."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in RUNTIME_REQUIREMENTS]


def _link_source(folder: Path) -> None:
    """Stepline's own source (pure Python) for an interpreter of another minor version, through a
    folder that holds only it (not the rest of Stepline's installed packages)."""
    import stepline

    runtime = folder / "runtime"
    runtime.mkdir()
    (runtime / "stepline").symlink_to(Path(stepline.__file__).resolve().parent, target_is_directory=True)
    (_site_packages(folder / "venv") / "_stepline_runtime.pth").write_text(f"{runtime}\n", encoding="utf-8")


def _describe(python: str) -> dict[str, Any]:
    """The environment's interpreter version and own packages, asked of the environment itself (which
    also proves Stepline's task runtime imports there)."""
    done = subprocess.run([python, "-m", "stepline.envs.child", "--describe"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StepEnvironmentError(f"the environment cannot run Stepline's task runtime: {last}",
                                   hint="a package of the step's may replace one Stepline needs")
    return json.loads(done.stdout)
