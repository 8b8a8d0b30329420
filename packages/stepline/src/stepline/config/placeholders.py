"""``${VAR}`` and ``${VAR:-default}`` in configuration files, defaults nested to any depth.

A scanner, not a regular expression: ``${A:-${B:-x}}`` must find the ``}`` that closes the outer
placeholder, and an unterminated ``${A:-`` must be an error rather than text that later becomes a
folder name. ``$${`` is a literal ``${``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from stepline.errors import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: runnable's ``$name`` variables, set as RUNNABLE_VAR_name (or STEPLINE_VAR_name) in the environment.
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
VARIABLE_PREFIXES = ("STEPLINE_VAR_", "RUNNABLE_VAR_")


def runnable_variables(text: str, environ: Mapping[str, str] | None = None) -> str:
    """runnable's ``$name`` replaced where ``STEPLINE_VAR_name`` or ``RUNNABLE_VAR_name`` is set; any
    other ``$word`` (a shell variable in a command, say) is left as it is."""
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return next((env[p + name] for p in VARIABLE_PREFIXES if p + name in env), match.group(0))

    return _VARIABLE.sub(value, text)


def substitute(text: str, *, file: str, key: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every placeholder replaced from ``environ`` (default: the process environment).

    An unset variable without a default, a malformed or an unterminated placeholder is a
    :class:`ConfigError` naming ``file``, ``key`` and the variable."""
    scanner = _Scanner(text, os.environ if environ is None else environ, file, key)
    value, _ = scanner.scan(0, inside=False, resolve=True)
    return value


class _Scanner:
    def __init__(self, text: str, env: Mapping[str, str], file: str, key: str) -> None:
        self.text, self.env, self.file, self.key = text, env, file, key

    def scan(self, start: int, *, inside: bool, resolve: bool) -> tuple[str, int]:
        """Expand from ``start`` to the end of the text (``inside`` a default: to its closing ``}``,
        not consumed). ``resolve=False`` only checks the syntax: an unused default must not fail on
        a variable it names. Returns the expansion and the index where reading stopped."""
        text, out, i = self.text, [], start
        while i < len(text):
            if text.startswith("$${", i):
                out.append("${")
                i += 3
            elif text.startswith("${", i):
                expanded, i = self.placeholder(i, resolve=resolve)
                out.append(expanded)
            elif inside and text[i] == "}":
                return "".join(out), i
            else:
                out.append(text[i])
                i += 1
        if inside:
            raise self.error("unterminated placeholder", "close every ${ with }")
        return "".join(out), i

    def placeholder(self, start: int, *, resolve: bool) -> tuple[str, int]:
        """Expand the placeholder at ``start`` (``${``); return it and the index after its ``}``."""
        text = self.text
        match = _NAME.match(text, start + 2)
        if not match:
            raise self.error("malformed placeholder", "write ${NAME} or ${NAME:-default}; $${ is a literal ${")
        name, i = match.group(), match.end()
        is_set = resolve and name in self.env
        if text.startswith("}", i):
            if is_set or not resolve:
                return (self.env[name] if is_set else ""), i + 1
            raise ConfigError(f"{self.key}: placeholder '${{{name}}}' is not set in the environment",
                              file=self.file, hint=f"export {name}=... or write ${{{name}:-default}}")
        if not text.startswith(":-", i):
            if i >= len(text):
                raise self.error("unterminated placeholder", "close every ${ with }")
            raise self.error("malformed placeholder", "write ${NAME} or ${NAME:-default}")
        default, end = self.scan(i + 2, inside=True, resolve=resolve and not is_set)
        return (self.env[name] if is_set else default), end + 1

    def error(self, problem: str, hint: str) -> ConfigError:
        return ConfigError(f"{self.key}: {problem} in {self.text!r}", file=self.file, hint=hint)
