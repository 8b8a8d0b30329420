"""The one safe YAML reading path: hostile files are one-line errors naming the file and the line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stepline.errors import ConfigError, ParameterError, PipelineDefinitionError
from stepline.pipeline.yaml_io import MAX_ALIAS_NODES, MAX_BYTES, MAX_DEPTH, load_yaml_file
from stepline.testing.fuzz import _LAUGHS, nested_parallels, self_include


def load(tmp_path, text, what="pipeline", name="f.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_yaml_file(path, what=what)


@pytest.mark.parametrize(("text", "expected"), [
    ("description: 2020-13-45\n", "line 1, column 14: cannot read '2020-13-45' as a timestamp"),
    ('x: !!float ""\n', "cannot read '' as a float"),
    ("x: !!int abc\n", "cannot read 'abc' as an int"),
    ("x: !!bool maybe\n", "cannot read 'maybe' as a bool"),
    ("x: !!timestamp x\n", "cannot read 'x' as a timestamp"),
    ("x: " + "9" * 5000 + "\n", "as an int (more than 4300 digits)"),
    ("a: 1\nb: 2\na: 3\n", "line 3, column 1: duplicate key 'a'"),
    ("null: x\n", "a key is not a string: 'null'"),
    ("section:\n  1: x\n", "line 2, column 3: a key is not a string: '1'"),
    ("? [a, b]\n: x\n", "a key is not a string: 'a sequence'"),
    ('x: "a\\0b"\n', "a NUL character in a value"),
    ("x: &r [*r]\n", "an alias refers to itself"),
    ("x: " + _LAUGHS + "\n", f"aliases expand to more than {MAX_ALIAS_NODES} nodes"),
    ("x: " + "[" * 300 + "]" * 300 + "\n", f"nested deeper than {MAX_DEPTH} levels"),
    ("x: " + "[" * 200_000 + "]" * 200_000 + "\n", f"nested deeper than {MAX_DEPTH} levels"),
    ("\n".join(" " * i + f"k{i}:" for i in range(100)) + " 1\n", f"nested deeper than {MAX_DEPTH} levels"),
    ('x: !!python/object/apply:os.system ["echo"]\n', "could not determine a constructor"),
    ("a: [1\n", "invalid YAML: line"),
])
def test_a_hostile_document_is_one_line_naming_file_and_line(tmp_path, text, expected):
    with pytest.raises(PipelineDefinitionError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"{tmp_path / 'f.yaml'}: invalid YAML: ")
    assert "\n" not in message


@pytest.mark.parametrize(("text", "expected"), [
    ("bad: \"a\\0b\"\n", "a NUL character in a value"),
    ("k7: again\n", "duplicate key 'k7'"),
    ("bad: {1: x}\n", "a key is not a string: '1'"),
    ("bad: &r [*r]\n", "an alias refers to itself"),
    ("bad: " + _LAUGHS + "\n", f"aliases expand to more than {MAX_ALIAS_NODES} nodes"),
    ("bad: " + "[" * 70 + "]" * 70 + "\n", f"nested deeper than {MAX_DEPTH} levels"),
])
def test_a_problem_at_the_end_of_a_large_document_is_found(tmp_path, text, expected):
    """Large documents (a 1,000-step pipeline) take a one-pass check, which must miss nothing."""
    body = "".join(f"k{i}: {{type: task, next: k{i + 1}, returns: [a, b]}}\n" for i in range(2000))
    with pytest.raises(PipelineDefinitionError, match=expected):
        load(tmp_path, body + text)
    assert len(load(tmp_path, body)) == 2000


def test_not_utf8_names_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"not UTF-8: line 2: byte 0xff .*save the file as UTF-8"):
        load(tmp_path, b"a: 1\nb: \xff\n", what="configuration")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    with pytest.raises(ParameterError, match="larger than 10 MB"):
        load(tmp_path, b"#" * (MAX_BYTES + 1), what="parameters")


def test_anchors_aliases_and_merge_keys_still_work(tmp_path):
    text = ("defaults: &defaults {type: task, command_type: shell, max_attempts: 2}\n"
            "more: &more {next: success}\n"
            "steps:\n  a:\n    <<: [*defaults, *more]\n    command: echo a\n  b:\n    <<: *defaults\n"
            "    max_attempts: 3\n"
            "when: 2020-01-01\n")
    loaded = load(tmp_path, "\ufeff" + text)
    assert loaded["steps"]["a"] == {"type": "task", "command_type": "shell", "max_attempts": 2,
                                    "next": "success", "command": "echo a"}
    assert loaded["steps"]["b"]["max_attempts"] == 3
    assert str(loaded["when"]) == "2020-01-01"


def test_a_big_document_without_aliases_is_within_the_budget(tmp_path):
    items = ", ".join(str(i) for i in range(MAX_ALIAS_NODES + 10))
    assert len(load(tmp_path, f"items: [{items}]\n", what="parameters")["items"]) == MAX_ALIAS_NODES + 10


def test_a_pipeline_that_includes_itself_names_the_cycle(tmp_path):
    (tmp_path / "b.yaml").write_text(self_include("a.yaml"))
    (tmp_path / "a.yaml").write_text(self_include("b.yaml"))
    from stepline.pipeline.loader import load_pipeline

    with pytest.raises(PipelineDefinitionError, match=r"b.yaml: step 'again.dag.again': dag_definition includes form a cycle: a.yaml -> b.yaml -> a.yaml"):
        load_pipeline(tmp_path / "a.yaml")


def test_a_missing_include_is_named_by_the_including_file(tmp_path):
    (tmp_path / "a.yaml").write_text(self_include("nowhere/" + "x" * 300 + ".yaml"))
    from stepline.pipeline.loader import load_pipeline

    with pytest.raises(PipelineDefinitionError, match=r"a.yaml: step 'again': dag_definition 'nowhere/x+\.yaml' is not a file"):
        load_pipeline(tmp_path / "a.yaml")


def test_composites_nested_too_deep_are_refused(tmp_path):
    (tmp_path / "deep.yaml").write_text(nested_parallels(30))
    from stepline.pipeline.loader import MAX_NESTING, load_pipeline

    with pytest.raises(PipelineDefinitionError, match=f"nested more than {MAX_NESTING} levels deep|nested deeper"):
        load_pipeline(tmp_path / "deep.yaml")
    (tmp_path / "ok.yaml").write_text(nested_parallels(8))
    assert load_pipeline(tmp_path / "ok.yaml").start_at == "p"


def test_cli_validate_a_yaml_bomb_exits_2_without_traceback(tmp_path):
    (tmp_path / "bomb.yaml").write_text("dag:\n  description: " + _LAUGHS + "\n  start_at: a\n  steps: {a: {type: stub}}\n")
    shown = subprocess.run([sys.executable, "-m", "stepline", "validate", "bomb.yaml"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 2
    assert shown.stderr.strip().startswith("error: bomb.yaml: invalid YAML: line 2")
    assert "Traceback" not in shown.stderr and len(shown.stderr.strip().splitlines()) == 1


def test_parameter_values_nested_too_deep_are_refused(write, monkeypatch):
    from stepline.params import MAX_VALUE_DEPTH, initial_parameters
    from stepline.runlog.models import Status
    from stepline.run.execute import execute

    deep = "[" * 100_000 + "]" * 100_000
    monkeypatch.setenv("STEPLINE_PRM_deep", deep)
    assert initial_parameters(None)["deep"].value == deep  # kept as the string it is, not decoded
    monkeypatch.delenv("STEPLINE_PRM_deep")
    write("steps_deep.py", "def make():\n    value = []\n    for _ in range(5000):\n        value = [value]\n"
                           "    return value\n")
    write("pipeline.yaml", "dag:\n  start_at: a\n  steps:\n    a: {type: task, command: steps_deep.make, returns: [v]}\n")
    log = execute("pipeline.yaml", quiet=True, run_id="deep-1")
    assert log.status == Status.FAIL
    assert f"return 'v' nests lists or mappings more than {MAX_VALUE_DEPTH} levels deep" in log.steps["a"].message


def test_a_reducer_too_long_is_refused():
    from stepline.pipeline.composites import compile_reducer

    with pytest.raises(ValueError, match="longer than 1000 characters"):
        compile_reducer("lambda *x: " + "(" * 2000 + "x" + ")" * 2000)


@pytest.mark.parametrize("text", [
    "dag:\n  start_at: a\n  steps:\n" + "".join(f"    s{i}: {{type: task, command: m.f, next: s{i + 1}}}\n" for i in range(50)),
    "a: 1\nb: [1, 2.5, null, true, ~, 2020-01-01, '3', \"x\", 0o17, 0x1F, .inf, -.NaN]\nc: {d: {e: [[]]}}\nf:\n",
    "x: !!str 12\ny: !!int '7'\nz: !!float 1\nt: 2001-12-14t21:59:43.10-05:00\nb: !!binary aGVsbG8=\n",
    "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\np: !!pairs [a: 1]\n",
    "m:\n  <<: {a: 1, b: 1}\n  b: 2\nl: [{<<: {c: 3}}]\n",
    "- a\n- - b\n  - c\n- {}\n",
    "just a string\n",
])
@pytest.mark.parametrize("padded", [False, True])
def test_a_document_reads_as_pyyaml_reads_it(tmp_path, text, padded):
    """Plain documents are built without PyYAML's constructor, and large ones (``padded``: more nesting
    characters than the C composer is trusted with) composed by Stepline's own loop: the values must be
    the same, types included."""
    import yaml

    if padded:
        text = ("pad: [" + ", ".join("{a: [1]}" for _ in range(400)) + "]\n" if not text.startswith(("-", "just"))
                else "# " + "{" * 2000 + "\n") + text
    assert repr(load(tmp_path, text)) == repr(yaml.load(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("text", ["a: *nope\n", "a: &x 1\nb: &x 2\n", "a: 1\n---\nb: 2\n"])
def test_a_large_document_is_refused_as_pyyaml_refuses_it(tmp_path, text):
    """Stepline's own composer (large documents) finds what PyYAML's does, at the same line and column."""
    import yaml

    padding = "pad: [" + ", ".join("{a: [1]}" for _ in range(400)) + "]\n"
    with pytest.raises(yaml.MarkedYAMLError) as pyyaml:
        yaml.load(padding + text, Loader=yaml.SafeLoader)
    mark = pyyaml.value.problem_mark
    with pytest.raises(PipelineDefinitionError) as ours:
        load(tmp_path, padding + text)
    assert f"invalid YAML: line {mark.line + 1}, column {mark.column + 1}: {pyyaml.value.problem}" in str(ours.value)


@pytest.mark.parametrize("text", ["x: !!map abc\n", "x: !!seq abc\n", "x: !!set abc\n", "x: !!str {a: 1}\n",
                                  "x: !custom 1\n", "x: !custom {a: 1}\n"])
def test_a_collection_tag_on_the_wrong_node_is_refused_as_before(tmp_path, text):
    with pytest.raises(PipelineDefinitionError, match="invalid YAML: line 1"):
        load(tmp_path, text)


def test_a_structure_problem_is_named_before_a_bad_value(tmp_path):
    """Keys, aliases and depth are checked before any value is built, as they always were."""
    with pytest.raises(PipelineDefinitionError, match="line 3, column 1: duplicate key 'b'"):
        load(tmp_path, "a: !!int abc\nb: 1\nb: 2\n")
    with pytest.raises(PipelineDefinitionError, match="line 1, column 4: cannot read 'abc' as an int"):
        load(tmp_path, "a: !!int abc\nb: 1\n")
