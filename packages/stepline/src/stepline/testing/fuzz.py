"""A seeded mutation fuzzer for every file Stepline reads: pipelines, job files, configs, parameters.

Each mutant is a seed file changed by one to three hostile edits (bad bytes, YAML bombs, deep
nesting, bad scalars, odd keys, self-including ``dag_definition``...). It is loaded the way the CLI
loads it, and the outcome is one of:

- ``ok`` — it loaded (the mutant was still a valid file);
- ``error`` — a :class:`~stepline.errors.StepLineError` of at most two lines naming the file;
- ``bad-message`` — a StepLineError that is longer or does not name the file;
- ``crash:<Type>`` — any other exception (``MemoryError`` when the memory limit was hit);
- ``timeout`` — it took longer than the time limit.

Only ``ok`` and ``error`` are acceptable. Run it in a fresh process with a memory limit::

    python -m stepline.testing.fuzz --count 10000 --seed 1 --corpus examples --memory-mb 1024

which prints a JSON summary (outcomes by count, the slowest mutant, every bad case).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

KINDS = ("pipeline", "job", "config", "params")

BUILTIN_SEEDS = {
    "pipeline": """\
dag:
  description: a seed
  start_at: hello
  steps:
    hello:
      type: task
      command_type: shell
      command: echo hello
      returns: [greeting]
      catalog: {put: [out.txt]}
      next: fan
    fan:
      type: parallel
      branches:
        one:
          start_at: a
          steps:
            a: {type: stub, next: success}
            success: {type: success}
            fail: {type: fail}
        two:
          start_at: b
          steps:
            b: {type: stub, max_attempts: 2, retry_delay_seconds: 1, next: success}
            success: {type: success}
      next: each
    each:
      type: map
      iterate_on: items
      iterate_as: item
      reducer: "lambda *x: max(x)"
      branch:
        start_at: c
        steps:
          c: {type: stub, next: success}
          success: {type: success}
      next: success
    success: {type: success}
    fail: {type: fail}
""",
    "job": """\
job:
  name: train
  command_type: shell
  command: echo training
  returns: [score]
  catalog:
    put: [model.txt]
""",
    "config": """\
executor:
  type: local
run_log_store:
  type: file-system
  config:
    log_folder: .stepline/runs
catalog:
  type: file-system
  config:
    catalog_location: .stepline/catalog
secrets:
  type: env-secrets
""",
    "params": """\
items: [1, 2, 3]
name: world
nested:
  rate: 0.5
  when: 2020-01-01
  tags: [a, b]
""",
}

_LAUGHS = "[" + ", ".join([
    '&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *[f"&{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi")],
]) + "]"

HOSTILE_VALUES = [
    "2020-13-45", '!!float ""', "!!int abc", "!!bool maybe", "!!timestamp x", '!!binary "!!"',
    "9" * 5000, '!!python/object/apply:os.system ["echo pwned"]', ".inf", "-.inf", ".nan", "~", "[]", "{}",
    "{x: 1}", "[" * 300 + "]" * 300, '"\\0"', '"a\\0b"', "../../../../escaped", "/etc/passwd", "a" * 300,
    "*nowhere", "&r [*r]", _LAUGHS, "!!set {a, b}", '"\\ud800"', '"line1\\nline2"', "-1", "0", "1e309",
    "99999999999999999999", "true", '"${NOPE_NOT_SET}"', "!custom x", "{<<: *nowhere}", "a.b", '"a/b"',
    "[a, {b: [c, {d: e}]}]", "!!str", "0x_", "1_000", "'\\x1b[31mred'", "?", "&x 1", "|\n  text", "- a",
    "lambda: (g for g in ()).gi_frame", "lambda *x: [c for c in ().__class__.__base__.__subclasses__()]",
]

HOSTILE_KEYS = ["null", "1", "[a, b]", "{x: 1}", "true", '"../x"', '"a.b"', "a" * 300, "<<", '"\\0"',
                "? [a]", "2020-01-01", "1.5", '"${X}"', "type", "next", "dag", "job", "config"]

HOSTILE_BYTES = [b"\xff", b"\x00", b"\x80\x81", b"\xef\xbb\xbf", b"\t", b"\r", b"\xc3\x28", b"\x1b[2J",
                 "\u2028".encode(), b"\xed\xa0\x80"]


def nested_parallels(depth: int) -> str:
    """A pipeline of ``depth`` parallels, each the only branch of the one above (as JSON, which is YAML)."""
    graph: dict = {"start_at": "s", "steps": {"s": {"type": "stub", "next": "success"}, "success": {"type": "success"}}}
    for _ in range(depth):
        graph = {"start_at": "p", "steps": {"p": {"type": "parallel", "branches": {"b": graph}, "next": "success"},
                                            "success": {"type": "success"}}}
    return json.dumps({"dag": graph})


def self_include(name: str) -> str:
    return ("dag:\n  start_at: again\n  steps:\n    again:\n      type: dag\n"
            f"      dag_definition: {name}\n      next: success\n    success: {{type: success}}\n")


@dataclass
class Mutant:
    kind: str
    index: int
    seed_name: str
    edits: list[str]
    data: bytes


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _mutate(rng: random.Random, data: bytes, name: str) -> tuple[bytes, str]:
    """One hostile edit of ``data``; returns the new bytes and a short label of the edit."""
    lines = _lines(data)
    choice = rng.randrange(12)
    index = rng.randrange(len(lines)) if lines else 0
    if choice == 0:
        at = rng.randrange(len(data) + 1)
        blob = rng.choice(HOSTILE_BYTES)
        return data[:at] + blob + data[at:], f"bytes {blob!r} at {at}"
    if choice == 1 and data:
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:], f"bit flip at {at}"
    if choice == 2:
        at = rng.randrange(len(data) + 1)
        return data[:at], f"truncated at {at}"
    if choice == 3 and lines:
        lines.insert(index, lines[index])
        return b"\n".join(lines), f"line {index + 1} duplicated"
    if choice == 4 and lines:
        del lines[index]
        return b"\n".join(lines), f"line {index + 1} deleted"
    if choice in (5, 6, 7):  # a value replaced by a hostile one
        candidates = [i for i, line in enumerate(lines) if b":" in line and not line.strip().startswith(b"#")]
        if candidates:
            i = rng.choice(candidates)
            key, _, _ = lines[i].partition(b": ") if b": " in lines[i] else lines[i].partition(b":")
            value = rng.choice(HOSTILE_VALUES)
            lines[i] = key + b": " + value.encode()
            return b"\n".join(lines), f"line {i + 1} value {value[:40]!r}"
    if choice == 8:  # a key replaced by a hostile one
        candidates = [i for i, line in enumerate(lines) if b":" in line and not line.strip().startswith(b"#")]
        if candidates:
            i = rng.choice(candidates)
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            _, _, rest = lines[i].partition(b":")
            key = rng.choice(HOSTILE_KEYS)
            lines[i] = indent + key.encode() + b":" + rest
            return b"\n".join(lines), f"line {i + 1} key {key[:40]!r}"
    if choice == 9 and lines:
        j = rng.randrange(len(lines))
        lines[index], lines[j] = lines[j], lines[index]
        return b"\n".join(lines), f"lines {index + 1} and {j + 1} swapped"
    if choice == 10 and lines:
        lines[index] = b" " * rng.choice((1, 2, 3, 7)) + lines[index]
        return b"\n".join(lines), f"line {index + 1} indented"
    structural = rng.randrange(4)
    if structural == 0:
        return nested_parallels(rng.choice((30, 150))).encode(), "nested parallels"
    if structural == 1:
        return self_include(name).encode(), "self include"
    if structural == 2:
        return data + b"\nextra: &b " + _LAUGHS.encode() + b"\n", "billion laughs appended"
    return b"top: " + b"[" * 3000 + b"]" * 3000 + b"\n", "deep list"


def seeds(corpus: list[Path]) -> dict[str, list[tuple[str, bytes]]]:
    """The seed files by kind: the built-in ones and every YAML file under ``corpus``."""
    found: dict[str, list[tuple[str, bytes]]] = {kind: [(f"builtin-{kind}", text.encode())]
                                                 for kind, text in BUILTIN_SEEDS.items()}
    for folder in corpus:
        for path in sorted(Path(folder).rglob("*.y*ml")):
            data = path.read_bytes()
            name = path.name.lower()
            kind = ("config" if "config" in name else "params" if "param" in name
                    else "job" if data.startswith(b"job:") else "pipeline")
            found[kind].append((str(path), data))
    return found


def mutants(corpus: list[Path], count: int, seed: int) -> Iterator[Mutant]:
    """``count`` mutants, the same ones for the same seed and corpus."""
    rng = random.Random(seed)
    by_kind = seeds(corpus)
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        seed_name, data = rng.choice(by_kind[kind])
        edits = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            data, edit = _mutate(rng, data, f"{kind}-{index}.yaml")
            edits.append(edit)
        yield Mutant(kind, index, seed_name, edits, data)


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` in the code under test eats it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    def ring(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


PLAIN_PIPELINE = "dag:\n  start_at: s\n  steps:\n    s: {type: stub, next: success}\n    success: {type: success}\n"


def load(kind: str, path: Path, folder: Path) -> None:
    """Load ``path`` as the CLI would: ``validate`` for pipelines, jobs and configs, parameters as a run does."""
    from stepline.run.prepare import prepare

    if kind in ("pipeline", "job"):
        prepare(str(path), None, import_code=False)
    elif kind == "config":
        plain = folder / "plain.yaml"
        if not plain.exists():
            plain.write_text(PLAIN_PIPELINE)
        prepare(str(plain), str(path), import_code=False)
    else:
        from stepline.params import initial_parameters

        initial_parameters(str(path))


@dataclass
class Outcome:
    kind: str
    index: int
    seed_name: str
    edits: list[str]
    outcome: str
    seconds: float
    message: str = ""


def judge(mutant: Mutant, folder: Path, time_limit: float) -> Outcome:
    """Write the mutant into ``folder`` and load it; classify what happened."""
    from stepline.errors import StepLineError

    path = folder / f"{mutant.kind}-{mutant.index}.yaml"
    path.write_bytes(mutant.data)
    started = time.perf_counter()
    outcome, message = "ok", ""
    try:
        with _time_limit(time_limit), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load(mutant.kind, path, folder)
    except _Timeout:
        outcome = "timeout"
    except StepLineError as exc:
        message = str(exc)
        lines = message.splitlines()
        outcome = "error" if len(lines) <= 2 and str(path) in message else "bad-message"
    except BaseException as exc:  # classifying every failure is the point
        if isinstance(exc, KeyboardInterrupt):
            raise
        outcome, message = f"crash:{type(exc).__name__}", str(exc)[:300]
    finally:
        path.unlink(missing_ok=True)
    return Outcome(mutant.kind, mutant.index, mutant.seed_name, mutant.edits, outcome,
                   round(time.perf_counter() - started, 4), message[:300])


@dataclass
class Summary:
    mutants: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    slowest: dict = field(default_factory=dict)
    bad: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    max_rss_mb: float = 0.0


def fuzz(corpus: list[Path], count: int, seed: int, folder: Path, *, time_limit: float = 5.0,
         budget_seconds: float | None = None, keep_bad: int = 50) -> Summary:
    """Judge ``count`` mutants (fewer when ``budget_seconds`` runs out) and summarise."""
    import resource

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    counts: Counter[str] = Counter()
    summary = Summary()
    slowest: Outcome | None = None
    with contextlib.chdir(folder):
        for mutant in mutants(corpus, count, seed):
            if budget_seconds is not None and time.perf_counter() - started > budget_seconds:
                break
            result = judge(mutant, folder, time_limit)
            counts[result.outcome] += 1
            summary.mutants += 1
            if slowest is None or result.seconds > slowest.seconds:
                slowest = result
            if result.outcome not in ("ok", "error") and len(summary.bad) < keep_bad:
                summary.bad.append(asdict(result))
    summary.outcomes = dict(counts.most_common())
    summary.slowest = asdict(slowest) if slowest else {}
    summary.seconds = round(time.perf_counter() - started, 2)
    summary.max_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return summary


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space ``megabytes`` above what it uses now (a bomb gets MemoryError)."""
    import resource

    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    limit = used + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", action="append", default=[], help="folder of seed YAML files (repeatable)")
    parser.add_argument("--folder", default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per mutant")
    parser.add_argument("--budget", type=float, default=None, help="stop after this many seconds in all")
    parser.add_argument("--memory-mb", type=int, default=1024, help="address space allowed above start-up")
    args = parser.parse_args(argv)
    import tempfile

    import stepline.run.prepare  # imported before the memory cap, as the CLI has it

    stepline.run.prepare.prepare(str(_plain(Path(tempfile.mkdtemp()))), None, import_code=False)
    limit_memory(args.memory_mb)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="stepline-fuzz-"))
    summary = fuzz([Path(c).resolve() for c in args.corpus], args.count, args.seed, folder,
                   time_limit=args.time_limit, budget_seconds=args.budget)
    print(json.dumps(asdict(summary), indent=1))


def _plain(folder: Path) -> Path:
    path = folder / "plain.yaml"
    path.write_text(PLAIN_PIPELINE)
    return path


if __name__ == "__main__":
    main()
