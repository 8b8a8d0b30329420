"""What the console entry does to start faster must not change what a run or a user's code sees:
the cyclic garbage collector is on again before any step runs, and pydantic plugins that are
installed are still found (pydantic's own search is skipped only when the entry-point cache knows
there are none)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
from stepline.cli import collector
from stepline.testing.cli import STEPLINE, clean_env

GC_PROBE = "import gc\n\ndef record():\n    open('gc.txt', 'a').write(f'{gc.isenabled()}\\n')\n"
PIPELINE = "dag: {start_at: a, steps: {a: {type: task, command: probe.record}}}\n"


def test_steps_run_with_the_collector_on(tmp_path):
    (tmp_path / "probe.py").write_text(GC_PROBE)
    (tmp_path / "p.yaml").write_text(PIPELINE)
    for args in (["execute", "p.yaml", "--run-id", "r1"], ["execute-single-node", "r1", "a", "-f", "p.yaml"],
                 ["execute", "--tag=x", "p.yaml"]):
        done = subprocess.run([STEPLINE, *args], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "gc.txt").read_text().split() == ["True", "True", "True"]


def test_resume_only_undoes_a_pause():
    was = gc.isenabled()
    try:
        gc.disable()  # a caller's own choice: resume() without pause() leaves it alone
        collector.resume()
        assert not gc.isenabled()
        gc.enable()
        collector.pause()
        assert not gc.isenabled()
        collector.resume()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        collector.resume()
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


MARK_PLUGIN = '''
import os


class Mark:
    def new_schema_validator(self, schema, schema_type, schema_type_path, schema_kind, config, plugin_settings):
        with open(os.environ["PLUGIN_MARK"], "a") as out:
            out.write(schema_type_path.name + "\\n")
        return None, None, None


plugin = Mark()
'''


SDK_PIPELINE = "from stepline import Pipeline, Stub\n\nPipeline(steps=[Stub('a')]).execute()\n"


def test_an_installed_pydantic_plugin_is_still_loaded(tmp_path):
    site, cache, work = tmp_path / "site", tmp_path / "cache", tmp_path / "work"
    site.mkdir(), work.mkdir()
    (site / "mark_plugin.py").write_text(MARK_PLUGIN)
    info = site / "mark_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mark-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pydantic]\nmark = mark_plugin:plugin\n")
    (work / "ok.yaml").write_text("dag: {start_at: a, steps: {a: {type: stub}}}\n")
    (work / "sdk.py").write_text(SDK_PIPELINE)
    mark = tmp_path / "mark.txt"
    env = {**clean_env(), "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache), "PLUGIN_MARK": str(mark)}
    for command in ([STEPLINE, "execute", "ok.yaml"], [sys.executable, "sdk.py"]):
        for attempt in ("cache written", "cache read"):
            mark.unlink(missing_ok=True)
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            assert "RunLog" in mark.read_text().split(), (command, attempt)


SKIPPED_SEARCH = '''
from pydantic.plugin import _loader
from stepline.plugins.entry_points import settle_pydantic_plugins

settle_pydantic_plugins()


def search(*args, **kwargs):
    raise AssertionError("pydantic searched the installed distributions for plugins")


_loader.entry_points = search
from pydantic import BaseModel


class Model(BaseModel):
    x: int = 1


print(Model(x=2).x)
'''


SDK_SKIPS_SEARCH = '''
from pydantic.plugin import _loader


def search(*args, **kwargs):
    raise AssertionError("pydantic searched the installed distributions for plugins")


_loader.entry_points = search
from stepline import Pipeline, Stub

print(Pipeline(steps=[Stub("a")]).execute().status.value)
'''


@pytest.mark.parametrize("code, printed", [(SKIPPED_SEARCH, "2"), (SDK_SKIPS_SEARCH, "SUCCESS")], ids=["api", "sdk"])
def test_pydantics_search_is_skipped_when_the_cache_knows_there_are_no_plugins(tmp_path, code, printed):
    work = tmp_path / "work"
    work.mkdir()
    env = {**clean_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    for run in ("from stepline.plugins.entry_points import cached_scan; cached_scan()", code):  # cache, then use
        done = subprocess.run([sys.executable, "-c", run], cwd=work, env=env, capture_output=True, text=True,
                              timeout=60, check=False)
    assert (done.returncode, done.stdout.strip().splitlines()[-1:]) == (0, [printed]), done.stderr


TOKENIZER_PROBE = '''
import atexit, sys
def report():
    tokenize = sys.modules.get("tokenize")
    print(tokenize._compile.cache_info().currsize if tokenize else 0, file=sys.stderr)
atexit.register(report)
sys.argv = ["stepline", "execute", "ok.yaml"]
from stepline.cli.entry import main
main()
'''


def test_loading_the_models_never_starts_the_tokenizer(tmp_path):
    """pydantic reads each default factory's signature; a builtin's (``list``) is parsed by
    :mod:`tokenize`, whose first use compiles a large pattern (see ``stepline.pipeline.defaults``)."""
    (tmp_path / "ok.yaml").write_text("dag: {start_at: a, steps: {a: {type: task, command_type: shell, "
                                      "command: 'true', next: success}, success: {type: success}}}\n")
    done = subprocess.run([sys.executable, "-c", TOKENIZER_PROBE], cwd=tmp_path, env=clean_env(), capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.stderr.strip().splitlines()[-1] == "0", done.stderr


METADATA_PROBE = '''
import atexit, sys
atexit.register(lambda: print("importlib.metadata" in sys.modules, file=sys.stderr))
sys.argv = ["stepline", "execute", "ok.yaml"]
from stepline.cli.entry import main
main()
'''


def test_a_run_with_a_warm_cache_never_imports_importlib_metadata(tmp_path):
    """pydantic's plugin loader imports importlib.metadata (10-25 ms); with no pydantic plugin it is
    stood in for, and Stepline's own entry points load without it."""
    (tmp_path / "ok.yaml").write_text("dag: {start_at: a, steps: {a: {type: task, command_type: shell, "
                                      "command: 'true'}}}\n")
    env = {**clean_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    seen = []
    for _ in ("cache written", "cache read"):
        done = subprocess.run([sys.executable, "-c", METADATA_PROBE], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        seen.append(done.stderr.strip().splitlines()[-1])
    assert seen == ["True", "False"]  # the first run scanned the distributions' metadata


STAND_IN = '''
import sys
from stepline.plugins.entry_points import NoPydanticPlugins, settle_pydantic_plugins
settle_pydantic_plugins()
stand_in = sys.modules["pydantic.plugin._loader"]
assert isinstance(stand_in, NoPydanticPlugins)
from pydantic import BaseModel
class Model(BaseModel):
    x: int
assert Model(x="3").x == 3 and sys.modules["pydantic.plugin._loader"] is stand_in
assert list(stand_in.get_plugins()) == []
assert stand_in.PYDANTIC_ENTRY_POINT_GROUP == "pydantic"  # any other name: the real loader
real = sys.modules["pydantic.plugin._loader"]
assert real is not stand_in and not isinstance(real, NoPydanticPlugins)
assert real._plugins == {} and list(real.get_plugins()) == []
print("ok")
'''


def test_the_stand_in_for_pydantics_loader_answers_none_and_yields_to_the_real_one(tmp_path):
    env = {**clean_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    done = subprocess.run([sys.executable, "-c", STAND_IN], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
