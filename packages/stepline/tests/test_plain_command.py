"""A shell command of plain words is started as bash would start it, without bash: which lines qualify,
which program is found, and the environment the program gets, compared with what real bash gives it.
Through real shell steps: test_shell_spawn.py."""

import os
import subprocess

import pytest
from stepline.tasks.plain_command import find_program, plain_words, start_directly


@pytest.mark.parametrize("command, words", [
    ("true", ["true"]),
    ("  ls -la /tmp\n", ["ls", "-la", "/tmp"]),
    ("echo hello \t world", ["echo", "hello", "world"]),
    ("dd if=/dev/zero of=out.bin bs=1k count=1", ["dd", "if=/dev/zero", "of=out.bin", "bs=1k", "count=1"]),
    ("./train.sh --epochs=3 --lr 0.1 a,b user@host:x %y +z", ["./train.sh", "--epochs=3", "--lr", "0.1", "a,b",
                                                             "user@host:x", "%y", "+z"]),
    ("/usr/bin/env", ["/usr/bin/env"]),
])
def test_plain_lines_are_split_into_their_words(command, words):
    assert plain_words(command) == words


@pytest.mark.parametrize("command", [
    "", "   ", "echo 'a b'", 'echo "a"', "echo $HOME", "echo ${x}", "echo `date`", "echo a\\ b", "ls *.py",
    "ls ?", "ls [ab]", "echo {a,b}", "cd ~", "echo a~b", "true; false", "true && false", "true || x",
    "a | b", "sleep 1 &", "echo x > f", "cat < f", "echo x # note", "(true)", "! true", "true\nfalse",
    "X=1 env", "X=1", "time sleep 1", "if true", "cd /tmp", "export A", "source f", ". f", "exit 3",
    "true x", "false --help", "echo --help", "echo --version", "echo héllo", "printf x",
])
def test_anything_else_is_bashs(command):
    assert plain_words(command) is None


def test_builtins_whose_program_behaves_the_same_are_plain():
    assert plain_words("false") == ["false"]
    assert plain_words("echo -n a -e b") == ["echo", "-n", "a", "-e", "b"]


def executable(path, text="#!/bin/sh\necho hi\n", mode=0o755):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_program_is_the_first_executable_regular_file_on_path(tmp_path):
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    for folder in (first, second, third):
        folder.mkdir()
    executable(first / "prog", mode=0o644)  # not executable: bash goes on looking
    (second / "prog").mkdir()  # a folder: so does bash
    executable(third / "prog")
    path = f"{first}:{second}:{third}".encode()
    assert find_program("prog", path) == f"{third}/prog"
    assert find_program("missing", path) is None
    assert find_program(str(third / "prog"), b"") == f"{third}/prog"
    assert find_program(str(first / "prog"), b"") is None


def test_a_relative_or_empty_path_entry_before_the_program_leaves_it_to_bash(tmp_path):
    executable(tmp_path / "prog")
    assert find_program("prog", f"bin:{tmp_path}".encode()) is None
    assert find_program("prog", f":{tmp_path}".encode()) is None
    assert find_program("prog", f"{tmp_path}:bin".encode()) == f"{tmp_path}/prog"


def base_env():
    return {b"PATH": b"/usr/bin:/bin", b"HOME": os.fsencode(os.path.expanduser("~")), b"FROM_CALLER": b"x"}


@pytest.mark.parametrize("extra", [
    {b"BASH_ENV": b"/tmp/rc"}, {b"BASH_FUNC_true%%": b"() { echo shadow; }"}, {b"SHELLOPTS": b"xtrace"},
    {b"BASHOPTS": b"xpg_echo"}, {b"POSIXLY_CORRECT": b"1"}, {b"SHLVL": b"999"},
])
def test_an_environment_bash_would_act_on_leaves_the_line_to_bash(extra):
    assert start_directly("true", {**base_env(), **extra}) is None


def test_no_path_leaves_the_line_to_bash():
    env = base_env()
    del env[b"PATH"]
    assert start_directly("true", env) is None


def parsed(output: bytes) -> dict[bytes, bytes]:
    return dict(line.split(b"=", 1) for line in output.split(b"\0") if line)


@pytest.mark.parametrize("extra", [
    {}, {b"SHLVL": b"3"}, {b"SHLVL": b"abc"}, {b"SHLVL": b"-5"}, {b"SHLVL": b" 7"}, {b"SHLVL": b"1_0"},
    {b"SHLVL": b"7\n"}, {b"SHLVL": b"\n7"}, {b"SHLVL": b"+7\t"}, {b"SHLVL": b""}, {b"A-B": b"1", b"x.y": b"2"},
    {b"PWD": b"/tmp/../tmp"},
    {b"PWD": b"/nonexistent"}, {b"PWD": b"relative"}, {b"OLDPWD": b"/"}, {b"OLDPWD": b"/nonexistent"},
    {b"_": b"/previous/program"},
], ids=repr)
def test_the_program_gets_the_environment_bash_would_give_it(extra, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {**base_env(), **extra}
    bash = subprocess.run(["bash", "-c", "env -0"], env=env, capture_output=True, check=True).stdout
    program, argv, child = start_directly("env -0", env)
    direct = subprocess.run(argv, executable=program, env=child, capture_output=True, check=True).stdout
    assert parsed(direct) == parsed(bash)
    assert env == {**base_env(), **extra}  # the caller's copy is left as it was


def test_pwd_naming_the_folder_through_a_link_is_kept(tmp_path, monkeypatch):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "link")
    env = {**base_env(), b"PWD": os.fsencode(tmp_path / "link")}
    bash = subprocess.run(["bash", "-c", "env -0"], env=env, capture_output=True, check=True).stdout
    assert start_directly("env -0", env)[2][b"PWD"] == parsed(bash)[b"PWD"] == env[b"PWD"]
