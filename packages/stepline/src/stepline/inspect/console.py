"""The timeline on a terminal: a tree of spans with status, duration and a bar to scale.

Built from rich ``Text`` objects, never from markup strings: what a task printed (``[/usr/...]``)
is shown as it is. Colour only on a terminal (rich decides; NO_COLOR is honoured).
"""

from __future__ import annotations

import io
import sys

from rich.console import Console
from rich.text import Text

from stepline.cli.summary import format_duration
from stepline.inspect.timeline import Span, Timeline, branch_summary

#: Branches drawn per composite before the rest are summarised; failed ones are always drawn.
MAX_BRANCHES = 20
BAR_WIDTH = 40
LABEL_WIDTH = 44
STYLES = {"SUCCESS": "green", "FAIL": "red", "PROCESSING": "yellow", "CREATED": "dim", "TRIGGERED": "cyan"}


def _rows(span: Span, depth: int, rows: list[tuple[int, Span | str]]) -> None:
    rows.append((depth, span))
    children = span.children
    branches = [c for c in children if c.kind == "branch"]
    shown = [c for c in children if c.kind != "branch"] + [
        b for i, b in enumerate(branches) if i < MAX_BRANCHES or b.status != "SUCCESS"]
    for child in shown:
        _rows(child, depth + 1, rows)
    hidden = len(children) - len(shown)
    if hidden:
        rows.append((depth + 1, f"... and {hidden} more branches, all SUCCESS"))


def _label(span: Span) -> str:
    if span.kind == "run":
        return f"run {span.name}"
    if span.kind == "branch":
        return f"[{span.name}]"
    kind = "" if span.kind != "step" or span.step_type in ("task", "") else f" ({span.step_type})"
    return span.name + kind


def _bar(span: Span, total: float) -> Text:
    bar = Text(" " * BAR_WIDTH)
    if span.start is None:
        return bar
    first = max(0, min(BAR_WIDTH - 1, int(span.start / total * BAR_WIDTH)))
    end = min(total, span.end if span.end is not None else total)
    last = max(first + 1, min(BAR_WIDTH, round(end / total * BAR_WIDTH)))
    char = "█" if span.end is not None else "▒"
    return Text(" " * first + char * (last - first) + " " * (BAR_WIDTH - last))


def render_console(timeline: Timeline, color: bool | None = None, width: int | None = None) -> Text:
    """The whole timeline as one rich ``Text`` (print it with any rich console)."""
    rows: list[tuple[int, Span | str]] = []
    _rows(timeline.root, 0, rows)
    out = Text()
    for depth, row in rows:
        indent = "  " * depth
        if isinstance(row, str):
            out.append(f"{indent}{row}\n", style="dim")
            continue
        label = indent + _label(row)
        if len(label) > LABEL_WIDTH:
            label = label[: LABEL_WIDTH - 1] + "…"
        style = STYLES.get(row.status, "")
        out.append(f"{label:<{LABEL_WIDTH}} ")
        out.append(f"{row.status:<10}", style=style)
        out.append(f"{format_duration(row.duration):>9} ")
        out.append("│", style="dim")
        bar = _bar(row, timeline.total)
        bar.stylize(style)
        out.append(bar)
        out.append("│", style="dim")
        notes = []
        if row.branch_counts:
            notes.append(branch_summary(row.branch_counts))
        if row.skipped_from:
            notes.append(f"skipped: succeeded in run {row.skipped_from}")
        elif row.message and row.kind != "run":
            notes.append(row.message.splitlines()[0][:120])
        if row.mock:
            notes.append("mocked")
        if notes:
            out.append(" " + "  ".join(notes))
        out.append("\n")
    scale = f"{'':<{LABEL_WIDTH + 21}}0{format_duration(timeline.total):>{BAR_WIDTH + 1}}\n"
    out.append(scale, style="dim")
    return out


def print_console(timeline: Timeline, file=None) -> None:
    """Print the timeline; plain text when the output is not a terminal."""
    target = file or sys.stdout
    console = Console(file=target, highlight=False, markup=False, emoji=False, soft_wrap=True,
                      force_terminal=None if target in (sys.stdout, sys.stderr) else False)
    console.print(render_console(timeline), end="")


def console_text(timeline: Timeline) -> str:
    """The timeline as plain text (no colour): what a pipe or a test sees."""
    buffer = io.StringIO()
    print_console(timeline, buffer)
    return buffer.getvalue()
