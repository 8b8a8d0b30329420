"""``stepline``: run, inspect and validate pipelines.

Every import of the library happens inside a command, so ``stepline --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from stepline.cli.execute import config_reference as _ref
from stepline.cli.execute import (
    execute_one_node,
    execute_pipeline,
    fan_composite,
    finish_rendered_run,
    start_rendered_run,
)
from stepline.cli.execute import pipeline_path as _pipeline_path
from stepline.cli.execute import store_place as _where
from stepline.cli.guard import run_guarded

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Stepline: define a pipeline once, run it anywhere.")
runs_app = typer.Typer(no_args_is_help=True, help="Inspect past runs.")
app.add_typer(runs_app, name="runs")
config_app = typer.Typer(no_args_is_help=True, help="Inspect configurations.")
app.add_typer(config_app, name="config")

ConfigOpt = Annotated[list[str] | None, typer.Option(
    "--config", "-c",
    help="Configuration file or stack:NAME; repeat (or separate with commas) to merge later over earlier.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="One line per finished step on stderr (coloured in a terminal).")]
PipelineOpt = Annotated[str | None, typer.Option("--file", "-f", help="Pipeline file (same as the argument).")]
ParametersOpt = Annotated[str | None, typer.Option("--parameters-file", "--parameters", "-p",
                                                   help="Initial parameters (YAML).")]
RunIdArg = Annotated[str | None, typer.Argument(
    metavar="[RUN_ID]", help="runnable's place for the run id: the same as --run-id.", show_default=False)]
LogLevelOpt = Annotated[str | None, typer.Option(
    "--log-level", help="Level of Stepline's own log messages (DEBUG, INFO, WARNING, ERROR, CRITICAL).")]


@app.callback()
def main_options(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False) -> None:
    if debug:
        os.environ["STEPLINE_DEBUG"] = "1"


@app.command()
def execute(
    pipeline: Annotated[str | None, typer.Argument(
        help="Pipeline YAML file, or an SDK pipeline as module:attribute or path/to/file.py:attribute.")] = None,
    run_id_argument: RunIdArg = None,
    file: PipelineOpt = None,
    config: ConfigOpt = None,
    parameters: ParametersOpt = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Use this run id instead of a new one.")] = None,
    tag: Annotated[str, typer.Option("--tag", help="A label stored in the run log.")] = "",
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = None,
) -> None:
    """Run a pipeline with the configured executor (or render it for an orchestrator)."""
    raise typer.Exit(execute_pipeline(pipeline, file, config, parameters, run_id, tag, progress,
                                      run_id_argument=run_id_argument, log_level=log_level))


@app.command()
def retry(
    run_id: Annotated[str, typer.Argument(help="The run to re-run (failed or interrupted).")],
    config: ConfigOpt = None,
    new_run_id: Annotated[str | None, typer.Option("--run-id", help="Id of the new run.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-run even if the pipeline changed.")] = False,
    progress: ProgressOpt = True,
) -> None:
    """Re-run a run as a new run, skipping every step that succeeded in it."""
    from stepline.cli.progress import StepProgress
    from stepline.cli.summary import summary
    from stepline.config.loader import load_services
    from stepline.run.rerun import rerun as retry_run

    run_log = retry_run(run_id, _ref(config), run_id=new_run_id, force=force,
                        observers=[StepProgress()] if progress else None)
    skipped = sum(1 for s in _all_steps(run_log) if s.message.startswith("skipped: succeeded in run "))
    print(f"re-run of {run_id}: {skipped} steps skipped (succeeded before)", file=sys.stderr)
    print(summary(run_log, _where(load_services(_ref(config)).run_log_store)), file=sys.stderr)
    raise typer.Exit(0 if run_log.status.value == "SUCCESS" else 1)


def _all_steps(run_log):
    from stepline.runlog.flatten import flat_steps

    return flat_steps(run_log).values()


@app.command("execute-single-node")
def execute_single_node(
    run_id: Annotated[str, typer.Argument(help="The run the step belongs to.")],
    step: Annotated[str, typer.Argument(help="Dotted path of the step, e.g. fan.3.square.")],
    file: Annotated[str, typer.Option("--file", "-f", help="Pipeline file.")],
    config: ConfigOpt = None,
    map_variable: Annotated[str | None, typer.Option("--map-variable", help="JSON of map variables.")] = None,
) -> None:
    """Run one step of an existing run (the callback every orchestrator uses)."""
    raise typer.Exit(execute_one_node(run_id, step, file, config, map_variable))


@app.command("execute-job")
def execute_job(
    job: Annotated[str, typer.Argument(
        help="Job YAML file (a 'job:' mapping), or a PythonJob/ShellJob/NotebookJob as module:attribute "
             "or path/to/file.py:attribute.")],
    run_id_argument: RunIdArg = None,
    config: ConfigOpt = None,
    parameters: ParametersOpt = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Use this run id instead of a new one.")] = None,
    tag: Annotated[str, typer.Option("--tag", help="A label stored in the run log.")] = "",
    log_level: LogLevelOpt = None,
) -> None:
    """Run a single task (a job) with the catalog, secrets and run log, but no pipeline."""
    from stepline.cli.execute import runnable_forms

    run_id = runnable_forms(run_id, run_id_argument, log_level)
    from stepline.cli.summary import summary
    from stepline.pipeline.job_file import check_job
    from stepline.run.execute import execute as run_pipeline
    from stepline.run.prepare import prepare

    prepared = prepare(job, _ref(config))
    check_job(prepared.graph, job)
    for warning in prepared.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    run_log = run_pipeline(job, _ref(config), parameters, run_id, tag, prepared=prepared)
    print(summary(run_log, _where(prepared.services.run_log_store)), file=sys.stderr)
    raise typer.Exit(0 if run_log.status.value == "SUCCESS" else 1)


@app.command("start-run")
def start_run(
    run_id: Annotated[str, typer.Argument(help="The run id the engine gives the run.")],
    file: Annotated[str, typer.Option("--file", "-f", help="Pipeline file.")],
    config: ConfigOpt = None,
    parameters: Annotated[str | None, typer.Option("--parameters-file", "-p", help="Initial parameters (YAML).")] = None,
    tag: Annotated[str, typer.Option("--tag", help="A label stored in the run log.")] = "",
) -> None:
    """Create the run log of a rendered run (orchestrators' first callback; a retry is a no-op)."""
    raise typer.Exit(start_rendered_run(run_id, file, config, parameters, tag))


@app.command("finish-run")
def finish_run(
    run_id: Annotated[str, typer.Argument(help="The run to finish.")],
    file: Annotated[str, typer.Option("--file", "-f", help="Pipeline file.")],
    config: ConfigOpt = None,
) -> None:
    """Set a rendered run's final status from its steps (orchestrators' last callback); exit 0/1."""
    raise typer.Exit(finish_rendered_run(run_id, file, config))


@app.command("fan")
def fan(
    run_id: Annotated[str, typer.Argument(help="The run the composite step belongs to.")],
    step: Annotated[str, typer.Argument(help="Dotted path of the composite step, e.g. fan or outer.0.inner.")],
    direction: Annotated[str, typer.Argument(help="out (start the branches) or in (end the composite).")],
    file: Annotated[str, typer.Option("--file", "-f", help="Pipeline file.")],
    config: ConfigOpt = None,
    iteration: Annotated[int | None, typer.Option("--iteration", help="Loop steps: the iteration (0, 1, ...).")] = None,
    output_file: Annotated[str | None, typer.Option("--output-file", help="Also write the output to this file.")] = None,
) -> None:
    """Fan a composite step out (print the JSON list of branch keys to run) or in (print SUCCESS, FAIL,
    or `continue` for a loop that runs again); exit 0, or 1 when the composite failed."""
    raise typer.Exit(fan_composite(run_id, step, direction, file, config, iteration, output_file))


@app.command()
def validate(
    pipeline: Annotated[str | None, typer.Argument(help="Pipeline YAML file.")] = None,
    file: PipelineOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Check a pipeline and configuration without running anything."""
    from stepline.pipeline.graph import walk
    from stepline.run.prepare import prepare

    prepared = prepare(_pipeline_path(pipeline, file), _ref(config))
    for warning in prepared.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    count = sum(1 for _, node in walk(prepared.graph) if not node.terminal)
    print(f"ok: {count} steps, executor {prepared.services.executor.name}")


@app.command()
def plugins() -> None:
    """List installed component types: kind, name, package and version."""
    from stepline.plugins.manager import get_registry, get_stacks

    entries = sorted(get_registry().entries.values(), key=lambda e: (e.kind, e.name))
    stacks = sorted(get_stacks().values(), key=lambda s: s.name)
    width = max(len(e.name) for e in [*entries, *stacks])
    for e in entries:
        print(f"{e.kind:<19} {e.name:<{width}}  {e.package} {e.version}  ({e.plugin})")
    for s in stacks:
        where = s.source if isinstance(s.source, str) else "mapping"
        print(f"{'stack':<19} {s.name:<{width}}  {s.package} {s.version}  ({s.plugin}: {where})")


@app.command("new-backend")
def new_backend(
    kind: Annotated[str, typer.Argument(
        help="executor, run-log-store, catalog, secrets or experiment-tracker.")],
    name: Annotated[str, typer.Argument(help="The type: users will write, e.g. my-store.")],
    folder: Annotated[Path, typer.Argument(help="Where to write the package (missing or empty).")],
) -> None:
    """Write a standalone backend package stepline-NAME: entry point, implementation, contract tests."""
    from stepline.scaffold import write_backend

    written = write_backend(kind, name, folder)
    print(f"wrote stepline-{name} ({len(written)} files) to {folder}; next: "
          f"cd {folder} && pip install -e '.[testing]' && pytest", file=sys.stderr)


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """The effective configuration (after extends, merges and placeholders) as YAML, secrets masked,
    with the file each section came from."""
    from stepline.config.show import effective_yaml

    print(effective_yaml(_ref(config)), end="")


@runs_app.command("list")
def runs_list(
    config: ConfigOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only runs with this tag.")] = None,
) -> None:
    """Runs in the configured run log store, oldest first."""
    from stepline.cli.summary import _seconds, format_duration
    from stepline.config.loader import load_services

    for run in load_services(_ref(config)).run_log_store.list_runs():
        if (status and run.status.value != status.upper()) or (tag and run.tag != tag):
            continue
        duration = format_duration(_seconds(run.start_time, run.end_time))
        again = f"  (re-run of {run.original_run_id})" if run.original_run_id else ""
        print(f"{run.run_id}  {run.status.value:<10}  {run.start_time[:19]}  {duration:>8}  {run.tag}{again}".rstrip())


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run to show.")],
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole run log as JSON.")] = False,
) -> None:
    """One run: a tree of its steps, branches, attempts, parameters and catalog items; --json: raw."""
    from stepline.config.loader import load_services

    store = load_services(_ref(config)).run_log_store
    run_log = store.get_run_log(run_id)
    if as_json:
        print(run_log.model_dump_json(indent=2))
    else:
        from stepline.cli.inspect import run_tree

        print(run_tree(run_log, _where(store)))


@runs_app.command("diff")
def runs_diff(
    first: Annotated[str, typer.Argument(help="A run id.")],
    second: Annotated[str, typer.Argument(help="Another run id.")],
    config: ConfigOpt = None,
) -> None:
    """What differs between two runs: parameters, metrics, step statuses."""
    from stepline.cli.inspect import run_diff
    from stepline.config.loader import load_services

    store = load_services(_ref(config)).run_log_store
    text, _ = run_diff(store.get_run_log(first), store.get_run_log(second))
    print(text)


@runs_app.command("timeline")
def runs_timeline(
    run_id: Annotated[str, typer.Argument(help="The run to draw.")],
    config: ConfigOpt = None,
    html: Annotated[str | None, typer.Option("--html", help="Also write a self-contained HTML timeline here.")] = None,
    open_file: Annotated[bool, typer.Option("--open", help="Open the HTML file in a browser (with --html).")] = False,
) -> None:
    """A run's steps, branches and attempts with status, duration and bars to scale; --html: a page."""
    from stepline.config.loader import load_services
    from stepline.errors import StepLineError
    from stepline.inspect.console import print_console
    from stepline.inspect.timeline import build_timeline

    if open_file and not html:
        raise StepLineError("--open needs --html FILE", hint=f"stepline runs timeline {run_id} --html timeline.html --open")
    timeline = build_timeline(load_services(_ref(config)).run_log_store.get_run_log(run_id))
    print_console(timeline)
    if html:
        from pathlib import Path

        from stepline.inspect.html_file import render_html

        target = Path(html)
        try:
            target.write_text(render_html(timeline), encoding="utf-8")
        except OSError as exc:
            raise StepLineError(f"cannot write the timeline to '{html}': {exc.strerror}",
                                hint="pick a writable path for --html") from None
        print(f"timeline written to {target}", file=sys.stderr)
        if open_file:
            import webbrowser

            webbrowser.open(target.resolve().as_uri())


@app.command()
def ui(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback unless you mean to share it).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8080,
) -> None:
    """A local, read-only web app over the configured run log store: runs, timelines, steps, compare."""
    from stepline.errors import StepLineError
    from stepline.ui.serve import is_loopback, serve

    if not 0 <= port <= 65535:
        raise StepLineError(f"--port {port} is not a port number", hint="give 0-65535, e.g. --port 8080")
    if not is_loopback(host):
        print(f"warning: listening on {host}: anyone who can reach this address can read every run log "
              "and catalog item of this store (there is no login)", file=sys.stderr)
    serve(_ref(config), host, port)


def _register_graph() -> None:
    from stepline.cli.graph import graph  # typer only; the command imports the rest when it runs

    app.command("graph")(graph)


_register_graph()


def main() -> None:
    """The typer app with one-line errors and truthful exit codes (the console entry point,
    :func:`stepline.cli.entry.main`, comes here for every command but the fast path of ``execute``)."""
    run_guarded(app)


if __name__ == "__main__":
    main()
