"""`igniter-nb serve --store sqlite:///new.db` refused for another flag — a --token-env naming an unset variable, a
--public-url that is no base URL, a port in use — left new.db (and its lock file) behind: the store was read,
creating the file and its tables, before those were checked. A refused start must write nothing."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import main
from tests.server.conftest import TARGET


@pytest.fixture
def taken_port() -> Any:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.mark.parametrize(("flags", "says"), [
    (["--token-env", "IGNITER_NB_TEST_UNSET_TOKEN_VAR"], "IGNITER_NB_TEST_UNSET_TOKEN_VAR is not set"),
    (["--public-url", "ftp://example.com"], "--public-url: public_url must be"),
    (["--port", "PORT"], "the address is already in use"),
])
def test_a_start_refused_for_a_flag_leaves_no_new_database(capsys: Any, tmp_path: Path, taken_port: int,
                                                           monkeypatch: pytest.MonkeyPatch, flags: list[str],
                                                           says: str) -> None:
    monkeypatch.delenv("IGNITER_NB_TEST_UNSET_TOKEN_VAR", raising=False)
    flags = [str(taken_port) if flag == "PORT" else flag for flag in flags]
    port = [] if "--port" in flags else ["--port", "0"]
    assert main(["serve", TARGET, "--store", f"sqlite:///{tmp_path / 'new.db'}", *port, *flags]) == 2
    assert says in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_store_url_no_store_takes_is_still_named_before_the_port(capsys: Any, taken_port: int) -> None:
    assert main(["serve", TARGET, "--store", "nosuch://x", "--port", str(taken_port)]) == 2
    assert "unknown store URL scheme" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["text file", "directory"])
def test_a_sqlite_path_that_is_no_database_is_named_and_left_as_it_was(capsys: Any, tmp_path: Path,
                                                                       kind: str) -> None:
    """The failed read left `notes.txt-igniter.lock` (the SQLite store's write lock file) beside the file."""
    target = tmp_path / "notes.txt"
    if kind == "directory":
        target.mkdir()
    else:
        target.write_text("precious notes\n")
    assert main(["serve", TARGET, "--store", f"sqlite:///{target}", "--port", "0"]) == 2
    assert "the store cannot be read" in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]
    if kind == "text file":
        assert target.read_text() == "precious notes\n"
