"""Re-runs: continue a failed (or interrupted) run in a NEW run that skips what already succeeded.

The new run starts from the original's initial parameters, with a copy of its catalog. Every leaf
step (also inside map iterations, parallel branches, loops, conditionals and nested dags) that
succeeded in the original is recorded as skipped-from-original (see
:mod:`stepline.executors.skip_from_original`). Composites always fan out and fan in again (cheap;
their leaves are skipped). The original run log is never modified.
"""

from __future__ import annotations

from stepline.errors import NotSupportedError, StepLineError
from stepline.runlog.models import RunLog


class PipelineChangedError(StepLineError):
    """The pipeline a re-run would use is not the one the original run used."""


def initial_parameters_of(original: RunLog) -> dict:
    """The parameters ``original`` started with (older run logs kept only the final ones)."""
    if "initial_parameters" in original.model_fields_set:
        return dict(original.initial_parameters)
    return dict(original.parameters)


def rerun(original_run_id: str, config_file: str | None = None, *, run_id: str | None = None,
          force: bool = False, quiet: bool = False, prepared=None, observers: list | None = None,
          pipeline_file: str | None = None, top_level: bool = False) -> RunLog:
    """Re-run ``original_run_id`` as a new run (``stepline retry``); return the new run's log
    (``top_level``: without the steps of branches).
    ``prepared`` and ``pipeline_file`` give the pipeline to use (an SDK script's) instead of the one
    the original run recorded; it is compared with the original by dag hash all the same."""
    from stepline.config.loader import load_services
    from stepline.run.lifecycle import run_to_end, start_run
    from stepline.run.prepare import prepare

    store = (prepared.services if prepared else load_services(config_file)).run_log_store
    original = store.get_run_log(original_run_id)
    pipeline_file = pipeline_file or original.pipeline_file
    if not pipeline_file:
        raise StepLineError(f"run '{original_run_id}' does not record its pipeline file",
                            hint="re-run it with `stepline execute`")
    prepared = prepared or prepare(pipeline_file, config_file)
    if prepared.services.executor.renders:
        raise NotSupportedError(f"retry is not supported with the {prepared.services.executor.name} executor, "
                                "which renders the pipeline for another engine",
                                hint="re-run with an executor that traverses the graph: local, emulator, ...")
    new_hash = prepared.graph.dag_hash()
    if original.dag_hash and new_hash != original.dag_hash and not force:
        raise PipelineChangedError(
            f"the pipeline changed since run '{original_run_id}' (dag hash {original.dag_hash[:12]} is now "
            f"{new_hash[:12]})", file=pipeline_file,
            hint="restore it, or pass --force to re-run with the new pipeline (steps are matched by name)")
    run = start_run(prepared, pipeline_file=pipeline_file, config_file=config_file, params_file=None,
                    run_id=run_id, tag=original.tag, quiet=quiet,
                    parameters=initial_parameters_of(original), original=original, observers=observers)
    return run_to_end(run, top_level=top_level)
