"""The plugin manager, the registry and the built-in integration rules."""

import subprocess
import sys
from pathlib import Path

import pytest
from stepline.component import Locality
from stepline.errors import ConfigError, IntegrationError, PluginError
from stepline.plugins import LazyComponent, Problem, hookimpl
from stepline.plugins.manager import PluginManager, get_plugin_manager, get_registry
from stepline.plugins.registry import Registry

STEPLINE = str(Path(sys.executable).with_name("stepline"))


def test_builtins_are_registered_through_the_hook_with_their_package():
    registry = get_registry()
    assert {"emulator", "local"} <= set(registry.names("executor"))
    assert {"buffered", "file-system", "chunked-fs"} <= set(registry.names("run_log_store"))
    assert {"python", "shell"} <= set(registry.names("task"))
    assert {"task", "stub", "parallel", "map", "conditional", "loop", "dag"} <= set(registry.names("node"))
    entry = registry.entries[("run_log_store", "chunked-fs")]
    assert entry.package == "stepline" and entry.plugin == "stepline.runlog.plugin"


def test_backend_packages_are_found_by_entry_point():
    entry = get_registry().entries[("run_log_store", "sql")]
    assert entry.package == "stepline-sql" and entry.plugin == "sql"


def test_two_plugins_offering_the_same_name_is_an_error():
    class A:
        kind, name = "catalog", "same"

    class B:
        kind, name = "catalog", "same"

    registry = Registry()
    registry.add(A, "one", "pkg-one", "1")
    with pytest.raises(PluginError, match="catalog 'same' is offered by both 'one' and 'two'"):
        registry.add(B, "two", "pkg-two", "1")


def test_every_lazy_component_imports_as_the_class_it_names():
    for (kind, name), entry in get_registry().entries.items():
        assert (entry.cls.kind, entry.cls.name) == (kind, name), entry.source


def test_a_lazy_component_is_imported_only_when_looked_up():
    registry = Registry()
    registry.add(LazyComponent("catalog", "later", "no_such_module_anywhere:Catalog"), "late", "pkg-late", "1")
    assert registry.names("catalog") == ["later"]
    with pytest.raises(PluginError, match=r"plugin 'late' offers catalog 'later' as no_such_module_anywhere:Catalog, "
                                          r"which does not import"):
        registry.get("catalog", "later")


def test_a_lazy_component_must_name_its_class_truly():
    registry = Registry()
    registry.add(LazyComponent("catalog", "files", "stepline.catalog.file_system:FileSystemCatalog"), "p", "pkg", "1")
    with pytest.raises(PluginError, match="whose kind and name are 'catalog' and 'file-system'"):
        registry.get("catalog", "files")


def test_the_same_lazy_component_from_two_plugins_is_no_conflict():
    registry = Registry()
    same = LazyComponent("catalog", "file-system", "stepline.catalog.file_system:FileSystemCatalog")
    registry.add(same, "one", "pkg", "1")
    registry.add(same, "two", "pkg", "1")
    from stepline.catalog.file_system import FileSystemCatalog

    assert registry.get("catalog", "file-system") is FileSystemCatalog


def test_loading_the_plugins_imports_no_component_module():
    code = ("import sys; from stepline.plugins.manager import get_registry; get_registry(); "
            "print(sorted(m for m in sys.modules if m.startswith('stepline_') and '.' in m "
            "and not m.endswith('.plugin')))")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


def test_a_component_without_kind_is_an_error():
    class Nameless:
        pass

    with pytest.raises(PluginError, match="without a valid 'kind' and 'name'"):
        Registry().add(Nameless, "bad", "pkg", "1")


def test_unknown_type_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown run log store type 'chunked_fs' \(did you mean 'chunked-fs'\?\)"):
        get_registry().get("run_log_store", "chunked_fs")


def test_a_hook_that_matches_no_spec_fails_fast():
    class Broken:
        @hookimpl
        def stepline_no_such_hook(self):
            return []

    manager = PluginManager()
    manager.pm.register(Broken())
    import pluggy

    with pytest.raises(pluggy.PluginValidationError):
        manager.pm.check_pending()


def test_disabled_plugins_do_not_load():
    done = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "STEPLINE_DISABLE_PLUGINS": "sql"})
    assert done.returncode == 0, done.stderr
    assert "stepline-sql" not in done.stdout
    assert "chunked-fs" in done.stdout


def test_plugins_command_lists_kind_name_package_version():
    done = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True)
    line = next(l for l in done.stdout.splitlines() if " chunked-fs " in l)
    assert line.split()[:3] == ["run_log_store", "chunked-fs", "stepline"]


def _services(config: dict):
    from stepline.config.loader import DEFAULTS
    from stepline.plugins.manager import component_class

    return {section: component_class(section, config.get(section, default)).from_config({})
            for section, default in DEFAULTS.items()}


def test_a_process_local_store_with_an_executor_that_runs_steps_elsewhere_is_an_error():
    built = _services({"executor": "emulator", "run_log_store": "buffered"})
    with pytest.raises(IntegrationError, match="the emulator executor runs steps in other processes on this machine, "
                                               "but the buffered run log store is reachable from this process only; "
                                               "use chunked-fs or file-system"):
        get_plugin_manager().check_integration(built["executor"], [built["run_log_store"]])


def test_the_default_services_integrate_with_the_local_and_emulator_executors():
    for executor in ("local", "emulator"):
        built = _services({"executor": executor})
        services = [built[k] for k in ("run_log_store", "catalog", "secrets", "experiment_tracker")]
        assert get_plugin_manager().check_integration(built["executor"], services) == []


def test_an_executor_can_widen_a_services_reach():
    built = _services({"executor": "emulator", "run_log_store": "buffered"})
    executor = built["executor"]
    executor.locality_of = lambda service: Locality.NETWORK  # e.g. a shared volume
    assert get_plugin_manager().check_integration(executor, [built["run_log_store"]]) == []


def test_integration_errors_stop_the_cli_before_any_step(tmp_path):
    (tmp_path / "p.yaml").write_text("dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'touch ran'}}}\n")
    (tmp_path / "c.yaml").write_text("executor: {type: emulator}\nrun_log_store: {type: buffered}\n")
    done = subprocess.run([STEPLINE, "execute", "p.yaml", "-c", "c.yaml"], cwd=tmp_path, check=False, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("error: c.yaml: the emulator executor runs steps")
    assert not (tmp_path / "ran").exists() and not (tmp_path / ".stepline").exists()


def test_import_stepline_does_no_work_and_prints_nothing():
    code = "import sys, stepline; print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'yaml', 'typer', 'pluggy'))))"
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.stdout == "[]\n" and done.stderr == ""


def test_an_unknown_type_that_an_extra_provides_names_the_extra():
    with pytest.raises(ConfigError) as caught:
        Registry().get("run_log_store", "chunked-fsspec", source="c.yaml")
    assert str(caught.value) == 'c.yaml: unknown run log store type \'chunked-fsspec\': pip install "stepline[fsspec]"'


def test_built_in_plugins_can_be_blocked_too():
    done = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "STEPLINE_DISABLE_PLUGINS": "stepline.tracking.plugin, sql"})
    assert done.returncode == 0, done.stderr
    assert "stepline.tracking.plugin" not in done.stdout and "stepline-sql" not in done.stdout
    assert "stepline.runlog.plugin" in done.stdout


def test_every_hook_call_is_traced():
    done = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "STEPLINE_TRACE_HOOKS": "1"})
    assert done.returncode == 0, done.stderr
    assert "finish stepline_components -->" in done.stderr


def _manager_with(plugin) -> PluginManager:
    manager = PluginManager()
    manager.load()
    manager.pm.register(plugin)
    return manager


def test_an_executor_is_checked_on_its_own_once_before_its_services():
    calls = []

    class Checks:
        @hookimpl
        def stepline_check_executor(self, executor):
            calls.append(executor.name)
            return [Problem.warning(f"{executor.name} is slow")]

    built = _services({"executor": "local"})
    services = [built[k] for k in ("run_log_store", "catalog", "secrets", "experiment_tracker")]
    assert _manager_with(Checks()).check_integration(built["executor"], services) == ["local is slow"]
    assert calls == ["local"]


def test_an_error_problem_stops_the_run_and_a_string_is_a_plugin_error():
    class Refuses:
        @hookimpl
        def stepline_check_executor(self, executor):
            return [Problem.error("no engine here")]

    class Strings:
        @hookimpl
        def stepline_check_integration(self, executor, service):
            return ["warning: old style"]

    built = _services({"executor": "local"})
    with pytest.raises(IntegrationError, match="^no engine here$"):
        _manager_with(Refuses()).check_integration(built["executor"], [])
    with pytest.raises(PluginError, match="returned 'warning: old style', not a Problem"):
        _manager_with(Strings()).check_integration(built["executor"], [built["catalog"]])


def test_every_hook_is_documented_in_its_docstring_and_in_the_docs():
    import inspect

    from stepline.plugins import hookspec

    page = (Path(__file__).parents[3] / "docs" / "concepts" / "plugins.md").read_text()
    hooks = [name for name, _ in inspect.getmembers(hookspec, inspect.isfunction) if name.startswith("stepline_")]
    assert len(hooks) >= 4
    for name in hooks:
        doc = inspect.getdoc(getattr(hookspec, name)) or ""
        assert ":return:" in doc and "firstresult" in doc and "historic" in doc, f"{name}: incomplete docstring"
        assert f"`{name}(" in page, f"hook {name} is not documented in docs/concepts/plugins.md"


def test_a_plugin_that_fails_to_import_is_named_in_one_line(tmp_path):
    info = tmp_path / "broken_backend-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-backend\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[stepline]\nbroken = no_such_module_anywhere\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("error: plugin 'broken' (no_such_module_anywhere) failed to import: ")
    assert "STEPLINE_DISABLE_PLUGINS=broken" in done.stderr and "Traceback" not in done.stderr
    blocked = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True,
                             env={**env, "STEPLINE_DISABLE_PLUGINS": "broken"})
    assert blocked.returncode == 0, blocked.stderr


EXTRA_BACKEND = '''
from stepline.api import hookimpl
from stepline.catalog.do_nothing import DoNothingCatalog


class ExtraCatalog(DoNothingCatalog):
    name = "extra"


@hookimpl
def stepline_components():
    return [ExtraCatalog]
'''


def test_entry_points_are_cached_until_an_install_changes_sys_path(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    (site / "extra_backend.py").write_text(EXTRA_BACKEND)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache),
           "PYTHONDONTWRITEBYTECODE": "1"}  # a __pycache__ folder would change site/ itself

    def plugins() -> subprocess.CompletedProcess:
        return subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True, env=env)

    assert "extra" not in plugins().stdout
    assert len(list((cache / "stepline").glob("entry-points-*.json"))) == 1
    info = site / "extra_backend-0.1.dist-info"  # "installing": a new folder on sys.path
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-backend\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[stepline]\nextra = extra_backend\n")
    listed = plugins()
    assert "extra  " in listed.stdout and "extra-backend 0.1  (extra)" in listed.stdout, listed.stderr
    # installers replace a distribution's folder; an edit in place is not seen until sys.path changes
    (info / "entry_points.txt").write_text("[stepline]\nextra = no_such_module_anywhere\n")
    assert plugins().returncode == 0
    (site / "other.txt").write_text("")
    assert plugins().stderr.startswith("error: plugin 'extra' (no_such_module_anywhere) failed to import: ")


def test_a_file_written_beside_the_distributions_lists_them_again_but_does_not_rescan(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    (site / "extra_backend.py").write_text(EXTRA_BACKEND)
    info = site / "extra_backend-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-backend\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[stepline]\nextra = extra_backend\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache),
           "PYTHONDONTWRITEBYTECODE": "1"}

    def listed() -> str:
        done = subprocess.run([STEPLINE, "plugins"], check=False, capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "extra-backend 0.1  (extra)" in listed()
    # the version changes in place (no installer does this), then a plain file appears beside it, as
    # when a script writes its output next to itself: the metadata folders are the same, so the
    # cached answer (0.1) still holds and no scan reads the new version
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-backend\nVersion: 0.2\n")
    (site / "output.csv").write_text("a,b\n")
    assert "extra-backend 0.1  (extra)" in listed()
    (tmp_path / "replaced").mkdir()  # an installer's way: the folder is replaced
    info.rename(tmp_path / "replaced" / info.name)
    (tmp_path / "replaced" / info.name).rename(info)
    assert "extra-backend 0.2  (extra)" in listed()
