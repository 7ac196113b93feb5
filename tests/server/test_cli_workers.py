"""`igniter-nb serve --workers N` given what it cannot serve: an SQLite in-memory database spelled as a URI filename
(`?mode=memory`), which each worker would open as a database of its own, and a number of workers no machine
runs (a typo, `--workers 20000`), which forked until the machine gave out. Both must stop the command before any
worker starts, naming the flag."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from igniter_nb.cli import main
from tests.server.conftest import TARGET


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something listens on: serve, had it passed its checks, would stop there and start no worker."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.mark.parametrize("store", ["sqlite:///file:shared_db?mode=memory&uri=true",
                                   "sqlite:///file:shared_db?uri=true&cache=shared&mode=memory",
                                   "sqlite+pysqlite:///file:x?mode=memory&uri=true"])
def test_an_sqlite_memory_uri_is_refused_for_several_workers(capsys: Any, taken_port: int, store: str) -> None:
    """`sqlite://` and `:memory:` were refused; `file:…?mode=memory` served two workers, each with a database of
    its own: a workflow started on one was unknown to the other (404 for its events)."""
    assert main(["serve", TARGET, "--workers", "2", "--store", store, "--port", str(taken_port)]) == 2
    err = capsys.readouterr().err
    assert "in-memory store lives inside one process" in err and repr(store) in err, err


def test_more_workers_than_the_machine_could_run_are_refused(capsys: Any, taken_port: int, tmp_path: Any) -> None:
    """`--workers 20000` started forking 20,000 Python processes (each importing the app and opening its store)."""
    limit = 16 * (os.cpu_count() or 1)
    store = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["serve", TARGET, "--workers", str(limit + 1), "--store", store, "--port", str(taken_port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"igniter-nb serve: error: --workers {limit + 1} is more than {limit}"), err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "w.db").exists()  # stopped before the store was opened
    # at the limit, the command goes on (to the port in use, where it stops before starting a worker)
    assert main(["serve", TARGET, "--workers", str(limit), "--store", store, "--port", str(taken_port)]) == 2
    assert "the address is already in use" in capsys.readouterr().err


@pytest.fixture
def no_store_variable(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("IGNITER_STORE_URL", raising=False)
    return monkeypatch


@pytest.mark.parametrize("store", ["memory://", "sqlite://", "sqlite:///file:m?mode=memory&uri=true"])
def test_an_in_memory_store_from_the_environment_is_refused_naming_the_variable(
        capsys: Any, taken_port: int, no_store_variable: pytest.MonkeyPatch, store: str) -> None:
    """IGNITER_STORE_URL=memory:// with --workers 2 was refused naming only the store: nothing said it came from
    the environment, where a user looking at the command line would not find it."""
    no_store_variable.setenv("IGNITER_STORE_URL", store)
    assert main(["serve", TARGET, "--workers", "2", "--port", str(taken_port)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"--workers 2 with store {store!r} (from IGNITER_STORE_URL)" in err, err
    assert "in-memory store lives inside one process" in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize(("args", "source"), [(("--store", "memory://"), "(from --store)"),
                                              ((), "(the default: no --store, and IGNITER_STORE_URL unset or empty)")])
def test_an_in_memory_store_from_the_flag_or_the_default_says_so(
        capsys: Any, taken_port: int, no_store_variable: pytest.MonkeyPatch, args: tuple[str, ...],
        source: str) -> None:
    assert main(["serve", TARGET, "--workers", "2", "--port", str(taken_port), *args]) == 2
    err = capsys.readouterr().err
    assert f"--workers 2 with store 'memory://' {source}" in err, err


@pytest.mark.parametrize("store", ["sqlite:///file:m?mode=memory", "sqlite:///file::memory:",
                                   "sqlite://?uri=true&cache=shared", "sqlite:///:memory:?cache=shared&uri=true"])
def test_an_in_memory_spelling_sqlite_would_take_for_a_file_is_refused_as_from_url_does(
        capsys: Any, taken_port: int, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    """SQLite takes these for file names: serve says what from_url says (what to write), whatever --workers is,
    and leaves no file behind (`sqlite://?uri=true&cache=shared` was a TypeError's traceback)."""
    monkeypatch.chdir(tmp_path)
    for workers in ("1", "2"):
        assert main(["serve", TARGET, "--workers", workers, "--store", store, "--port", str(taken_port)]) == 2
        err = capsys.readouterr().err
        assert f"--store {store!r}" in err and "asks for an SQLite in-memory database but" in err, err
        assert len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_store_variable_is_the_default_and_said_so(capsys: Any, taken_port: int,
                                                           no_store_variable: pytest.MonkeyPatch) -> None:
    no_store_variable.setenv("IGNITER_STORE_URL", "  ")
    assert main(["serve", TARGET, "--workers", "2", "--port", str(taken_port)]) == 2
    err = capsys.readouterr().err
    assert "with store 'memory://' (the default: no --store, and IGNITER_STORE_URL unset or empty)" in err, err
