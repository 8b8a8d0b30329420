"""runnable compatibility, the YAML half: pipelines, job files and config files written the way
runnable's own examples write them run unchanged with `stepline`, and the mistakes stay one-line
errors (exit 2, file named, no traceback). The fixtures are in runnable_compat/yaml/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "runnable_compat" / "yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the fixtures to run in (nothing is written into the repository)."""
    target = tmp_path / "compat"
    shutil.copytree(FIXTURES, target, ignore=shutil.ignore_patterns("__pycache__", ".stepline"))
    return target


def one_line_error(result, expected: str) -> None:
    """Bad input: exit 2, the exact one-line error, no traceback."""
    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip() == f"error: {expected}"


# ---- top-level anchor holders --------------------------------------------------------------------

def test_map_branch_defined_as_a_top_level_anchor_runs(folder, cli):
    done = cli.run("execute", "map_with_anchored_branch.yaml", "-p", "numbers.yaml", "--run-id", "squares",
                   cwd=folder)
    assert done.code == 0, done.output
    log = cli.run_log("squares", folder)
    assert len(log["steps"]["squares"]["branches"]) == 3
    assert log["parameters"]["squared"]["value"] == [1, 4, 9]
    assert "square_branch" not in log["steps"]  # the holder is not a step


def test_parallel_and_conditional_branches_from_anchors_and_x_keys(folder, cli):
    done = cli.run("execute", "parallel_and_conditional_anchors.yaml", "--run-id", "toss", cwd=folder)
    assert done.code == 0, done.output
    assert done.stdout.count("hello from a branch") == 2
    assert (folder / "went-tails").exists() and not (folder / "went-heads").exists()


def test_merge_keys_in_steps_and_a_steps_own_key_wins(folder):
    from stepline.pipeline.loader import load_pipeline

    graph = load_pipeline(folder / "merge_keys.yaml")
    first, second = graph.steps["first"], graph.steps["second"]
    assert (first.command_type, first.max_attempts) == ("shell", 2)
    assert (second.command_type, second.max_attempts) == ("shell", 1)


def test_merge_keys_pipeline_runs_with_an_anchored_config(folder, cli):
    done = cli.run("execute", "merge_keys.yaml", "-c", "config_anchors.yaml", "--run-id", "merged", cwd=folder)
    assert done.code == 0, done.output
    assert (folder / "trail.txt").read_text() == "first\nsecond\n"
    assert (folder / ".anchored-runs").is_dir()  # the run log went where the x- key's anchor says
    log = cli.run_log("merged", folder, "-c", "config_anchors.yaml")
    assert log["run_config"]["catalog"]["config"]["catalog_location"] == ".anchored-catalog"


def test_job_file_with_an_x_key_and_a_merge_key(folder, cli):
    done = cli.run("execute-job", "job_with_anchor.yaml", cwd=folder)
    assert done.code == 0, done.output
    assert (folder / "job-ran.txt").read_text() == "hello from a job\n"


def test_runnables_command_line_forms(folder, cli):
    """``runnable execute FILE RUN_ID --parameters P --config C --log-level L``, and the same for jobs."""
    done = cli.run("execute", "map_with_anchored_branch.yaml", "cli-form", "--parameters", "numbers.yaml",
                   "--config", "config_parallel.yaml", "--log-level", "WARNING", cwd=folder)
    assert done.code == 0, done.output
    assert cli.run_log("cli-form", folder, "-c", "config_parallel.yaml")["parameters"]["squared"]["value"] == [1, 4, 9]
    done = cli.run("execute-job", "flat_python_job.yaml", "job-form", "--log-level", "fatal", cwd=folder)
    assert done.code == 0, done.output
    assert cli.run_log("job-form", folder)["status"] == "SUCCESS"
    clash = cli.run("execute", "map_with_anchored_branch.yaml", "one", "--run-id", "two", cwd=folder)
    assert clash.code == 2 and "two run ids: 'one' and --run-id 'two'" in clash.stderr


def test_runnables_flat_job_files_run_with_execute_job(folder, cli):
    done = cli.run("execute-job", "flat_shell_job.yaml", "--run-id", "flat-shell", cwd=folder)
    assert done.code == 0, done.output
    log = cli.run_log("flat-shell", folder)
    assert list(log["steps"]) == ["write report", "success"]
    [put] = log["steps"]["write report"]["data_catalog"]
    assert (put["name"], put["stage"], put["stored"]) == ("out/report.txt", "put", True)
    assert (folder / ".stepline" / "catalog" / "flat-shell" / "out" / "report.txt").read_text() == "a report\n"

    done = cli.run("execute-job", "flat_python_job.yaml", "--run-id", "flat-python", cwd=folder)
    assert done.code == 0, done.output
    assert cli.run_log("flat-python", folder)["parameters"]["total"]["value"] == 42


def test_a_job_executor_section_is_the_executor_of_jobs(folder, cli):
    done = cli.run("execute-job", "flat_shell_job.yaml", "-c", "config_job_executor.yaml", "--run-id", "mocked-job",
                   cwd=folder)
    assert done.code == 0, done.output
    assert not (folder / "out").exists()  # the mocked executor did not run the command
    assert cli.run_log("mocked-job", folder, "-c", "config_job_executor.yaml")["run_config"]["executor"]["type"] == "mocked"


@pytest.mark.parametrize(("args", "expected"), [
    (["execute", "typo_dga.yaml"], "typo_dga.yaml: unknown top-level key 'dga' (did you mean 'dag'?)"),
    (["execute", "unknown_plain_key.yaml"],
     "unknown_plain_key.yaml: unknown top-level key 'settings' (the pipeline goes under 'dag:')"),
    (["execute", "only_anchors.yaml"], "only_anchors.yaml: expected exactly one top-level 'dag:' (or 'pipeline:')"),
    (["execute", "anchored_typo.yaml"],
     "anchored_typo.yaml: expected exactly one top-level 'dag:' (or 'pipeline:') (did you mean 'dag'?)"),
    (["execute-job", "job_with_typo.yaml"], "job_with_typo.yaml: unknown top-level key 'jbo' (did you mean 'job'?)"),
    (["execute", "merge_keys.yaml", "-c", "config_typo.yaml"],
     "config_typo.yaml: unknown section 'run_log_stor' (did you mean 'run_log_store'?)"),
    (["execute", "merge_keys.yaml", "-c", "config_two_executors.yaml"],
     ("config_two_executors.yaml: 'pipeline-executor' and 'job-executor' both set the 'executor' section "
      "(keep one: a pipeline and a job run with the same executor)")),
], ids=["typo dga", "unknown key without anchor", "no dag at all", "anchored typo", "job typo", "config typo",
        "two executor sections"])
def test_keys_that_hold_no_anchor_stay_errors(folder, cli, args, expected):
    one_line_error(cli.run(*args, cwd=folder), expected)


def test_anchor_detection_reads_the_yaml_below_the_data():
    from stepline.pipeline.anchor_holders import anchored_top_level_keys

    text = ("branch: &b {start_at: a}\ndag: {steps: *b}\nplain: {deep: [1, 2]}\n"
            "nested:\n  deeper:\n    - &inner [1]\n? [complex, key]\n: &c 1\n")
    assert anchored_top_level_keys(text) == {"branch", "dag", "nested"}
    assert anchored_top_level_keys("- a\n- &x b\n") == set()  # not a mapping: the caller reports it


# ---- config files in runnable 0.50's vocabulary ---------------------------------------------------

def test_env_secrets_is_runnables_name_for_environment_secrets(folder, cli):
    from stepline.config.loader import load_services

    services = load_services(str(folder / "config_parallel.yaml"))
    assert services.secrets.name == "env"
    assert services.describe()["secrets"]["type"] == "env"


def test_enable_parallel_true_runs_branches_at_the_same_time(folder, cli):
    done = cli.run("execute", "rendezvous.yaml", "-c", "config_parallel.yaml", cwd=folder)
    assert done.code == 0, done.output  # each branch waited for the other's mark: they overlapped


def test_enable_parallel_false_runs_branches_one_at_a_time_in_the_traversing_process(folder, cli):
    done = cli.run("execute", "who_runs_branches.yaml", "-c", "config_sequential.yaml", cwd=folder)
    assert done.code == 0, done.output
    main = (folder / "main-pid.txt").read_text().split()
    assert (folder / "branch-pids.txt").read_text().split() == main * 3


def test_object_serialisation_false_keeps_an_unpicklable_object_in_memory(folder, cli):
    done = cli.run("execute", "objects_in_memory.yaml", "-c", "config_in_memory.yaml", cwd=folder)
    assert done.code == 0, done.output
    assert "bump  SUCCESS" in done.stderr
    assert not (folder / ".stepline").exists()  # buffered run log, do-nothing catalog: nothing on disk


def test_an_unpicklable_object_without_object_serialisation_fails_the_step_in_one_line(folder, cli):
    done = cli.run("execute", "objects_in_memory.yaml", "--run-id", "pickled", cwd=folder)
    assert done.code == 1 and "Traceback" not in done.output
    message = cli.run_log("pickled", folder)["steps"]["make"]["message"]
    assert message.startswith("return 'counter' (kind: object) cannot be pickled")
    assert "object_serialisation: false" in message


def test_object_serialisation_false_is_refused_where_steps_run_in_other_processes(folder, cli):
    one_line_error(cli.run("execute", "objects_in_memory.yaml", "-c", "config_emulator_in_memory.yaml", cwd=folder),
                   "config_emulator_in_memory.yaml: executor 'emulator': 'object_serialisation: false' keeps "
                   "returned objects in one process's memory, but this executor runs steps in other processes "
                   "(remove it (objects are pickled into the catalog), or use the local executor)")


def test_a_catalog_that_stores_no_copies_records_hashes_and_leaves_files_in_place(folder, cli):
    done = cli.run("execute", "leaves_a_file.yaml", "-c", "config_no_copy_catalog.yaml", "--run-id", "no-copy",
                   cwd=folder)
    assert done.code == 0, done.output
    log = cli.run_log("no-copy", folder, "-c", "config_no_copy_catalog.yaml")
    [put] = log["steps"]["write"]["data_catalog"]
    [got] = log["steps"]["read"]["data_catalog"]
    assert (put["stored"], got["stored"], got["stage"]) == (False, False, "get")
    assert put["data_hash"] == got["data_hash"] != ""
    assert not (folder / ".stepline" / "catalog" / "no-copy" / "kept.txt").exists()
    # nothing to get in place: the step fails and says why
    again = cli.run("execute", "gets_what_is_not_here.yaml", "-c", "config_no_copy_catalog.yaml", cwd=folder)
    assert again.code == 1 and "(store_copy: false)" in again.output


def test_mlflow_server_url_is_runnables_name_for_tracking_uri(folder, monkeypatch):
    from stepline.config.loader import load_services

    monkeypatch.chdir(folder)
    tracker = load_services("config_mlflow_server_url.yaml").experiment_tracker
    assert tracker.settings.tracking_uri == "http://127.0.0.1:5999"


def test_a_mocked_patch_for_a_step_this_pipeline_lacks_is_a_warning(folder, cli):
    done = cli.run("execute", "flaky.yaml", "-c", "config_mocked_other_steps.yaml", cwd=folder)
    assert done.code == 0, done.output  # every task mocked: flaky's failing step does not run
    assert ("warning: config_mocked_other_steps.yaml: executor 'mocked': patch 'step 1' names no task step of "
            "this pipeline and is ignored") in done.stderr


@pytest.mark.parametrize("config", [[], ["-c", "config_emulator.yaml"]], ids=["local", "emulator"])
def test_tasks_find_the_run_id_in_their_environment(folder, cli, config):
    done = cli.run("execute", "run_id_in_env.yaml", "--run-id", "seen-run", *config, cwd=folder)
    assert done.code == 0, done.output
    assert (folder / "seen-by-shell.txt").read_text() == "seen-run seen-run\n"
    assert cli.run_log("seen-run", folder, *config)["parameters"]["seen_by_python"]["value"] == "seen-run"


def test_retry_executor_in_a_config_re_runs_that_run(folder, cli):
    first = cli.run("execute", "flaky.yaml", "--run-id", "first-attempt", cwd=folder)
    assert first.code == 1, first.output
    (folder / "fixed").touch()
    again = cli.run("execute", "flaky.yaml", "-c", "config_retry.yaml", "--run-id", "second-attempt", cwd=folder)
    assert again.code == 0, again.output
    assert (folder / "prepare-runs.txt").read_text() == "ran\n"  # prepare succeeded before: skipped
    log = cli.run_log("second-attempt", folder)
    assert log["original_run_id"] == "first-attempt"
    assert log["steps"]["prepare"]["message"] == "skipped: succeeded in run first-attempt"


def test_retry_executor_naming_an_unknown_run_is_a_one_line_error(folder, cli):
    result = cli.run("execute", "flaky.yaml", "-c", "config_retry.yaml", cwd=folder)
    assert result.code == 2 and "Traceback" not in result.output
    assert "first-attempt" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_runnable_component_stepline_names_differently_gets_the_equivalent(folder, cli):
    one_line_error(cli.run("execute", "flaky.yaml", "-c", "config_minio_catalog.yaml", cwd=folder),
                   "config_minio_catalog.yaml: catalog type 'minio' is runnable's; Stepline has no component of "
                   "that name (use catalog type 'fsspec' (stepline-fsspec) with an s3:// url and the endpoint "
                   "in storage_options)")


def test_dollar_variables_resolve_from_runnable_var_and_leave_shell_words_alone(folder, cli):
    done = cli.run("execute", "flaky.yaml", "-c", "config_variables.yaml", cwd=folder,
                   env=cli.env(RUNNABLE_VAR_runs_folder="var-runs", HOME=str(folder)))
    assert done.code == 0, done.output
    assert (folder / "var-runs").is_dir() and not (folder / "$runs_folder").exists()
    assert (folder / "home-seen.txt").read_text() == f"{folder}\n"  # $HOME reached the shell untouched


# ---- the argo executor in runnable's shape ----------------------------------------------------------

def argo_manifest(path: Path) -> dict:
    """The rendered manifest, required to round-trip through hera's models of Argo's OpenAPI spec."""
    import yaml
    from hera.workflows.models import CronWorkflow, Workflow

    manifest = yaml.safe_load(path.read_text())
    model = (CronWorkflow if manifest["kind"] == "CronWorkflow" else Workflow).model_validate(manifest)
    assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == manifest
    return manifest


def containers(spec: dict) -> list[dict]:
    return [t["container"] for t in spec["templates"] if "container" in t]


def test_argo_config_in_runnables_shape_renders_a_valid_workflow(folder, cli):
    done = cli.run("execute", "map_with_anchored_branch.yaml", "-p", "numbers.yaml", "-c", "config_argo.yaml",
                   cwd=folder, env=cli.env(RUNNABLE_VAR_docker_image="registry.example/squares:2"))
    assert done.code == 0, done.output
    # the default catalog is not on the volume: the pods keep it there, as runnable's do
    assert ("warning: the file-system catalog is not on a mounted volume: the pods keep it on the shared volume "
            "at /mnt/catalog, as runnable does") in done.stderr
    manifest = argo_manifest(folder / "squares-workflow.yaml")
    assert manifest["kind"] == "Workflow"
    assert manifest["metadata"] == {"generateName": "squares-", "namespace": "analytics", "labels": {"team": "data"}}
    spec = manifest["spec"]
    assert spec["serviceAccountName"] == "pipeline-runner" and spec["podGC"] == {"strategy": "OnPodCompletion"}
    assert spec["templateDefaults"] == {"activeDeadlineSeconds": 7200}
    assert spec["volumes"] == [{"name": "stepline-volume-0", "persistentVolumeClaim": {"claimName": "shared-claim"}}]
    for container in containers(spec):
        assert container["image"] == "registry.example/squares:2"
        assert container["imagePullPolicy"] == "IfNotPresent"
        assert container["volumeMounts"] == [{"name": "stepline-volume-0", "mountPath": "/mnt"}]
        assert container["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"},
                                          "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1"}}
        assert {"name": "STAGE", "value": "nightly"} in container["env"]
    assert not (folder / ".stepline" / "runs").exists()  # rendering creates no run log


def test_argo_cron_schedule_in_runnables_shape_renders_a_cron_workflow(folder, cli):
    done = cli.run("execute", "map_with_anchored_branch.yaml", "-p", "numbers.yaml", "-c", "config_argo_cron.yaml",
                   cwd=folder)
    assert done.code == 0, done.output
    manifest = argo_manifest(folder / "squares-cron.yaml")
    assert manifest["kind"] == "CronWorkflow" and manifest["metadata"] == {"name": "every-night"}
    assert manifest["spec"]["schedules"] == ["30 2 * * *"] and manifest["spec"]["timezone"] == "Europe/London"
    assert manifest["spec"]["workflowSpec"]["serviceAccountName"] == "pipeline-runner"


def test_argo_named_override_and_secret_from_k8s(folder, cli):
    done = cli.run("execute", "heavy_step.yaml", "-c", "config_argo.yaml", cwd=folder,
                   env=cli.env(RUNNABLE_VAR_docker_image="registry.example/squares:2"))
    assert done.code == 0, done.output
    spec = argo_manifest(folder / "squares-workflow.yaml")["spec"]
    crunch = next(t["container"] for t in spec["templates"] if t["name"] == "crunch")
    assert crunch["image"] == "registry.example/heavy:3"
    assert {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api-secrets", "key": "API_TOKEN"}}} \
        in crunch["env"]
    assert "nightly" not in str([e.get("value") for e in crunch["env"] if e["name"] == "API_TOKEN"])


def test_argo_pods_keep_local_stores_on_the_shared_volume_as_runnable_does(folder, cli):
    done = cli.run("execute", "puts_a_file.yaml", "-c", "config_argo_local_stores.yaml", cwd=folder)
    assert done.code == 0, done.output
    assert "the pods keep it on the shared volume at /mnt/run_log_store, as runnable does" in done.stderr
    reference = "config_argo_local_stores.yaml,stack:argo-volume-chunked-fs,stack:argo-volume-file-system-catalog"
    spec = argo_manifest(folder / "squares-workflow.yaml")["spec"]
    for container in containers(spec):
        assert container["command"][container["command"].index("-c") + 1] == reference
        assert {"name": "STEPLINE_ARGO_RUN_LOG_FOLDER", "value": "/mnt/run_log_store"} in container["env"]
        assert {"name": "STEPLINE_ARGO_CATALOG_LOCATION", "value": "/mnt/catalog"} in container["env"]
    # what a pod does with that reference (the volume here a folder): both stores land on the volume
    volume = folder / "volume"
    pod = cli.env(STEPLINE_ARGO_RUN_LOG_FOLDER=str(volume / "run_log_store"),
                  STEPLINE_ARGO_CATALOG_LOCATION=str(volume / "catalog"))
    assert cli.run("start-run", "pod-run", "-f", "puts_a_file.yaml", "-c", reference, cwd=folder, env=pod).code == 0
    ran = cli.run("execute-single-node", "pod-run", "write", "-f", "puts_a_file.yaml", "-c", reference, cwd=folder,
                  env=pod)
    assert ran.code == 0, ran.output
    assert (volume / "catalog" / "pod-run" / "data.txt").read_text() == "data\n"
    assert (volume / "run_log_store" / "pod-run").is_dir() and not (folder / ".stepline" / "runs").exists()


def test_argo_named_override_sets_env_deadline_and_timeout_as_runnables_do(folder, cli):
    done = cli.run("execute", "heavy_step.yaml", "-c", "config_argo_override_fields.yaml", cwd=folder)
    assert done.code == 0, done.output
    spec = argo_manifest(folder / "squares-workflow.yaml")["spec"]
    crunch = next(t for t in spec["templates"] if t["name"] == "crunch")
    assert {"name": "MODE", "value": "thorough"} in crunch["container"]["env"]
    assert (crunch["activeDeadlineSeconds"], crunch["timeout"]) == (900, "20m")
    others = [t for t in spec["templates"] if "container" in t and t["name"] != "crunch"]
    assert others and all("timeout" not in t and {"name": "MODE", "value": "thorough"} not in t["container"]["env"]
                          for t in others)


@pytest.mark.parametrize(("pipeline", "config", "env", "expected"), [
    ("map_with_anchored_branch.yaml", "config_argo.yaml", {},
     ("config_argo.yaml: executor 'argo': image '$docker_image' names variable $docker_image, which is not set: "
     "export RUNNABLE_VAR_docker_image=... (or STEPLINE_VAR_docker_image)")),
    ("map_with_anchored_branch.yaml", "config_argo_cache.yaml", {},
     ("config_argo_cache.yaml: executor 'argo': configmap_cache_name (Argo memoization of finished steps) is not "
     "supported: a failed run is continued with `stepline retry RUN_ID`; remove the setting")),
    ("map_with_anchored_branch.yaml", "config_argo_no_image.yaml", {},
     ("config_argo_no_image.yaml: executor 'argo': the argo executor needs an image: set image, or defaults.image "
     "as runnable does")),
    ("unknown_override.yaml", "config_argo.yaml", {"RUNNABLE_VAR_docker_image": "x"},
     ("unknown_override.yaml: step 'crunch': argo override 'heavvy' is not defined in the executor's overrides "
     "(did you mean 'heavy'?)")),
    ("puts_a_file.yaml", "config_argo_no_volume.yaml", {},
     ("config_argo_no_volume.yaml: the argo executor runs steps on other machines, but the chunked-fs run log "
      "store is reachable from this machine only; use chunked-fs on a shared volume, chunked-fsspec on S3, or sql "
      "on PostgreSQL")),
    ("map_with_anchored_branch.yaml", "config_argo_override_parallelism.yaml", {},
     ("config_argo_override_parallelism.yaml: executor 'argo': setting 'overrides.one-at-a-time': parallelism in a "
      "step's override is not supported: limit the pods of the whole workflow with the executor's parallelism "
      "(or defaults.parallelism)")),
], ids=["unset variable", "memoization cache", "no image", "unknown named override", "no shared volume",
        "parallelism in an override"])
def test_argo_bad_input_is_one_line(folder, cli, pipeline, config, env, expected):
    result = cli.run("execute", pipeline, "-c", config, cwd=folder, env=cli.env(**env))
    one_line_error(result, expected)
    assert not (folder / "squares-workflow.yaml").exists()


def test_local_container_in_runnables_shape(folder, monkeypatch):
    """docker_image, environment and enable_parallel reach the podman command (no engine needed)."""
    from types import SimpleNamespace

    from stepline.config.loader import load_services
    from stepline.pipeline.nodes import TaskNode
    from stepline.plugins.manager import get_plugin_manager
    from stepline_container.engines import PodmanEngine

    monkeypatch.chdir(folder)
    services = load_services("config_local_container.yaml")
    executor = services.executor
    assert (executor.name, executor.branch_workers, services.secrets.name) == ("local-container", 1, "env")
    get_plugin_manager().configure_integration(executor, services.services(), "traversal")
    run = SimpleNamespace(run_id="r1", pipeline_file=str(folder / "merge_keys.yaml"),
                          config_file=str(folder / "config_local_container.yaml"), services=services)
    node = TaskNode(command="compat_tasks.make_counter")
    argv = PodmanEngine().argv(executor.container_spec(run, node, "make", executor.step_settings(node)))
    assert "localhost/squares:1" in argv
    envs = [argv[i + 1] for i, a in enumerate(argv) if a == "--env"]
    assert "STAGE=nightly" in envs


# ---- the command line ----------------------------------------------------------------------------

def test_execute_with_dash_f_takes_a_lone_argument_as_the_run_id(folder, cli):
    done = cli.run("execute", "-f", "map_with_anchored_branch.yaml", "-p", "numbers.yaml", "squares-by-f", cwd=folder)
    assert done.code == 0, done.output
    assert cli.run_log("squares-by-f", folder)["status"] == "SUCCESS"
    # an argument that names a file is still a second pipeline, which is an error
    one_line_error(cli.run("execute", "-f", "map_with_anchored_branch.yaml", "numbers.yaml", cwd=folder),
                   "two pipelines given ('numbers.yaml' and -f 'map_with_anchored_branch.yaml') (give one)")
