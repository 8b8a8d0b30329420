"""``stepline graph``: a pipeline's shape as text, Mermaid or Graphviz dot (registered in cli/app.py)."""

from __future__ import annotations

from typing import Annotated

import typer


def graph(
    pipeline: Annotated[str, typer.Argument(
        help="Pipeline YAML file, or an SDK pipeline as module:attribute or path/to/file.py:attribute.")],
    fmt: Annotated[str, typer.Option("--format", help="text, mermaid or dot.")] = "text",
    run: Annotated[str | None, typer.Option("--run", help="Annotate and colour steps by their status in this run.")] = None,
    config: Annotated[list[str] | None, typer.Option(
        "--config", "-c", help="Configuration file or stack:NAME (to find --run); repeat to merge.")] = None,
) -> None:
    """Draw a pipeline's steps and branches; with --run, show each step's status in that run."""
    from stepline.pipeline.reference import load_graph
    from stepline.pipeline.render_graph import render, run_statuses

    shape = load_graph(pipeline)
    statuses = None
    if run:
        from stepline.config.loader import load_services
        from stepline.runlog.flatten import statuses as step_statuses

        statuses = run_statuses(shape, step_statuses(
            load_services(",".join(config) if config else None).run_log_store.get_run_log(run)))
    print(render(shape, fmt, statuses, title=pipeline if fmt != "mermaid" else ""))
