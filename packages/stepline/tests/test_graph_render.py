"""``stepline graph``: the pipeline's shape as text, Mermaid and dot, with a run's statuses."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from stepline.errors import StepLineError
from stepline.pipeline.loader import load_pipeline
from stepline.pipeline.render_graph import StepState, render, run_statuses

STEPLINE = str(Path(sys.executable).with_name("stepline"))

PIPELINE = """
dag:
  start_at: prepare
  steps:
    prepare:
      type: task
      command_type: shell
      command: 'echo "ok"'
      next: fan
      on_failure: report "error"
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: square
        steps:
          square: {type: task, command_type: shell, command: 'test "$x" != 2'}
      next: fork
    fork:
      type: parallel
      branches:
        left: {start_at: l1, steps: {l1: {type: stub}}}
        right: {start_at: r1, steps: {r1: {type: stub}}}
    report "error":
      type: stub
      next: fail
"""

TEXT = """\
pipeline.yaml
> prepare         task: shell  -> fan  (on failure -> report "error")
  fan             map over xs as x  -> fork
    branch *:
      > square   task: shell  -> success
        success  success
        fail     fail
  fork            parallel  -> success
    branch left:
      > l1       stub  -> success
        success  success
        fail     fail
    branch right:
      > r1       stub  -> success
        success  success
        fail     fail
  report "error"  stub  -> fail
  success         success
  fail            fail"""


@pytest.fixture
def graph(write):
    write("pipeline.yaml", PIPELINE)
    return load_pipeline("pipeline.yaml")


def test_text_shows_every_branch_and_route(graph):
    assert render(graph, "text", title="pipeline.yaml") == TEXT


def test_mermaid_has_subgraphs_edges_and_escaped_labels(graph):
    out = render(graph, "mermaid")
    assert out.startswith("flowchart TD\n")
    assert out.count("subgraph ") == out.count("\n  end") + out.count("\n    end") == 3
    assert 'report #quot;error#quot;' in out and '"error"' not in out
    assert re.search(r"n0 -\. on failure \.-> n\d+", out)
    ids = set(re.findall(r"^\s*(n\d+)[\[\(]", out, re.MULTILINE))
    edges = re.findall(r"(n\d+) (?:-->|-\.->|-\. on failure \.->) (n\d+)", out)
    assert edges and all(a in ids and b in ids for a, b in edges)  # no edge to an undeclared node
    assert "classDef" not in out


def test_dot_is_balanced_and_quoted(graph):
    out = render(graph, "dot", title="pipeline.yaml")
    assert out.startswith("digraph pipeline {") and out.endswith("}")
    assert out.count("{") == out.count("}")
    assert out.count("subgraph cluster_") == 3
    assert 'label="report \\"error\\"\\nstub"' in out
    assert "\n" not in "".join(re.findall(r'label="([^"\\]|\\.)*"', out))


def test_run_statuses_aggregate_map_iterations(write, workdir, graph):
    from stepline.run.execute import execute
    from stepline.runlog.flatten import statuses

    write("params.yaml", "xs: [1, 2, 3]\n")
    log = execute("pipeline.yaml", None, "params.yaml", quiet=True)
    states = run_statuses(graph, statuses(log))
    assert states["prepare"] == StepState("SUCCESS")
    assert states["fan"] == StepState("FAIL")
    assert states["fan.*.square"] == StepState("FAIL", "2/3 succeeded")
    assert "fork" not in states and "fork.left.l1" not in states
    text = render(graph, "text", states)
    assert "square   task: shell  -> success  [FAIL, 2/3 succeeded]" in text
    assert "fork            parallel  -> success  [NOT RUN]" in text
    mermaid = render(graph, "mermaid", states)
    assert "classDef FAIL fill:#f8d7da" in mermaid and "class n0 SUCCESS" in mermaid
    dot = render(graph, "dot", states)
    assert 'fillcolor="#f8d7da"' in dot and 'fillcolor="#ffffff"' in dot


def test_cli_graph_and_errors(graph, workdir):
    done = subprocess.run([STEPLINE, "graph", "pipeline.yaml"], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout == TEXT + "\n"
    bad = subprocess.run([STEPLINE, "graph", "pipeline.yaml", "--format", "svg"], cwd=workdir, capture_output=True, check=False,
                         text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr == "error: unknown graph format 'svg' (use one of text, mermaid, dot)\n"
    missing = subprocess.run([STEPLINE, "graph", "pipeline.yaml", "--run", "nope"], cwd=workdir,
                             capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no run 'nope'")
    with pytest.raises(StepLineError):
        render(graph, "png")
