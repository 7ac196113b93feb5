"""A file or parquet store opened on a directory it may not write — a copied or mounted store an analyst reads in a
notebook — answers every read, and every write is a ``StoreError`` naming the directory and saying it is read-only,
raised before anything is touched; ``read_only=True`` gives the same on a writable directory, and then an opening
finishes no killed writer's work either. Nothing in the directory changes (every file's size and mtime compared).
Both failed to open at all (touching ``.lock``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.stores.base import StoredExecution
from igniter_nb.stores.file import FileStore
from igniter_nb.stores.parquet import ParquetStore, export_parquet

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"file": FileStore, "parquet": ParquetStore}


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``root``: (size, mtime in ns) — what must not change."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            found[str(path.relative_to(root))] = (info.st_size if name in files else 0, info.st_mtime_ns)
    return found


def fill(kind: str, root: Path) -> None:
    store = KINDS[kind](root, fsync=False)
    for step in (1, 2, 3):
        store.save({"execution_id": "lead", "step": step}, graph="Lead", correlation={"k": 1}, status="waiting")
    store.save({"execution_id": "other", "step": 1}, graph="Lead", correlation={"k": 2}, status="succeeded")
    store.close()


def reads(store: Any) -> dict[str, Any]:
    """Every read an analyst makes, as JSON."""
    answers = {
        "list": [(r.execution_id, r.version, r.status) for r in store.list()],
        "count": store.count(),
        "record": store.record("lead").snapshot,
        "history": store.history("lead"),
        "history_records": [r.version for r in store.history_records("lead")],
        "page": [r.version for r in store.history_page("lead", limit=2)],
        "list_page": [r.execution_id for r in store.list_page(limit=5)[0]],
        "find": store.find_by_correlation("Lead", {"k": 1}),
        "find_latest": store.find_latest_by_correlation("Lead", {"k": 2}),
        "correlations": store.correlations("Lead", active_only=False),
        "version_of": store.version_of("lead"),
    }
    if isinstance(store, ParquetStore):
        frame = store.to_frame()
        answers["frame"] = [[eid, int(v)] for eid, v in zip(frame["execution_id"], frame["version"], strict=True)]
    return answers


EXPECTED = {
    "list": [["lead", 3, "waiting"], ["other", 1, "succeeded"]], "count": 2, "record": {"execution_id": "lead", "step": 3},
    "history": [{"execution_id": "lead", "step": s} for s in (1, 2, 3)], "history_records": [1, 2, 3],
    "page": [1, 2], "list_page": ["other", "lead"], "find": "lead", "find_latest": "other",
    "correlations": [["other", {"k": 2}], ["lead", {"k": 1}]], "version_of": 3,
}


def writes(store: Any, other: Path | None) -> list[str]:
    """Every write, each of which must be refused: the messages. (``export_parquet`` into the directory opens a
    store of its own: refused where the directory cannot be written, given ``other``, a store to export.)"""
    attempts = [lambda: store.save({"execution_id": "new"}), lambda: store.save({"execution_id": "lead", "step": 4}),
                lambda: store.delete("lead"), lambda: store.delete("missing")]
    if isinstance(store, ParquetStore):
        rec = StoredExecution("lead", {"x": 1}, 1, None, None, None, store.record("lead").updated_at)
        attempts += [lambda: store.import_records([rec]), store.rebuild_index]
        if other is not None:
            attempts.append(lambda: export_parquet(FileStore(other, fsync=False), store.root))
    messages = []
    for attempt in attempts:
        try:
            attempt()
        except StoreError as exc:
            messages.append(str(exc))
        else:
            messages.append("NOT REFUSED")
    return messages


def as_json(found: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(found))


@pytest.mark.parametrize("kind", KINDS)
def test_read_only_true_answers_every_read_and_refuses_every_write_changing_nothing(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "store"
    fill(kind, root)
    before = listing(root)
    store = KINDS[kind](root, read_only=True)
    assert store.read_only
    assert as_json(reads(store)) == {**EXPECTED, **({"frame": [["lead", 1], ["lead", 2], ["lead", 3], ["other", 1]]}
                                                     if kind == "parquet" else {})}
    for message in writes(store, None):
        assert str(root) in message and "read-only" in message and "read_only=True" in message, message
    assert store.history("lead")[-1] == {"execution_id": "lead", "step": 3}
    store.close()
    assert listing(root) == before


@pytest.mark.parametrize("kind", KINDS)
def test_read_only_opening_finishes_no_killed_writers_work(tmp_path: Path, kind: str) -> None:
    """A leftover of a killed delete stays (the next writable opening removes it); a killed delete's intent in the
    parquet sidecar is not finished, and the execution reads as deleted."""
    root = tmp_path / "store"
    fill(kind, root)
    trash = root / ("trash" if kind == "file" else ".trash")
    leftover = trash / f"gone.{'ab' * 16}"
    leftover.mkdir(parents=True)
    (leftover / "v000000001.json").write_text("{}")
    if kind == "parquet":  # its intent noted, the index row still there
        import sqlite3

        with sqlite3.connect(root / "_index.sqlite") as db:  # a delete killed after moving the folder away
            db.execute("INSERT INTO intents VALUES ('lead', 0)")
        os.replace(root / "lead", trash / f"lead.{'cd' * 16}")
    before = listing(root)
    store = KINDS[kind](root, read_only=True)
    if kind == "parquet":
        with pytest.raises(SnapshotNotFoundError):
            store.record("lead")
        with pytest.raises(SnapshotNotFoundError):
            store.history("lead")
        assert set(store.to_frame()["execution_id"]) == {"other"}
        assert not store.exists("lead")  # its index row stays until a writer finishes it, but no read finds it
    store.close()
    assert listing(root) == before
    store = KINDS[kind](root)  # a writable opening does finish it
    assert not leftover.exists() and (kind == "file" or not store.exists("lead"))
    store.close()


def test_a_read_only_parquet_store_without_its_index_builds_one_in_memory(tmp_path: Path) -> None:
    root = tmp_path / "store"
    fill("parquet", root)
    for name in os.listdir(root):
        if name.startswith("_index.sqlite"):
            os.unlink(root / name)
    before = listing(root)
    store = ParquetStore(root, read_only=True)
    assert as_json(reads(store)) | {"frame": None} == {**EXPECTED, "frame": None}
    store.close()
    assert listing(root) == before


@pytest.mark.parametrize("kind", KINDS)
def test_read_only_opening_of_a_missing_directory_is_a_store_error(tmp_path: Path, kind: str) -> None:
    with pytest.raises(StoreError, match=r"read-only: .*nowhere"):
        KINDS[kind](tmp_path / "nowhere", read_only=True)
    assert not (tmp_path / "nowhere").exists()


_CHILD = r'''
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from tests.stores.test_read_only_stores import KINDS, reads, writes
store = KINDS[sys.argv[1]](sys.argv[2])  # no option: a directory it cannot write is opened read-only
print(json.dumps({"read_only": store.read_only, "reads": reads(store), "writes": writes(store, Path(sys.argv[4]))}))
'''


needs_unshare = pytest.mark.skipif(shutil.which("unshare") is None,
                                   reason="needs util-linux's unshare for a read-only bind mount")


def on_read_only_mount(kind: str, root: Path, mounted: Path, other: Path) -> dict[str, Any]:
    """What ``_CHILD`` found opening ``root`` with ``mounted`` (the directory, or one file in it) bind-mounted
    read-only in a user and mount namespace: permissions do not stop root, a read-only mount does."""
    script = (f"mount --bind -o ro '{mounted}' '{mounted}' && exec '{sys.executable}' -c \"$0\" {kind} '{root}' "
              f"'{ROOT}' '{other}'")
    child = subprocess.Popen(["unshare", "--mount", "--map-root-user", "sh", "-c", script, _CHILD],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise
    if child.returncode != 0 and "mount" in err and "Traceback" not in err:
        pytest.skip(f"no read-only bind mount here: {err.strip()[-300:]}")
    assert child.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@needs_unshare
@pytest.mark.parametrize("kind", KINDS)
def test_a_read_only_mount_is_opened_read_only_without_the_option(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "store"
    fill(kind, root)
    other = tmp_path / "other"
    FileStore(other, fsync=False).save({"execution_id": "lead", "step": 9})
    before = listing(root)
    found = on_read_only_mount(kind, root, root, other)
    assert found["read_only"] is True
    assert {k: v for k, v in found["reads"].items() if k != "frame"} == EXPECTED
    for message in found["writes"]:
        assert str(root) in message and "read-only" in message and "cannot write it" in message, message
    assert listing(root) == before


@needs_unshare
def test_a_read_only_parquet_index_in_a_writable_directory_is_opened_read_only(tmp_path: Path) -> None:
    """Only ``_index.sqlite`` read-only (a copy's permissions, a read-only bind mount of that file), the directory
    writable: opened read-only, every read answered, every write a StoreError naming the index file and the fix —
    the opening failed (SQLite could not switch the file to WAL)."""
    root = tmp_path / "store"
    fill("parquet", root)
    other = tmp_path / "other"
    FileStore(other, fsync=False).save({"execution_id": "lead", "step": 9})
    before = listing(root)
    found = on_read_only_mount("parquet", root, root / "_index.sqlite", other)
    assert found["read_only"] is True
    assert {k: v for k, v in found["reads"].items() if k != "frame"} == EXPECTED
    assert found["reads"]["frame"] == [["lead", 1], ["lead", 2], ["lead", 3], ["other", 1]]
    for message in found["writes"]:
        assert str(root / "_index.sqlite") in message and "read-only" in message, message
        assert "read_only=True" in message, message  # the fix: make it writable, or say read_only=True
    assert listing(root) == before


def test_a_read_only_parquet_store_follows_a_writer_that_has_the_index_open(tmp_path: Path) -> None:
    """The sidecar read as it is while a writer has it open (docs: its -shm file exists): later saves are seen."""
    writer = ParquetStore(tmp_path, fsync=False)
    writer.save({"execution_id": "a"})
    reader = ParquetStore(tmp_path, read_only=True)
    assert [r.execution_id for r in reader.list()] == ["a"]
    writer.save({"execution_id": "b"})
    writer.save({"execution_id": "a", "step": 2})
    assert sorted(r.execution_id for r in reader.list()) == ["a", "b"] and reader.record("a").version == 2
    with pytest.raises(StoreError, match="read-only"):
        reader.save({"execution_id": "c"})
    reader.close()
    writer.close()
