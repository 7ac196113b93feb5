"""Every spelling of an SQLite in-memory database keeps ONE database for the store's life.

Only ``sqlite://`` and ``:memory:`` were recognised: ``file::memory:?uri=true`` got a pool of connections, each
opening an empty database of its own (a workflow saved by one call was unknown to the next on another connection),
and ``file:x?mode=memory&uri=true`` got SQLAlchemy's per-thread pool (a database per thread) with a
SADeprecationWarning about that choice. A ``mode=memory`` or ``file:`` spelling without ``uri=true`` made a file
named ``file:x`` in the working directory instead: refused, naming what to add.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import SQLStore
from igniter_nb.stores.url import from_url

FORMS = (
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite:///file::memory:?uri=true",
    "sqlite:///file::memory:?cache=shared&uri=true",
    "sqlite:///file:{name}?mode=memory&uri=true",
    "sqlite:///file:{name}?mode=memory&cache=shared&uri=true",
    "sqlite+pysqlite:///file:{name}?uri=true&mode=memory",
    "sqlite:///:memory:?uri=true",
)
THREADS = 6


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("make", [SQLStore, from_url], ids=["SQLStore", "from_url"])
@pytest.mark.parametrize("form", FORMS)
def test_an_in_memory_database_is_one_database_for_the_store(form: str, make: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a form taken for a file name would leave that file here
    tag = uuid.uuid4().hex[:10]
    store = make(form.format(name=f"mem_{tag}"))
    try:
        assert isinstance(store, SQLStore)
        for call in range(5):  # saved by one call, read back by the next ones
            store.save({"execution_id": f"{tag}-main", "n": call})
            assert store.fetch(f"{tag}-main")["n"] == call
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                for call in range(3):
                    store.save({"execution_id": f"{tag}-t{i}", "n": call})
                    assert store.fetch(f"{tag}-t{i}")["n"] == call
                assert store.fetch(f"{tag}-main")["n"] == 4  # what another thread saved
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        for i in range(THREADS):  # and every thread's saves, read from this one
            assert store.fetch(f"{tag}-t{i}")["n"] == 2
        assert store.exists(f"{tag}-main")
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


@pytest.mark.parametrize("url", ["sqlite:///file:mem_x?mode=memory", "sqlite:///file::memory:",
                                 "sqlite:///file::memory:?cache=shared", "sqlite:///file:mem_x?uri=false&mode=memory",
                                 "sqlite:///mem_x.db?mode=memory", "sqlite:///mem_x.db?mode=memory&uri=true",
                                 "sqlite:///:memory:?uri=true&cache=shared", "sqlite:///?uri=true&cache=shared",
                                 "sqlite://?uri=true&cache=shared"])
def test_a_memory_spelling_sqlite_takes_for_a_file_name_is_refused(url: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``uri=true`` SQLite takes ``file:...`` as a plain file name and ignores ``mode=``; it reads URI
    options only after a ``file:`` name (``:memory:?cache=shared`` is a file of that name): each store was a file in
    the working directory, not the in-memory database asked for (``sqlite://?uri=true&cache=shared``: a TypeError)."""
    monkeypatch.chdir(tmp_path)
    for make in (SQLStore, from_url):
        with pytest.raises(StoreArgumentError, match=r"asks for an SQLite in-memory database but .*: write "
                                                     r"'sqlite:///file:[^']*uri=true'$") as caught:
            make(url)
        assert repr(url) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_file_uri_still_opens_a_file(tmp_path: Path) -> None:
    """A ``file:`` URI naming a file on disk (no ``mode=memory``) is a file database, as before."""
    path = tmp_path / "on-disk.db"
    store = SQLStore(f"sqlite:///file:{path}?uri=true")
    try:
        store.save({"execution_id": "a"})
        assert store.fetch("a")["execution_id"] == "a"
    finally:
        store.close()
    assert path.exists()


@pytest.mark.parametrize("form", ["sqlite:///file:{name}?mode=memory&cache=shared&uri=true",
                                  "sqlite:///file::memory:?cache=shared&uri=true"])
def test_two_stores_of_one_shared_cache_database_take_turns(form: str) -> None:
    """Two stores of one ``cache=shared`` database in a process see one database; their threads writing at once
    got "database table is locked" at once (SQLite's shared cache does not wait out a busy timeout)."""
    url = form.format(name=f"mem_{uuid.uuid4().hex[:10]}")
    first, second = SQLStore(url), SQLStore(url)
    try:
        first.save({"execution_id": "seen"})
        assert second.fetch("seen")["execution_id"] == "seen"
        errors: list[BaseException] = []

        def work(store: Any, i: int) -> None:
            try:
                for call in range(20):
                    store.save({"execution_id": f"w{i}", "n": call})
                    assert store.fetch(f"w{i}")["n"] == call
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(store, i)) for i, store in enumerate([first, second] * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        assert {first.fetch(f"w{i}")["n"] for i in range(6)} == {19}
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(("url", "write"), [
    ("sqlite:///:memory:?cache=shared", "sqlite:///file::memory:?cache=shared&uri=true"),
    ("sqlite://?cache=shared", "sqlite:///file::memory:?cache=shared&uri=true"),
    ("sqlite:///:memory:?cache=shared&uri=false", "sqlite:///file::memory:?cache=shared&uri=true"),
])
def test_uri_options_after_memory_without_uri_true_are_refused_not_ignored(url: str, write: str, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``uri=true`` the driver drops ``cache=shared`` (a SQLAlchemy SAWarning, then a private in-memory
    database where a shared cache was asked for): refused, naming the URL and the one to write."""
    monkeypatch.chdir(tmp_path)
    for make in (SQLStore, from_url):
        with pytest.raises(StoreArgumentError) as caught:
            make(url)
        assert str(caught.value) == (f"store URL {url!r} asks for an SQLite in-memory database but gives SQLite URI "
                                     f"options (cache) without uri=true, so the SQLite driver would ignore them: write "
                                     f"{write!r}")
    assert list(tmp_path.iterdir()) == []
    shared = SQLStore(write)  # what it says to write is one shared in-memory database
    try:
        shared.save({"execution_id": "a"})
        assert shared.fetch("a")["execution_id"] == "a"
    finally:
        shared.close()


@pytest.mark.parametrize(("url", "slip", "write"), [
    ("sqlite:///FILE::memory:", "'FILE::memory:'", "sqlite:///file::memory:?uri=true"),
    ("sqlite:///FILE::memory:?uri=true", "'FILE::memory:'", "sqlite:///file::memory:?uri=true"),
    ("sqlite:///File::memory:?cache=shared&uri=true", "'File::memory:'",
     "sqlite:///file::memory:?cache=shared&uri=true"),
    ("sqlite:///:MEMORY:", "':MEMORY:'", "sqlite:///:memory:"),
    ("sqlite:///:Memory:?cache=shared", "':Memory:'", "sqlite:///file::memory:?cache=shared&uri=true"),
    ("sqlite:///FILE:mem_x?mode=memory&uri=true", "'FILE:mem_x'", "sqlite:///file:mem_x?mode=memory&uri=true"),
    ("sqlite:///file:mem_x?MODE=memory&uri=true", "'MODE=memory'", "sqlite:///file:mem_x?mode=memory&uri=true"),
    ("sqlite:///file:mem_x?mode=MEMORY&uri=true", "'mode=MEMORY'", "sqlite:///file:mem_x?mode=memory&uri=true"),
])
def test_a_memory_spelling_in_capitals_is_refused_naming_the_url(url: str, slip: str, write: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reads ``:memory:``, the ``file:`` scheme and ``mode=memory`` only in lower case: ``FILE::memory:``
    made a file of that name in the working directory (``mode=MEMORY`` an "no such access mode" at the first use)."""
    monkeypatch.chdir(tmp_path)
    for make in (SQLStore, from_url):
        with pytest.raises(StoreArgumentError) as caught:
            make(url)
        assert str(caught.value) == (
            f"store URL {url!r} asks for an SQLite in-memory database but writes {slip} in another case than SQLite "
            f"reads (':memory:', 'file:' and mode=memory only in lower case), so SQLite would not open an in-memory "
            f"database: write {write!r}")
    assert list(tmp_path.iterdir()) == []


def test_a_file_named_in_capitals_is_still_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the in-memory spellings are checked for case: ``FILE:data.db`` without ``mode=memory`` is a file name."""
    monkeypatch.chdir(tmp_path)
    store = SQLStore("sqlite:///FILE:data.db")
    try:
        store.save({"execution_id": "a"})
    finally:
        store.close()
    assert (tmp_path / "FILE:data.db").exists()


@pytest.mark.parametrize("url", ["sqlite://?MODE=memory", "sqlite:///mem_x.db?MODE=memory", "sqlite:///:MEMORY:?mode=memory",
                                 "sqlite:///:memory:?MODE=memory&uri=true", "sqlite:///FILE:mem_y?Mode=Memory",
                                 "sqlite:///file:mem_z?mode=MEMORY&uri=true&cache=shared", "sqlite:///:Memory:"])
def test_the_url_a_refusal_names_opens_an_in_memory_database(url: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the slip, the URL the error says to write is one SQLite opens in memory (not refused in turn)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreArgumentError, match=r": write 'sqlite:///[^']*'$") as caught:
        SQLStore(url)
    store = SQLStore(str(caught.value).rsplit(": write ", 1)[1].strip("'"))
    try:
        store.save({"execution_id": "a"})
        assert store.fetch("a")["execution_id"] == "a"
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []
