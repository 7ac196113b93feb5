"""Deterministic crash points inside file and parquet saves: what a killed writer leaves is never visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.stores import FileStore, ParquetStore


class Killed(BaseException):
    """Stands in for SIGKILL at a chosen point (BaseException: nothing in the store may catch it)."""


def test_file_store_version_written_but_not_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileStore(tmp_path)
    store.save({"execution_id": "e", "n": 1}, graph="G", correlation={"k": 1}, status="waiting")
    real_write = store._write

    def write_then_die(path: Path, data: bytes) -> None:
        if path.name == "current.json":
            raise Killed
        real_write(path, data)

    monkeypatch.setattr(store, "_write", write_then_die)
    with pytest.raises(Killed):
        store.save({"execution_id": "e", "n": 2}, status="succeeded")
    monkeypatch.undo()
    assert (tmp_path / "executions" / "e" / "v000000002.json").exists()  # the orphan is there...
    assert store.fetch("e") == {"execution_id": "e", "n": 1}  # ...but invisible
    assert store.history("e") == [{"execution_id": "e", "n": 1}]
    assert store.find_by_correlation("G", {"k": 1}) == "e"
    assert store.save({"execution_id": "e", "n": 3}, expected_version=1) == 2  # and overwritten by the next save
    assert store.history("e")[-1] == {"execution_id": "e", "n": 3}


def test_file_store_stale_index_entry_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileStore(tmp_path)
    real_write = store._write

    def write_then_die(path: Path, data: bytes) -> None:
        real_write(path, data)
        if path.parent.name == "index":
            raise Killed  # index entry written, current.json never

    monkeypatch.setattr(store, "_write", write_then_die)
    with pytest.raises(Killed):
        store.save({"execution_id": "ghost"}, graph="G", correlation={"k": 1}, status="waiting")
    monkeypatch.undo()
    assert store.find_by_correlation("G", {"k": 1}) is None
    assert not store.exists("ghost")
    store.save({"execution_id": "real"}, graph="G", correlation={"k": 1}, status="waiting")  # not a duplicate
    assert store.find_by_correlation("G", {"k": 1}) == "real"


def test_file_store_torn_temporary_file_is_never_read(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save({"execution_id": "e", "n": 1})
    folder = tmp_path / "executions" / "e"
    (folder / ".tmp-current.json-deadbeef").write_text('{"execution_id": "e", "n": 2, "trunc')
    assert store.fetch("e") == {"execution_id": "e", "n": 1}
    assert [r.execution_id for r in store.list()] == ["e"]


@pytest.mark.parametrize("die_at", ["after_intent", "after_file"])
def test_parquet_store_finishes_or_drops_interrupted_saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           die_at: str) -> None:
    store = ParquetStore(tmp_path)
    store.save({"execution_id": "e", "n": 1}, graph="G", correlation={"k": 1}, status="waiting")
    real_write = store._write_file

    def write_file(path: Path, *args: Any) -> None:
        if die_at == "after_file":
            real_write(path, *args)
        raise Killed

    monkeypatch.setattr(store, "_write_file", write_file)
    with pytest.raises(Killed):
        store.save({"execution_id": "e", "n": 2}, status="succeeded")
    monkeypatch.undo()
    store.close()

    reopened = ParquetStore(tmp_path)
    expected_version = 2 if die_at == "after_file" else 1
    rec = reopened.record("e")
    assert rec.version == expected_version and rec.snapshot["n"] == expected_version
    assert reopened.find_by_correlation("G", {"k": 1}) == (None if die_at == "after_file" else "e")
    assert reopened.save({"execution_id": "e", "n": 9}, expected_version=expected_version) == expected_version + 1
    versions = sorted(reopened.to_frame().version)
    assert versions == list(range(1, expected_version + 2))  # no duplicate version in the log


def test_envelope_files_are_plain_json(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save({"execution_id": "e", "a": [1]}, graph="G", correlation={"b": 2, "a": 1}, status="waiting")
    data = json.loads((tmp_path / "executions" / "e" / "current.json").read_text())
    assert data["snapshot"] == {"execution_id": "e", "a": [1]}
    assert data["correlation"] == '{"a":1,"b":2}' and data["version"] == 1 and data["status"] == "waiting"
