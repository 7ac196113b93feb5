"""Bytes written per delivery (issue 13 target 6), for ``bench/workflows.py``: a workflow awaiting 40 events, each
delivered with a payload of 1 KB or 1 MB (base64 of random bytes: nothing compresses it), on every store kind.

A delivery's save writes the new version kept in history, the parts of a packed version the store did not have
(``stores/packing.py``), and — in the stores that keep the latest version apart — the current copy (the SQL
executions row, the Redis execution hash, the file store's ``current.json``). "Written" is the sum of these
(the JSON text or marshal bytes the store was given to keep; parquet: the compressed files' growth), measured
from the store's own contents after each delivery.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from tests.workflow.wf_contracts import documents_workflow

EVENTS = 40


Forty = documents_workflow(EVENTS)


class Meter:
    """Bytes the store keeps for one execution (history versions and parts) and the size of its current copy."""

    def __init__(self, store: Any, kind: str, execution_id: str) -> None:
        self.store, self.kind, self.eid = store, kind, execution_id
        self.parts: dict[str, int] = {}  # digest -> bytes, each part measured once

    def kept_and_current(self) -> tuple[int, int]:
        kind, store, eid = self.kind, self.store, self.eid
        if kind == "memory":
            return int(store.stored_bytes()), 0
        if kind == "file":
            base = Path(store.root) / "executions" / eid
            kept = sum(p.stat().st_size for p in base.glob("v*.json"))
            kept += sum(p.stat().st_size for p in (base / "parts").glob("*")) if (base / "parts").exists() else 0
            return kept, (base / "current.json").stat().st_size
        if kind == "parquet":
            return sum(p.stat().st_size for p in Path(store.root).rglob("*.parquet")), 0
        if kind in ("sqlite", "postgres"):
            return self._sql()
        if kind == "redis":
            return self._redis()
        raise ValueError(kind)

    def _sql(self) -> tuple[int, int]:
        store, eid = self.store, self.eid
        t, h, p = store._executions.name, store._history.name, store._parts.name
        with store.engine.connect() as conn:
            history = conn.exec_driver_sql(f'SELECT COALESCE(SUM(LENGTH(snapshot)), 0) FROM "{h}" WHERE execution_id = '
                                           + _literal(eid)).scalar()
            current = conn.exec_driver_sql(f'SELECT LENGTH(snapshot) FROM "{t}" WHERE execution_id = '
                                           + _literal(eid)).scalar()
            digests = [d for (d,) in conn.exec_driver_sql(f'SELECT digest FROM "{p}" WHERE execution_id = ' + _literal(eid))]
            for digest in digests:
                if digest not in self.parts:
                    self.parts[digest] = int(conn.exec_driver_sql(
                        f'SELECT LENGTH(data) FROM "{p}" WHERE execution_id = {_literal(eid)} AND digest = '
                        + _literal(digest)).scalar())
            conn.rollback()
        return int(history) + sum(self.parts.values()), int(current or 0)

    def _redis(self) -> tuple[int, int]:
        client, ns, eid = self.store.client, self.store.namespace, self.eid
        history = sum(len(item) for item in client.lrange(f"{ns}:hist:{eid}", 0, -1))
        for digest in client.hkeys(f"{ns}:parts:{eid}"):
            if digest not in self.parts:
                self.parts[digest] = int(client.hstrlen(f"{ns}:parts:{eid}", digest))
        return history + sum(self.parts.values()), int(client.hstrlen(f"{ns}:exec:{eid}", "snapshot"))


def _literal(text: str) -> str:
    if "'" in text:
        raise ValueError(text)
    return f"'{text}'"


def payload(size: int) -> dict[str, str]:
    return {"blob": base64.b64encode(os.urandom(size * 3 // 4)).decode()}


def measure(store: Any, kind: str, size: int, tag: str) -> dict[str, Any]:
    """Deliver the 40 events of one ``Forty`` workflow with payloads of ``size`` bytes; what each save wrote."""
    key = f"{tag}-{size}"
    wf = Forty.start(key=key, store=store)
    meter = Meter(store, kind, wf.execution_id)
    kept, _ = meter.kept_and_current()
    written: list[int] = []
    seconds: list[float] = []
    for i in range(EVENTS):
        body = payload(size)
        t0 = time.perf_counter()
        wf = Forty.deliver_event(f"doc{i:02d}_arrived", correlation={"key": key}, payload=body, store=store)
        seconds.append(time.perf_counter() - t0)
        now, current = meter.kept_and_current()
        written.append(now - kept + current)
        kept = now
    assert wf.workflow_status == "succeeded" and wf.result.count == EVENTS
    final = len(json.dumps(store.fetch(wf.execution_id), separators=(",", ":")))
    return {
        "final_snapshot": final,
        "written": written,
        "first10": statistics.mean(written[:10]),
        "last10": statistics.mean(written[-10:]),
        "total_over_final": sum(written) / final,
        "ms_per_delivery": 1000 * statistics.median(seconds),
    }
