"""A file or parquet store given a directory it cannot use — a file, a path under a file, a name with a NUL byte —
fails at once with a StoreError naming the store kind and the path, not a raw OSError."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.stores import FileStore, ParquetStore, from_url


def _cases(tmp_path: Path) -> dict[str, str]:
    afile = tmp_path / "a-file"
    afile.write_text("not a directory")
    return {"a file": str(afile), "under a file": str(afile / "x")}


@pytest.mark.parametrize("kind", [FileStore, ParquetStore])
@pytest.mark.parametrize("case", ["a file", "under a file"])
def test_a_directory_that_cannot_be_used_is_a_store_error_naming_it(tmp_path: Path, kind: type, case: str) -> None:
    path = _cases(tmp_path)[case]
    with pytest.raises(StoreError, match=rf"{kind.__name__}.*{path}"):
        kind(path)
    scheme = "file" if kind is FileStore else "parquet"
    with pytest.raises(StoreError, match=rf"{kind.__name__}.*{path}"):
        from_url(f"{scheme}://{path}")
    assert (tmp_path / "a-file").read_text() == "not a directory"


@pytest.mark.parametrize("kind", [FileStore, ParquetStore])
def test_a_directory_name_with_a_nul_byte_is_a_store_error(tmp_path: Path, kind: type) -> None:
    with pytest.raises(StoreError, match=kind.__name__):
        kind(f"{tmp_path}/bad\x00name")


def test_a_parquet_index_that_is_not_a_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.save({"execution_id": "e-1", "states": {}}, graph="G", status="waiting")
    store.close()
    for name in ("_index.sqlite-wal", "_index.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    (tmp_path / "_index.sqlite").write_bytes(b"not a database " * 300)
    with pytest.raises(StoreError, match=r"ParquetStore.*_index\.sqlite.*delete it"):
        ParquetStore(tmp_path)
    (tmp_path / "_index.sqlite").unlink()  # as the message says: the index is rebuilt from the log
    assert ParquetStore(tmp_path).record("e-1").status == "waiting"


def test_a_sqlite_file_whose_write_lock_another_connection_keeps_names_the_store_and_why(tmp_path: Path) -> None:
    """It said only "too many conflicting writers", naming neither the store nor SQLite's "database is locked"."""
    import sqlite3

    from igniter_nb.stores import SQLStore

    path = tmp_path / "held.db"
    store = SQLStore(f"sqlite:///{path}", busy_timeout_ms=50)
    store.save({"execution_id": "a", "states": {}})
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=r"SQLStore\('sqlite:///.*held\.db'\).*'b'.*database is locked"):
            store.save({"execution_id": "b", "states": {}})
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.fetch("a") == {"execution_id": "a", "states": {}} and not store.exists("b")
    store.close()
