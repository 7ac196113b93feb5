"""Response caches: re-running a notebook cell answers from the cache instead of calling (and paying) the
provider again.

The key is a digest of everything that decides the reply — provider, model, messages (system prompt
included), tools, and settings (temperature, max tokens, response schema, extra options) — so any change asks
the provider again. Caching is opt-in: set ``cache = ig.llm.MemoryCache()`` (this process) or
``cache = ig.llm.StoreCache(store)`` (any igniter_nb store: survives restarts, shared between processes) on
an executor class.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from igniter_nb.errors import ConcurrencyError, SnapshotNotFoundError

CACHE_GRAPH = "igniter_nb.llm_cache"
CACHE_FORMAT = "igniter_nb.llm_cache/1"


@runtime_checkable
class ResponseCache(Protocol):
    """What an executor needs from a cache: replies (plain dicts) by request key."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached reply for ``key`` (a copy), or None when there is none."""

    def put(self, key: str, reply: Mapping[str, Any], request: Mapping[str, Any]) -> None:
        """Keep ``reply`` under ``key``; ``request`` is what it answers (kept for inspection where the cache can)."""


class MemoryCache:
    """Replies kept in this process, least recently used dropped beyond ``max_entries``."""

    def __init__(self, max_entries: int = 1024) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return dict(found)

    def put(self, key: str, reply: Mapping[str, Any], request: Mapping[str, Any]) -> None:
        with self._lock:
            self._entries[key] = dict(reply)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every cached reply (``hits`` and ``misses`` keep counting)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryCache({len(self)} replies, {self.hits} hits, {self.misses} misses)"


class StoreCache:
    """Replies kept in an igniter_nb store (memory, file, SQL, Redis), one record per request key.

    Each entry is saved as a record of graph ``igniter_nb.llm_cache`` with id ``llm-cache.<key>`` (and the
    request it answers, for inspection), so it survives restarts and is shared by every process using the
    store. Use a store of its own for the cache if you do not want those records listed beside your
    executions.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    @staticmethod
    def record_id(key: str) -> str:
        """The store record id the reply for ``key`` is saved under: ``llm-cache.<key>``."""
        return f"llm-cache.{key}"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            entry = self.store.fetch(self.record_id(key))
        except SnapshotNotFoundError:
            return None
        reply = _stored_reply(entry)
        return dict(reply) if reply is not None else None

    def put(self, key: str, reply: Mapping[str, Any], request: Mapping[str, Any]) -> None:
        # the request is kept for inspection only: an SDK option that is not JSON (``timeout=openai.Timeout(...)``)
        # is kept as its repr instead of failing the save after the provider answered (and billed)
        readable = json.loads(json.dumps(dict(request), default=repr))
        entry = {"format": CACHE_FORMAT, "execution_id": self.record_id(key), "graph": CACHE_GRAPH,
                 "request": readable, "reply": dict(reply)}
        try:
            self.store.save(entry, graph=CACHE_GRAPH, status="succeeded", expected_version=0)
        except ConcurrencyError:  # another process cached the same request first: its reply is as good, if readable
            self._replace_unreadable(entry)

    def _replace_unreadable(self, entry: dict[str, Any]) -> None:
        """Save ``entry`` over the record already there when that one's reply cannot be read (damaged)."""
        from igniter_nb.llm.request import Reply

        record = self.store.record(entry["execution_id"])
        reply = _stored_reply(record.snapshot)
        try:
            if reply is not None:
                Reply.from_dict(reply)
                return
        except Exception:  # unreadable: replaced below
            pass
        with contextlib.suppress(ConcurrencyError):  # (someone replaced it meanwhile)
            self.store.save(entry, graph=CACHE_GRAPH, status="succeeded", expected_version=record.version)

    def __repr__(self) -> str:
        return f"StoreCache({self.store!r})"


def _stored_reply(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The reply a cache record holds (what ``get`` gives and ``put`` checks before replacing), or None when the
    record is not a cache entry of this format or holds no reply mapping."""
    reply = record.get("reply") if record.get("format") == CACHE_FORMAT else None
    return reply if isinstance(reply, Mapping) else None


__all__ = ["CACHE_FORMAT", "CACHE_GRAPH", "MemoryCache", "ResponseCache", "StoreCache"]
