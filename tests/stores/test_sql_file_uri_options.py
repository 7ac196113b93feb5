"""SQLite URI options on a file database need a ``file:`` name and ``uri=true``.

``sqlite:///x.db?cache=shared`` (or ``?mode=ro``) without ``uri=true`` got only SQLAlchemy's warning that the
options are ignored, then a database without them (``mode=ro``: a writable one). With ``uri=true`` but a name not
starting ``file:``, SQLite made a file named ``x.db?cache=shared``. Both refused, naming the URL and what to write.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import SQLStore
from igniter_nb.stores.url import from_url


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(("url", "options", "write"), [
    ("sqlite:///x.db?cache=shared", "cache", "sqlite:///file:x.db?cache=shared&uri=true"),
    ("sqlite:///x.db?mode=ro", "mode", "sqlite:///file:x.db?mode=ro&uri=true"),
    ("sqlite:///x.db?mode=ro&uri=false", "mode", "sqlite:///file:x.db?mode=ro&uri=true"),
    ("sqlite:///x.db?timeout=3&cache=private&immutable=1", "cache, immutable",
     "sqlite:///file:x.db?timeout=3&cache=private&immutable=1&uri=true"),
    ("sqlite:///file:x.db?cache=shared", "cache", "sqlite:///file:x.db?cache=shared&uri=true"),
    ("sqlite+pysqlite:///x.db?mode=ro", "mode", "sqlite:///file:x.db?mode=ro&uri=true"),
    ("sqlite:///x.db?cache=shared&cache=private", "cache", "sqlite:///file:x.db?cache=shared&cache=private&uri=true"),
    ("sqlite:///x.db?<b>=1", "<b>", "sqlite:///file:x.db?<b>=1&uri=true"),
])
def test_uri_options_on_a_file_without_uri_true_are_refused(url: str, options: str, write: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for make in (SQLStore, from_url):
        with pytest.raises(StoreArgumentError) as caught:
            make(url)
        assert str(caught.value) == (f"store URL {url!r} gives SQLite URI options ({options}) without uri=true, so "
                                     f"the SQLite driver would ignore them: write {write!r}")
    assert list(tmp_path.iterdir()) == []


def test_uri_options_on_a_name_not_starting_file_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``uri=true`` SQLite reads options only after a ``file:`` name: else a file named ``x.db?cache=shared``."""
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///x.db?cache=shared&uri=true"
    with pytest.raises(StoreArgumentError) as caught:
        SQLStore(url)
    assert str(caught.value) == (f"store URL {url!r} gives SQLite URI options (cache) to 'x.db', which is not a file: "
                                 "URI filename, so SQLite would make a file named 'x.db?cache=shared': write "
                                 "'sqlite:///file:x.db?cache=shared&uri=true'")
    assert list(tmp_path.iterdir()) == []


def test_the_url_the_refusal_names_reads_the_file_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the error says to write opens the same file with the option in force (``mode=ro``: no write)."""
    monkeypatch.chdir(tmp_path)
    writer = SQLStore("sqlite:///x.db")
    try:
        writer.save({"execution_id": "a"})
    finally:
        writer.close()
    with pytest.raises(StoreArgumentError) as caught:
        SQLStore("sqlite:///x.db?mode=ro")
    write = str(caught.value).rsplit("write ", 1)[1].strip("'")
    reader = SQLStore(write)
    try:
        assert reader.fetch("a")["execution_id"] == "a"
        with pytest.raises(Exception, match=r"readonly|read-only|read only"):
            reader.save({"execution_id": "b"})
    finally:
        reader.close()
    assert {p.name for p in tmp_path.iterdir()} <= {"x.db", "x.db-wal", "x.db-shm", "x.db-igniter.lock"}


@pytest.mark.parametrize("name", ["a#b.db", "a%b.db", "a?b.db"])
def test_a_name_with_uri_characters_is_written_escaped(name: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``#``, ``%`` and ``?`` end or escape a URI filename: the URL to write escapes them, and opens that file."""
    monkeypatch.chdir(tmp_path)
    sqlite3.connect(name).close()
    escaped = name.replace("%", "%25").replace("#", "%23").replace("?", "%3F")
    with pytest.raises(StoreArgumentError) as caught:
        SQLStore(f"sqlite:///{escaped}?cache=shared")
    write = str(caught.value).rsplit("write ", 1)[1].strip("'")
    store = SQLStore(write)
    try:
        store.save({"execution_id": "a"})
    finally:
        store.close()
    assert name in {p.name for p in tmp_path.iterdir()}
    assert {p.name for p in tmp_path.iterdir()} <= {name + end for end in ("", "-wal", "-shm", "-igniter.lock")}


@pytest.mark.parametrize("url", ["sqlite:///x.db", "sqlite:///x.db?timeout=3", "sqlite:///file:x.db?mode=rwc&uri=true"])
def test_a_file_url_without_uri_options_still_opens(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SQLStore(url)
    try:
        store.save({"execution_id": "a"})
    finally:
        store.close()
    assert (tmp_path / "x.db").exists()
