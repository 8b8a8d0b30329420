"""Build every Stepline package, check it, and smoke-test each extra of the core alone.

    python tools/release.py                  # build into dist/, twine check, smoke-test every extra
    python tools/release.py --skip-build     # smoke-test the wheels already in dist/
    python tools/release.py --only sql,argo  # smoke-test these extras only

(``make release`` runs the first.) Each smoke test makes a fresh venv and installs
``stepline[EXTRA]`` in two steps: the Stepline wheels it needs from ``dist/`` only
(``--no-index``), then their third-party dependencies from the registry (uv's cache). It then
checks that ``stepline plugins`` lists that extra's backends and no other backend, that the
packages it must (and must not) pull are there (``stepline[sql]`` has no PostgreSQL driver), and
runs or renders one pipeline with it. It prints what each extra adds to a core-only install.

An extra this file does not know (a new one in the core's pyproject.toml) gets the default
check: it installs alone, ``stepline plugins`` works, the hello pipeline runs. Add an entry to
``SMOKE`` to check more.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "packages" / "stepline" / "pyproject.toml"
UV = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")

PIPELINE = """\
dag:
  start_at: hello
  steps:
    hello:
      type: task
      command_type: shell
      command: echo "hello from the release smoke test"
      next: success
    success:
      type: success
"""


@dataclass
class Smoke:
    """What to check for one extra: a configuration, the command that uses it, what must exist after."""

    config: str = ""
    command: str = "execute"  # or validate
    produces: str = ""  # a file the command writes (a rendered manifest, a database)
    imports: list[str] = field(default_factory=list)  # modules that must import in the venv
    absent: list[str] = field(default_factory=list)  # modules that must not (what the extra must not pull)
    output: str = ""  # text the command prints (stdout or stderr)
    exit_code: int = 0


SQLITE = "run_log_store:\n  type: sql\n  config:\n    url: sqlite:///runs.db\n"
FSSPEC = ("run_log_store:\n  type: chunked-fsspec\n  config:\n    location: file://{tmp}/runs\n"
          "catalog:\n  type: fsspec\n  config:\n    location: file://{tmp}/catalog\n")
SMOKE: dict[str, Smoke] = {
    "": Smoke(absent=["sqlalchemy", "fsspec", "mlflow"]),
    "sql": Smoke(SQLITE, produces="runs.db", imports=["sqlalchemy"], absent=["psycopg", "psycopg2"]),
    "postgres": Smoke(SQLITE, produces="runs.db", imports=["psycopg"]),
    "fsspec": Smoke(FSSPEC, produces="runs", imports=["fsspec"], absent=["s3fs", "boto3"]),
    "s3": Smoke(FSSPEC, produces="runs", imports=["s3fs"]),
    "vault": Smoke("secrets:\n  type: vault\n  config:\n    url: http://127.0.0.1:9\n", imports=["hvac"]),
    "aws": Smoke("secrets:\n  type: aws-secrets-manager\n", imports=["boto3"]),
    "mlflow": Smoke("experiment_tracker:\n  type: mlflow\n  config:\n    tracking_uri: ./mlruns\n",
                    produces="mlruns", imports=["mlflow"], absent=["flask", "pandas", "matplotlib"]),
    "argo": Smoke("executor:\n  type: argo\n  config:\n    image: example/stepline:1\n    persistent_volumes:\n"
                  "      - {name: runs, mount_path: /mnt}\nrun_log_store:\n  type: chunked-fs\n"
                  "  config: {log_folder: /mnt/runs}\ncatalog:\n  type: file-system\n"
                  "  config: {catalog_location: /mnt/catalog}\n", produces="argo-workflow.yaml"),
    # Step Functions steps run in AWS containers: rendering needs a run log and a catalog on S3
    # (stepline[s3]). Alone, the extra must load and refuse the local run log in one line.
    "stepfunctions": Smoke("executor:\n  type: step-functions\n  config: {compute: batch, job_queue: q, "
                           "job_definition: 'd:1'}\n", exit_code=2,
                           output="the step-functions executor runs every step in its own AWS Batch/ECS container"),
    # Running needs podman / a Slurm cluster; the smoke test checks the pipeline against them.
    "container": Smoke("executor:\n  type: local-container\n  config: {docker_image: example/stepline:1}\n",
                       command="validate", output="ok: 1 steps, executor local-container"),
    "slurm": Smoke("executor:\n  type: slurm\n", command="validate", output="ok: 1 steps, executor slurm"),
    "notebook": Smoke(imports=["papermill", "ipykernel", "nbformat"]),
    "testing": Smoke(imports=["pytest"]),
    "ui": Smoke(imports=["starlette", "uvicorn", "jinja2"]),
}
#: extras that only combine others: their parts are checked one by one
COMBINED = {"all"}


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def must(done: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if done.returncode != 0:
        raise SystemExit(f"release: {what} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def version() -> str:
    return (ROOT / "VERSION").read_text(encoding="utf-8").strip()


def extras() -> dict[str, list[str]]:
    """The core's extras: name -> requirements."""
    return tomllib.loads(CORE.read_text(encoding="utf-8"))["project"]["optional-dependencies"]


def stepline_packages(extra: str) -> list[str]:
    """The Stepline distributions ``stepline[extra]`` installs: the core and the backends it names."""
    names = ["stepline"]
    for requirement in extras().get(extra, []):
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
        if name.startswith("stepline-"):
            names.append(name)
    return names


def build(dist: Path) -> None:
    shutil.rmtree(dist, ignore_errors=True)
    must(run(UV, "build", "--all-packages", "--out-dir", dist, "-q", cwd=ROOT), "uv build")
    files = sorted(p.name for p in dist.iterdir() if p.suffix in (".whl", ".gz"))
    must(run(sys.executable, "-m", "twine", "check", "--strict", *(dist / f for f in files), cwd=ROOT),
         "twine check --strict")
    print(f"built and checked {len(files)} files in {dist}")


def requirements(dist: Path, name: str, extras: set[str]) -> list[str]:
    """The third-party requirements of the wheel ``name`` in ``dist`` with ``extras``, and of the
    Stepline packages it requires (with theirs), read from the wheels' metadata."""
    from email.parser import HeaderParser

    from packaging.requirements import Requirement

    wheel = next(dist.glob(f"{name.replace('-', '_')}-{version()}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        metadata = HeaderParser().parsestr(
            archive.read(f"{name.replace('-', '_')}-{version()}.dist-info/METADATA").decode())
    found = []
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in extras or {""}):
            continue
        if requirement.name == "stepline":
            continue
        if requirement.name.startswith("stepline-"):
            found += requirements(dist, requirement.name, set(requirement.extras))
            continue
        requirement.marker = None
        found.append(str(requirement))
    return found


def site_size(venv: Path) -> int:
    site = next((venv / "lib").glob("python3*/site-packages"))
    return sum(f.stat().st_size for f in site.rglob("*") if f.is_file() and not f.is_symlink())


def smoke(extra: str, dist: Path, work: Path) -> tuple[str, int]:
    """Install ``stepline[extra]`` alone in a fresh venv and check it; return (extra, installed bytes)."""
    check = SMOKE.get(extra, Smoke())
    label = extra or "core"
    folder = work / label
    venv = folder / "venv"
    must(run(UV, "venv", "-q", "--python", sys.executable, venv), f"{label}: uv venv")
    python = venv / "bin" / "python"
    pinned = [f"{name}=={version()}" for name in stepline_packages(extra)]
    # --no-cache: uv's cache may hold an older build of the same file name
    must(run(UV, "pip", "install", "-q", "--python", python, "--no-index", "--no-cache", "--find-links", dist,
             "--no-deps", *pinned), f"{label}: install the Stepline wheels from {dist}")
    # Only third-party requirements go to the registry: a `stepline` there must never replace ours.
    third_party = sorted(set(requirements(dist, "stepline", {extra} if extra else set())))
    if third_party:
        must(run(UV, "pip", "install", "-q", "--python", python, *third_party),
             f"{label}: install the dependencies of stepline[{extra}]")
    size = site_size(venv)  # before anything runs and writes __pycache__
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(folder), "VAULT_TOKEN": "smoke-test",
           "AWS_DEFAULT_REGION": "eu-west-1", "TMPDIR": str(folder)}
    stepline = venv / "bin" / "stepline"

    listed = must(run(stepline, "plugins", cwd=folder, env=env), f"{label}: stepline plugins").stdout
    packages = {line.split()[2] for line in listed.splitlines() if line.strip()}
    expected = set(stepline_packages(extra))
    if packages != expected:
        raise SystemExit(f"release: {label}: stepline plugins lists {sorted(packages)}, expected {sorted(expected)}")

    code = "\n".join(f"import importlib.util as u; assert u.find_spec({m!r}), '{m} is missing'" for m in check.imports)
    code += "\n" + "\n".join(f"assert not u.find_spec({m!r}), '{m} should not be installed'" for m in check.absent)
    must(run(python, "-c", "import importlib.util as u\n" + code, env=env), f"{label}: imports")

    (folder / "pipeline.yaml").write_text(PIPELINE)
    args = [check.command, "pipeline.yaml"]
    if check.config:
        (folder / "config.yaml").write_text(check.config.replace("{tmp}", str(folder)))
        args += ["-c", "config.yaml"]
    done = run(stepline, *args, cwd=folder, env=env)
    if done.returncode != check.exit_code or check.output not in done.stdout + done.stderr:
        raise SystemExit(f"release: {label}: stepline {' '.join(args)} exited {done.returncode}, expected "
                         f"{check.exit_code} and {check.output!r}:\n{done.stdout}{done.stderr}")
    if check.produces and not (folder / check.produces).exists():
        raise SystemExit(f"release: {label}: stepline {' '.join(args)} did not write {check.produces}")
    return extra, size


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--skip-build", action="store_true", help="use the files already in --dist")
    parser.add_argument("--only", default="", help="comma-separated extras to smoke-test (core: an empty name)")
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args(argv)
    if not options.skip_build:
        build(options.dist)
    chosen = ["", *[e for e in extras() if e not in COMBINED]]
    if options.only:
        wanted = {e.strip() for e in options.only.split(",")}
        chosen = ["", *[e for e in chosen if e in wanted]]  # the core-only install is the size baseline
    with tempfile.TemporaryDirectory(prefix="stepline-release-") as tmp, ThreadPoolExecutor(options.jobs) as pool:
        sizes = dict(pool.map(lambda e: smoke(e, options.dist.resolve(), Path(tmp)), chosen))
    base = sizes.pop("")
    print(f"smoke-tested {len(sizes) + 1} installs; installed size (site-packages of a fresh venv):")
    print(f"  {'stepline':<24} {base / 1e6:7.1f} MB")
    for extra, size in sizes.items():
        print(f"  {f'stepline[{extra}]':<24} {size / 1e6:7.1f} MB  ({(size - base) / 1e6:+.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
