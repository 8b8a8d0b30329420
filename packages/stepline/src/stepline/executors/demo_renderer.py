"""The demo-renderer executor: renders the pipeline as a bash script that makes the orchestration
callbacks (``start-run``, ``execute-single-node``, ``fan out``/``in``, ``finish-run``) — the protocol
Argo and Step Functions follow, run on one machine: ``bash run.sh [RUN_ID]``."""

from __future__ import annotations

import shlex
from typing import ClassVar

from stepline.component import Locality, Settings
from stepline.orchestration.render import NameBook, RenderingExecutor, RenderJob


class DemoRendererSettings(Settings):
    output_file: str = "run.sh"


_HEADER = """#!/usr/bin/env bash
# Rendered by `stepline execute` (demo-renderer executor) from {pipeline}.
# Run it with: bash {output} [RUN_ID]   (STEPLINE=/path/to/stepline to pick the stepline to call)
set -u
RUN_ID="${{1:-${{STEPLINE_RUN_ID:-}}}}"
if [ -z "$RUN_ID" ]; then
  RUN_ID="$(date -u +%Y%m%d-%H%M%S)-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \\n')"
fi
export STEPLINE_RUN_ID="$RUN_ID"
STEPLINE="${{STEPLINE:-stepline}}"
FILES=({files})
echo "run id: $RUN_ID" >&2

sl_step() {{ "$STEPLINE" execute-single-node "$RUN_ID" "$1" "${{FILES[@]}}"; }}
sl_fan() {{ "$STEPLINE" fan "$RUN_ID" "$@" "${{FILES[@]}}"; }}
"""


class DemoRendererExecutor(RenderingExecutor):
    name: ClassVar[str] = "demo-renderer"
    runs_steps_in: ClassVar[Locality] = Locality.MACHINE
    Settings: ClassVar[type[Settings]] = DemoRendererSettings

    def render_text(self, job: RenderJob) -> str:
        return _Script(job, self.settings.output_file).text()


class _Script:
    def __init__(self, job: RenderJob, output: str) -> None:
        self.job = job
        self.output = output
        self.names = NameBook(sep="_", limit=60, prefix="sl_graph_")
        self.functions: list[str] = []
        self.concurrent = job.services.run_log_store.supports_concurrent_writes

    def text(self) -> str:
        from stepline.orchestration.render import finish_run_command, start_run_command

        job = self.job
        files = ["-f", job.pipeline_file] + (["-c", job.config_file] if job.config_file else [])
        main = self.graph_function(job.graph, "")
        start = start_run_command("RUNID", job.pipeline_file, job.config_file, job.params_file)[3:]
        finish = finish_run_command("RUNID", job.pipeline_file, job.config_file)[3:]
        q = shlex.quote
        body = [_HEADER.format(pipeline=job.pipeline_file, output=self.output, files=shlex.join(files)),
                *self.functions,
                f'"$STEPLINE" start-run "$RUN_ID" {shlex.join(start)} || exit $?',
                f"{main} {q('')}",
                f'"$STEPLINE" finish-run "$RUN_ID" {shlex.join(finish)}',
                "exit $?", ""]
        return "\n".join(body)

    def graph_function(self, graph, template: str) -> str:
        """A bash function that walks ``graph``; its one argument is the branch prefix ('' at the top)."""
        name = self.names.name(template or "pipeline")
        q = shlex.quote
        lines = [f"{name}() {{", '  local prefix="$1" current path rc',
                 f"  current={q(graph.start_at)}", "  while :; do",
                 '    path="${prefix:+$prefix.}$current"', '    case "$current" in']
        for step, node in graph.steps.items():
            inner = f"{template}.{step}" if template else step
            lines.append(f"      {q(step)})")
            if node.terminal:
                lines.append('        sl_step "$path"; return $? ;;')
                continue
            if node.composite:
                lines += ["        " + line for line in self.composite(node, inner)]
            else:
                lines.append('        sl_step "$path"; rc=$?')
            failure = node.on_failure or graph.fail_name
            lines.append(f"        if [ $rc -eq 0 ]; then current={q(node.next)}; else current={q(failure)}; fi ;;")
        lines += ['      *) echo "no step $current" >&2; return 2 ;;', "    esac", "  done", "}", ""]
        self.functions.append("\n".join(lines))
        return name

    def composite(self, node, template: str) -> list[str]:
        q = shlex.quote
        kind = node.type
        if kind == "loop":
            body = self.graph_function(node.branch, f"{template}.*")
            return ["local i=0 verdict",
                    "while :; do",
                    '  sl_fan "$path" out --iteration "$i" >/dev/null || { rc=1; break; }',
                    f'  {body} "$path.$i"',
                    '  verdict="$(sl_fan "$path" in --iteration "$i")"; rc=$?',
                    '  [ "$verdict" = continue ] || break',
                    "  i=$((i + 1))",
                    "done"]
        if kind == "map":
            body = self.graph_function(node.branch, f"{template}.*")
            return ['local keys key',
                    'if keys="$(sl_fan "$path" out)"; then',
                    '  for key in $(printf %s "$keys" | tr -d \'[]"\' | tr , " "); do',
                    f'    {body} "$path.$key"',
                    "  done",
                    '  sl_fan "$path" in >/dev/null; rc=$?',
                    "else rc=1; fi"]
        from stepline.orchestration.render import dump_keys

        graphs = node.branch_graphs()
        functions = {key: self.graph_function(graph, f"{template}.{key}") for key, graph in graphs.items()}
        lines = ['local keys', 'if keys="$(sl_fan "$path" out)"; then']
        if kind == "conditional":
            lines.append('  case "$keys" in')
            for key, function in functions.items():
                lines.append(f'    {q(dump_keys([key]))}) {function} "$path."{q(key)} ;;')
            lines.append("  esac")
        else:  # parallel, dag: every branch
            background = " &" if self.concurrent and len(functions) > 1 else ""
            for key, function in functions.items():
                lines.append(f'  {function} "$path."{q(key)}{background}')
            if background:
                lines.append("  wait")
        lines += ['  sl_fan "$path" in >/dev/null; rc=$?', "else rc=1; fi"]
        return lines
