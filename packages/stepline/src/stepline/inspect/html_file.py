"""The timeline as one self-contained HTML file: every script and style inline, no network."""

from __future__ import annotations

import html
import json
from functools import cache
from importlib.resources import files
from typing import Any

from stepline.cli.summary import format_duration
from stepline.inspect.timeline import Span, Timeline

#: Longest JSON text kept per input, output or metric value (a tooltip, not a data viewer).
VALUE_CHARS = 400


@cache
def asset(name: str) -> str:
    """A file shipped in ``stepline/inspect/assets`` (the timeline's script and style)."""
    return (files("stepline.inspect") / "assets" / name).read_text(encoding="utf-8")


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _span_data(span: Span) -> dict[str, Any]:
    data = span.model_dump(exclude={"children", "inputs", "outputs", "metrics"}, exclude_defaults=True)
    data.update(kind=span.kind, name=span.name, path=span.path, status=span.status,
                start=span.start, end=span.end, message=span.message[:2000],
                inputs={k: _short(v) for k, v in span.inputs.items()},
                outputs={k: _short(v) for k, v in span.outputs.items()},
                metrics={k: _short(v) for k, v in span.metrics.items()},
                children=[_span_data(c) for c in span.children])
    return data


def timeline_json(timeline: Timeline) -> str:
    """The timeline as the JSON the script reads, safe inside a ``<script>`` element."""
    data = {"run_id": timeline.run_id, "total": timeline.total, "root": _span_data(timeline.root)}
    text = json.dumps(data, separators=(",", ":"), default=str)
    # no '</script>' or '<!--' can end the element early
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(timeline: Timeline) -> str:
    """A standalone page with the run's timeline (open it in any browser, offline)."""
    title = f"stepline run {timeline.run_id}"
    facts = [f"status {timeline.status}", f"started {timeline.started}", f"took {format_duration(timeline.total)}"]
    if timeline.tag:
        facts.append(f"tag {timeline.tag}")
    if timeline.original_run_id:
        facts.append(f"re-run of {timeline.original_run_id}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>{html.escape(title)}</title>
<style>body {{ margin: 16px; font: 14px system-ui, sans-serif; color: #1f2933; }} h1 {{ font-size: 18px; margin: 0 0 4px; }}
.facts {{ color: #52606d; margin-bottom: 12px; }}
{asset("timeline.css")}</style></head>
<body><h1>{html.escape(title)} <span class="sl-status sl-{html.escape(timeline.status)}">{html.escape(timeline.status)}</span></h1>
<div class="facts">{html.escape(" · ".join(facts))}</div>
<div id="timeline" data-sl-timeline="timeline-data"></div>
<script type="application/json" id="timeline-data">{timeline_json(timeline)}</script>
<script>{asset("timeline.js")}</script>
</body></html>
"""
