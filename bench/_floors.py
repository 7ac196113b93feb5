"""Raw floors for ``bench/workflows.py``: what one delivery cannot avoid on a store — read the workflow's row, parse
it, serialise it again, write it back with a compare-and-set on its version and append a history entry — done
with each store's plain driver (``sqlite3``, psycopg, redis-py; memory: ``marshal`` dumps+loads under a lock), on
the same snapshots (the ones the measured deliveries wrote), in the same database, at the same durability.

Each floor runs two rounds per workflow (a delivery pair writes twice), so its rate compares with deliveries/s.
"""

from __future__ import annotations

import datetime as dt
import json
import marshal
import sqlite3
import threading
from typing import Any

_JSON = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))  # as SQLStore/RedisStore write


class MemoryFloor:
    """A dict of ``(version, marshal bytes)`` per id and a list of versions per id, behind one lock."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.rows: dict[str, tuple[int, bytes]] = {}
        self.history: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()

    def load(self, ids: list[str]) -> None:
        for eid in ids:
            rec = self.store.record(eid)
            self.rows[eid] = (rec.version, marshal.dumps(rec.snapshot))

    def run(self, ids: list[str]) -> int:
        rows, history, lock = self.rows, self.history, self.lock
        for eid in ids:
            for _ in range(2):
                with lock:
                    version, blob = rows[eid]
                snapshot = marshal.loads(blob)
                blob = marshal.dumps(snapshot)
                with lock:
                    if rows[eid][0] != version:
                        raise RuntimeError("lost a compare-and-set")
                    rows[eid] = (version + 1, blob)
                    history.setdefault(eid, []).append(blob)
        return 2 * len(ids)

    def close(self) -> None:
        pass


class SqliteFloor:
    """Plain ``sqlite3`` on the store's own file and tables: ``SELECT``, ``json``, ``BEGIN IMMEDIATE``, the
    compare-and-set ``UPDATE``, the history ``INSERT``, ``COMMIT`` — with the store's WAL and ``synchronous``."""

    def __init__(self, path: str, synchronous: str, prefix: str = "igniter_") -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 30000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute(f"PRAGMA synchronous = {synchronous}")
        t, h = f"{prefix}executions", f"{prefix}execution_history"
        self.read = f"SELECT snapshot, version, graph, correlation_key, status FROM {t} WHERE execution_id = ?"
        self.update = f"UPDATE {t} SET snapshot = ?, version = ?, updated_at = ? WHERE execution_id = ? AND version = ?"
        self.append = (f"INSERT INTO {h} (execution_id, version, saved_at, graph, correlation_key, status, snapshot) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)")

    def load(self, ids: list[str]) -> None:
        pass  # reads the rows the deliveries wrote

    def run(self, ids: list[str]) -> int:
        conn = self.conn
        for eid in ids:
            for _ in range(2):
                text, version, graph, corr, status = conn.execute(self.read, (eid,)).fetchone()
                text = _JSON.encode(json.loads(text))
                now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME text
                conn.execute("BEGIN IMMEDIATE")
                if conn.execute(self.update, (text, version + 1, now, eid, version)).rowcount != 1:
                    conn.execute("ROLLBACK")
                    raise RuntimeError("lost a compare-and-set")
                conn.execute(self.append, (eid, version + 1, now, graph, corr, status, text))
                conn.execute("COMMIT")
        return 2 * len(ids)

    def close(self) -> None:
        self.conn.close()


class PostgresFloor:
    """Plain psycopg (autocommit, prepared statements) on the store's own tables: one ``SELECT`` round trip and
    one round trip for the compare-and-set ``UPDATE`` joined to the history ``INSERT`` by a CTE."""

    def __init__(self, conninfo: str, prefix: str) -> None:
        import psycopg

        self.conn = psycopg.connect(conninfo, autocommit=True)
        t, h = f"{prefix}executions", f"{prefix}execution_history"
        self.read = f"SELECT snapshot, version FROM {t} WHERE execution_id = %s"
        self.write = (
            f"WITH saved AS (UPDATE {t} SET snapshot = %s, version = %s, updated_at = now() "
            "WHERE execution_id = %s AND version = %s "
            "RETURNING execution_id, version, updated_at, graph, correlation_key, status, snapshot) "
            f"INSERT INTO {h} (execution_id, version, saved_at, graph, correlation_key, status, snapshot) "
            "SELECT execution_id, version, updated_at, graph, correlation_key, status, snapshot FROM saved")

    def load(self, ids: list[str]) -> None:
        pass

    def run(self, ids: list[str]) -> int:
        conn = self.conn
        for eid in ids:
            for _ in range(2):
                row = conn.execute(self.read, (eid,), prepare=True).fetchone()
                if row is None:
                    raise RuntimeError(f"execution {eid} is not in the floor's table")
                text, version = row
                text = _JSON.encode(json.loads(text))
                if conn.execute(self.write, (text, version + 1, eid, version), prepare=True).rowcount != 1:
                    raise RuntimeError("lost a compare-and-set")
        return 2 * len(ids)

    def close(self) -> None:
        self.conn.close()


_REDIS_CAS = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[2], 'version', tonumber(ARGV[1]) + 1)
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
"""


class RedisFloor:
    """Plain redis-py on the same server: ``HMGET`` of the snapshot and version, ``json``, and a three-command Lua
    compare-and-set (version check, ``HSET``, ``RPUSH`` to a history list) — two round trips."""

    def __init__(self, store: Any) -> None:
        import redis

        self.store = store
        self.client = redis.Redis.from_url(_url_of(store))
        self.cas = self.client.register_script(_REDIS_CAS)
        self.ns = f"{store.namespace}-floor"

    def load(self, ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for eid in ids:
            rec = self.store.record(eid)
            pipe.hset(f"{self.ns}:exec:{eid}", mapping={"snapshot": _JSON.encode(rec.snapshot), "version": rec.version})
        pipe.execute()

    def run(self, ids: list[str]) -> int:
        client, ns = self.client, self.ns
        for eid in ids:
            key = f"{ns}:exec:{eid}"
            for _ in range(2):
                text, version = client.hmget(key, ("snapshot", "version"))
                if text is None or version is None:
                    raise RuntimeError(f"execution {eid} is not in the floor's hash {key}")
                text = _JSON.encode(json.loads(text))
                if not self.cas(keys=[key, f"{ns}:hist:{eid}"], args=[version, text]):
                    raise RuntimeError("lost a compare-and-set")
        return 2 * len(ids)

    def close(self) -> None:
        self.client.close()


def _url_of(store: Any) -> str:
    kwargs = store.client.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
