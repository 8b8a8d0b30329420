"""Every example that has a YAML pipeline also has its SDK form (``pipeline.py`` exporting
``pipeline``), unless listed below with the reason. The SDK form builds the same graph, its YAML
dump loads back to the same graph, and ``stepline execute pipeline:pipeline`` runs to the same
result as ``stepline execute pipeline.yaml``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: Examples without an SDK form, and why.
NO_SDK_FORM = {
    "14-nested-dag": "its point is a `dag` step that includes another YAML file; in Python a pipeline is "
                     "reused by passing the Pipeline object as a branch",
    "20-sql-run-log": "about the configuration (a SQL run log store); the pipeline is the same as in 01",
    "21-s3-catalog": "about the configuration (an S3 catalog); the pipeline is the same as in 04",
    "30-vault-secrets": "about the configuration (Vault secrets); the pipeline is the same as in 05",
    "31-aws-secrets": "about the configuration (AWS secrets); the pipeline is the same as in 05",
    "32-mlflow-tracking": "about the configuration (an mlflow tracker)",
}
#: Examples from 60 on render for orchestrators (Argo, Step Functions): an SDK form is optional there;
#: when one exists it must build the same graph, but it is not run here.
RUN_BELOW = "60"
SDK_EXAMPLES = sorted(p.parent.name for p in EXAMPLES.glob("*/pipeline.py"))
RUN_EXAMPLES = [name for name in SDK_EXAMPLES if name < RUN_BELOW]

COMPARE = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("error")  # no unreachable steps either way
    from stepline.pipeline.loader import load_pipeline
    from stepline.pipeline.reference import load_graph
    from stepline.pipeline.yaml_dump import to_yaml

    from_yaml = load_pipeline("pipeline.yaml")
    from_sdk = load_graph("pipeline:pipeline")
    assert from_sdk == from_yaml, "the SDK form builds another graph"
    assert from_sdk.dag_hash() == from_yaml.dag_hash()
    with open("dumped.yaml", "w") as f:
        f.write(to_yaml(from_sdk))
    assert load_pipeline("dumped.yaml") == from_sdk, "the YAML dump loads to another graph"
    import pipeline
    assert pipeline.pipeline.to_yaml() == to_yaml(from_yaml)
    print("same", from_sdk.dag_hash())
""")


def test_every_yaml_example_has_an_sdk_form_or_a_reason():
    for folder in sorted(EXAMPLES.iterdir()):
        if (folder / "pipeline.yaml").is_file() and folder.name < RUN_BELOW:
            assert (folder / "pipeline.py").is_file() or folder.name in NO_SDK_FORM, \
                f"examples/{folder.name} has no pipeline.py (add one, or say why in NO_SDK_FORM)"
    assert SDK_EXAMPLES[:6] == ["01-hello-shell", "02-python-parameters", "03-on-failure", "04-catalog",
                                "05-secrets-dotenv", "06-retries"]


@pytest.mark.parametrize("name", SDK_EXAMPLES)
def test_sdk_form_builds_the_yaml_graph(example, cli, name):
    folder = example(name)
    done = subprocess.run([sys.executable, "-c", COMPARE], check=False, cwd=folder, env=cli.env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("same ")


def outcome(log: dict) -> dict:
    """What must not depend on how the pipeline was defined."""
    run_id = log["run_id"]

    def value(p):
        v = p["value"]
        return (p["kind"], v.replace(run_id, "RUN") if p["kind"] == "object" else v)

    def steps(found: dict) -> dict:
        return {name: (s["status"], s["message"], [a["status"] for a in s["attempts"]],
                       sorted((i["name"], i["stage"], i["data_hash"], i["stored"]) for i in s["data_catalog"]
                              if not i["name"].startswith(("logs/", "notebooks/"))),
                       {key: steps(b["steps"]) for key, b in (s.get("branches") or {}).items()})
                for name, s in found.items()}

    return {"status": log["status"], "dag_hash": log["dag_hash"],
            "parameters": {name: value(p) for name, p in log["parameters"].items()}, "steps": steps(log["steps"])}


def run_args(folder: Path) -> list[str]:
    args = ["-p", "params.yaml"] if (folder / "params.yaml").exists() else []
    return args + (["-c", "config.yaml"] if (folder / "config.yaml").exists() else [])


@pytest.mark.parametrize("name", RUN_EXAMPLES)
def test_sdk_form_runs_to_the_same_result(example, cli, name):
    folder = example(name)
    args = run_args(folder)
    config = args[args.index("-c"):][:2] if "-c" in args else []
    by_yaml = cli.run("execute", "pipeline.yaml", *args, "--run-id", "yaml", cwd=folder, timeout=120)
    by_sdk = cli.run("execute", "pipeline:pipeline", *args, "--run-id", "sdk", cwd=folder, timeout=120)
    assert by_sdk.code == by_yaml.code, by_sdk.output
    # the same output (in any order: parallel branches and map iterations run concurrently)
    assert sorted(by_sdk.stdout.splitlines()) == sorted(by_yaml.stdout.splitlines())
    log_yaml, log_sdk = cli.run_log("yaml", folder, *config), cli.run_log("sdk", folder, *config)
    assert log_sdk["pipeline_file"] == "pipeline:pipeline"
    assert outcome(log_sdk) == outcome(log_yaml)
    assert "Traceback" not in by_sdk.output


def test_sdk_reference_under_the_emulator(example, cli):
    """execute-single-node rebuilds the SDK pipeline from the run log's reference in every step process."""
    folder = example("04-catalog")
    (folder / "emulator.yaml").write_text("executor:\n  type: emulator\n")
    local = cli.run("execute", "pipeline:pipeline", "--run-id", "loc", cwd=folder)
    emulated = cli.run("execute", "pipeline:pipeline", "-c", "emulator.yaml", "--run-id", "emu", cwd=folder)
    assert local.code == emulated.code == 0, emulated.output
    log = cli.run_log("emu", folder)
    assert log["run_config"]["executor"]["type"] == "emulator" and log["pipeline_file"] == "pipeline:pipeline"
    assert outcome(log) == outcome(cli.run_log("loc", folder))


def test_a_script_runs_itself_with_functions_defined_in_it(tmp_path, cli):
    """`python flow.py`: functions of the script (module __main__) are imported by the step processes
    as `flow.<name>`; the reference names the file."""
    (tmp_path / "flow.py").write_text(textwrap.dedent("""
        from stepline import Pipeline, PythonTask, ShellTask

        def numbers(n: int = 3):
            return list(range(n))

        def total(xs: list[int]):
            print("total", sum(xs))
            return sum(xs)

        pipeline = Pipeline(steps=[PythonTask(function=numbers, returns=["xs"]),
                                   PythonTask(function=total, returns=["sum"]),
                                   ShellTask("show", command='echo "sum is $sum"')])

        if __name__ == "__main__":
            import sys
            log = pipeline.execute(configuration_file="emulator.yaml", run_id="script", reference="flow.py:pipeline")
            sys.exit(0 if log.status.value == "SUCCESS" else 1)
    """))
    (tmp_path / "emulator.yaml").write_text("executor:\n  type: emulator\n")
    done = subprocess.run([sys.executable, "flow.py"], check=False, cwd=tmp_path, env=cli.env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total 3" in done.stdout and "sum is 3" in done.stdout
    log = cli.run_log("script", tmp_path)
    assert log["pipeline_file"] == "flow.py:pipeline"
    assert log["parameters"]["sum"] == {"kind": "json", "value": 3}
    again = cli.run("execute-single-node", "script", "show", "-f", "flow.py:pipeline", cwd=tmp_path)
    assert again.code == 0 and again.stdout == "sum is 3\n", again.output


def test_cli_errors_for_sdk_references_are_one_line(tmp_path, cli):
    (tmp_path / "bad.py").write_text("from stepline import Pipeline, PythonTask\n"
                                     "pipeline = Pipeline(steps=[PythonTask('t', function=42)])\n")
    for ref, needle in [("nosuch:pipeline", "error: nosuch:pipeline: cannot import module 'nosuch'"),
                        ("bad:pipeline", "error: bad:pipeline: step 't': function must be a function or a dotted path, not int")]:
        done = cli.run("execute", ref, cwd=tmp_path)
        assert done.code == 2 and needle in done.stderr, done.output
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.output
