"""``igniter-nb serve --env-file PATH``: a ``.env`` file's settings, each value as written. A generated project's
``make serve`` reads its ``.env`` this way (make's own include ended a value at ``#`` and expanded ``$``;
tests/scaffold/test_generated_project.py serves one)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import CommandError, main, read_env_file

MISSING_MODULE = "no_such_module_for_env_file_tests:CONTRACTS"


def test_values_are_taken_as_written(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("\ufeff# a comment\n\n"
                   "IGNITER_SERVER_TOKEN=tok#en$abc$$x\n"
                   "IGNITER_STORE_URL=postgresql+psycopg://app:pa$w0rd#1@db/app?x=1\n"
                   "export IGNITER_LOG_LEVEL = 'debug'\n"
                   '  QUOTED="a b"  \n'
                   "EMPTY=\n"
                   "HALF='open\n", encoding="utf-8")
    assert read_env_file(str(env)) == {
        "IGNITER_SERVER_TOKEN": "tok#en$abc$$x",
        "IGNITER_STORE_URL": "postgresql+psycopg://app:pa$w0rd#1@db/app?x=1",
        "IGNITER_LOG_LEVEL": "debug",
        "QUOTED": "a b",
        "EMPTY": "",
        "HALF": "'open",
    }


@pytest.mark.parametrize("line", ["s3cret-token-pasted-alone", "9KEY=x", "MY KEY=x", "=x", "exported KEY"])
def test_a_line_that_is_not_key_value_is_named_by_number_never_quoted(tmp_path: Path, line: str) -> None:
    env = tmp_path / ".env"
    env.write_text(f"A=1\n{line}\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2: not a KEY=value line") as refused:
        read_env_file(str(env))
    assert str(env) in str(refused.value) and line not in str(refused.value)


def test_serve_reads_it_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: Any) -> None:
    env = tmp_path / ".env"
    env.write_text("IGNITER_LOG_LEVEL=loud\n", encoding="utf-8")
    monkeypatch.delenv("IGNITER_LOG_LEVEL", raising=False)
    # serve checks every setting before it imports the contracts: the file's value reached it
    assert main(["serve", MISSING_MODULE, "--env-file", str(env)]) == 2
    assert "IGNITER_LOG_LEVEL='loud' is not a log level" in capsys.readouterr().err
    assert "IGNITER_LOG_LEVEL" not in os.environ  # put back as it was

    monkeypatch.setenv("IGNITER_LOG_LEVEL", "info")  # set in the environment: it wins over the file's line
    assert main(["serve", MISSING_MODULE, "--env-file", str(env)]) == 2
    err = capsys.readouterr().err
    assert "cannot import module 'no_such_module_for_env_file_tests'" in err and "loud" not in err


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: None, "No such file or directory"),
    (lambda p: p.mkdir(), "Is a directory"),
    (lambda p: p.write_bytes(b"A=\xff\n"), "not UTF-8 text (byte 2)"),
    (lambda p: p.write_text("A=1\x00\n"), "line 1: the value of A holds a NUL character"),
])
def test_an_env_file_that_cannot_be_read_stops_serve_naming_it(tmp_path: Path, capsys: Any, make: Any,
                                                              says: str) -> None:
    env = tmp_path / "the.env"
    make(env)
    assert main(["serve", MISSING_MODULE, "--env-file", str(env)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"igniter-nb serve: error: --env-file {env}") and says in err, err
