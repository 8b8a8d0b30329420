import warnings

import pytest

from stepline.errors import PipelineDefinitionError
from stepline.pipeline.graph import find_cycle, find_node
from stepline.pipeline.loader import load_pipeline


def load(write, body):
    return load_pipeline(str(write("pipeline.yaml", body)))


def error(write, body) -> str:
    with pytest.raises(PipelineDefinitionError) as info:
        load(write, body)
    return str(info.value)


def test_success_and_fail_nodes_are_added_and_next_defaults_to_success(write):
    graph = load(write, """
        dag:
          start_at: a
          steps:
            a: {type: stub}
    """)
    assert graph.steps["a"].next == "success"
    assert graph.steps["success"].type == "success"
    assert graph.steps["fail"].type == "fail"


def test_pipeline_key_is_an_alias_and_anchors_work(write):
    graph = load(write, """
        pipeline:
          start_at: a
          steps:
            a: &shell
              type: task
              command_type: shell
              command: "true"
              next: b
            b:
              <<: *shell
              next: success
            success: {type: success}
    """)
    assert graph.steps["b"].command == "true"
    assert graph.steps["b"].command_type == "shell"


def test_names_with_spaces_are_legal(write):
    graph = load(write, """
        dag:
          start_at: hello stub
          steps:
            hello stub: {type: stub}
    """)
    assert "hello stub" in graph.steps


def test_unknown_key_names_file_step_and_suggestion(write):
    message = error(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command: m.f, nxt: b}
    """)
    assert message.endswith("pipeline.yaml: step 'a': unknown key 'nxt' (did you mean 'next'?)")


def test_stub_accepts_unknown_keys(write):
    graph = load(write, """
        dag:
          start_at: a
          steps:
            a: {type: stub, anything: 1, command: whatever}
    """)
    assert graph.steps["a"].type == "stub"


@pytest.mark.parametrize("body, expected", [
    ("a: {type: task, command: m.f, next: b}", "'next' names step 'b', which does not exist"),
    ("a: {type: taks, command: m.f}", "unknown step type 'taks' (did you mean 'task'?)"),
    ("a: {type: task}", "missing key 'command'"),
    ("a: {type: task, command: m.f, max_attempts: 0}", "key 'max_attempts'"),
    ("a: {type: task, command: m.f, catalog: {put: ['../x']}}", "must stay inside the data folder"),
    ("a.b: {type: stub}", "illegal step name 'a.b'"),
    ("a: {type: task, command: m.f, returns: [x, x]}", "returns name 'x' more than once"),
    ("a: {type: success, next: fail}", "takes no 'next'"),
    ("a: {type: task, command_type: shell, command: true}", "reads that value as a boolean: put it in quotes"),
    ("a: {type: task, command_type: shell, command: 12}", "reads that value as a number: put it in quotes"),
])
def test_bad_steps_give_one_line_errors(write, body, expected):
    message = error(write, f"""
        dag:
          start_at: a
          steps:
            {body}
    """)
    assert expected in message
    assert "\n" not in message
    assert "pipeline.yaml" in message


def test_a_list_where_a_string_belongs_gets_no_quoting_hint(write):
    message = error(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command_type: shell, command: [echo, hi]}
    """)
    assert "key 'command'" in message and "quotes" not in message


def test_start_at_must_exist(write):
    assert "start_at names step 'b'" in error(write, "dag: {start_at: b, steps: {a: {type: stub}}}")


def test_cycle_is_reported_with_its_path(write):
    message = error(write, """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: b}
            b: {type: stub, next: a}
    """)
    assert "cycle" in message and "a -> b -> a" in message


def test_invalid_yaml_names_the_line(write):
    assert "invalid YAML: line 3, column 1" in error(write, "dag:\n  start_at: [a\n")


def test_missing_file(workdir):
    with pytest.raises(PipelineDefinitionError, match="pipeline file not found"):
        load_pipeline("nope.yaml")


def test_unreachable_step_warns(write):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load(write, """
            dag:
              start_at: a
              steps:
                a: {type: stub}
                lonely: {type: stub}
        """)
    assert any("'lonely' can never be reached" in str(w.message) for w in caught)


def test_on_failure_edges_count_for_cycles(write):
    message = error(write, """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: b}
            b: {type: stub, on_failure: a}
    """)
    assert "cycle" in message


def test_dag_hash_changes_with_the_pipeline(write):
    one = load(write, "dag: {start_at: a, steps: {a: {type: task, command: m.f}}}").dag_hash()
    same = load(write, "dag: {start_at: a, steps: {a: {type: task, command: m.f}}}").dag_hash()
    other = load(write, "dag: {start_at: a, steps: {a: {type: task, command: m.g}}}").dag_hash()
    assert one == same != other


def test_find_node_and_find_cycle_are_pure(write):
    graph = load(write, "dag: {start_at: a, steps: {a: {type: stub}}}")
    assert find_node(graph, "a").type == "stub"
    assert find_node(graph, "missing") is None
    assert find_cycle(graph) is None


def test_magnus_max_time_is_accepted_with_a_warning_that_it_does_nothing(write):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = load(write, """
            dag:
              max_time: 3600
              start_at: a
              steps:
                a: {type: stub}
        """)
    assert graph.start_at == "a"
    assert any("pipeline.yaml: dag: 'max_time'" in str(w.message) and "not enforced" in str(w.message)
               for w in caught)
