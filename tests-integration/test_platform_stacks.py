"""Platform stacks the way a user meets them: a stack package installed with pip (examples/85),
a team overlay, several ``-c``, ``stepline config show``, and placeholders that must not create
anything when they do not resolve."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

UV = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def stack_site(tmp_path_factory) -> Path:
    """examples/85's stack package, installed (wheel built by its own build backend) into a folder
    put on PYTHONPATH: entry point and package data exactly as pip installs them."""
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(check=False, args=[UV, "pip", "install", "-q", "--no-deps", "--target", str(site), "--python", sys.executable,
                           str(EXAMPLES / "85-platform-stack" / "acme-stack")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return site


def env_with(cli, site: Path, **extra: str) -> dict[str, str]:
    return cli.env(PYTHONPATH=str(site), **extra)


def test_stepline_plugins_lists_the_packaged_stacks(stack_site, cli, tmp_path):
    done = cli.run("plugins", cwd=tmp_path, env=env_with(cli, stack_site))
    assert done.code == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("stack ")]
    # the argo package ships stacks of its own (its pods keep local stores on the shared volume with them)
    assert [line[:4] for line in lines if line[2] != "stepline-argo"] == [
        ["stack", "acme-base", "acme-stepline-stack", "1.0.0"], ["stack", "acme-ci", "acme-stepline-stack", "1.0.0"]]
    assert [line[1] for line in lines if line[2] == "stepline-argo"] == [
        "argo-volume-chunked-fs", "argo-volume-file-system-catalog", "argo-volume-file-system-run-log"]


def test_the_team_overlay_runs_on_the_platform_stack(stack_site, cli, example):
    folder = example("85-platform-stack")
    env = env_with(cli, stack_site, ACME_TEAM="data-team")

    done = cli.run("execute", "pipeline.yaml", "-c", "team.yaml", "--run-id", "r1", cwd=folder, env=env)

    assert done.code == 0, done.output
    assert (folder / ".acme" / "catalog" / "r1" / "greeting.txt").read_text() == "hello from data-team\n"
    shown = cli.run("runs", "show", "r1", "--json", "-c", "team.yaml", cwd=folder, env=env)
    run_config = json.loads(shown.stdout)["run_config"]
    assert run_config["catalog"]["config"]["catalog_location"] == ".acme/catalog"
    assert run_config["executor"]["config"]["max_workers"] == 2
    assert not (folder / ".stepline").exists()


def test_config_show_names_the_files_of_each_section(stack_site, cli, example):
    folder = example("85-platform-stack")
    done = cli.run("config", "show", "-c", "team.yaml", cwd=folder, env=env_with(cli, stack_site, ACME_ROOT="/srv/acme"))
    assert done.code == 0, done.stderr
    assert "# catalog: from stack:acme-base, then team.yaml\n" in done.stdout
    assert "# experiment_tracker: default\n" in done.stdout
    shown = yaml.safe_load(done.stdout)
    assert shown["catalog"]["config"] == {"catalog_location": "/srv/acme/catalog", "compute_data_folder": "data",
                                         "store_copy": True}


def test_a_stack_extends_files_next_to_it_and_takes_nested_defaults(stack_site, cli, tmp_path):
    env = env_with(cli, stack_site, CI_SCRATCH=str(tmp_path / "scratch"))
    shown = yaml.safe_load(cli.run("config", "show", "-c", "stack:acme-ci", cwd=tmp_path, env=env).stdout)
    assert shown["run_log_store"]["config"]["log_folder"] == f"{tmp_path}/scratch/runs"
    assert shown["secrets"]["config"]["prefix"] == "ACME_"  # from base.yaml, next to ci.yaml in the package
    env.pop("CI_SCRATCH")
    env["TMPDIR"] = "/var/tmp"
    shown = yaml.safe_load(cli.run("config", "show", "-c", "stack:acme-ci", cwd=tmp_path, env=env).stdout)
    assert shown["run_log_store"]["config"]["log_folder"] == "/var/tmp/acme-ci/runs"


def test_several_c_and_the_environment_variable_merge_later_over_earlier(cli, tmp_path):
    (tmp_path / "base.yaml").write_text("run_log_store:\n  type: chunked-fs\n  config: {log_folder: base-runs}\n")
    (tmp_path / "team.yaml").write_text("run_log_store:\n  config: {log_folder: team-runs}\n")
    (tmp_path / "pipeline.yaml").write_text("dag:\n  start_at: a\n  steps:\n    a:\n      type: stub\n")

    done = cli.run("execute", "pipeline.yaml", "-c", "base.yaml", "-c", "team.yaml", cwd=tmp_path)
    assert done.code == 0, done.output
    assert (tmp_path / "team-runs").is_dir() and not (tmp_path / "base-runs").exists()

    env = cli.env(STEPLINE_CONFIGURATION_FILE="team.yaml,base.yaml")
    done = cli.run("execute", "pipeline.yaml", cwd=tmp_path, env=env)
    assert done.code == 0, done.output
    assert (tmp_path / "base-runs").is_dir()


@pytest.mark.parametrize("value, message", [
    ("${PLATFORM_ROOT_UNSET:-${ALSO_UNSET:-x}", "unterminated placeholder"),
    ("${PLATFORM_ROOT_UNSET}/runs", "placeholder '${PLATFORM_ROOT_UNSET}' is not set"),
])
def test_nothing_is_created_from_an_unresolved_placeholder(cli, tmp_path, value, message):
    (tmp_path / "config.yaml").write_text(f"run_log_store:\n  type: chunked-fs\n  config:\n    log_folder: '{value}'\n")
    (tmp_path / "pipeline.yaml").write_text("dag:\n  start_at: a\n  steps:\n    a:\n      type: stub\n")

    done = cli.run("execute", "pipeline.yaml", "-c", "config.yaml", cwd=tmp_path)

    assert done.code == 2
    assert done.stderr.startswith(f"error: config.yaml: run_log_store.config.log_folder: {message}")
    assert done.stderr.count("\n") == 1
    assert set(os.listdir(tmp_path)) == {
        "config.yaml", "pipeline.yaml"}
