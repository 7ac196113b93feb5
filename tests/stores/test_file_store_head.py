"""``FileStore`` reads an execution's metadata (for ``list``, ``count``, ``correlations``, history pages) from the
start of ``current.json`` a chunk at a time, searching only the bytes each chunk adds. The field that ends the
metadata may be cut by a chunk's end at any offset: every cut is found, and a large correlation reads whole."""

from __future__ import annotations

import json
from pathlib import Path

from igniter_nb.stores.file import _HEAD_CHUNK, _SNAPSHOT_FIELD, FileStore


def test_the_metadata_is_found_wherever_a_chunk_cuts_the_field_that_ends_it(tmp_path: Path) -> None:
    store = FileStore(tmp_path, fsync=False)
    store.save({"execution_id": "e"}, graph="G", correlation={"k": ""}, status="waiting")
    before = (tmp_path / "executions" / "e" / "current.json").read_bytes().find(_SNAPSHOT_FIELD)  # bytes before it
    cuts: set[int] = set()
    lengths = range(_HEAD_CHUNK - before - len(_SNAPSHOT_FIELD) - 5, _HEAD_CHUNK - before + 5)
    for n in lengths:
        eid = f"e{n}"
        store.save({"execution_id": eid}, graph="G", correlation={"k": "x" * n}, status="waiting")
        data = (tmp_path / "executions" / eid / "current.json").read_bytes()
        at = data.find(_SNAPSHOT_FIELD)
        cuts.add(_HEAD_CHUNK - at)  # where the chunk's end falls, counted back from the field's first byte
        head = store._head(eid)
        assert head is not None and json.loads(head["correlation"]) == {"k": "x" * n}, n
    # the chunk's end fell before the field, inside it at each of its bytes, and after it
    assert set(range(0, len(_SNAPSHOT_FIELD) + 1)) <= cuts
    assert store.count(graph="G") == len(lengths) + 1


def test_a_correlation_of_several_chunks_reads_whole(tmp_path: Path) -> None:
    store = FileStore(tmp_path, fsync=False)
    value = "é" * (5 * _HEAD_CHUNK + 3)
    store.save({"execution_id": "big"}, graph="G", correlation={"k": value}, status="waiting")
    assert store.correlations("G") == [("big", {"k": value})]
