"""The one version of every Stepline package, from the file VERSION at the root of the repository.

    python tools/version.py            # print the version
    python tools/version.py check      # exit 1, listing each pyproject.toml that disagrees
    python tools/version.py set 0.2.0  # write VERSION and every pyproject.toml (then: uv lock)

The packages are released in lockstep. In each ``packages/*/pyproject.toml``:

- ``version = "X.Y.Z"``: the same in all of them;
- a backend requires the core of its release line: ``"stepline>=X.Y.Z,<X.(Y+1)"``;
- every core extra naming a backend pins it the same way: ``"stepline-sql>=X.Y.Z,<X.(Y+1)"``.

``stepline.__version__`` is read from the installed metadata, so nothing else holds a version.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "VERSION"
_VERSION_LINE = re.compile(r'^version = "[^"]*"$', re.MULTILINE)
# "stepline>=..." (a backend's core requirement) and "stepline-NAME[extra]>=..." (the core's extras);
# "stepline[sql,...]" (the core's own 'all' extra) has no version and no dash, so it is left alone.
_REQUIREMENT = re.compile(r'"(stepline(?:-[a-z0-9]+)?(?:\[[^\]"]*\])?)(?:[<>=!~][^"]*)?"')


def current() -> str:
    return VERSION_FILE.read_text(encoding="utf-8").strip()


def release_line(version: str) -> str:
    """The requirement every package puts on the others: ``>=X.Y.Z,<X.(Y+1)``."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return f">={version},<{major}.{minor + 1}"


def pyprojects() -> list[Path]:
    return sorted(ROOT.glob("packages/*/pyproject.toml"))


def rewrite(text: str, version: str) -> str:
    """``text`` (a package's pyproject.toml) with its version and its Stepline requirements set:
    those in ``dependencies = [...]`` and in the ``[project.optional-dependencies]`` table."""
    text = _VERSION_LINE.sub(f'version = "{version}"', text, count=1)
    lines, table, in_dependencies = [], "", False
    for line in text.split("\n"):
        if line.startswith("["):
            table = line.strip()
        if table == "[project]" and line.startswith("dependencies = ["):
            in_dependencies = True
        if in_dependencies or table == "[project.optional-dependencies]":
            line = _REQUIREMENT.sub(lambda m: f'"{_requirement(m, version)}"', line)
        if in_dependencies and line.rstrip().endswith("]"):
            in_dependencies = False
        lines.append(line)
    return "\n".join(lines)


def _requirement(match: re.Match[str], version: str) -> str:
    name = match.group(1)
    if name.startswith("stepline["):
        return match.group(0)[1:-1]  # the core naming its own extras
    return f"{name}{release_line(version)}"


def check(version: str) -> list[str]:
    problems = []
    for path in pyprojects():
        text = path.read_text(encoding="utf-8")
        if rewrite(text, version) != text:
            problems.append(f"{path.relative_to(ROOT)}: version or Stepline requirements differ from VERSION "
                            f"{version} (run: python tools/version.py set {version})")
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(current())
        return 0
    if argv[0] == "check":
        problems = check(current())
        print("\n".join(problems) or f"ok: every package is at {current()}")
        return 1 if problems else 0
    if argv[0] == "set" and len(argv) == 2 and re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", argv[1]):
        VERSION_FILE.write_text(argv[1] + "\n", encoding="utf-8")
        for path in pyprojects():
            path.write_text(rewrite(path.read_text(encoding="utf-8"), argv[1]), encoding="utf-8")
        print(f"every package is at {argv[1]}; now run: uv lock")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
