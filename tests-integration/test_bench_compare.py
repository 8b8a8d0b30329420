"""bench/bench_compare.py without timing anything: its command line, which commit it takes as the
previous release (in a real git repository), and the side-by-side table it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import bench_compare
from bench_compare import BenchError, Row, format_table, ratio, resolve_baseline


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with three commits and bench/baseline naming the first."""
    git(tmp_path, "init", "-q", "-b", "main")
    for i in range(3):
        (tmp_path / "f.txt").write_text(str(i))
        git(tmp_path, "add", "f.txt")
        git(tmp_path, "commit", "-q", "-m", f"c{i}")
    first = git(tmp_path, "rev-list", "--max-parents=0", "HEAD")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "baseline").write_text(f"# the previous release\n\n{first[:7]}\n")
    return tmp_path


def commit_of(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", f"{ref}^{{commit}}")


def test_without_tags_the_recorded_commit_is_the_baseline(repo: Path) -> None:
    commit, where = resolve_baseline(repo)
    assert commit == commit_of(repo, "HEAD~2")
    assert where.endswith("(bench/baseline)")


def test_the_newest_release_tag_before_head_wins_over_the_recorded_commit(repo: Path) -> None:
    git(repo, "tag", "v0.9.0", "HEAD~2")
    git(repo, "tag", "v0.10.0", "HEAD~1")  # newer by version, though "v0.9" sorts after it as text
    git(repo, "tag", "v0.11.0", "HEAD")  # the current commit itself is no previous release
    git(repo, "tag", "other", "HEAD")
    assert resolve_baseline(repo) == (commit_of(repo, "HEAD~1"), "v0.10.0 (newest v* tag)")


def test_an_explicit_baseline_wins_and_a_bad_one_is_a_one_line_error(repo: Path) -> None:
    git(repo, "tag", "v1.0.0", "HEAD~1")
    assert resolve_baseline(repo, "HEAD~2")[0] == commit_of(repo, "HEAD~2")
    with pytest.raises(BenchError, match=r"'nope' \(from --baseline\) is not a commit"):
        resolve_baseline(repo, "nope")


def test_a_missing_or_empty_baseline_file_says_what_to_write(repo: Path) -> None:
    baseline = repo / "bench" / "baseline"
    baseline.write_text("# nothing yet\n")
    with pytest.raises(BenchError, match="no ref in it"):
        resolve_baseline(repo)
    baseline.unlink()
    with pytest.raises(BenchError, match="pass --baseline REF"):
        resolve_baseline(repo)


def test_the_table_shows_both_sides_the_ratio_and_writes_worth() -> None:
    rows = [Row("python no-op step, N=200", "ms/step", 0.30, 1.20, "<= 0.3", in_writes=True),
            Row("stepline --help", "ms", 90.0, 60.0, "< 100 ms")]
    lines = format_table(rows, write_ms=0.02, previous="previous abc1234").splitlines()
    assert "previous abc1234" in lines[0] and "cur/prev" in lines[0]
    assert "15 w" in lines[2] and "60 w" in lines[2] and "0.25x" in lines[2]
    assert "1.50x" in lines[3] and " w" not in lines[3].split("ms", 1)[1]
    assert ratio(1.0, 0.0) == "-"


def test_a_line_says_whether_each_sides_renders_were_byte_identical(tmp_path: Path) -> None:
    current = bench_compare.Side("current", tmp_path / "python", tmp_path)
    previous = bench_compare.Side("previous", tmp_path / "python", tmp_path, differed={"argo"})
    line = bench_compare.render_identity((current, previous))
    assert "current: byte-identical" in line and "previous: DIFFERED (argo)" in line


def test_both_sides_are_built_from_the_core_and_renderer_sources_without_tests(tmp_path: Path) -> None:
    archived = bench_compare._sources("HEAD", tmp_path / "previous")
    copied = bench_compare._sources(None, tmp_path / "current")
    for tree in (archived, copied):
        for package in (bench_compare.CORE, *bench_compare.RENDERERS):
            assert (tree / package / "pyproject.toml").is_file()
        assert (tree / "packages/stepline/src/stepline/__init__.py").is_file()
    assert not (copied / "packages/stepline/tests").exists()
    assert not any(copied.rglob("__pycache__"))


def test_help_and_an_unknown_peer(capsys: pytest.CaptureFixture[str]) -> None:
    shown = subprocess.run([sys.executable, str(BENCH / "bench_compare.py"), "--help"],
                           check=False, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "--baseline REF" in shown.stdout and "--peer runnable==VERSION" in shown.stdout
    assert bench_compare.main(["--peer", "kedro==0.19"]) == 2
    assert "only runnable==VERSION is supported" in capsys.readouterr().err


def test_a_side_run_measures_that_run_alone_and_a_failure_is_one_error(tmp_path: Path) -> None:
    # Linux counts the spawning process's resident memory into a child's peak (the child starts in
    # its address space), so the check runs from a small interpreter, as the bench itself does, not
    # from this test process (hundreds of MiB late in a full test run)
    check = f"""
import sys
sys.path.insert(0, {str(BENCH)!r})
from pathlib import Path
import bench_compare
side = bench_compare.Side("here", Path(sys.executable), Path({str(tmp_path)!r}))
big = "x = bytearray(80 * 2**20); x[::4096] = b'1' * len(x[::4096]); print('done')"
seconds, out, rss = side.run(sys.executable, "-c", big)
assert out.strip() == "done" and seconds > 0 and rss >= 80, rss
small = side.run(sys.executable, "-c", "pass")[2]
assert small < 80, small  # its own peak, not the largest child so far
try:
    side.run(sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)")
except bench_compare.BenchError as exc:
    assert "here: " in str(exc) and "exited 3: boom" in str(exc), exc
else:
    raise AssertionError("a failing run did not stop the bench")
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr

def test_a_per_step_figure_subtracts_the_one_step_runs_taken_beside_it(tmp_path: Path) -> None:
    side = bench_compare.Side("current", tmp_path / "python", tmp_path)
    side.best.update({"one": 0.100, "py200-base": 0.150, "py200": 0.190, "help": 0.050})
    figure = next(f for f in bench_compare.FIGURES if f.key == "py200")
    assert bench_compare.per_unit(side, figure) == pytest.approx(0.2)  # (0.190 - 0.150) / 200 s, in ms
    assert bench_compare.per_unit(side, next(f for f in bench_compare.FIGURES if f.key == "help")) == 50.0
