"""from_url, the default store (configure / IGNITER_STORE_URL), export_parquet, and lazy imports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from igniter_nb import config
from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import (
    FileStore,
    MemoryStore,
    ParquetStore,
    RedisStore,
    SQLStore,
    export_parquet,
    from_url,
)


@pytest.fixture
def clean_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    config.configure(None)
    yield
    config.configure(None)


def roundtrip(store: Any) -> None:
    store.save({"execution_id": "u-1", "x": 1}, graph="G", correlation={"k": "v"}, status="waiting")
    assert store.fetch("u-1") == {"execution_id": "u-1", "x": 1}
    assert store.find_by_correlation("G", {"k": "v"}) == "u-1"
    store.close()


def test_from_url_builds_each_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str,
                                    postgres_url: str) -> None:
    assert isinstance(from_url("memory://"), MemoryStore)
    fs = from_url(f"file://{tmp_path}/files")
    assert isinstance(fs, FileStore) and fs.root == tmp_path / "files"
    roundtrip(fs)
    monkeypatch.chdir(tmp_path)
    rel = from_url("file://relative-dir")
    assert isinstance(rel, FileStore) and rel.root == tmp_path / "relative-dir"
    pq = from_url(f"parquet://{tmp_path}/log")
    assert isinstance(pq, ParquetStore)
    roundtrip(pq)
    for url in (f"sqlite:///{tmp_path}/a.db", "sqlite://", postgres_url,
                postgres_url.replace("postgresql+psycopg://", "postgresql://")):
        sql = from_url(url)
        assert isinstance(sql, SQLStore)
        sql.delete("u-1")
        roundtrip(sql)
    red = from_url(f"{redis_url}?namespace=urltest")
    assert isinstance(red, RedisStore) and red.namespace == "urltest"
    roundtrip(red)


@pytest.mark.parametrize("url", ["mongodb://x", "nothing", "", "file://", "s3://bucket/x"])
def test_from_url_rejects_unknown_urls_listing_the_supported_ones(url: str) -> None:
    with pytest.raises(StoreArgumentError, match=r"memory://|names no directory"):
        from_url(url)


def test_default_store_is_a_process_wide_memory_store(clean_default: None) -> None:
    first = config.default_store()
    assert isinstance(first, MemoryStore) and config.default_store() is first


def test_default_store_from_environment(clean_default: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(config.ENV_VAR, f"file://{tmp_path}/env-store")
    store = config.default_store()
    assert isinstance(store, FileStore) and store.root == tmp_path / "env-store"
    assert config.default_store() is store


def test_configure_with_store_or_url(clean_default: None, tmp_path: Path) -> None:
    mine = MemoryStore()
    assert config.configure(store=mine) is mine and config.default_store() is mine
    built = config.configure(f"sqlite:///{tmp_path}/c.db")
    assert isinstance(built, SQLStore) and config.default_store() is built
    with pytest.raises(TypeError, match="needs a store"):
        config.configure(store=42)
    config.configure(None)
    assert isinstance(config.default_store(), MemoryStore)


def test_export_parquet_copies_every_version(store: Any, tmp_path: Path) -> None:
    for n in range(1, 4):
        store.save({"execution_id": "a", "n": n}, graph="G", correlation={"k": 1},
                   status="waiting" if n < 3 else "succeeded")
    store.save({"execution_id": "b", "n": 0}, graph="H", correlation={"k": 2}, status="waiting")
    target = tmp_path / "export"
    assert export_parquet(store, target) == 4
    frame = pd.read_parquet(target)
    assert sorted(frame.columns) == sorted(["execution_id", "version", "saved_at", "graph", "status", "correlation",
                                            "snapshot"])
    assert sorted(zip(frame.execution_id, frame.version, strict=True)) == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]
    assert str(frame.saved_at.dtype) == "datetime64[us, UTC]"
    copy = ParquetStore(target)
    assert copy.history("a") == store.history("a")
    assert [r.status for r in copy.history_records("a")] == [r.status for r in store.history_records("a")]
    assert copy.find_by_correlation("H", {"k": 2}) == "b" and copy.find_by_correlation("G", {"k": 1}) is None
    assert export_parquet(store, target, execution_ids=["b"]) == 1  # re-export replaces, never duplicates
    assert len(pd.read_parquet(target)) == 4
    copy.close()


def test_parquet_index_rebuilds_from_the_log(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path / "log")
    store.save({"execution_id": "a"}, graph="G", correlation={"k": 1}, status="waiting")
    store.save({"execution_id": "a", "n": 2})
    store.close()
    (tmp_path / "log" / "_index.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        (tmp_path / "log" / f"_index.sqlite{extra}").unlink(missing_ok=True)
    again = ParquetStore(tmp_path / "log")
    assert again.record("a").version == 2 and again.find_by_correlation("G", {"k": 1}) == "a"
    assert len(again.to_frame()) == 2


def test_importing_stores_stays_light() -> None:
    code = (
        "import sys, igniter_nb.stores, igniter_nb.config, igniter_nb.runtime.codec;"
        "import igniter_nb.stores as s; s.MemoryStore().save({'execution_id': 'x'});"
        "print(sorted(m for m in ('sqlalchemy', 'redis', 'pyarrow', 'pandas', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
