"""The bodies of ``stepline execute`` and ``stepline execute-single-node`` and the small helpers other
commands share with them. No typer here: the fast path of :mod:`stepline.cli.entry` calls these
without building the command tree."""

from __future__ import annotations

import sys

from stepline.cli import collector


def config_reference(configs: list[str] | None) -> str | None:
    """Several ``-c`` as one reference, comma-separated: the form ``STEPLINE_CONFIGURATION_FILE``
    takes and rendered callbacks pass on; later entries merge over earlier ones."""
    return ",".join(configs) if configs else None


def pipeline_path(positional: str | None, option: str | None) -> str:
    """The pipeline given as the argument or as ``-f`` (one of them, or both the same)."""
    from stepline.errors import StepLineError

    if positional and option and positional != option:
        raise StepLineError(f"two pipelines given ('{positional}' and -f '{option}')", hint="give one")
    path = positional or option
    if not path:
        raise StepLineError("no pipeline given", hint="stepline execute PIPELINE.yaml")
    return path


def store_place(store) -> str:
    """Where a run log store keeps its runs, for the last line of a summary."""
    described = store.describe()
    config = described.get("config") or {}
    place = config.get("log_folder") or config.get("location") or config.get("url") or "memory"
    return f"{place} ({described['type']})"


def execute_pipeline(pipeline: str | None, file: str | None, config: list[str] | None, parameters: str | None,
                     run_id: str | None, tag: str, progress: bool) -> int:
    """Run a pipeline (or render it for an orchestrator) as ``stepline execute`` does; the exit code."""
    from stepline.cli.progress import StepProgress
    from stepline.cli.summary import summary
    from stepline.run.execute import execute as run_pipeline
    from stepline.run.prepare import prepare

    path = pipeline_path(pipeline, file)
    reference = config_reference(config)
    prepared = prepare(path, reference)
    collector.resume()
    for warning in prepared.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if prepared.services.executor.renders:
        from stepline.run.execute import render

        written = render(path, reference, parameters, prepared=prepared)
        print(f"rendered {path} with the {prepared.services.executor.name} executor to {written}", file=sys.stderr)
        return 0
    run_log = run_pipeline(path, reference, parameters, run_id, tag, prepared=prepared,
                           observers=[StepProgress()] if progress else None, top_level=True)
    print(summary(run_log, store_place(prepared.services.run_log_store)), file=sys.stderr)
    return 0 if run_log.status.value == "SUCCESS" else 1


def execute_one_node(run_id: str, step: str, file: str, config: list[str] | None, map_variable: str | None) -> int:
    """Run one step of an existing run as ``stepline execute-single-node`` does; the exit code."""
    from stepline.run.execute import execute_single_node as run_step
    from stepline.run.prepare import prepare

    reference = config_reference(config)
    prepared = prepare(file, reference)
    collector.resume()
    status = run_step(run_id, step, file, reference, map_variable, prepared=prepared)
    return 0 if status.value == "SUCCESS" else 1
