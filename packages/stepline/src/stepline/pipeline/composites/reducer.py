"""A map's reducer: a dotted path to a function, or one lambda expression checked to stay arithmetic."""

import re

SAFE_BUILTINS = {name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
                 for name in ("abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "len",
                              "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str",
                              "sum", "tuple", "zip")}


# Attributes that lead from a value to frames, code or globals (a generator's gi_frame.f_back reaches
# the caller's globals), or read attributes by name through a format string. The lambda is the
# pipeline author's own code, not untrusted input: this keeps a reducer to arithmetic on its values,
# it is not a sandbox against someone who can already write the pipeline's tasks.
_INTROSPECTION = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "format", "format_map",
    "mro"})
_DOTTED = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*[.:][A-Za-z_]\w*$"  # compiled on first use (re caches it)


def compile_reducer(text: str, *, check_only: bool = False):
    """A reducer from a dotted path to a function, or from one lambda expression (nothing else)."""
    source = text.strip()
    if len(source) > 1000:
        raise ValueError("reducer is longer than 1000 characters; write it as a function and give its dotted path")
    if source.startswith("lambda"):
        import ast

        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"reducer is not a valid lambda: {exc.msg}") from None
        except (RecursionError, MemoryError):
            raise ValueError("reducer is nested too deeply; write it as a function") from None
        if not isinstance(tree.body, ast.Lambda):
            raise ValueError("reducer must be exactly one lambda expression, e.g. 'lambda *x: max(x)'")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in _INTROSPECTION):
                raise ValueError(f"reducer may not use the attribute '{node.attr}' (nor any starting with '_')")
        if check_only:
            return None
        code = compile(tree, "<reducer>", "eval")
        return eval(code, {"__builtins__": SAFE_BUILTINS})  # noqa: S307 - a verified single lambda
    if not re.match(_DOTTED, source):
        raise ValueError("reducer must be one lambda expression or a dotted path to a function "
                         "(e.g. 'lambda *x: max(x)' or 'my_pkg.reducers.total')")
    if check_only:
        return None
    from stepline.pipeline.functions import import_callable

    return import_callable(source)
