"""One version of a ``ParquetStore`` log: the single-row parquet file it is kept in — its columns, how it is
written (atomically: temporary name, fsync, rename) and how it is read back as a ``StoredExecution``.

``parquet.py`` holds the store (the log's layout, saves, reads and the sidecar index's use); ``parquet_index.py``
the sidecar index's schema and queries.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from igniter_nb.stores.base import StoredExecution, ensure_aware
from igniter_nb.stores.json_text import parse_stored

COLUMNS = ("execution_id", "version", "saved_at", "graph", "status", "correlation", "snapshot")


def schema() -> Any:
    """The arrow schema of every version file (columns :data:`COLUMNS`)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("execution_id", pa.string()),
            ("version", pa.int64()),
            ("saved_at", pa.timestamp("us", tz="UTC")),
            ("graph", pa.string()),
            ("status", pa.string()),
            ("correlation", pa.string()),
            ("snapshot", pa.string()),
        ]
    )


def write_version(path: Path, file_schema: Any, rec: StoredExecution, correlation_json: str | None,
                  snapshot_json: str, *, fsync: bool) -> None:
    """Write ``rec`` (its snapshot as ``snapshot_json``) to ``path``: a temporary file in the same folder, fsynced
    when ``fsync``, then renamed over ``path``, so a reader sees the whole file or none (the temporary file is
    removed when anything fails)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pydict(
        {
            "execution_id": [rec.execution_id],
            "version": [rec.version],
            "saved_at": [rec.updated_at],
            "graph": [rec.graph],
            "status": [rec.status],
            "correlation": [correlation_json],
            "snapshot": [snapshot_json],
        },
        schema=file_schema,
    )
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex}")
    try:
        with open(tmp, "wb") as sink:
            pq.write_table(table, sink, compression="zstd")
            sink.flush()
            if fsync:
                os.fsync(sink.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_version(path: Path, file_schema: Any, where: str) -> StoredExecution:
    """The version kept in ``path``; a snapshot that is not JSON is a ``StoreError`` naming ``where``."""
    import pyarrow.parquet as pq

    row = pq.read_table(path, schema=file_schema).to_pylist()[0]
    return StoredExecution(
        execution_id=row["execution_id"],
        snapshot=parse_stored(row["snapshot"], where),
        version=row["version"],
        graph=row["graph"],
        correlation=None if row["correlation"] is None else json.loads(row["correlation"]),
        status=row["status"],
        updated_at=ensure_aware(row["saved_at"]),
    )


__all__ = ["COLUMNS", "read_version", "schema", "write_version"]
