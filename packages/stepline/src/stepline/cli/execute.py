"""The bodies of the commands the fast path of :mod:`stepline.cli.entry` runs without building typer's
command tree: ``stepline execute``, and the callbacks an engine's pods run (``execute-single-node``,
``start-run``, ``fan``, ``finish-run``); and the small helpers other commands share with them. No
typer here. Each returns the command's exit code. The garbage collector, paused by the entry point,
is resumed before a step runs; the three run-level callbacks run no user code and leave it paused
(see :mod:`stepline.cli.collector`)."""

from __future__ import annotations

import os
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


def run_id_after_file(positional: str | None, option: str | None, run_id_argument: str | None
                      ) -> tuple[str | None, str | None]:
    """``execute -f FILE RUN_ID`` (magnus' ``-f`` with runnable's run id argument): with ``-f`` given,
    a lone argument that is a run id and names no file is the run id. ``(pipeline, run id argument)``."""
    if not (option and positional and run_id_argument is None and positional != option):
        return positional, run_id_argument
    from stepline.paths import UnsafeIdentifierError, check_run_id

    try:
        check_run_id(positional)
    except UnsafeIdentifierError:
        return positional, run_id_argument
    if os.path.exists(positional):
        return positional, run_id_argument
    return None, positional


def store_place(store) -> str:
    """Where a run log store keeps its runs, for the last line of a summary."""
    described = store.describe()
    config = described.get("config") or {}
    place = config.get("log_folder") or config.get("location") or config.get("url") or "memory"
    return f"{place} ({described['type']})"


def runnable_forms(run_id: str | None, run_id_argument: str | None, log_level: str | None) -> str | None:
    """runnable's ``execute FILE RUN_ID`` and ``--log-level`` (the level of Stepline's own logger):
    the run id to use."""
    from stepline.errors import StepLineError

    if log_level is not None:
        import logging  # only then: importing it costs every run a few milliseconds

        level = log_level.upper().replace("FATAL", "CRITICAL")
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise StepLineError(f"--log-level '{log_level}' is not a level",
                                hint="DEBUG, INFO, WARNING, ERROR or CRITICAL")
        logging.getLogger("stepline").setLevel(level)
    if run_id_argument and run_id and run_id_argument != run_id:
        raise StepLineError(f"two run ids: '{run_id_argument}' and --run-id '{run_id}'", hint="give one")
    return run_id or run_id_argument


def execute_pipeline(pipeline: str | None, file: str | None, config: list[str] | None, parameters: str | None,
                     run_id: str | None, tag: str, progress: bool, *, run_id_argument: str | None = None,
                     log_level: str | None = None) -> int:
    """Run a pipeline (or render it for an orchestrator) as ``stepline execute`` does; the exit code."""
    from stepline.cli.progress import StepProgress
    from stepline.cli.summary import summary
    from stepline.run.execute import execute as run_pipeline
    from stepline.run.prepare import prepare

    pipeline, run_id_argument = run_id_after_file(pipeline, file, run_id_argument)
    run_id = runnable_forms(run_id, run_id_argument, log_level)
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


def start_rendered_run(run_id: str, file: str, config: list[str] | None, parameters: str | None, tag: str) -> int:
    """Create the run log of a rendered run as ``stepline start-run`` does (a retry is a no-op)."""
    from stepline.orchestration.callbacks import start_run

    created = start_run(run_id, file, config_reference(config), parameters, tag)
    print(f"run {run_id}: {'started' if created else 'already started'}", file=sys.stderr)
    return 0


def finish_rendered_run(run_id: str, file: str, config: list[str] | None) -> int:
    """Set a rendered run's final status from its steps as ``stepline finish-run`` does."""
    from stepline.orchestration.callbacks import finish_run

    status = finish_run(run_id, file, config_reference(config))
    print(f"run {run_id}: {status.value}", file=sys.stderr)
    return 0 if status.value == "SUCCESS" else 1


def fan_composite(run_id: str, step: str, direction: str, file: str, config: list[str] | None,
                  iteration: int | None, output_file: str | None) -> int:
    """Fan a composite step out or in as ``stepline fan`` does: print (and maybe write) its output."""
    from pathlib import Path

    from stepline.errors import StepLineError
    from stepline.orchestration import callbacks
    from stepline.orchestration.render import dump_keys

    if direction == "out":
        status, keys = callbacks.fan_out(run_id, step, file, config_reference(config), iteration)
        text, ok = dump_keys(keys), status.value != "FAIL"
    elif direction == "in":
        text = callbacks.fan_in(run_id, step, file, config_reference(config), iteration)
        ok = text != "FAIL"
    else:
        raise StepLineError(f"fan direction must be 'out' or 'in', not {direction!r}",
                            hint=f"stepline fan RUN_ID {step} out -f PIPELINE")
    print(text)
    if output_file:
        Path(output_file).write_text(text)
    return 0 if ok else 1
