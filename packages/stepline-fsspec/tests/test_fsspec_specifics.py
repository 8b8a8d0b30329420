"""What the contract kits do not cover: locality, masking of credentials, layout, plugin wiring."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from stepline.component import Locality
from stepline.errors import ConfigError
from stepline.plugins.manager import component_class
from stepline.runlog.models import RunLog, StepLog
from stepline_fsspec.catalog import FsspecCatalog
from stepline_fsspec.runlog import ChunkedFsspecRunLogStore


@pytest.mark.parametrize(("url", "locality"), [
    ("s3://bucket/runs", Locality.NETWORK), ("gs://bucket/runs", Locality.NETWORK),
    ("simplecache::s3://bucket/x", Locality.NETWORK), ("file:///tmp/runs", Locality.MACHINE),
    (".stepline/runs", Locality.MACHINE), ("memory://runs", Locality.PROCESS),
])
def test_locality_follows_the_protocol(url, locality):
    # built from settings directly: from_config would refuse gs:// here, where gcsfs is not installed
    for cls in (ChunkedFsspecRunLogStore, FsspecCatalog):
        assert cls(cls.Settings(location=url)).locality == locality


def test_plugin_registers_both_types():
    assert component_class("run_log_store", "chunked-fsspec") is ChunkedFsspecRunLogStore
    assert component_class("catalog", "fsspec") is FsspecCatalog


def test_importing_the_plugin_imports_no_filesystem_library():
    code = ("import sys, stepline_fsspec.plugin as p; p.stepline_components(); "
            "print(sorted(m for m in ('fsspec', 's3fs', 'boto3', 'botocore', 'aiobotocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_setting_is_a_config_error():
    with pytest.raises(ConfigError, match="storage_option"):
        FsspecCatalog.from_config({"location": "memory://x", "storage_option": {}})


CREDENTIALS = {"key": "AKIASECRETKEYID", "secret": "very-secret-value", "token": "session-token-value",
               "client_kwargs": {"endpoint_url": "http://127.0.0.1:1", "aws_secret_access_key": "nested-secret"}}


@pytest.mark.parametrize("cls", [FsspecCatalog, ChunkedFsspecRunLogStore])
def test_describe_never_shows_credentials(cls):
    component = cls.from_config({"location": "ftp://user:pa55word@host/root", "storage_options": CREDENTIALS})
    text = json.dumps(component.describe())
    for secret in ("AKIASECRETKEYID", "very-secret-value", "session-token-value", "nested-secret", "pa55word"):
        assert secret not in text
    assert "http://127.0.0.1:1" in text and "ftp://user:***@host/root" in text


def test_storage_options_reach_s3_and_stay_out_of_the_run_log(s3_env, s3_bucket, tmp_path, monkeypatch):
    options = {"key": s3_env["AWS_ACCESS_KEY_ID"], "secret": s3_env["AWS_SECRET_ACCESS_KEY"],
               "endpoint_url": s3_env["AWS_ENDPOINT_URL"]}
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only storage_options may lead to the server now
    store = ChunkedFsspecRunLogStore.from_config({"location": f"s3://{s3_bucket}/runs", "storage_options": options,
                                                  })
    catalog = FsspecCatalog.from_config({"location": f"s3://{s3_bucket}/cat", "storage_options": options,
                                         "compute_data_folder": str(tmp_path)})
    run = RunLog(run_id="r1", run_config={"run_log_store": store.describe(), "catalog": catalog.describe()})
    store.create_run_log(run)
    (tmp_path / "f.txt").write_text("x")
    item = catalog.put("r1", ["f.txt"])[0]
    assert item.catalog_handler_location == f"s3://{s3_bucket}/cat"
    stored = store.get_run_log("r1").model_dump_json()
    assert s3_env["AWS_SECRET_ACCESS_KEY"] not in stored.replace('"secret":"***"', "")
    assert '"secret":"***"' in stored


def test_one_object_per_record_on_s3(s3_bucket):
    import fsspec

    store = ChunkedFsspecRunLogStore.from_config({"location": f"s3://{s3_bucket}/runs"})
    store.create_run_log(RunLog(run_id="r1"))
    store.put_step_log("r1", StepLog(name="square", internal_name="fan.3.square"))
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    names = sorted(p.rpartition("/")[2] for p in fs.find(f"{s3_bucket}/runs/r1"))
    assert names == ["params.json", "run.json", "step%2Ffan.3.square.json"]


def test_a_second_store_on_s3_cannot_take_a_used_run_id(s3_bucket):
    from stepline.errors import StepLineError

    first = ChunkedFsspecRunLogStore.from_config({"location": f"s3://{s3_bucket}/runs"})
    second = ChunkedFsspecRunLogStore.from_config({"location": f"s3://{s3_bucket}/runs"})
    first.create_run_log(RunLog(run_id="taken", tag="first"))
    with pytest.raises(StepLineError, match="taken"):
        second.create_run_log(RunLog(run_id="taken", tag="second"))
    assert second.get_run("taken").tag == "first"


def test_a_forked_child_can_keep_using_a_store_on_s3(s3_bucket):
    import multiprocessing

    store = ChunkedFsspecRunLogStore.from_config({"location": f"s3://{s3_bucket}/runs"})
    store.create_run_log(RunLog(run_id="r1"))  # the parent's s3fs session is now in use

    def child():
        store.put_step_log("r1", StepLog(name="from-child", internal_name="from-child"))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert store.get_step_log("r1", "from-child") is not None


def test_same_layout_as_the_builtin_chunked_fs_store(tmp_path):
    from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore

    builtin = ChunkedFileSystemRunLogStore.from_config({"log_folder": str(tmp_path)})
    ours = ChunkedFsspecRunLogStore.from_config({"location": f"file://{tmp_path}"})
    builtin.create_run_log(RunLog(run_id="r1"))
    builtin.put_step_log("r1", StepLog(name="square", internal_name="fan.3.square"))
    ours.put_step_log("r1", StepLog(name="b", internal_name="b"))
    assert sorted(ours.get_run_log("r1").model_dump()["steps"]) == ["b"]
    assert ours.get_step_log("r1", "fan.3.square").name == "square"
    assert builtin.get_step_log("r1", "b").name == "b"
    assert [r.run_id for r in ours.list_runs()] == ["r1"]


def test_an_s3_location_without_s3fs_is_one_line_at_validate_time(tmp_path):
    (tmp_path / "p.yaml").write_text("dag: {start_at: a, steps: {a: {type: stub, next: success}, success: {type: success}}}\n")
    (tmp_path / "c.yaml").write_text("catalog: {type: fsspec, config: {location: 's3://bucket/catalog'}}\n")
    # as if s3fs were not installed: importing it fails
    code = ("import sys; sys.modules['s3fs'] = None; sys.argv = ['stepline', 'validate', 'p.yaml', '-c', 'c.yaml']; "
            "from stepline.cli.app import main; main()")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == ("error: c.yaml: catalog 'fsspec': location 's3://bucket/catalog' needs s3fs, which is not "
                           'installed: pip install "stepline[s3]"\n')


def test_a_protocol_fsspec_does_not_know_is_a_config_error():
    with pytest.raises(ConfigError, match="c.yaml: run log store 'chunked-fsspec': location 'nope://x/runs': "
                                          "fsspec knows no protocol 'nope'"):
        ChunkedFsspecRunLogStore.from_config({"location": "nope://x/runs"}, source="c.yaml")
