"""The packages are releasable: one version, lockstep pins, LICENSE and py.typed in every wheel and
sdist, no tests in sdists, real READMEs; and the release tool builds them, passes twine check
--strict and smoke-tests each extra alone in a fresh venv (what ``make release`` runs)."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.parent for p in ROOT.glob("packages/*/pyproject.toml"))
VERSION = (ROOT / "VERSION").read_text().strip()


def project(package: Path) -> dict:
    return tomllib.loads((package / "pyproject.toml").read_text())["project"]


def test_every_package_has_the_one_version_and_lockstep_pins():
    done = subprocess.run([sys.executable, "tools/version.py", "check"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout
    line = re.escape(f">={VERSION},<")
    core = project(ROOT / "packages" / "stepline")
    for name, requirements in core["optional-dependencies"].items():
        for requirement in requirements:
            if requirement.startswith("stepline-"):
                assert re.search(line, requirement), f"extra {name}: {requirement} is not pinned to {VERSION}"
    for package in PACKAGES:
        meta = project(package)
        assert meta["version"] == VERSION
        core_requirement = [r for r in meta.get("dependencies", []) if re.match(r"stepline[<>=]", r)]
        assert package.name == "stepline" or re.search(line, core_requirement[0]), package.name


def test_the_version_tool_rewrites_every_pin(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import version
    finally:
        sys.path.pop(0)
    text = (ROOT / "packages" / "stepline" / "pyproject.toml").read_text()
    bumped = version.rewrite(text, "1.4.2")
    assert 'version = "1.4.2"' in bumped and 'name = "stepline"' in bumped
    assert 'sql = ["stepline-sql>=1.4.2,<1.5"]' in bumped
    assert 'postgres = ["stepline-sql[postgres]>=1.4.2,<1.5"]' in bumped
    assert '"stepline[sql,' in bumped  # the core naming its own extras keeps no version
    assert version.rewrite(bumped, VERSION) == text


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_each_package_has_license_py_typed_classifiers_urls_and_a_readme(package):
    meta = project(package)
    assert (package / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert list(package.glob("src/*/py.typed"))
    assert "Typing :: Typed" in meta["classifiers"]
    assert {"Homepage", "Documentation", "Repository", "Changelog"} <= set(meta["urls"])
    readme = (package / "README.md").read_text()
    assert len(readme.splitlines()) >= 10 and "pip install" in readme, f"{package.name}: README too thin"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """``tools/release.py``: build, twine check, smoke-test every extra (about two minutes)."""
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "tools/release.py", "--dist", str(dist)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    return dist, done


def test_the_release_builds_checks_and_smoke_tests_every_extra(release):
    _, done = release
    assert done.returncode == 0, done.stdout + done.stderr
    extras = [e for e in project(ROOT / "packages" / "stepline")["optional-dependencies"] if e != "all"]
    for extra in extras:
        assert re.search(rf"stepline\[{extra}\] +[\d.]+ MB", done.stdout), f"extra {extra} not smoke-tested"
    assert "built and checked 20 files" in done.stdout


def test_wheels_and_sdists_hold_license_and_py_typed_and_sdists_no_tests(release):
    dist, done = release
    assert done.returncode == 0, done.stderr
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == len(PACKAGES)
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), wheel.name
        assert any(n.endswith("/py.typed") for n in names), wheel.name
    for sdist in sdists:
        with tarfile.open(sdist) as archive:
            names = archive.getnames()
        top = names[0].split("/")[0]
        assert f"{top}/LICENSE" in names and any(n.endswith("/py.typed") for n in names), sdist.name
        assert not [n for n in names if "/tests/" in n or n.endswith("conftest.py")], sdist.name
