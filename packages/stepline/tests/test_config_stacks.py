"""Configuration stacks: ``extends:``, several files merged, packaged ``stack:NAME``, placeholders."""

from __future__ import annotations

import pytest
from stepline.config.loader import load_services, read_config
from stepline.config.placeholders import substitute
from stepline.config.show import effective_yaml, mask
from stepline.errors import ConfigError, PluginError
from stepline.plugins import hookimpl
from stepline.plugins.manager import get_plugin_manager, get_stacks


@pytest.fixture
def stack_plugin():
    """Register stacks in this process the way an installed package's entry point would."""
    registered = []

    def _register(stacks: dict, name: str = "test-stacks"):
        class Plugin:
            @hookimpl
            def stepline_stacks(self):
                return stacks

        get_plugin_manager().pm.register(Plugin(), name=name)
        registered.append(name)
        get_stacks.cache_clear()

    yield _register
    for name in registered:
        get_plugin_manager().pm.unregister(name=name)
    get_stacks.cache_clear()


# ---- extends and several files -----------------------------------------------------------------------
def test_extends_is_relative_to_the_file_at_any_depth_and_sections_deep_merge(write):
    write("platform/root.yaml", """
        catalog:
          type: file-system
          config: {catalog_location: /srv/catalog, compute_data_folder: .}
        run_log_store:
          type: chunked-fs
          config: {log_folder: /srv/runs}
    """)
    write("platform/base.yaml", "extends: root.yaml\ncatalog:\n  config: {compute_data_folder: data}\n")
    write("teams/ml/team.yaml", "extends: ../../platform/base.yaml\nrun_log_store:\n  config: {log_folder: ml-runs}\n")

    stack = read_config("teams/ml/team.yaml")

    assert stack.sections["catalog"] == {"type": "file-system",
                                         "config": {"catalog_location": "/srv/catalog", "compute_data_folder": "data"}}
    assert stack.sections["run_log_store"] == {"type": "chunked-fs", "config": {"log_folder": "ml-runs"}}
    assert stack.origins["catalog"] == ["platform/root.yaml", "platform/base.yaml"]
    assert stack.origins["run_log_store"] == ["platform/root.yaml", "teams/ml/team.yaml"]


def test_a_section_whose_type_changes_replaces_the_parents(write):
    write("base.yaml", "run_log_store:\n  type: chunked-fs\n  config: {log_folder: /srv/runs}\n")
    write("team.yaml", "extends: base.yaml\nrun_log_store:\n  type: buffered\n")

    services = load_services("team.yaml")  # buffered has no log_folder: the parent's settings are gone

    assert services.run_log_store.describe() == {"type": "buffered", "config": {}}


def test_nested_mappings_merge_and_lists_are_replaced(write):
    write("base.yaml", "executors:\n  gpu:\n    type: emulator\n    config: {max_workers: 3}\n"
                       "executor:\n  type: mocked\n  config:\n    patches: {a: {command: x}, b: {command: y}}\n")
    write("team.yaml", "extends: base.yaml\nexecutor:\n  config:\n    patches: {b: {command: z}}\n")

    stack = read_config("team.yaml")

    assert stack.sections["executor"]["config"]["patches"] == {"a": {"command": "x"}, "b": {"command": "z"}}
    assert stack.sections["executors"]["gpu"] == {"type": "emulator", "config": {"max_workers": 3}}
    assert stack.origins["executors.gpu"] == ["base.yaml"]


def test_several_files_merge_later_over_earlier(write):
    write("a.yaml", "catalog:\n  type: file-system\n  config: {catalog_location: a-cat}\n")
    write("b.yaml", "catalog:\n  config: {catalog_location: b-cat}\n")

    assert read_config("a.yaml,b.yaml").sections["catalog"]["config"] == {"catalog_location": "b-cat"}
    assert read_config("b.yaml, a.yaml").sections["catalog"]["config"] == {"catalog_location": "a-cat"}


def test_the_environment_variable_takes_the_same_list(write, monkeypatch):
    write("a.yaml", "catalog:\n  type: file-system\n  config: {catalog_location: a-cat}\n")
    write("b.yaml", "catalog:\n  config: {catalog_location: b-cat}\n")
    monkeypatch.setenv("STEPLINE_CONFIGURATION_FILE", "a.yaml,b.yaml")

    assert read_config(None).sections["catalog"]["config"] == {"catalog_location": "b-cat"}


def test_a_section_without_type_anywhere_is_an_error(write):
    write("team.yaml", "catalog:\n  config: {catalog_location: x}\n")
    with pytest.raises(ConfigError, match=r"^team.yaml: section 'catalog' has no 'type:', neither here nor in a "
                                          r"file it extends"):
        read_config("team.yaml")


def test_extends_cycle_is_one_line(write):
    write("a.yaml", "extends: b.yaml\n")
    write("b.yaml", "extends: [c.yaml]\n")
    write("c.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError) as caught:
        read_config("a.yaml")
    assert str(caught.value) == ("c.yaml: 'extends' makes a cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml "
                                 "(remove one of the extends)")


def test_a_file_extended_twice_is_not_a_cycle(write):
    write("root.yaml", "catalog:\n  type: file-system\n")
    write("left.yaml", "extends: root.yaml\n")
    write("right.yaml", "extends: root.yaml\n")
    write("team.yaml", "extends: [left.yaml, right.yaml]\n")
    assert read_config("team.yaml").sections["catalog"]["type"] == "file-system"


def test_extends_a_missing_file_names_the_file_that_extends(write):
    write("team.yaml", "extends: ../nowhere/base.yaml\n")
    with pytest.raises(ConfigError, match=r"^team.yaml: extends '../nowhere/base.yaml': no such file"):
        read_config("team.yaml")


# ---- packaged stacks ----------------------------------------------------------------------------------
def test_a_packaged_stack_is_usable_as_reference_and_in_extends(write, stack_plugin, tmp_path):
    shipped = tmp_path / "pkg" / "base.yaml"
    shipped.parent.mkdir()
    shipped.write_text("extends: root.yaml\ncatalog:\n  config: {catalog_location: /platform/catalog}\n")
    (tmp_path / "pkg" / "root.yaml").write_text("catalog:\n  type: file-system\n")  # relative to the stack file
    stack_plugin({"platform": shipped, "inline": {"run_log_store": {"type": "buffered"}}})
    write("team.yaml", "extends: stack:platform\ncatalog:\n  config: {compute_data_folder: data}\n")

    stack = read_config("team.yaml,stack:inline")

    assert stack.sections["catalog"] == {"type": "file-system", "config": {
        "catalog_location": "/platform/catalog", "compute_data_folder": "data"}}
    assert stack.sections["run_log_store"]["type"] == "buffered"
    assert stack.origins["catalog"] == ["pkg/root.yaml", "stack:platform", "team.yaml"]
    assert read_config("stack:platform").sections["catalog"]["config"] == {"catalog_location": "/platform/catalog"}


def test_an_unknown_stack_suggests_the_closest(stack_plugin, write):
    stack_plugin({"platform": {}})
    write("team.yaml", "extends: stack:platfrom\n")
    with pytest.raises(ConfigError, match=r"^team.yaml: no installed package offers the stack 'platfrom' "
                                          r"\(did you mean 'platform'\?\)"):
        read_config("team.yaml")


def test_two_packages_offering_one_stack_name_is_an_error(stack_plugin):
    stack_plugin({"platform": {}}, name="one")
    stack_plugin({"platform": {}}, name="two")
    with pytest.raises(PluginError, match="stack 'platform' is offered by both 'one' and 'two'"):
        get_stacks()


# ---- placeholders -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("${A}", "a"), ("x-${A}-${B}", "x-a-b"), ("${NO:-z}", "z"), ("${NO:-}", ""),
    ("${NO:-${NOPE:-deep}}/runs", "deep/runs"), ("${NO:-${A}}", "a"),
    ("${A:-${UNSET}}", "a"),  # a default that is not used does not need its variable
    ("$${A}", "${A}"),
])
def test_placeholders(text, expected):
    assert substitute(text, file="f.yaml", key="k", environ={"A": "a", "B": "b"}) == expected


@pytest.mark.parametrize("text, message", [
    ("${NOPE}", ("f.yaml: catalog.config.x: placeholder '${NOPE}' is not set in the environment "
                 "(export NOPE=... or write ${NOPE:-default})")),
    ("${NO:-${NOPE}}", "f.yaml: catalog.config.x: placeholder '${NOPE}' is not set"),
    ("${PLATFORM_ROOT:-${X:-y}", "f.yaml: catalog.config.x: unterminated placeholder in '${PLATFORM_ROOT:-${X:-y}'"),
    ("${1X}", "f.yaml: catalog.config.x: malformed placeholder"),
])
def test_bad_placeholders_are_one_line_errors(text, message):
    with pytest.raises(ConfigError) as caught:
        substitute(text, file="f.yaml", key="catalog.config.x", environ={})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_type_and_extends_take_placeholders(write, monkeypatch):
    monkeypatch.setenv("STORE", "buffered")
    write("base.yaml", "run_log_store:\n  type: chunked-fs\n")
    write("team.yaml", "extends: ${BASE:-base.yaml}\nrun_log_store:\n  type: ${STORE}\n")
    assert read_config("team.yaml").sections["run_log_store"]["type"] == "buffered"


def test_an_unresolved_placeholder_names_the_file_key_and_variable(write):
    write("base.yaml", "run_log_store:\n  type: chunked-fs\n  config:\n    log_folder: ${RUNS_ROOT_UNSET}/runs\n")
    write("team.yaml", "extends: base.yaml\n")
    with pytest.raises(ConfigError, match=r"^base.yaml: run_log_store.config.log_folder: placeholder "
                                          r"'\$\{RUNS_ROOT_UNSET\}' is not set"):
        read_config("team.yaml")


def test_a_setting_a_later_file_replaces_does_not_need_its_variable(write):
    write("base.yaml", "run_log_store:\n  type: chunked-fs\n  config:\n    log_folder: ${RUNS_ROOT_UNSET}/runs\n")
    write("team.yaml", "extends: base.yaml\nrun_log_store:\n  config: {log_folder: runs}\n")
    assert read_config("team.yaml").sections["run_log_store"]["config"] == {"log_folder": "runs"}


# ---- config show --------------------------------------------------------------------------------------
def test_config_show_prints_every_section_its_origin_and_masks_secrets(write, monkeypatch):
    import yaml

    monkeypatch.setenv("DB_PASSWORD", "hunter2-very-secret")
    write("base.yaml", "run_log_store:\n  type: sql\n  config:\n"
                       "    url: postgresql://app:${DB_PASSWORD}@db.example:5432/runs\n")
    write("team.yaml", "extends: base.yaml\ncatalog:\n  type: file-system\n")

    shown = effective_yaml("team.yaml")

    assert "hunter2" not in shown
    assert "# run_log_store: from base.yaml\n" in shown
    assert "# catalog: from team.yaml\n" in shown and "# secrets: default\n" in shown
    effective = yaml.safe_load(shown)
    assert effective["run_log_store"]["config"]["url"] == "postgresql://app:***@db.example:5432/runs"
    assert effective["catalog"]["config"]["catalog_location"] == ".stepline/catalog"  # defaults shown too


def test_mask_hides_settings_named_like_secrets():
    assert mask({"config": {"token": "s3cr3t", "vault_password": "x", "url": "http://h", "token_file": None}}) == \
        {"config": {"token": "********", "vault_password": "********", "url": "http://h", "token_file": None}}


def test_anchors_merge_keys_and_x_keys_work_with_extends(write):
    write("base.yaml", """
        x-shared: &shared {catalog_location: /srv/catalog}
        catalog:
          type: file-system
          config:
            <<: *shared
            compute_data_folder: .
    """)
    write("team.yaml", """
        extends: base.yaml
        x-team: &team data
        catalog:
          config: {compute_data_folder: *team}
    """)
    assert read_config("team.yaml").sections["catalog"]["config"] == {
        "catalog_location": "/srv/catalog", "compute_data_folder": "data"}


def test_runnable_variables_resolve_after_merging(write, monkeypatch):
    monkeypatch.setenv("RUNNABLE_VAR_root", "/srv")
    write("base.yaml", "catalog:\n  type: file-system\n  config: {catalog_location: $root/catalog}\n")
    write("team.yaml", "extends: base.yaml\n")
    assert read_config("team.yaml").sections["catalog"]["config"] == {"catalog_location": "/srv/catalog"}
