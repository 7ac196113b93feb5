"""``igniter-nb serve``'s numeric flags are checked by argparse, with the usage and a message naming the flag and
the range it takes: ``--max-body-bytes 0`` was accepted (every request with a body then got 413). ``create_app``
and ``BodySizeLimit`` refuse a ``max_body_bytes`` that is not an int >= 1 (bools too) when called, naming it — the
app was built, and the middleware failed only on the first request."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.cli import build_parser, main
from tests.server.server_contracts import CONTRACTS
from tests.server.test_serve_settings import env  # noqa: F401  (the fixture: no IGNITER_* variable set)

pytestmark = pytest.mark.usefixtures("env")
NO_MODULE = "no_such_module_for_flags:CONTRACTS"  # (never imported: the flags are refused first)


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--max-body-bytes", "0", "must be a whole number of bytes >= 1, got 0"),
    ("--max-body-bytes", "-1", "must be a whole number of bytes >= 1, got -1"),
    ("--max-body-bytes", "1e6", "must be a whole number of bytes >= 1, got '1e6'"),
    ("--workers", "0", "must be a whole number >= 1, got 0"),
    ("--workers", "-2", "must be a whole number >= 1, got -2"),
    ("--port", "-1", "must be a whole number from 0 to 65535, got -1"),
    ("--port", "65536", "must be a whole number from 0 to 65535, got 65536"),
    ("--threads", "-1", "must be a whole number of threads >= 0, got -1"),
    ("--max-streams", "0", "must be a whole number of streams >= 1, got 0"),
    ("--callback-retries", "-1", "must be a whole number of retries >= 0, got -1"),
])
def test_a_numeric_flag_out_of_range_is_an_argparse_error_naming_it(capsys: Any, flag: str, value: str, says: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", NO_MODULE, f"{flag}={value}"])
    assert stopped.value.code == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    lines = shown.err.splitlines()
    assert lines[0].startswith("usage: igniter-nb serve ")
    assert lines[-1] == f"igniter-nb serve: error: argument {flag}: {says}"


def test_the_lowest_values_each_flag_takes_are_taken() -> None:
    args = build_parser().parse_args(["serve", NO_MODULE, "--max-body-bytes", "1", "--workers", "1", "--port", "0",
                                      "--threads", "0", "--max-streams", "1", "--callback-retries", "0"])
    assert (args.max_body_bytes, args.workers, args.port, args.threads, args.max_streams, args.callback_retries) == (
        1, 1, 0, 0, 1, 0)


@pytest.mark.parametrize("value", [0, -1, True, False, 1.5, "1000", float("nan")])
def test_create_app_refuses_a_max_body_bytes_that_is_not_an_int_of_at_least_1(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^max_body_bytes must be an int >= 1 \(bytes\), got "):
        ig.server.create_app(CONTRACTS, store=ig.stores.MemoryStore(), max_body_bytes=value)


def test_a_zero_body_limit_in_the_environment_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITER_MAX_BODY_BYTES", "0")
    with pytest.raises(ig.SettingsError, match="IGNITER_MAX_BODY_BYTES='0' is not a whole number of bytes >= 1"):
        ig.server.create_app(CONTRACTS, store=ig.stores.MemoryStore())


@pytest.mark.parametrize("value", [0, True])
def test_the_body_size_middleware_refuses_it_when_built(value: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover (never called)
        pass

    with pytest.raises(ValueError, match="max_body_bytes must be an int >= 1"):
        ig.server.BodySizeLimit(app, max_body_bytes=value)
