"""The web app of ``stepline ui``: runs list, run page, step panel, catalog downloads, compare.

Read-only by construction: every route is a GET; the only files served are the app's own assets
and catalog items the run log records for that run, read through the catalog's public API.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import partial
from importlib.resources import files
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from stepline.cli.inspect import diff_sections
from stepline.cli.summary import format_duration
from stepline.errors import RunNotFoundError, StepLineError
from stepline.inspect.html_file import asset, render_html, timeline_json
from stepline.inspect.run_graph import run_graph
from stepline.inspect.timeline import Span, branch_summary, build_timeline, find_span
from stepline.paths import UnsafeIdentifierError
from stepline.runlog.listing import RunQuery, normalise_time
from stepline.runlog.models import DataCatalogItem, RunLog, Status

PAGE_SIZE = 50
#: Seconds between reloads of the page of a run that is still going.
REFRESH_SECONDS = 3
#: Most of an execution log shown inline (the end of it); the whole log is a download.
LOG_TAIL_BYTES = 200_000
RUNNING = ("CREATED", "PROCESSING")
_ASSETS = {"timeline.js": ("text/javascript", "inspect"), "timeline.css": ("text/css", "inspect"),
           "ui.css": ("text/css", "ui")}
_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(str(files("stepline.ui") / "templates")),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["duration"] = format_duration
    env.filters["when"] = lambda text: (text or "")[:19].replace("T", " ")
    env.globals["branch_summary"] = branch_summary
    return env


class UiState:
    """What every request reads: the services of one config file, loaded once."""

    def __init__(self, config: str | None) -> None:
        from stepline.config.loader import load_services

        services = load_services(config)
        self.store = services.run_log_store
        self.catalog = services.catalog
        self.config = config
        self.templates = _templates()

    def page(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        text = self.templates.get_template(name).render(store=self.store.name, config=self.config, **context)
        return HTMLResponse(text, status_code=status_code, headers=_HEADERS)


# ---- runs list ------------------------------------------------------------------------------------
def _query(request: Request) -> RunQuery:
    params = request.query_params
    statuses = frozenset(Status(s) for s in params.getlist("status") if s in Status.__members__)
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    for bound in ("since", "until"):
        value = params.get(bound)
        try:
            if value:
                normalise_time(value)
        except ValueError:
            raise HTTPException(400, f"'{bound}' is not a date or an ISO-8601 time: {value!r}") from None
    return RunQuery(statuses=statuses, tag=params.get("tag") or None, since=params.get("since") or None,
                    until=_day_after(params.get("until")) or None, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)


def _day_after(until: str | None) -> str | None:
    """'until 2026-01-02' includes that day: a bare date becomes the next midnight."""
    if not until or "T" in until:
        return until
    try:
        return (dt.date.fromisoformat(until) + dt.timedelta(days=1)).isoformat()
    except ValueError:
        return until


def runs_list(state: UiState, request: Request) -> HTMLResponse:
    query = _query(request)
    found = state.store.query_runs(query)
    page = query.offset // PAGE_SIZE + 1
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def page_link(number: int) -> str:
        return "/?" + urlencode(kept + [("page", str(number))])

    return state.page("runs.html", runs=found.runs, total=found.total, page=page, pages=pages, page_link=page_link,
                      statuses=[s.value for s in Status], chosen=set(request.query_params.getlist("status")),
                      tag=request.query_params.get("tag", ""), since=request.query_params.get("since", ""),
                      until=request.query_params.get("until", ""))


# ---- one run --------------------------------------------------------------------------------------
def _run_log(state: UiState, run_id: str) -> RunLog:
    try:
        return state.store.get_run_log(run_id)
    except (RunNotFoundError, UnsafeIdentifierError):  # an id that cannot be a run is not found either
        raise HTTPException(404, f"no run '{run_id}' in the {state.store.name} run log store") from None


def _items(run: RunLog, path: str) -> list[DataCatalogItem]:
    step = run.find_step(path)
    return list(step.data_catalog) if step else []


def _execution_logs(state: UiState, items: list[DataCatalogItem]) -> list[tuple[DataCatalogItem, str]]:
    logs = []
    for item in items:
        if item.name.startswith("logs/") and item.name.endswith(".log"):
            try:
                data = state.catalog.get_bytes(item.catalog_relative_path)
            except (StepLineError, OSError) as exc:
                logs.append((item, f"(cannot read the log: {exc})"))
                continue
            cut = data[-LOG_TAIL_BYTES:]
            text = cut.decode("utf-8", errors="replace")
            logs.append((item, ("... (start cut)\n" if len(cut) < len(data) else "") + text))
    return logs


def run_page(state: UiState, request: Request) -> HTMLResponse:
    run_id = request.path_params["run_id"]
    run = _run_log(state, run_id)
    timeline = build_timeline(run)
    selected = request.query_params.get("step", "")
    step: Span | None = find_span(timeline, selected) if selected else None
    if selected and step is None:
        raise HTTPException(404, f"run '{run_id}' has no step '{selected}'")
    items = _items(run, selected) if step else []
    executor = (run.run_config.get("executor") or {}).get("type", "")
    others = [r.run_id for r in state.store.query_runs(RunQuery(limit=200)).runs if r.run_id != run_id]
    return state.page("run.html", run=run, timeline=timeline, timeline_data=timeline_json(timeline),
                      graph=run_graph(timeline), step=step, selected=selected, items=items,
                      logs=_execution_logs(state, items) if step else [], executor=executor,
                      refresh=REFRESH_SECONDS if run.status.value in RUNNING else None,
                      duration=timeline.root.duration, others=others)


def timeline_file(state: UiState, request: Request) -> HTMLResponse:
    run = _run_log(state, request.path_params["run_id"])
    return HTMLResponse(render_html(build_timeline(run)), headers={
        "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
        "Content-Disposition": f'inline; filename="timeline-{run.run_id}.html"'})


def catalog_item(state: UiState, request: Request) -> Response:
    """A catalog item the run log records for this run, as a download; nothing else."""
    run_id, path = request.path_params["run_id"], request.path_params["path"]
    parts = PurePosixPath(path).parts
    if path.startswith("/") or ".." in parts or "\\" in path or not parts or parts[0] != run_id:
        raise HTTPException(404, "not a catalog item of this run")
    run = _run_log(state, run_id)
    recorded = {item.catalog_relative_path for step in _all_steps(run) for item in step.data_catalog}
    if path not in recorded:
        raise HTTPException(404, f"run '{run_id}' recorded no catalog item '{path}'")
    root = getattr(state.catalog, "root", None)
    if root is not None and not (root / path).resolve().is_relative_to(root.resolve()):
        raise HTTPException(404, "not inside the catalog")  # e.g. a symlink out of the catalog
    try:
        data = state.catalog.get_bytes(path)
    except (StepLineError, OSError):
        raise HTTPException(404, f"'{path}' is not in the {state.catalog.name} catalog") from None
    name = PurePosixPath(path).name.replace('"', "")
    return Response(data, media_type="application/octet-stream",
                    headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def _all_steps(run: RunLog):
    from stepline.runlog.flatten import flat_steps

    return flat_steps(run).values()


def compare(state: UiState, request: Request) -> HTMLResponse:
    first, second = request.query_params.get("a", ""), request.query_params.get("b", "")
    if not first or not second:
        raise HTTPException(400, "compare needs two runs: /compare?a=RUN_ID&b=RUN_ID")
    a, b = _run_log(state, first), _run_log(state, second)
    return state.page("compare.html", a=a, b=b, sections=diff_sections(a, b))


def static_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _ASSETS:
        raise HTTPException(404, f"no asset '{name}'")
    media, where = _ASSETS[name]
    text = asset(name) if where == "inspect" else (files("stepline.ui") / "static" / name).read_text("utf-8")
    return Response(text, media_type=media, headers={"X-Content-Type-Options": "nosniff"})


def create_app(config: str | None = None) -> Starlette:
    """The app over the run log store and catalog that ``config`` (a config file path) names."""
    state = UiState(config)

    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        return state.page("error.html", status_code=exc.status_code, code=exc.status_code, detail=exc.detail)

    async def server_error(request: Request, exc: Exception) -> HTMLResponse:
        # one line, never a traceback: the store may be unreachable, a record unreadable
        detail = str(exc).splitlines()[0] if isinstance(exc, StepLineError) else type(exc).__name__
        return state.page("error.html", status_code=500, code=500, detail=f"cannot show this page: {detail}")

    routes = [
        Route("/", partial(runs_list, state), methods=["GET"]),
        Route("/runs/{run_id}", partial(run_page, state), methods=["GET"]),
        Route("/runs/{run_id}/timeline.html", partial(timeline_file, state), methods=["GET"]),
        Route("/runs/{run_id}/catalog/{path:path}", partial(catalog_item, state), methods=["GET"]),
        Route("/compare", partial(compare, state), methods=["GET"]),
        Route("/static/{name}", static_asset, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})
