"""The current tree against the previous release, in one run, so a regression shows as a ratio.

    uv run --no-sync python bench/bench_compare.py [--baseline REF] [--rounds 3] [--large] [--peer runnable==0.50.0]

Both sides are built the same way, into a temporary folder that is removed at the end: the sources
(the working tree as it is, uncommitted changes included; the previous release by ``git archive``)
are installed with ``uv pip`` into a fresh venv of their own holding the core package only (offline
from uv's cache when it can). Each figure is then measured on both sides in turn, A B A B (``--rounds``
times, more for the short ones), in the same minute, and the best of each side is kept:

* a chain of no-op python steps (N = 200 and 2,000), of shell ``true`` steps (a plain command, started
  without bash) and of shell ``:`` steps (run in bash) (N = 200), per step;
* a map of no-op python items (100 and 1,000 items; with ``--large`` 10,000 too), per item, and peak RSS;
* ``stepline execute`` of a one-step pipeline and ``stepline --help``, wall time;
* then, with the Argo and Step Functions renderers added to both venvs: loading, checking and
  rendering a 1,000-node pipeline for each, in-process, and the render alone (and whether every
  render, across processes too, was byte-identical).

Per-step and per-item figures are the run's wall time minus the one-step run's (each best of the runs
of that figure, a one-step run taken just before every run of the figure), divided by N. Next to
them: the floor, one small atomic write + rename in the same kind of folder (the workspace the run
log lives in), measured in the same run, and each cost as that many writes' worth.

The previous release is ``--baseline REF`` when given, else the newest ``v*`` tag before the current
commit, else the commit recorded in ``bench/baseline``. ``--peer runnable==VERSION`` also installs
runnable from PyPI into a venv of its own (network needed the first time) and runs the same chain of
no-op python steps through its SDK, printing runnable/stepline per step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from bench_fanout import MAP
from bench_render import pipeline as render_pipeline
from bench_render_sfn import pipeline as sfn_pipeline
from bench_steps import chain
from common import STEPS_PY, atomic_write_seconds, writes_worth

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().with_name("render_driver.py")
CORE = "packages/stepline"
# installed after the CLI figures, so that those see the core alone: what the render rows need
RENDERERS = ("packages/stepline-argo", "packages/stepline-stepfunctions", "packages/stepline-fsspec")
RENDERER_EXTRAS = {"packages/stepline-fsspec": "[s3]"}  # Step Functions wants its run log on S3
PEER_PACKAGE = "runnable"
PEER_ROUNDS = 2  # a runnable run of 200 steps takes 10-25 s; its ratio to Stepline's is far from 1


class BenchError(Exception):
    """A bench cannot run as asked (bad baseline, failed build, failed run): one line, then exit 2."""


# -- which commit is the previous release ---------------------------------------------------------


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], check=False, capture_output=True, text=True)


def newest_release_tag(repo: Path) -> str | None:
    """The newest ``v*`` tag (by version) reachable from HEAD, other than one on HEAD itself."""
    head = _git(repo, "rev-parse", "HEAD").stdout.strip()
    tags = _git(repo, "tag", "--list", "v*", "--merged", "HEAD", "--sort=-v:refname").stdout.split()
    for tag in tags:
        if _git(repo, "rev-parse", f"{tag}^{{commit}}").stdout.strip() != head:
            return tag
    return None


def recorded_baseline(path: Path) -> str:
    """The ref on the first line of ``path`` that is neither blank nor a ``#`` comment."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise BenchError(f"{path}: no v* tag and no recorded baseline; pass --baseline REF "
                         "or write a commit into this file") from None
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    raise BenchError(f"{path}: no ref in it (only blank or # lines); write a commit or tag on its own line")


def resolve_baseline(repo: Path, explicit: str | None = None) -> tuple[str, str]:
    """The previous release's commit and where that choice came from: ``explicit`` (``--baseline``),
    else the newest ``v*`` tag before HEAD, else the ref recorded in ``bench/baseline``."""
    if explicit:
        ref, source = explicit, "--baseline"
    elif (tag := newest_release_tag(repo)) is not None:
        ref, source = tag, "newest v* tag"
    else:
        ref, source = recorded_baseline(repo / "bench" / "baseline"), "bench/baseline"
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise BenchError(f"baseline {ref!r} (from {source}) is not a commit of {repo}; "
                         "pass --baseline with a commit, tag or branch that exists")
    return found.stdout.strip(), f"{ref} ({source})"


# -- the table ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One figure of the comparison, in milliseconds."""

    name: str
    unit: str
    current: float
    previous: float
    target: str = ""
    in_writes: bool = False  # also show as atomic writes' worth
    note: str = ""


def ratio(numerator: float, denominator: float) -> str:
    """``numerator / denominator`` as ``"1.23x"``; ``"-"`` when the denominator is not positive."""
    return f"{numerator / denominator:.2f}x" if denominator > 0 else "-"


def format_table(rows: list[Row], write_ms: float, current: str = "current", previous: str = "previous") -> str:
    """The side-by-side table: each figure on both sides (with writes' worth where it applies), the
    ratio current/previous and the issue's target."""
    name_width = max(len("figure"), *(len(row.name) for row in rows))
    cur_width, prev_width = max(9, len(current)), max(9, len(previous))
    head = (f"{'figure':<{name_width}}  {'unit':<8} {current:>{cur_width}} {'':>6} "
            f"{previous:>{prev_width}} {'':>6} {'cur/prev':>9}  target")
    lines = [head, "-" * len(head)]
    for row in rows:
        def writes(ms: float, row: Row = row) -> str:
            return writes_worth(ms, write_ms) if row.in_writes else ""

        line = (f"{row.name:<{name_width}}  {row.unit:<8} {row.current:>{cur_width}.2f} {writes(row.current):>6} "
                f"{row.previous:>{prev_width}.2f} {writes(row.previous):>6} "
                f"{ratio(row.current, row.previous):>9}  {row.target}")
        lines.append(f"{line}  {row.note}" if row.note else line.rstrip())
    return "\n".join(lines)


# -- building a side ------------------------------------------------------------------------------


@dataclass
class Side:
    """One interpreter to measure: its venv's python and a workspace folder the runs happen in."""

    label: str
    python: Path
    folder: Path
    tree: Path | None = None  # the sources of the side's packages
    best: dict[str, float] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # renderer -> sha256 of its first render
    differed: set[str] = field(default_factory=set)  # renderers whose renders were not byte-identical

    def tool(self, name: str) -> str:
        return str(self.python.with_name(name))

    def env(self) -> dict[str, str]:
        """The caller's environment without anything that would point a run elsewhere."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith(("STEPLINE_", "RUNNABLE_"))}
        env["PATH"] = f"{self.python.parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *args: str, extra_env: dict[str, str] | None = None) -> tuple[float, str, float]:
        """Wall seconds, stdout and peak RSS (MiB, of the process and the children it waited for) of
        one command in the workspace; a failure stops the bench. Linux counts this (small) bench
        process's resident memory into the child's peak, as a floor under the figure."""
        env = {**self.env(), **(extra_env or {})}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            process = subprocess.Popen(list(args), cwd=self.folder, stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(process.pid, 0)  # this run's own rusage, unlike RUSAGE_CHILDREN
            elapsed = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if process.returncode != 0:
            raise BenchError(f"{self.label}: {' '.join(args)} exited {process.returncode}: "
                             f"{(stderr or stdout).strip()[-600:]}")
        return elapsed, stdout, usage.ru_maxrss / 1024

    def keep(self, key: str, seconds: float) -> None:
        self.best[key] = min(seconds, self.best.get(key, float("inf")))


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).exists():
        raise BenchError("uv not found on PATH nor in ~/.local/bin: run `make setup` first")
    return found


def _venv(folder: Path, requirements: list[str]) -> Path:
    """A fresh venv in ``folder`` with ``requirements``."""
    subprocess.run([_uv(), "venv", "-q", "--python", sys.executable, str(folder)], check=True, capture_output=True)
    python = folder / "bin" / "python"
    _install(python, requirements)
    return python


def _install(python: Path, requirements: list[str]) -> None:
    """``requirements`` into ``python``'s venv, offline from uv's cache when it can, compiled."""
    install = [_uv(), "pip", "install", "-q", "--python", str(python), "--no-sources", "--compile-bytecode"]
    if subprocess.run([*install, "--offline", *requirements], check=False, capture_output=True).returncode != 0:
        done = subprocess.run([*install, *requirements], check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"cannot install {' '.join(requirements)}: {done.stderr.strip()[-600:]}")


def _sources(commit: str | None, dest: Path) -> Path:
    """The packages to install: from ``commit`` by ``git archive``, or (None) the working tree as it is."""
    dest.mkdir(parents=True)
    if commit is None:
        for package in (CORE, *RENDERERS):
            shutil.copytree(ROOT / package, dest / package,
                            ignore=shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".*"))
        return dest
    archive = dest / "tree.tar"
    done = _git(ROOT, "archive", "--format=tar", "-o", str(archive), commit, "--", CORE, *RENDERERS)
    if done.returncode != 0:
        raise BenchError(f"git archive {commit[:10]} {CORE} {' '.join(RENDERERS)}: {done.stderr.strip()} "
                         "(a baseline needs the core and the renderer packages; pass a newer --baseline)")
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _workspace(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "bench_steps.py").write_text(STEPS_PY)
    return folder


def stepline_side(label: str, commit: str | None, tmp: Path) -> Side:
    """A venv with the core package of ``commit`` (None: the working tree), and a workspace holding
    every pipeline the figures run."""
    tree = _sources(commit, tmp / label / "src")
    python = _venv(tmp / label / "venv", [str(tree / CORE)])
    folder = _workspace(tmp / label / "work")
    for n, kind in ((200, "python"), (2000, "python"), (200, "shell"), (200, "bash")):
        (folder / f"{kind}{n}.yaml").write_text(chain(kind, n))
    (folder / "one.yaml").write_text("dag: {start_at: a, steps: {a: {type: stub}}}\n")
    (folder / "map.yaml").write_text(MAP)
    for m in (100, 1000, 10000):
        (folder / f"items{m}.yaml").write_text(f"items: {list(range(m))}\n")
    (folder / "argo-pipeline.yaml").write_text(yaml.safe_dump(render_pipeline()))
    (folder / "argo.yaml").write_text(yaml.safe_dump({
        "executor": {"type": "argo", "config": {"image": "bench:1", "persistent_volumes": [
            {"name": "v", "mount_path": "/mnt"}]}},
        "run_log_store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/runs"}},
        "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}}}))
    (folder / "sfn-pipeline.yaml").write_text(yaml.safe_dump(sfn_pipeline(1000)[0], sort_keys=False))
    (folder / "sfn.yaml").write_text(yaml.safe_dump({
        "executor": {"type": "step-functions", "config": {
            "job_queue": "q", "job_definition": "d", "exchange_location": "s3://bucket/exchange"}},
        "run_log_store": {"type": "chunked-fsspec", "config": {"location": "s3://bucket/runs"}},
        "catalog": {"type": "fsspec", "config": {"location": "s3://bucket/catalog"}}}))
    return Side(label, python, folder, tree)


def add_renderers(side: Side) -> None:
    """Install the renderer packages (and Step Functions' S3 run log store) into the side's venv."""
    _install(side.python, [f"{side.tree / package}{RENDERER_EXTRAS.get(package, '')}" for package in RENDERERS])


RUNNABLE_CHAIN = '''import os

from runnable import Pipeline, PythonTask, Stub

from bench_steps import noop


def main():
    n = int(os.environ["BENCH_STEPS"])
    steps = [PythonTask(name=f"s{i}", function=noop) for i in range(n)] if n else [Stub(name="a")]
    pipeline = Pipeline(steps=steps)
    pipeline.execute()
    return pipeline  # runnable imports this function again to read the pipeline's definition


if __name__ == "__main__":
    main()
'''


def peer_requirement(spec: str) -> str:
    """``spec`` checked to be ``runnable==VERSION``, the one peer this bench knows how to drive."""
    name, _, version = spec.partition("==")
    if name.strip().lower() != PEER_PACKAGE or not version.strip():
        raise BenchError(f"--peer {spec!r}: only runnable==VERSION is supported as a peer, e.g. runnable==0.50.0")
    return f"{PEER_PACKAGE}=={version.strip()}"


def peer_side(spec: str, tmp: Path) -> Side:
    """runnable==VERSION from PyPI in a venv of its own, with the chain as a script of its SDK."""
    python = _venv(tmp / "peer" / "venv", [spec])
    folder = _workspace(tmp / "peer" / "work")
    (folder / "chain.py").write_text(RUNNABLE_CHAIN)
    return Side(spec, python, folder)


# -- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One row of the table. A CLI figure runs ``args`` with the side's ``stepline``, ``weight`` x
    ``--rounds`` times (short, noisy runs get more); a per-step or per-item figure (``per``) is its
    wall time minus the one-step run's taken beside it, over ``per``. A render figure (no ``args``) is filled by
    :func:`measure_render`."""

    key: str
    name: str
    args: tuple[str, ...] = ()
    per: int = 0
    unit: str = "ms"
    target: str = ""
    weight: int = 1
    rounds: int = 0  # a fixed number of rounds (a long run), whatever --rounds says


FIGURES = (
    Figure("one", "execute, one-step pipeline", ("execute", "one.yaml"), target="< 200 ms", weight=3),
    Figure("help", "stepline --help", ("--help",), target="< 100 ms", weight=2),
    Figure("py200", "python no-op step, N=200", ("execute", "python200.yaml"), 200, "ms/step", "<= 0.3, ~18 w", 2),
    Figure("py2000", "python no-op step, N=2,000", ("execute", "python2000.yaml"), 2000, "ms/step",
           "<= 0.3, ~18 w"),
    Figure("sh200", "shell `true` step, N=200", ("execute", "shell200.yaml"), 200, "ms/step", "<= 2"),
    Figure("bash200", "shell `:` step (in bash), N=200", ("execute", "bash200.yaml"), 200, "ms/step"),
    Figure("map100", "map item, 100 items", ("execute", "map.yaml", "-p", "items100.yaml"), 100, "ms/item",
           "<= 0.5", 2),
    Figure("map1000", "map item, 1,000 items", ("execute", "map.yaml", "-p", "items1000.yaml"), 1000, "ms/item",
           "<= 0.5"),
)
# --large: 30 s or more a side on a loaded machine, so one round
LARGE = Figure("map10000", "map item, 10,000 items", ("execute", "map.yaml", "-p", "items10000.yaml"), 10000,
               "ms/item", "<= 0.5", rounds=1)
# renderer -> (pipeline file, config file, nodes); each gives two rows: load+check+render, render alone
RENDERS = {"argo": ("argo-pipeline.yaml", "argo.yaml", "1,001"),
           "step-functions": ("sfn-pipeline.yaml", "sfn.yaml", "1,008")}
RENDER_FIGURES = tuple(
    figure for name, (_, _, nodes) in RENDERS.items() for figure in (
        Figure(f"{name}-total", f"{name}: load+check+render, {nodes} nodes", target="< 300 ms"),
        Figure(f"{name}-render", f"{name}: render alone")))


def measure_cli(side: Side, figure: Figure) -> None:
    """One run of ``figure``; for a per-step or per-item figure, the one-step run just before it as
    well, so the fixed cost it subtracts is measured in the same minute (a best taken minutes
    earlier, when the machine was faster or slower, would move every such figure by its difference
    over N: a lucky one gave negative figures)."""
    if figure.per:
        seconds = side.run(side.tool("stepline"), *FIGURES[0].args)[0]
        side.keep(f"{figure.key}-base", seconds)
        side.keep(FIGURES[0].key, seconds)
    seconds, _, rss = side.run(side.tool("stepline"), *figure.args)
    side.keep(figure.key, seconds)
    side.keep(f"{figure.key}-rss", rss)


def measure_render(side: Side, renderer: str) -> None:
    """One run of bench/render_driver.py (itself best of 5) in the side's interpreter."""
    pipeline, config, _ = RENDERS[renderer]
    out = side.run(str(side.python), str(DRIVER), pipeline, config, "5")[1]
    result = json.loads(out.strip().splitlines()[-1])
    side.keep(f"{renderer}-total", result["total"])
    side.keep(f"{renderer}-render", result["render"])
    if not result["identical"] or side.digests.setdefault(renderer, result["sha256"]) != result["sha256"]:
        side.differed.add(renderer)


def measure_peer(peer: Side, steps: int) -> None:
    peer.keep(f"peer{steps}", peer.run(str(peer.python), "chain.py", extra_env={"BENCH_STEPS": str(steps)})[0])


def _differed(figure: Figure, sides: tuple[Side, ...]) -> str:
    renderer, _, part = figure.key.rpartition("-")
    differed = [side.label for side in sides if part == "total" and renderer in side.differed]
    return f"RENDERS DIFFERED between runs ({', '.join(differed)})" if differed else ""


def render_identity(sides: tuple[Side, ...]) -> str:
    """One line saying whether each side's renders were byte-identical, within runs and across processes."""
    said = [f"{side.label}: " + (f"DIFFERED ({', '.join(sorted(side.differed))})" if side.differed
                                 else "byte-identical") for side in sides]
    return f"renders ({', '.join(RENDERS)}), every run of each in every process: {'; '.join(said)}"


def extra_rows(current: Side, previous: Side, large: bool) -> list[Row]:
    """Rows derived from the map runs: peak RSS (and, with --large, the 10,000-item wall time)."""
    rows = [Row("map of 1,000 items: peak RSS", "MiB", current.best["map1000-rss"], previous.best["map1000-rss"])]
    if large:
        rows += [Row("map of 10,000 items: wall", "ms", current.best["map10000"] * 1000,
                     previous.best["map10000"] * 1000, "< 5000 ms"),
                 Row("map of 10,000 items: peak RSS", "MiB", current.best["map10000-rss"],
                     previous.best["map10000-rss"], "< 150 MiB")]
    return rows


def per_unit(side: Side, figure: Figure) -> float:
    """The figure in ms: wall, or (wall - the one-step run measured beside it) / per."""
    wall = side.best[figure.key]
    if not figure.per:
        return wall * 1000
    return (wall - side.best.get(f"{figure.key}-base", side.best[FIGURES[0].key])) / figure.per * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", help="the previous release: a commit, tag or branch "
                        "(default: the newest v* tag before HEAD, else the commit in bench/baseline)")
    parser.add_argument("--rounds", type=int, default=3, help="A B rounds per figure; each side keeps its best")
    parser.add_argument("--large", action="store_true",
                        help="also a map of 10,000 items (wall, per item, peak RSS), one round")
    parser.add_argument("--peer", metavar="runnable==VERSION",
                        help="also run the python chain (N=200) on runnable, installed from PyPI")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        run(args)
    except BenchError as error:
        print(f"bench_compare: {error}", file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> None:
    peer_spec = peer_requirement(args.peer) if args.peer else None
    commit, where = resolve_baseline(ROOT, args.baseline)
    here = _git(ROOT, "describe", "--always", "--dirty").stdout.strip()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stepline-compare-") as tmp:
        current = stepline_side("current", None, Path(tmp))
        previous = stepline_side("previous", commit, Path(tmp))
        peer = peer_side(peer_spec, Path(tmp)) if peer_spec else None
        print(f"current: working tree at {here}; previous: {commit[:10]} = {where}; "
              f"built in {time.perf_counter() - started:.0f} s; best of {args.rounds}, interleaved; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        write = float("inf")
        figures = (*FIGURES, LARGE) if args.large else FIGURES
        for figure in figures:
            for round_ in range(figure.rounds or args.rounds * figure.weight):
                for side in (current, previous):
                    write = min(write, atomic_write_seconds(side.folder, batches=2))
                    measure_cli(side, figure)
                if peer and figure.key in ("one", "py200") and round_ < min(args.rounds, PEER_ROUNDS):
                    measure_peer(peer, 0 if figure.key == "one" else 200)
        for side in (current, previous):
            add_renderers(side)
        for renderer in RENDERS:
            for _ in range(args.rounds):
                for side in (current, previous):
                    measure_render(side, renderer)
        rows = [Row(f.name, f.unit, per_unit(current, f), per_unit(previous, f), f.target, bool(f.per),
                    _differed(f, (current, previous))) for f in (*figures, *RENDER_FIGURES)]
        rows[len(figures):len(figures)] = extra_rows(current, previous, args.large)
        print(f"floor: one atomic write + rename of 1 KiB in the workspaces = {write * 1e6:.1f} µs "
              "(best of every batch of 200 taken between the runs); 'w' = that many writes' worth")
        print(format_table(rows, write * 1000, current="current", previous=f"previous {commit[:7]}"))
        print(render_identity((current, previous)))
        if peer:
            ours = per_unit(current, FIGURES[2])
            theirs = (peer.best["peer200"] - peer.best["peer0"]) / 200 * 1000
            print(f"{peer.label}: python no-op step, N=200: {theirs:.2f} ms/step ({writes_worth(theirs, write * 1000)}) "
                  f"= {ratio(theirs, ours)} stepline's (runnable/stepline; target >= 150x); "
                  f"one-step run {peer.best['peer0'] * 1000:.0f} ms")
    print(f"whole comparison: {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
