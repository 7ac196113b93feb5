"""A store URL that is wrong: each kind fails with a StoreError (or StoreArgumentError) naming the store and its
URL, never the URL's password, never a raw driver exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb.errors import StoreArgumentError, StoreError
from igniter_nb.stores import RedisStore, from_url
from tests.services import dead_port

SECRET = "s3cret-pw"


@pytest.mark.parametrize("url", [f"mysql://user:{SECRET}@db.example/app", f"postgresql:/user:{SECRET}@db/app",
                                 f"mongodb://:{SECRET}@x/y", f"s3://k:{SECRET}@bucket/x?token={SECRET}"])
def test_an_unknown_or_malformed_url_is_named_without_its_password(url: str) -> None:
    with pytest.raises(StoreArgumentError) as caught:
        from_url(url)
    assert SECRET not in str(caught.value) and "***" in str(caught.value)
    assert "memory://" in str(caught.value)  # still lists the supported URLs


def test_a_sqlite_file_that_is_not_a_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not a database " * 200)
    store = from_url(f"sqlite:///{junk}")
    for call in (lambda: store.save({"execution_id": "a", "states": {}}), lambda: store.fetch("a"),
                 lambda: store.list(), lambda: store.create_tables()):
        with pytest.raises(StoreError, match=r"notes\.db.*not a database"):
            call()
    assert junk.read_bytes() == b"this is not a database " * 200  # untouched


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_an_unreachable_redis_is_a_store_error_naming_the_url_without_its_password(scheme: str) -> None:
    with dead_port() as port:  # nothing listens there, nor can while the test runs
        store = from_url(f"{scheme}://:{SECRET}@127.0.0.1:{port}/0?socket_connect_timeout=2")
        for call in (lambda: store.save({"execution_id": "a", "states": {}}), lambda: store.fetch("a"),
                     lambda: store.list(), lambda: store.record("a"), lambda: store.delete("a"),
                     lambda: store.find_by_correlation("G", {"k": 1}), lambda: store.count()):
            with pytest.raises(StoreError) as caught:
                call()
            assert "127.0.0.1" in str(caught.value) and "RedisStore" in str(caught.value)
            assert SECRET not in str(caught.value)
        store.close()


def test_a_wrong_redis_password_is_a_store_error(redis_url: str) -> None:
    base = redis_url.split("://", 1)[1].rpartition("@")[2]
    store = RedisStore(f"redis://nobody:{SECRET}@{base}", namespace="wrong-pw")
    with pytest.raises(StoreError) as caught:
        store.fetch("a")
    assert SECRET not in str(caught.value) and "RedisStore" in str(caught.value)
    store.close()


@pytest.mark.parametrize("url", [f"redis://u:{SECRET}@127.0.0.1:abc/0", f"redis://u:{SECRET}@127.0.0.1:99999/0",
                                 f"redis://u:{SECRET}@[::1/0", f"redis://u:{SECRET}@h:1/0?socket_timeout=abc",
                                 f"postgresql://u:{SECRET}@127.0.0.1:abc/db", f"postgresql+nodriver://u:{SECRET}@h/db",
                                 "sqlite+nodriver:///x.db"])
def test_a_malformed_url_is_a_store_argument_error_naming_it_without_its_password(url: str) -> None:
    """A port that is not a number, a driver that does not exist: the driver's ValueError (or SQLAlchemy's
    NoSuchModuleError) did not say which URL."""
    with pytest.raises(StoreArgumentError) as caught:
        from_url(url)
    message = str(caught.value)
    assert SECRET not in message and f"{url.split('://', 1)[0]}://" in message
    assert "***" in message or SECRET not in url


# Options redis-py reads only when it makes a connection (2026-12-04 trials): ``ssl_cert_reqs=bogus`` made a store
# whose first read raised a raw RedisError; an option redis-py does not know, a raw TypeError.
@pytest.mark.parametrize("url", [f"rediss://u:{SECRET}@127.0.0.1:6399/0?ssl_cert_reqs=bogus",
                                 f"rediss://:{SECRET}@h/0?ssl_cert_reqs=bogus&password={SECRET}",
                                 f"redis://u:{SECRET}@127.0.0.1:6399/0?no_such_option=1",
                                 f"redis://u:{SECRET}@127.0.0.1:6399/0?namespace=n&no_such_option=1"])
def test_a_redis_url_option_redis_py_refuses_is_a_store_argument_error_at_from_url(url: str) -> None:
    for make in (from_url, RedisStore):
        with pytest.raises(StoreArgumentError) as caught:
            make(url)
        message = str(caught.value)
        assert SECRET not in message and "***" in message and f"{url.split('://', 1)[0]}://" in message, message
        assert "cannot be used" in message and "\n" not in message


@pytest.mark.parametrize("query", ["ssl_cert_reqs=none", "ssl_cert_reqs=required", "ssl_cert_reqs=optional", ""])
def test_a_rediss_url_with_good_options_still_makes_a_store(query: str) -> None:
    store = from_url(f"rediss://:{SECRET}@127.0.0.1:6399/0?{query}")
    assert isinstance(store, RedisStore)
    store.close()


@pytest.mark.parametrize("url", [f"file://user:{SECRET}@/srv/state", f"parquet://user:{SECRET}@host/x",
                                 "file://admin@host/x", f"parquet://:{SECRET}@/x"])
def test_a_directory_url_with_a_user_part_is_refused_and_makes_no_directory(
        url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """file:// and parquet:// take the rest of the URL as a directory: a login in it made a directory named after
    the password in the working directory (``./user:s3cret-pw@/srv/state``)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreArgumentError) as caught:
        from_url(url)
    assert "user part" in str(caught.value) and SECRET not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing was made


def test_an_at_sign_in_a_directory_is_written_percent_encoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = from_url("file://backups%40night/x")
    try:
        assert Path(store.root).resolve() == (tmp_path / "backups@night" / "x").resolve()
    finally:
        store.close()
