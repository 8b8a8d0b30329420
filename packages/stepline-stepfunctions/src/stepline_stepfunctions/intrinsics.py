"""Intrinsic-function arguments of Amazon States Language: literal text, paths and ``States.Format``."""

from __future__ import annotations

import base64
import re

_ODD = re.compile(r"[\\'{}]")


def _safe(text: str) -> bool:
    return not _ODD.search(text)


def lit(text: str) -> str:
    """An intrinsic-function argument giving ``text``. Text with a quote, brace or backslash is
    passed as ``States.Base64Decode('...')`` instead of an escaped literal, which some
    implementations (moto) do not unescape."""
    if _safe(text):
        return f"'{text}'"
    return f"States.Base64Decode('{base64.b64encode(text.encode()).decode()}')"


class Expr(str):
    """An intrinsic-function argument (a path or a call), as opposed to literal text."""


def fmt(*parts: str) -> str:
    """An argument joining ``parts`` (plain ``str`` are literal text, :class:`Expr` are evaluated)."""
    merged: list[str] = []
    for part in parts:
        if not isinstance(part, Expr) and merged and not isinstance(merged[-1], Expr):
            merged[-1] = merged[-1] + part
        else:
            merged.append(part)
    if len(merged) == 1 and not isinstance(merged[0], Expr):
        return lit(merged[0])
    template, args = "", []
    for part in merged:
        if isinstance(part, Expr):
            template += "{}"
            args.append(str(part))
        elif _safe(part):
            template += part
        else:
            template += "{}"
            args.append(lit(part))
    return f"States.Format('{template}', {', '.join(args)})"
