"""The reference pages are checked against the code: every field of every node model, every
setting of every built-in component, every config section and every CLI command and option must
be documented. A new field without docs fails here, naming the page and section to fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
YAML_PAGE = "reference/yaml.md"
CLI_PAGE = "reference/cli.md"
#: where the built-in components of each kind are documented (one section per component name)
SERVICE_PAGES = {
    "executor": "services/executors.md",
    "run_log_store": "services/run-log-stores.md",
    "catalog": "services/catalogs.md",
    "secrets": "services/secrets.md",
    "experiment_tracker": "services/experiment-trackers.md",
}
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_TICKED = re.compile(r"`([^`]+)`")


def sections(page: str) -> dict[str, str]:
    """Heading text (backticks removed) -> the text up to the next heading."""
    found: dict[str, str] = {}
    current, lines, in_fence = None, [], False
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            if current is not None:
                found[current] = "\n".join(lines)
            current, lines = match.group(2).replace("`", ""), []
        else:
            lines.append(line)
    if current is not None:
        found[current] = "\n".join(lines)
    return found


def section(page: str, heading: str) -> str:
    found = sections(page)
    assert heading in found, f"docs/{page} has no section '{heading}' (headings: {sorted(found)})"
    return found[heading]


def table_keys(text: str) -> set[str]:
    """The backticked names in the first cell of every table row: | `-f`, `--file` | ... -> {-f, --file}."""
    keys: set[str] = set()
    for line in text.splitlines():
        if line.startswith("|"):
            first = line.split("|")[1]
            keys.update(_TICKED.findall(first))
    return keys


def registry():
    from stepline.plugins.manager import get_registry

    return get_registry()


def core_components(kind: str):
    return [e for e in registry().entries.values() if e.kind == kind and e.package == "stepline"]


def assert_documented(fields, page: str, heading: str, what: str) -> None:
    documented = table_keys(section(page, heading))
    missing = [f for f in fields if f not in documented]
    assert not missing, f"{what}: {missing} missing from the table of docs/{page} § {heading}"


# ---- pipeline YAML ---------------------------------------------------------------------------------
def test_graph_fields_documented():
    from stepline.pipeline.graph import Graph
    from stepline.pipeline.loader import GRAPH_KEYS

    assert set(GRAPH_KEYS) <= set(Graph.model_fields)
    assert_documented(list(Graph.model_fields), YAML_PAGE, "The dag block", "Graph")


def test_common_node_fields_documented():
    from stepline.pipeline.nodes import Node

    assert_documented(list(Node.model_fields), YAML_PAGE, "Fields of every step", "Node")


@pytest.mark.parametrize("node_type", [e.name for e in core_components("node")])
def test_node_type_fields_documented(node_type):
    from stepline.pipeline.nodes import Node

    cls = registry().get("node", node_type)
    own = [name for name in cls.model_fields if name not in Node.model_fields]
    assert_documented(own, YAML_PAGE, node_type, cls.__name__)
    assert f"`{node_type}`" in section(YAML_PAGE, "Fields of every step"), \
        f"step type '{node_type}' is not listed under `type` in docs/{YAML_PAGE}"


@pytest.mark.parametrize("model_path, heading", [
    ("stepline.pipeline.nodes:ReturnSpec", "returns"),
    ("stepline.pipeline.nodes:CatalogSpec", "catalog"),
])
def test_nested_models_documented(model_path, heading):
    import importlib

    module, _, name = model_path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert_documented(list(cls.model_fields), YAML_PAGE, heading, name)


def test_return_kinds_documented():
    import typing

    from stepline.pipeline.nodes import ReturnSpec

    kinds = typing.get_args(ReturnSpec.model_fields["kind"].annotation)
    text = section(YAML_PAGE, "returns")
    assert kinds and all(f"`{k}`" in text for k in kinds)


def test_the_helper_finds_a_missing_field():
    """The check itself works: a field that is not in a table is reported."""
    with pytest.raises(AssertionError, match="no_such_field"):
        assert_documented(["command", "no_such_field"], YAML_PAGE, "task", "TaskNode")


# ---- configuration and built-in services ------------------------------------------------------------
@pytest.mark.parametrize("kind, name", [(e.kind, e.name) for kind in SERVICE_PAGES for e in core_components(kind)])
def test_builtin_component_settings_documented(kind, name):
    cls = registry().get(kind, name)
    assert_documented(list(cls.Settings.model_fields), SERVICE_PAGES[kind], name, f"{kind} '{name}' Settings")


def test_every_kind_has_a_page_and_builtins_exist():
    from stepline.config.loader import DEFAULTS

    assert set(SERVICE_PAGES) == set(DEFAULTS)
    for kind in SERVICE_PAGES:
        assert core_components(kind), kind


def test_config_sections_aliases_and_defaults_documented():
    from stepline.config.loader import ALIASES, DEFAULTS

    table = section("reference/configuration.md", "Sections")
    keys = table_keys(table)
    for name, default in DEFAULTS.items():
        assert name in keys, f"section '{name}' missing from docs/reference/configuration.md"
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))
        assert f"`{default}`" in row, f"default type of '{name}' should be `{default}`"
    for alias, target in ALIASES.items():
        row = next((line for line in table.splitlines() if line.startswith(f"| `{target}`")), "")
        assert f"`{alias}`" in row, f"alias '{alias}' of '{target}' missing from docs/reference/configuration.md"


def test_placeholders_and_parameter_env_documented():
    from stepline.params import ENV_PREFIXES

    text = (DOCS / "reference/configuration.md").read_text()
    assert "${VAR}" in text and "${VAR:-default}" in text
    keys = table_keys(section("reference/parameters.md", "Initial parameters"))
    for prefix in ENV_PREFIXES:
        assert f"{prefix}<name>" in keys


# ---- CLI --------------------------------------------------------------------------------------------
def cli_commands():
    """(heading, click command) for the root and every command and sub-command."""
    import typer

    from stepline.cli.app import app

    root = typer.main.get_command(app)
    found = [("stepline", root)]

    def walk(group, prefix):
        for name, command in getattr(group, "commands", {}).items():
            found.append((f"{prefix} {name}", command))
            walk(command, f"{prefix} {name}")

    walk(root, "stepline")
    return found


@pytest.mark.parametrize("heading, command", cli_commands(), ids=[h for h, _ in cli_commands()])
def test_cli_command_documented(heading, command):
    expected = []
    for param in command.params:
        if param.name == "help":
            continue
        expected.extend(param.opts if param.param_type_name == "option" else [param.name])
    assert_documented(expected, CLI_PAGE, heading, f"`{heading}`")


def test_cli_headings_match_commands():
    """Every command (sub-commands included) has its section, and no section names a removed one."""
    documented = {h for h in sections(CLI_PAGE) if h.startswith("stepline")}
    assert documented == {h for h, _ in cli_commands()}
