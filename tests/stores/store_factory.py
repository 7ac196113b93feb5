"""Open the same store from a plain dict spec, in the test process or in a spawned worker process."""

from __future__ import annotations

from typing import Any

from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, RedisStore, SQLStore

# Stores reachable from several processes (the memory store and an in-memory SQLite database are not).
SHARED_KINDS = ("file", "sqlite", "postgres", "redis", "parquet")
ALL_KINDS = ("memory", "file", "sqlite", "sqlite_memory", "postgres", "redis", "parquet")


def open_store(spec: dict[str, Any]) -> Any:
    kind = spec["kind"]
    if kind == "memory":
        return MemoryStore()
    if kind == "file":
        return FileStore(spec["root"])
    if kind == "parquet":
        return ParquetStore(spec["root"])
    if kind in ("sqlite", "sqlite_memory", "postgres"):
        return SQLStore(spec["url"], table_prefix=spec.get("prefix", "igniter_"))
    if kind == "redis":
        return RedisStore(spec["url"], namespace=spec["namespace"])
    raise ValueError(f"unknown store kind {kind!r}")


def make_spec(kind: str, tmp_path: Any, request: Any, tag: str) -> dict[str, Any]:
    """A spec for a fresh, empty store of ``kind``; servers come from the session fixtures."""
    if kind in ("memory",):
        return {"kind": kind}
    if kind in ("file", "parquet"):
        return {"kind": kind, "root": str(tmp_path / f"{kind}-store")}
    if kind == "sqlite":
        return {"kind": kind, "url": f"sqlite:///{tmp_path / 'store.db'}"}
    if kind == "sqlite_memory":
        return {"kind": kind, "url": "sqlite://"}
    if kind == "postgres":
        return {"kind": kind, "url": request.getfixturevalue("postgres_url"), "prefix": f"t{tag}_"}
    if kind == "redis":
        return {"kind": kind, "url": request.getfixturevalue("redis_url"), "namespace": f"t{tag}"}
    raise ValueError(kind)
