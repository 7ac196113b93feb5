"""``RedisStore``: executions in a Redis server, every save one atomic Lua script.

Keys (``<ns>`` = the namespace, default ``igniter``)::

    <ns>:exec:<id>                          hash: snapshot, version, graph, correlation, status, updated_at, corr_key
    <ns>:hist:<id>                          list of every saved version (JSON envelopes), oldest first
    <ns>:parts:<id>                         hash: digest -> part of a packed version (stores/packing.py)
    <ns>:corr:<graph>:<canonical corr>      -> id of the ACTIVE execution with that correlation
    <ns>:corrlatest:<graph>:<canonical corr> sorted set: every execution with that correlation, any status,
                                            scored by <ns>:saveseq at its last save (highest = most recent)
    <ns>:saveseq                            counter incremented by every save of a correlated execution
    <ns>:graphcorr:<graph>                  sorted set: the graph's executions that have a correlation, any status,
                                            scored by <ns>:saveseq at their last save
    <ns>:graphactive:<graph>                the same for the ACTIVE ones only
    <ns>:graph:<graph>                      set of the graph's execution ids
    <ns>:ids                                set of every execution id
    <ns>:recent                             sorted set: every execution id scored by its last save time (µs since
                                            the epoch): the listing index of list_page; also per graph
                                            (<ns>:recent:graph:<graph>), per status (<ns>:recent:status:<status>)
                                            and per both (<ns>:recent:gs:<status>:<graph>); see redis_listing.py
    <ns>:recent:complete                    set once the executions saved before those indexes existed are in them
    <ns>:internal-graphs                    set of the internal graph names saved (count() checks the listing with it)

The save script checks the expected version, the active-correlation uniqueness, updates the hash, the indexes
and the history in one step, so concurrent writers in any number of processes can never lose an update, and a
killed client can never leave half a save behind (the scripts: ``stores/redis_scripts.py``).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.stores.base import (
    SaveRequest,
    StoreBase,
    StoredExecution,
    canonical_correlation,
    check_execution_id,
    check_filters,
    check_graph,
    check_listing,
    conflict,
    duplicate,
    ensure_aware,
    listed,
    not_found,
    utc_now,
)
from igniter_nb.stores.json_text import parse_stored, unpack_stored
from igniter_nb.stores.packing import is_packed, part_digests
from igniter_nb.stores.paging import check_history_page, micros
from igniter_nb.stores.redis_errors import check_options, naming_the_server
from igniter_nb.stores.redis_scripts import ACTIVE_RECORD as _ACTIVE_RECORD
from igniter_nb.stores.redis_scripts import DELETE as _DELETE
from igniter_nb.stores.redis_scripts import FIELDS as _FIELDS
from igniter_nb.stores.redis_scripts import SAVE as _SAVE
from igniter_nb.stores.rules import MAX_VERSION

if TYPE_CHECKING:
    from igniter_nb.stores.changes import ChangeSubscription


class RedisStore(StoreBase):
    """Store executions in Redis. ``url_or_client`` is a ``redis://`` URL or a ``redis.Redis`` client (which the
    store then does not close). ``namespace`` prefixes every key, so several stores can share one database.
    """

    def __init__(self, url_or_client: Any, namespace: str = "igniter") -> None:
        import redis

        if not isinstance(namespace, str) or not namespace or any(ch.isspace() for ch in namespace):
            raise ValueError(f"namespace must be non-empty text without spaces, got {namespace!r}")
        self.namespace = namespace
        self._url = url_or_client if isinstance(url_or_client, str) else None
        # the server did not answer, or refused this client (a wrong password): raised as a StoreError naming the
        # store and its URL without the password (stores/redis_errors.py)
        self._unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        if isinstance(url_or_client, str):
            self.client = redis.Redis.from_url(url_or_client)
            self._owns_client = True
            check_options(self.client, url_or_client)
        else:
            self.client = url_or_client
            self._owns_client = False
        self._refused = redis.exceptions.ResponseError  # e.g. OOM: the server refused the whole save script
        self._save_script = self.client.register_script(_SAVE)
        self._delete_script = self.client.register_script(_DELETE)
        self._active_record_script = self.client.register_script(_ACTIVE_RECORD)
        self._listing: Any = None  # the listing (stores/redis_listing.py), made by the first list_page or count
        self._changes: Any = None  # the change-feed subscriber, made by the first subscribe_changes

    def __repr__(self) -> str:
        return f"RedisStore(namespace={self.namespace!r})"

    def _key(self, kind: str, execution_id: str) -> str:
        return f"{self.namespace}:{kind}:{execution_id}"

    # ----------------------------------------------------------------------------------------------- writes

    def save(
        self,
        snapshot: Mapping[str, Any],
        *,
        graph: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        status: str | None = None,
        expected_version: int | None = None,
        check_json: bool = True,
    ) -> int:
        """See :class:`~igniter_nb.stores.base.ExecutionStore`. ``check_json=False`` is for snapshots built by
        ``igniter_nb`` (JSON-safe by construction): they are written by the faster encoder of
        :func:`~igniter_nb.stores.json_text.runtime_json` — use the default for your own dicts."""
        req = SaveRequest.build(snapshot, graph, correlation, status, expected_version, trusted=not check_json)
        eid = req.execution_id
        parts_key = self._key("parts", eid)
        send: list[str] = []
        if req.parts:  # send only the parts the execution does not have yet
            pipe = self.client.pipeline(transaction=False)
            for found in req.parts:
                pipe.hexists(parts_key, found)
            send = [found for found, have in zip(req.parts, pipe.execute(), strict=True) if not have]
        for _ in range(2):
            now = utc_now()
            args = [
                self.namespace,
                eid,
                req.snapshot_json,
                req.graph or "",
                req.snapshot_graph or "",
                req.correlation_json or "",
                req.status or "",
                "" if req.expected_version is None else str(req.expected_version),
                now.isoformat(),
                str(micros(now)),
                str(len(send)),
                *(item for found in send for item in (found, req.parts[found])),
                *req.parts,
            ]
            try:
                result = self._save_script(keys=[self._key("exec", eid), self._key("hist", eid), parts_key], args=args)
            except self._refused as exc:
                raise StoreError(f"{self!r}: the server refused to save execution {eid!r}: {exc}; nothing of this "
                                 "save was written", execution_id=eid) from exc
            if _text(result[0]) != "missing":
                break
            send = list(req.parts)  # a part went away meanwhile (the execution was deleted): send them all
        outcome, detail = _text(result[0]), _text(result[1])
        if outcome == "ok":
            return int(detail)
        if outcome == "conflict":
            raise conflict(eid, req.expected_version or 0, int(detail))
        if outcome == "duplicate":
            meta = self._meta_for_error(eid, req)
            raise duplicate(eid, meta[0], meta[1], detail)
        raise StoreError(f"unexpected answer from the save script: {result!r}", execution_id=eid)

    def _meta_for_error(self, eid: str, req: SaveRequest) -> tuple[str, str]:
        stored = self.client.hmget(self._key("exec", eid), ["graph", "correlation"])
        graph = req.graph or _text(stored[0]) or req.snapshot_graph or ""
        return graph, req.correlation_json or _text(stored[1]) or ""

    def delete(self, execution_id: str) -> bool:
        eid = check_execution_id(execution_id)
        done = self._delete_script(keys=[self._key("exec", eid), self._key("hist", eid), self._key("parts", eid)],
                                   args=[self.namespace, eid])
        return bool(int(done))

    # ----------------------------------------------------------------------------------------------- reads

    def fetch(self, execution_id: str) -> dict[str, Any]:
        eid = check_execution_id(execution_id)
        text = self.client.hget(self._key("exec", eid), "snapshot")
        if text is None:
            raise not_found(eid)
        return self._whole(eid, parse_stored(text, self._where(eid)))  # type: ignore[no-any-return]

    def record(self, execution_id: str) -> StoredExecution:
        eid = check_execution_id(execution_id)
        values = self.client.hmget(self._key("exec", eid), list(_FIELDS))
        if values[0] is None:
            raise not_found(eid)
        return self._record(eid, values)

    def exists(self, execution_id: str) -> bool:
        return bool(self.client.exists(self._key("exec", check_execution_id(execution_id))))

    def version_of(self, execution_id: str) -> int | None:
        """The latest version number of the execution, None when it is not stored (no snapshot is read)."""
        version = self.client.hget(self._key("exec", check_execution_id(execution_id)), "version")
        return None if version is None else int(version)

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        key = f"{self.namespace}:corr:{check_graph(graph)}:{canonical_correlation(correlation)}"
        found = self.client.get(key)
        return None if found is None else _text(found)

    def record_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> StoredExecution | None:
        """The record of the *active* execution of ``graph`` with this correlation, or None (one round trip)."""
        key = f"{self.namespace}:corr:{check_graph(graph)}:{canonical_correlation(correlation)}"
        found = self._active_record_script(keys=[key], args=[self.namespace])
        if not found:
            return None
        eid = _text(found[0])
        try:
            return self._record(eid, found[1:])
        except SnapshotNotFoundError:  # deleted while its parts were read
            return None

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        key = f"{self.namespace}:corrlatest:{check_graph(graph)}:{canonical_correlation(correlation)}"
        found = self.client.zrevrange(key, 0, 0)  # O(log n) in the executions sharing this correlation
        return _text(found[0]) if found else None

    def correlations(
        self, graph: str, *, active_only: bool = True, limit: int = 1000
    ) -> builtins.list[tuple[str, dict[str, Any]]]:
        check_listing(graph, active_only, limit)
        if limit == 0:
            return []
        key = f"{self.namespace}:{'graphactive' if active_only else 'graphcorr'}:{graph}"
        ids = [_text(m) for m in self.client.zrevrange(key, 0, limit - 1)]  # newest save first
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for eid in ids:
            pipe.hget(self._key("exec", eid), "correlation")  # one small field, never the snapshot
        found = []
        for eid, correlation in zip(ids, pipe.execute(), strict=True):
            if correlation:  # None: deleted between the two calls
                found.append((eid, json.loads(correlation)))
        return found

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        check_filters(graph, status)
        members = self.client.smembers(f"{self.namespace}:graph:{graph}" if graph else f"{self.namespace}:ids")
        ids = sorted(_text(m) for m in members)
        pipe = self.client.pipeline(transaction=False)
        for eid in ids:
            pipe.hmget(self._key("exec", eid), list(_FIELDS))
        records, gone = [], []
        for eid, values in zip(ids, pipe.execute(), strict=True):
            if values[0] is None:
                gone.append(eid)
                continue  # deleted between the two calls, or an id without a record (taken out below)
            try:
                rec = self._record(eid, values)
            except SnapshotNotFoundError:
                continue  # deleted while its parts were read
            if listed(rec.graph, graph) and (status is None or rec.status == status):
                records.append(rec)
        if gone:  # so that count() agrees (stores/redis_listing.py)
            self._listing_of().drop_if_orphans(gone, graph)
        records.sort(key=lambda r: (r.updated_at, r.execution_id))
        return records

    def list_page(
        self, graph: str | None = None, status: str | None = None, *, limit: int, after: str | None = None
    ) -> tuple[builtins.list[StoredExecution], str | None]:
        """A page of :meth:`list` newest first (``stores/paging.py``): ``limit + 1`` ids from a sorted set scored
        by save time, then one pipelined read of their hashes (see ``stores/redis_listing.py``)."""
        return self._listing_of().page(graph, status, limit=limit, after=after)  # type: ignore[no-any-return]

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many records :meth:`list` answers: the size of the listing's sorted set, in one script that also
        checks it holds no id without a record (O(1), plus a sweep of up to ``SWEPT`` ids of the id set it mirrors
        for a record) and, of every graph, no internal record (``stores/redis_listing.py``)."""
        return int(self._listing_of().count(graph, status))

    def _listing_of(self) -> Any:
        if self._listing is None:
            from igniter_nb.stores.redis_listing import Listing

            self._listing = Listing(self)
        return self._listing

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        eid = check_execution_id(execution_id)
        items = self.client.lrange(self._key("hist", eid), 0, -1)
        if not items:
            raise not_found(eid)
        return self._history_of(eid, [parse_stored(item, self._where(eid)) for item in items])

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[StoredExecution]:
        """The versions after ``after_version``, oldest first, at most ``limit``. Version ``v`` is item ``v - 1`` of
        the history list (each save appends the next version): one ``LRANGE`` of the page, checked, and the whole
        list read only if that check fails."""
        eid = check_execution_id(execution_id)
        check_history_page(after_version, limit)
        key, where = self._key("hist", eid), self._where(eid)
        start = min(after_version, MAX_VERSION)  # (LRANGE takes 64-bit indexes; no version is past MAX_VERSION)
        envs = [parse_stored(item, where) for item in self.client.lrange(key, start, start + limit - 1)]
        if envs and envs[0]["version"] == after_version + 1 and envs[-1]["version"] == after_version + len(envs):
            return self._history_of(eid, envs)
        if not envs:  # past the end, or no such execution: the last item says which
            last = self.client.lindex(key, -1)
            if last is None:
                raise not_found(eid)
            if parse_stored(last, where)["version"] <= after_version:
                return []
        items = self.client.lrange(key, 0, -1)
        if not items:
            raise not_found(eid)
        envs = [env for item in items if (env := parse_stored(item, where))["version"] > after_version]
        return self._history_of(eid, envs[:limit])

    def _history_of(self, eid: str, envs: builtins.list[dict[str, Any]]) -> builtins.list[StoredExecution]:
        records = []
        parts: dict[str, str] = {}  # read each part once for all the versions sharing it
        for env in envs:
            records.append(
                StoredExecution(
                    execution_id=eid,
                    snapshot=self._whole(eid, env["snapshot"], parts),
                    version=env["version"],
                    graph=env["graph"] or None,
                    correlation=json.loads(env["correlation"]) if env["correlation"] else None,
                    status=env["status"] or None,
                    updated_at=ensure_aware(dt.datetime.fromisoformat(env["saved_at"])),
                )
            )
        return records

    def subscribe_changes(self, execution_id: str) -> ChangeSubscription:
        """Wake-ups by pub/sub on every save or delete of ``execution_id`` from any process (see
        ``igniter_nb.stores.redis_changes``)."""
        from igniter_nb.stores.redis_changes import changes_of

        return changes_of(self).subscribe(check_execution_id(execution_id))

    def _where(self, execution_id: str) -> str:
        return f"{self!r}, execution {execution_id!r}"

    def _whole(self, eid: str, data: Any, cache: dict[str, str] | None = None) -> Any:
        """A version's snapshot whole: a packed one's parts read from ``<ns>:parts:<id>`` (stores/packing.py)."""
        if not is_packed(data):
            return data
        parts = cache if cache is not None else {}
        wanted = [d for d in part_digests(data) if d not in parts]
        if wanted:
            for found, part in zip(wanted, self.client.hmget(self._key("parts", eid), wanted), strict=True):
                if part is not None:
                    parts[found] = _text(part)
        if any(d not in parts for d in wanted) and not self.client.exists(self._key("exec", eid)):
            raise not_found(eid)  # deleted between the two reads
        return unpack_stored(data, parts, self._where(eid))

    def _record(self, eid: str, values: builtins.list[Any]) -> StoredExecution:
        snapshot, version, graph, correlation, status, updated_at = (_text(v) for v in values)
        return StoredExecution(
            execution_id=eid,
            snapshot=self._whole(eid, parse_stored(snapshot, self._where(eid))),
            version=int(version),
            graph=graph or None,
            correlation=json.loads(correlation) if correlation else None,
            status=status or None,
            updated_at=ensure_aware(dt.datetime.fromisoformat(updated_at)),
        )

    def close(self) -> None:
        """Close the connection pool if the store created the client (and stop the change-feed subscriber)."""
        if self._changes is not None:
            self._changes.close()
        if self._owns_client:
            self.client.close()


naming_the_server(RedisStore, ("save", "delete", "fetch", "record", "exists", "version_of", "find_by_correlation",
                               "record_by_correlation", "find_latest_by_correlation", "correlations", "list",
                               "list_page", "count", "history_records", "history_page"))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)

