"""A plain shell command, started the way bash would start it, without starting bash.

``bash -c 'prog arg ...'`` reads the line, looks ``prog`` up on ``PATH`` and replaces itself with it
(bash does not fork for a ``-c`` line that is one simple command). The program gets the environment
bash was given, with the four variables bash maintains (``_``, ``SHLVL``, ``PWD``, ``OLDPWD``) as bash
leaves them. When a line holds no shell syntax at all, and nothing in the environment can change what
bash would do with it, a shell task does the same itself and saves bash's own start (about 1 ms a
step). Every other line runs in bash, as does a program that cannot be started directly (a script
without a ``#!`` line, a file that is not executable), so bash reports or runs it as it always has.
"""

from __future__ import annotations

import os
import re
import stat

#: Words of plain characters only, separated by blanks: no quoting, expansion, globbing, redirection,
#: operator, comment, brace, tilde or non-ASCII character, so bash would split the line exactly here.
_PLAIN = re.compile(r"[ \t]*[\w@%+=:,./-]+(?:[ \t]+[\w@%+=:,./-]+)*[ \t\n]*", re.ASCII)
_WORD = re.compile(r"[^ \t\n]+")

#: bash 5's reserved words and builtins: a line starting with one of these is bash's to run, except the
#: few whose program on PATH behaves the same for plain words (``_same_as_builtin``).
_BASH_WORDS = frozenset({
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do", "done",
    "in", "function", "time", "coproc", ".", ":", "[", "alias", "bg", "bind", "break", "builtin",
    "caller", "cd", "command", "compgen", "complete", "compopt", "continue", "declare", "dirs",
    "disown", "echo", "enable", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts",
    "hash", "help", "history", "jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf",
    "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift", "shopt", "source",
    "suspend", "test", "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias",
    "unset", "wait"
})

#: Variables that make bash do more than run the line: a start-up file, exported functions (which may
#: shadow the program), options, POSIX mode (which also changes coreutils' ``echo``).
_BASH_SETTINGS = (b"BASH_ENV", b"SHELLOPTS", b"BASHOPTS", b"POSIXLY_CORRECT")
_FUNCTION_PREFIX = b"BASH_FUNC_"
_SHLVL = re.compile(rb"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t]*")  # as bash reads a number: strtoimax, then blanks


def plain_words(command: str) -> list[str] | None:
    """The words of ``command`` when it is one simple command of plain words; None otherwise."""
    if not _PLAIN.fullmatch(command):
        return None
    words = _WORD.findall(command)
    name = words[0]
    if "=" in name:  # an assignment (``X=1 prog``) is bash's
        return None
    if name in _BASH_WORDS and not _same_as_builtin(words):
        return None
    return words


def _same_as_builtin(words: list[str]) -> bool:
    """True when the program of that name on PATH does what bash's builtin does with these words:
    ``true`` and ``false`` without arguments, ``echo`` without a ``--`` option (coreutils' ``echo``
    answers ``--help`` and ``--version``; bash's prints them)."""
    name, args = words[0], words[1:]
    if name in ("true", "false"):
        return not args
    return name == "echo" and not any(arg.startswith("--") for arg in args)


def find_program(name: str, path: bytes) -> str | None:
    """The file bash would run for ``name``: ``name`` itself when it holds a ``/``, else the first
    executable regular file of that name in an absolute ``PATH`` entry. None when there is none, or a
    relative or empty entry comes first (bash would search the current folder there: its call)."""
    if "/" in name:
        return name if _executable(name) else None
    for folder in os.fsdecode(path).split(":"):
        if not folder.startswith("/"):
            return None
        candidate = f"{folder.rstrip('/')}/{name}"
        if _executable(candidate):
            return candidate
    return None


def _executable(file: str) -> bool:
    try:  # access first: most candidates do not exist, and it says so without raising
        return os.access(file, os.X_OK) and stat.S_ISREG(os.stat(file).st_mode)
    except (OSError, ValueError):
        return False


def start_directly(command: str, env: dict[bytes, bytes]) -> tuple[str, list[str], dict[bytes, bytes]] | None:
    """``(program, argv, environment)`` to start in bash's place when ``command`` is plain and ``env``
    (the environment bash would get, as bytes) holds nothing bash would act on; the environment is
    ``env`` as bash would leave it for the program. None when the command must run in bash."""
    words = plain_words(command)
    if words is None or any(key in env for key in _BASH_SETTINGS):
        return None
    if any(key.startswith(_FUNCTION_PREFIX) for key in env):
        return None
    path = env.get(b"PATH")
    if path is None:  # bash would search its own built-in default
        return None
    level = _shell_level(env.get(b"SHLVL"))
    if level is None:
        return None
    program = find_program(words[0], path)
    if program is None:
        return None
    try:
        here = os.stat(".")
    except OSError:  # the current folder is gone: bash's to report
        return None
    child = env.copy()
    child[b"SHLVL"] = level
    child[b"_"] = os.fsencode(program)
    _settle_folders(child, here)
    return program, words, child


def _shell_level(value: bytes | None) -> bytes | None:
    """``SHLVL`` as bash leaves it for the program it replaces itself with: the number as given, 0 when
    it is not a number or is negative; None past 998, where bash warns and resets it."""
    if value is None or not _SHLVL.fullmatch(value):
        return b"0"
    level = int(value)
    if level < 0:
        return b"0"
    return None if level >= 999 else str(level).encode()


def _settle_folders(env: dict[bytes, bytes], here: os.stat_result) -> None:
    """``PWD`` is kept when it names the current folder (``here``) by an absolute path, else set to it;
    ``OLDPWD`` is kept only when it names a folder."""
    pwd = env.get(b"PWD")
    try:
        kept = pwd is not None and pwd.startswith(b"/") and os.path.samestat(os.stat(pwd), here)
    except OSError:
        kept = False
    if not kept:
        env[b"PWD"] = os.fsencode(os.getcwd())
    old = env.get(b"OLDPWD")
    if old is not None and not os.path.isdir(old):
        del env[b"OLDPWD"]
