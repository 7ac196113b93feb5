"""The real `igniter-nb` console script run by a hostile operator: a contracts module that exits while imported, a
file path given as the module, a CORS origin flag no browser could match, a store URL whose password sits in its
query or holds an `@`, a port in use, the help of every subcommand. Each must stop with exit code 2 and a message
naming what was wrong."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import TARGET
from tests.server.server_process import ROOT

SCRIPT = Path(sys.executable).with_name("igniter-nb")


def _script(*args: str, extra_path: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The console script, its igniter_nb this checkout's; every IGNITER_* variable left out."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("IGNITER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([str(extra_path)] if extra_path else [])])
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


@pytest.mark.parametrize(("source", "says"), [
    ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
    ("import argparse\nargparse.ArgumentParser().parse_args()\n", "called sys.exit(2)"),
])
def test_a_contracts_module_that_exits_while_imported_is_named(tmp_path: Path, source: str, says: str) -> None:
    """A module with a script part outside `if __name__ == "__main__":` ended `serve` with its own exit code and
    no word of why (an argparse module: its usage line, about igniter-nb's own arguments)."""
    (tmp_path / "exits_on_import.py").write_text(source)
    done = _script("serve", "exits_on_import:CONTRACTS", "--port", "1", extra_path=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("igniter-nb serve: error: importing module 'exits_on_import'") and says in last, last
    assert "__main__" in last


@pytest.mark.parametrize("module", ["exits_on_import.py", "./exits_on_import.py", "sub/exits_on_import.py"])
def test_a_file_path_as_module_is_named_and_not_imported(tmp_path: Path, module: str) -> None:
    """`serve app.py:CONTRACTS` imported app (running it) before failing on "'app' is not a package"; `./app.py`
    failed with "the 'package' argument is required to perform a relative import"."""
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n")  # importing it would say so
    done = _script("serve", f"{module}:CONTRACTS", "--port", "1", extra_path=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"igniter-nb serve: error: {module!r} (from {module + ':CONTRACTS'!r}) is a file path: "
                           "MODULE is the module's dotted import name, such as 'exits_on_import'"), last


@pytest.mark.parametrize("origin", ["https://app.example.com/", "https://app.example.com/app", "app.example.com",
                                    "https://user@app.example.com"])
def test_a_cors_origin_flag_that_is_no_origin_stops_serve(origin: str) -> None:
    """IGNITER_CORS_ORIGINS refused these; --cors-origin served them, and no browser's Origin ever matched."""
    done = _script("serve", TARGET, "--port", "1", "--cors-origin", "https://ok.example.com", "--cors-origin", origin)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"--cors-origin {origin!r} is not an origin" in done.stderr, done.stderr


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://app:pw@127.0.0.1:1/app?password=Hunter2secret",
    "redis://127.0.0.1:1/0?password=Hunter2secret",
    "postgresql+psycopg://app:Hunter2secret@tail7@127.0.0.1:1/app",
])
def test_a_store_password_in_the_query_or_holding_an_at_is_never_printed(url: str) -> None:
    done = _script("serve", TARGET, "--port", "1", "--store", url)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "igniter-nb serve: error: --store '" in done.stderr and "***" in done.stderr, done.stderr
    assert "Hunter2" not in done.stderr + done.stdout and "tail7" not in done.stderr + done.stdout, done.stderr


@pytest.mark.parametrize(("flag", "says"), [
    ("--host", "--host is empty (an unset shell variable?): give the address to listen on, such as 127.0.0.1 (the "
               "default), or 0.0.0.0 for every interface"),
    ("--store", "--store is empty (an unset shell variable?): give a store URL, or leave --store out for "
                "$IGNITER_STORE_URL, else memory://"),
    ("--token-env", "--token-env is empty (an unset shell variable?): give the name of the environment variable "
                    "holding the token"),
])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_flag_value_stops_serve(flag: str, says: str, value: str) -> None:
    """`--host "$HOST"` with HOST unset listened on every interface (an empty host is INADDR_ANY) instead of the
    default 127.0.0.1; `--store "$DATABASE_URL"` served an in-memory store that forgets every workflow."""
    done = _script("serve", TARGET, "--port", "1", flag, value, timeout=30)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"igniter-nb serve: error: {says}" in done.stderr, done.stderr


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _script("serve", TARGET, "--host", "127.0.0.1", "--port", str(port))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"--port {port}: the address is already in use" in done.stderr, done.stderr


@pytest.mark.parametrize("args", [("--help",), ("serve", "--help"), ("new", "--help"), ("new", "contract", "--help"),
                                  ("new", "project", "--help")])
def test_every_subcommand_has_help(args: tuple[str, ...]) -> None:
    done = _script(*args)
    assert done.returncode == 0 and done.stdout.startswith("usage: igniter-nb"), (done.returncode, done.stderr)
    assert done.stderr == ""


@pytest.mark.parametrize(("args", "says"), [
    (("serve", TARGET, "--workers", "abc"), "argument --workers: must be a whole number >= 1, got 'abc'"),
    (("serve", TARGET, "--workers", "0"), "argument --workers: must be a whole number >= 1, got 0"),
    (("serve", TARGET, "--workers", "-1"), "argument --workers: must be a whole number >= 1, got -1"),
    (("serve", TARGET, "--token-env", "IGNITER_HOSTILE_UNSET_VAR"),
     "--token-env IGNITER_HOSTILE_UNSET_VAR: the environment variable IGNITER_HOSTILE_UNSET_VAR is not set or is empty"),
    (("bogus",), "invalid choice: 'bogus'"),
])
def test_bad_arguments_exit_2_naming_them(args: tuple[str, ...], says: str) -> None:
    done = _script(*args)
    assert done.returncode == 2 and says in done.stderr, (done.returncode, done.stderr)


@pytest.mark.parametrize(("args", "says"), [
    (("--log-level", "DEBUG", "--store", "memory://", "--workers", "2"), "--workers 2 with store 'memory://'"),
    (("--balance", "SHARED", "--store", "memory://", "--workers", "2"), "--workers 2 with store 'memory://'"),
])
def test_choices_are_taken_in_any_case_as_their_variables_are(args: tuple[str, ...], says: str) -> None:
    """IGNITER_LOG_LEVEL=DEBUG and IGNITER_SERVER_BALANCE=SHARED were taken, --log-level DEBUG and --balance SHARED
    refused ("invalid choice"). Here the flag passes argparse, and serve stops at the next check."""
    done = _script("serve", TARGET, "--port", "1", *args)
    assert done.returncode == 2 and says in done.stderr, (done.returncode, done.stderr)
