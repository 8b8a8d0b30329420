"""Reading YAML files safely, with errors that name the file and the line.

Every file Stepline reads (pipelines, ``dag_definition`` includes, job files, configurations,
parameter files) goes through :func:`load_yaml_file`. A hostile or broken file is a one-line
:class:`~stepline.errors.StepLineError`, never a traceback, a hang or a memory blow-up:

- at most :data:`MAX_BYTES` bytes, UTF-8 (a byte-order mark is allowed);
- nesting at most :data:`MAX_DEPTH` levels deep;
- aliases (``*name``) expanding to at most :data:`MAX_ALIAS_NODES` nodes beyond the file's own
  (a "billion laughs" bomb is refused before anything walks it), and no alias to itself;
- mapping keys are strings (write ``"1":``), never duplicated in one mapping;
- no NUL character in a value;
- a scalar that cannot be built (``!!int abc``, ``!!float ""``, ``2020-13-45``, an integer of more
  than 4300 digits) names its line.

Anchors, aliases and merge keys (``<<: *defaults``) work as in any YAML file within these limits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from stepline.errors import ConfigError, ParameterError, PipelineDefinitionError, StepLineError

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_ERRORS = {"pipeline": PipelineDefinitionError, "job": PipelineDefinitionError, "parameters": ParameterError}


class _BadNode(Exception):
    """A problem found at a node; turned into the caller's error class with the file and line."""

    def __init__(self, node: Any, problem: str) -> None:
        super().__init__(problem)
        self.mark, self.problem = node.start_mark, problem


def load_yaml_file(path: str | Path, *, what: str = "pipeline") -> Any:
    """The document in ``path``, checked against the limits above; ``what`` names the file's role in
    errors (``pipeline``, ``configuration``, ``parameters``, ``job``)."""
    error = _ERRORS.get(what, ConfigError)
    file = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{what} file not found", file=file, hint="check the path") from None
    except IsADirectoryError:
        raise error(f"{what} file is a directory", file=file) from None
    except (OSError, ValueError) as exc:  # permission denied, a NUL byte in the path, ...
        raise error(f"cannot read the {what} file: {getattr(exc, 'strerror', None) or exc}", file=file) from None
    if len(data) > MAX_BYTES:
        raise error(f"{what} file is larger than {MAX_BYTES // (1024 * 1024)} MB", file=file,
                    hint="a Stepline file this large is a mistake; keep data in the catalog") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"not UTF-8: line {line}: byte 0x{data[exc.start]:02x} cannot be decoded", file=file,
                    hint="save the file as UTF-8") from None
    return parse_yaml(text, error=error, file=file)


def parse_yaml(text: str, *, error: type[StepLineError] = PipelineDefinitionError, file: str = "<yaml>") -> Any:
    """The document in ``text``, with :func:`load_yaml_file`'s limits; problems raise ``error``."""
    import yaml

    loader = _loader_class(text)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Stepline's own composer (large documents) has checked a plain tree as it went
        if getattr(loader, "composed_plain", False) or check_nodes(node):
            try:
                return _plain_document(node, loader)
            except _NotPlain:
                check_nodes(node)  # what the composer could not vouch for
        return loader.construct_document(node)
    except _BadNode as exc:
        raise error(f"invalid YAML: {_where(exc.mark)}{exc.problem}", file=file,
                    hint=next((h for start, h in _HINTS.items() if exc.problem.startswith(start)), None)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _where(mark) if mark else _reader_where(exc, text)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"invalid YAML: {where}{_one_line(problem)}", file=file, hint="fix the YAML syntax") from None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError) as exc:
        # a value built after its node's constructor returned (the rest of a mapping or list)
        raise error(f"invalid YAML: cannot build a value: {_one_line(exc)[:120]}", file=file,
                    hint="quote values that should stay strings") from None
    except RecursionError:  # a document nested deeper than the composer itself can follow
        raise error(f"invalid YAML: nested deeper than {MAX_DEPTH} levels", file=file,
                    hint="flatten the structure") from None
    finally:
        loader.dispose()


_HINTS = {
    "nested deeper than": "flatten the structure",
    "aliases expand to more than": "a YAML bomb? use fewer or smaller aliases",
    "an alias refers to itself": "a node cannot contain itself",
    "duplicate key": "each key appears once in a mapping; remove or rename one",
    "a key is not a string": "quote the key",
    "a NUL character in a value": "remove the \\0",
    "cannot read": "quote it to keep it a string, or fix the value",
}


_KINDS = {f"tag:yaml.org,2002:{name}": f"a {name}" for name in ("float", "bool", "binary", "timestamp")}
_KINDS["tag:yaml.org,2002:int"] = "an int"


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: "


def _reader_where(exc: Any, text: str) -> str:
    position = getattr(exc, "position", None)
    return f"line {text.count(chr(10), 0, position) + 1}: " if isinstance(position, int) else ""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def check_nodes(root: Any) -> bool:
    """Depth, alias expansion, self-reference, keys and NULs of a composed document (no recursion).
    Returns whether the document is a plain tree (no alias: every node met once)."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if _plain_tree(root, MappingNode, ScalarNode, SequenceNode):
        return True
    distinct = 0
    sizes: dict[int, int] = {}  # expanded size of each finished node
    depths: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if depths[key] > MAX_DEPTH:
                raise _BadNode(node, f"nested deeper than {MAX_DEPTH} levels")
            if sizes[key] - distinct > MAX_ALIAS_NODES:
                raise _BadNode(node, f"aliases expand to more than {MAX_ALIAS_NODES} nodes")
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _BadNode(node, "an alias refers to itself")
        distinct += 1
        if isinstance(node, ScalarNode):
            if "\x00" in node.value:
                raise _BadNode(node, "a NUL character in a value")
            sizes[key], depths[key] = 1, 1
            continue
        open_nodes.add(key)
        stack.append((node, True))
        if len(open_nodes) > MAX_DEPTH:  # open nodes are the current node's ancestors
            raise _BadNode(node, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, MappingNode):
            _check_keys(node, ScalarNode)
        elif not isinstance(node, SequenceNode):  # pragma: no cover - the composer makes only these three
            raise _BadNode(node, f"unexpected node {type(node).__name__}")
        stack.extend((child, False) for child in _children(node))
    return False


class _NotPlain(Exception):
    """The document needs PyYAML's own constructor (a merge key, a collection tag)."""


_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _plain_document(root: Any, loader: Any) -> Any:
    """The value of a plain tree (checked by :func:`check_nodes`, or as it was composed: no alias,
    string keys met once, not too deep, no NUL), built as PyYAML's safe constructor builds it: dicts, lists, strings as they are, and each
    other scalar (numbers, booleans, null, timestamps) by the loader's own constructor for its tag.
    PyYAML's constructor spends several calls and a generator on every node: building the rest here
    takes about a third of the time of loading a large pipeline. Raises :class:`_NotPlain` for what
    only that constructor does (merge keys, tagged collections such as ``!!set`` or ``!!omap``)."""
    built = _build_plain(root, loader.construct_object)
    if loader.state_generators:  # a collection tag on a scalar (``!!map abc``): its constructor's to refuse
        raise _NotPlain
    return built


def _build_plain(node: Any, construct: Callable[[Any], Any]) -> Any:
    kind, tag = node.id, node.tag
    if kind == "scalar":
        return node.value if tag == _STR else construct(node)  # numbers, null, ...: PyYAML's own
    if kind == "mapping" and tag == _MAP:
        built = {}
        for key, child in node.value:
            if key.tag != _STR:  # a merge key; any other key tag was refused by check_nodes
                raise _NotPlain
            built[key.value] = _build_plain(child, construct)
        return built
    if kind == "sequence" and tag == _SEQ:
        return [_build_plain(child, construct) for child in node.value]
    raise _NotPlain


def _plain_tree(root: Any, mapping: type, scalar: type, sequence: type) -> bool:
    """True when the document passes every check of :func:`check_nodes` without needing its sizes: no
    node met twice (no alias), nothing nested deeper than MAX_DEPTH, good keys, no NUL. One cheap pass,
    for the common document (a large pipeline); anything else, error or not, gets the full check,
    which says what is wrong exactly as it always has."""
    met: set[int] = set()
    stack = [(root, 1)]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node, depth = pop()
        key = id(node)
        if key in met or depth > MAX_DEPTH:
            return False
        met.add(key)
        kind = type(node)
        if kind is scalar:
            if "\x00" in node.value:
                return False
        elif kind is mapping:
            try:
                _check_keys(node, scalar)
            except _BadNode:
                return False
            depth += 1
            for pair in node.value:
                push((pair[0], depth))
                push((pair[1], depth))
        elif kind is sequence:
            depth += 1
            extend((child, depth) for child in node.value)
        else:
            return False
    return True


def _children(node: Any) -> list[Any]:
    from yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: Any, scalar: type) -> None:
    seen: set[str] = set()
    for key, _ in node.value:
        if key.tag == _MERGE:
            continue
        if not isinstance(key, scalar) or key.tag != _STR:
            shown = key.value if isinstance(key, scalar) else "a " + type(key).__name__.removesuffix("Node").lower()
            raise _BadNode(key, f"a key is not a string: {_one_line(shown)[:60]!r}")
        if key.value in seen:
            raise _BadNode(key, f"duplicate key '{_one_line(key.value)[:60]}'")
        seen.add(key.value)


# Each level of nesting needs one of these characters; libyaml's C composer recurses without a
# limit (tens of thousands of levels crash the process), so a text with many of them is composed in
# Python, which stops at MAX_DEPTH.
_NESTING = "[{-:?"
_C_COMPOSER_MAX = 1000


def _loader_class(text: str) -> type:
    """The C loader when PyYAML has it and the text cannot nest deep enough to crash its composer."""
    if _LOADERS is None:
        _build_loaders()
    if sum(text.count(c) for c in _NESTING) <= _C_COMPOSER_MAX:
        return _LOADERS[0]
    return _LOADERS[1]


def _build_loaders() -> None:
    global _LOADERS
    import yaml

    c_loader = getattr(yaml, "CSafeLoader", None)
    base = c_loader or yaml.SafeLoader

    class SafeLoader(base):  # type: ignore[misc, valid-type]
        """Scalar construction errors are tied to the node (and so the line) they come from."""

        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError) as exc:
                if isinstance(exc, yaml.YAMLError):
                    raise
                value = node.value if isinstance(node.value, str) else ""
                reason = " (more than 4300 digits)" if len(value) > 4300 else ""
                raise _BadNode(node, f"cannot read {_one_line(value)[:40]!r} as {_KINDS.get(node.tag, node.tag)}"
                                     f"{reason}") from None

    class DepthLimitedLoader(SafeLoader):
        """Composed in Python (over the C parser's events when there is one), stopping at MAX_DEPTH."""

        get_single_node = _compose_single_document

    _LOADERS = (SafeLoader, DepthLimitedLoader)


_LOADERS: tuple[type, type] | None = None
_NO_KEY = object()  # a mapping's slot while its next key has not come yet


def _compose_single_document(loader: Any) -> Any:
    """PyYAML's ``get_single_node`` (the same nodes, tags, anchors and errors), in one loop with a
    stack of the open collections instead of a few calls per node: no recursion, and a node nested
    deeper than MAX_DEPTH stops it. A large pipeline is composed here, and PyYAML's own composer
    spent about half of its loading time. Scalar tags are resolved once per distinct value."""
    from yaml.composer import ComposerError
    from yaml.events import (
        AliasEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    get, resolve = loader.get_event, loader.resolve
    get()  # the stream's start
    if loader.check_event(StreamEndEvent):
        get()
        return None
    get()  # the document's start
    anchors: dict[str, Any] = {}
    tags: dict[tuple[str, Any], str] = {}
    open_nodes: list[list[Any]] = []  # [collection, key waiting for its value, keys met] (mappings)
    missing = _NO_KEY
    plain = True  # no alias, no NUL, string keys each met once: check_nodes' one-pass check is done
    while True:
        event = get()
        kind = type(event)
        if kind is SequenceEndEvent or kind is MappingEndEvent:
            node = open_nodes.pop()[0]
            node.end_mark = event.end_mark
        else:
            if len(open_nodes) >= MAX_DEPTH:
                raise _BadNode(event, f"nested deeper than {MAX_DEPTH} levels")
            anchor = event.anchor
            if kind is AliasEvent:
                if anchor not in anchors:
                    raise ComposerError(None, None, f"found undefined alias {anchor!r}", event.start_mark)
                node, plain = anchors[anchor], False
            else:
                if anchor is not None and anchor in anchors:
                    raise ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                        anchors[anchor].start_mark, "second occurrence", event.start_mark)
                tag = event.tag
                if kind is ScalarEvent:
                    if tag is None or tag == "!":
                        key = (event.value, event.implicit)
                        tag = tags.get(key)
                        if tag is None:
                            tag = tags[key] = resolve(ScalarNode, event.value, event.implicit)
                    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                    if "\x00" in event.value:
                        plain = False
                else:
                    if kind is not SequenceStartEvent and kind is not MappingStartEvent:  # pragma: no cover
                        raise ComposerError(None, None, f"unexpected {kind.__name__}", event.start_mark)
                    node_class = SequenceNode if kind is SequenceStartEvent else MappingNode
                    if tag is None or tag == "!":
                        tag = resolve(node_class, None, event.implicit)
                    node = node_class(tag, [], event.start_mark, None, flow_style=event.flow_style)
                if anchor is not None:
                    anchors[anchor] = node
                if kind is not ScalarEvent:
                    open_nodes.append([node, missing, set()])
                    continue
        if not open_nodes:
            break
        parent = open_nodes[-1]
        if type(parent[0]) is SequenceNode:
            parent[0].value.append(node)
        elif parent[1] is missing:
            parent[1] = node
            if type(node) is not ScalarNode or node.tag != _STR or node.value in parent[2]:
                plain = False  # (a merge key too: PyYAML's constructor merges)
            else:
                parent[2].add(node.value)
        else:
            parent[0].value.append((parent[1], node))
            parent[1] = missing
    get()  # the document's end
    if not loader.check_event(StreamEndEvent):
        event = get()
        raise ComposerError("expected a single document in the stream", node.start_mark,
                            "but found another document", event.start_mark)
    get()
    loader.composed_plain = plain
    return node
