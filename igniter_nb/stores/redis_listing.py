"""``RedisStore.list_page`` and ``count``: pages of the latest records newest first, from sorted sets the save and
delete scripts keep (``stores/redis.py``):

    <ns>:recent                   every execution id, scored by its last save time in µs since the epoch
    <ns>:recent:graph:<graph>     the same per graph
    <ns>:recent:status:<status>   per status
    <ns>:recent:gs:<status>:<graph>   per both (the status first: it never holds ':')
    <ns>:recent:complete          set once the executions saved before these sets existed are in them
    <ns>:recent:internal-out      set once the internal records earlier releases listed are out of the first two
    <ns>:internal-graphs          set of the internal graph names saved (the save script adds each)
    <ns>:recent:internal-known    set once the internal graphs saved before that set existed are in it

An internal record (a graph starting with ``INTERNAL_GRAPH_PREFIX``, ``model/reserved.py``: the LLM layer's leases
and cached replies) is only in the sets of its graph: the sets a listing of every graph reads never hold it, so
such a page and ``count()`` leave it out without reading it. An older release still writing to the database puts
its internal saves in those sets again: ``count()`` (one script, ``_COUNT``) checks with the same read that
``<ns>:recent`` holds no more ids than ``<ns>:ids`` less the internal graphs' ids, and takes them out again when it
does (a page leaves them out anyway: it compares each record's graph).

An id in these sets with no record behind it (an *orphan*: left by a release whose delete predates them, or a
record key removed by hand or evicted) was counted but never listed. The same read checks it: ``<ns>:recent``
against ``<ns>:ids`` (above), and for a count of one graph ``<ns>:recent:graph:<graph>`` against
``<ns>:graph:<graph>``; when a set holds more, its ids without a record are taken out of every listing set
(``_DROP``, which checks each id again in the one atomic step, so one saved again meanwhile stays). Each check
looks again only when the excess grows. An orphan still in ``<ns>:ids`` (a record key removed) leaves no set
larger than another, so each count's script first *sweeps* the id set it mirrors (``<ns>:ids``, or
``<ns>:graph:<graph>`` for a count of one graph): up to ``SWEPT`` ids checked for a record, the next count going on
from where it stopped, orphans taken out the same way (``_SWEEP``). A set of up to ``SWEPT`` ids is checked whole by
every count, so the count agrees with ``list``; a larger one within ``len / SWEPT`` counts. A ``list`` or
``list_page`` that reads an orphan takes it out too — of every graph's and status's set, and of its graph's sets
when the listing is of that graph (nothing else says which graph it had).

Equal scores are ordered by member (the id), so a set's order is exactly ``(updated_at, execution_id)``: a page is
one ``ZREVRANGEBYSCORE ... LIMIT`` below the cursor's score (plus the ids saved in the cursor's very microsecond),
then one pipelined ``HMGET`` per id (of the id past the page, which says whether another page follows, only its
metadata fields: its snapshot is neither read nor decoded).
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from igniter_nb.errors import SnapshotNotFoundError
from igniter_nb.stores.base import STATUSES, StoredExecution, check_filters, ensure_aware
from igniter_nb.stores.paging import check_page, cut, from_micros, micros
from igniter_nb.stores.rules import INTERNAL_GRAPH_PREFIX, listed

# Adds executions saved before the listing sets existed (by an earlier release) to them: ARGV = ns, then
# (id, updated_at read, score) triples; an execution saved again since it was read is left alone (that save
# indexed it).
_INDEX_BATCH = """
local ns = ARGV[1]
local recent = ns .. ':recent'
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  local cur = redis.call('HMGET', ns .. ':exec:' .. id, 'updated_at', 'graph', 'status')
  if cur[1] and cur[1] == ARGV[i + 1] then
    local score, graph, status = ARGV[i + 2], cur[2] or '', cur[3] or ''
    local listed = string.sub(graph, 1, @PREFIX_LEN@) ~= '@PREFIX@'
    if listed then redis.call('ZADD', recent, score, id) end
    if graph ~= '' then redis.call('ZADD', recent .. ':graph:' .. graph, score, id) end
    if listed and status ~= '' then redis.call('ZADD', recent .. ':status:' .. status, score, id) end
    if graph ~= '' and status ~= '' then redis.call('ZADD', recent .. ':gs:' .. status .. ':' .. graph, score, id) end
  end
end
return 1
""".replace("@PREFIX_LEN@", str(len(INTERNAL_GRAPH_PREFIX))).replace("@PREFIX@", INTERNAL_GRAPH_PREFIX)
#: Ids of an id set a count checks for a record before counting (a set this small is checked whole by every count;
#: a larger one over the next counts, from where the last stopped: at most about a millisecond of the server's time).
SWEPT = 1000
#: Graphs whose unfinished sweep cursor a listing keeps (more are dropped oldest first: they start again at 0).
_CURSORS = 256
# Takes an id without a record (no <ns>:exec:<id>) out of every listing and id set: the whole store's, every
# status's, and those of each graph in `graphs` (its own when known): what _DROP and _SWEEP do with each orphan.
_FORGET = """
local function forget(ns, id, graphs)
  local recent = ns .. ':recent'
  local statuses = {@STATUSES@}
  redis.call('ZREM', recent, id)
  redis.call('SREM', ns .. ':ids', id)
  for _, status in ipairs(statuses) do redis.call('ZREM', recent .. ':status:' .. status, id) end
  for _, g in ipairs(graphs) do
    redis.call('ZREM', recent .. ':graph:' .. g, id)
    redis.call('SREM', ns .. ':graph:' .. g, id)
    for _, status in ipairs(statuses) do redis.call('ZREM', recent .. ':gs:' .. status .. ':' .. g, id) end
  end
end
""".replace("@STATUSES@", ", ".join(f"'{status}'" for status in sorted(STATUSES)))
# Checks up to SWEPT ids of an id set (<ns>:ids, or <ns>:graph:<graph> when graph is not '') from a cursor, and
# takes those without a record out of every listing and id set (_FORGET, as _DROP does): the sweep a count makes
# before counting, so an id whose record key was removed (by hand, evicted) is not counted. Returns the cursor to go
# on from ('0': the set was walked to its end).
_SWEEP = _FORGET + """
local function sweep(ns, graph, idset, cursor)
  -- writes after SSCAN (not deterministic): replicated as effects (the default since Redis 5; asked for before)
  if redis.replicate_commands then pcall(redis.replicate_commands) end
  local seen = 0
  repeat
    local found = redis.call('SSCAN', idset, cursor, 'COUNT', 100)
    cursor = found[1]
    for _, id in ipairs(found[2]) do
      seen = seen + 1
      if redis.call('EXISTS', ns .. ':exec:' .. id) == 0 then
        if graph ~= '' then
          forget(ns, id, {graph})
        else  -- its graph is unknown: out of the internal graphs' sets (few), which the count subtracts
          forget(ns, id, redis.call('SMEMBERS', ns .. ':internal-graphs'))
        end
      end
    end
  until cursor == '0' or seen >= @SWEPT@
  return cursor
end
""".replace("@SWEPT@", str(SWEPT))
# A count and, in the same atomic read, how many more ids <ns>:recent holds than the executions that are not internal
# (more than 0: an older release listed internal records again), after a sweep of <ns>:ids. ARGV = ns, the set
# counted, the sweep's cursor. Returns the count, the excess, the sweep's next cursor.
_COUNT = _SWEEP + """
local ns = ARGV[1]
local cursor = sweep(ns, '', ns .. ':ids', ARGV[3])
local counted = redis.call('ZCARD', ARGV[2])
local expected = redis.call('SCARD', ns .. ':ids')
for _, graph in ipairs(redis.call('SMEMBERS', ns .. ':internal-graphs')) do
  expected = expected - redis.call('SCARD', ns .. ':graph:' .. graph)
end
return {counted, redis.call('ZCARD', ns .. ':recent') - expected, cursor}
"""
# Takes ids out of the sets listing every graph, each only while its record is still internal (one saved again
# under a user graph meanwhile stays listed). ARGV = ns, then the ids.
_TAKE_OUT = """
local ns = ARGV[1]
local recent = ns .. ':recent'
local statuses = {@STATUSES@}
for i = 2, #ARGV do
  local graph = redis.call('HGET', ns .. ':exec:' .. ARGV[i], 'graph')
  if not graph or string.sub(graph, 1, @PREFIX_LEN@) == '@PREFIX@' then
    redis.call('ZREM', recent, ARGV[i])
    for _, status in ipairs(statuses) do redis.call('ZREM', recent .. ':status:' .. status, ARGV[i]) end
  end
end
return 1
""".replace("@PREFIX_LEN@", str(len(INTERNAL_GRAPH_PREFIX))).replace("@PREFIX@", INTERNAL_GRAPH_PREFIX).replace(
    "@STATUSES@", ", ".join(f"'{status}'" for status in sorted(STATUSES)))
# A count of one graph's set and, in the same read, how many more ids its listing set holds than its id set (more
# than 0: ids without a record, see _DROP), after a sweep of its id set. ARGV = the set counted, the graph's listing
# set, its id set, ns, the graph, the sweep's cursor. Returns the count, the excess, the sweep's next cursor.
_COUNT_GRAPH = _SWEEP + """
local cursor = sweep(ARGV[4], ARGV[5], ARGV[3], ARGV[6])
return {redis.call('ZCARD', ARGV[1]), redis.call('ZCARD', ARGV[2]) - redis.call('SCARD', ARGV[3]), cursor}
"""
# Takes ids without a record (no <ns>:exec:<id>) out of the listing sets and the id sets: every graph's and every
# status's, and those of the graph given ('' when unknown). ARGV = ns, graph, then the ids. Returns how many.
_DROP = _FORGET + """
local ns, graph = ARGV[1], ARGV[2]
local graphs = {}
if graph ~= '' then graphs = {graph} end
local dropped = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('EXISTS', ns .. ':exec:' .. id) == 0 then
    forget(ns, id, graphs)
    dropped = dropped + 1
  end
end
return dropped
"""
_BATCH = 500
_HEAD_FIELDS = ["updated_at", "graph", "status"]  # what says whether a record past a page is one of the next


def _matches(rec_graph: str | None, rec_status: str | None, updated_at: dt.datetime, eid: str, graph: str | None,
             status: str | None, key: tuple[dt.datetime, str] | None) -> bool:
    """Whether a record read for a page still belongs to it (else deleted or saved again meanwhile)."""
    return (listed(rec_graph, graph) and (status is None or rec_status == status)
            and (key is None or (updated_at, eid) < key))


class Listing:
    """The listing of one ``RedisStore`` (made by its first ``list_page`` or ``count``)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.client = store.client
        self.namespace: str = store.namespace
        self._index_batch = self.client.register_script(_INDEX_BATCH)
        self._count = self.client.register_script(_COUNT)
        self._take_out = self.client.register_script(_TAKE_OUT)
        self._count_graph = self.client.register_script(_COUNT_GRAPH)
        self._drop = self.client.register_script(_DROP)
        self._graph_left_over: dict[str, int] = {}  # per graph: ids too many in its listing set after a clean-up
        self._complete = False  # whether the sets are known to hold every execution (see _ensure_complete)
        self._left_over = 0  # ids too many in <ns>:recent after the last clean-up (none of them internal)
        self._cursors: dict[str, str] = {}  # per id set: where the next count's sweep goes on (see _SWEEP)

    def page(self, graph: str | None, status: str | None, *, limit: int,
             after: str | None) -> tuple[builtins.list[StoredExecution], str | None]:
        key = check_page(graph, status, limit, after)
        index = self._set_of(graph, status)
        fields = ["snapshot", "version", "graph", "correlation", "status", "updated_at"]
        records: builtins.list[StoredExecution] = []
        gone: builtins.list[str] = []  # ids read without a record: orphans, or deleted meanwhile (_DROP tells)
        below, more = key, False
        while True:  # more than once only when an execution was deleted or saved again while its page was read
            need = limit - len(records)
            ids = self._ids_below(index, below, need + 1)
            pipe = self.client.pipeline(transaction=False)
            for eid, _ in ids[:need]:
                pipe.hmget(self.store._key("exec", eid), fields)
            for eid, _ in ids[need:]:  # the one past the page: its metadata says whether another page follows
                pipe.hmget(self.store._key("exec", eid), _HEAD_FIELDS)
            answers = pipe.execute()
            for (eid, _), values in zip(ids[:need], answers, strict=False):
                if values[0] is None:
                    gone.append(eid)
                    continue  # deleted between the two calls, or an orphan
                try:
                    rec = self.store._record(eid, values)
                except SnapshotNotFoundError:
                    continue  # deleted while its parts were read
                if _matches(rec.graph, rec.status, rec.updated_at, eid, graph, status, key):  # else saved again
                    records.append(rec)
            if len(ids) <= need:
                break  # no record past these
            eid, values = ids[need][0], answers[need]
            if values[0] is None:
                gone.append(eid)
            if len(records) == limit:
                more = values[0] is not None and _matches(
                    _text(values[1]) or None, _text(values[2]) or None,
                    ensure_aware(dt.datetime.fromisoformat(_text(values[0]))), eid, graph, status, key)
                if more:
                    break
                below = ids[need][1], eid
            else:  # some of the page were deleted meanwhile: the next read takes this one whole
                below = ids[need - 1][1], ids[need - 1][0]
        self.drop_if_orphans(gone, graph)
        records.sort(key=lambda r: (r.updated_at, r.execution_id), reverse=True)
        return cut(records, limit, more)

    def drop_if_orphans(self, ids: builtins.list[str], graph: str | None) -> None:
        """Take the ids of ``ids`` that have no record (checked again, atomically) out of every listing and id set
        (those of ``graph`` too, when known): what a listing read without a record."""
        if ids:
            self._drop(args=[self.namespace, graph or "", *ids])

    def count(self, graph: str | None, status: str | None) -> int:
        check_filters(graph, status)
        index = self._set_of(graph, status)
        if graph is not None:  # an internal graph's sets hold it, a user graph's never held an internal record
            sets = [index, f"{self.namespace}:recent:graph:{graph}", f"{self.namespace}:graph:{graph}"]
            counted, excess = self._counted(self._count_graph, [*sets, self.namespace, graph], sets[2])
            if excess > self._graph_left_over.get(graph, 0):  # ids without a record (an older release's delete)
                self._drop_orphans(sets[1], graph)
                counted, excess = self._counted(self._count_graph, [*sets, self.namespace, graph], sets[2])
            if excess > 0:  # (kept only while there is one: a dict per graph name ever counted would only grow)
                self._graph_left_over[graph] = excess
            else:
                self._graph_left_over.pop(graph, None)
            return counted
        ids = f"{self.namespace}:ids"
        counted, excess = self._counted(self._count, [self.namespace, index], ids)
        if excess > self._left_over:  # an older release listed internal records again, or left ids without a record
            self._take_out_internal()
            self._drop_orphans(f"{self.namespace}:recent", None)
            counted, excess = self._counted(self._count, [self.namespace, index], ids)
        self._left_over = max(excess, 0)  # (neither: not looked for again until it grows)
        return counted

    def _counted(self, script: Any, args: builtins.list[str], swept: str) -> tuple[int, int]:
        """Run a count script (``_COUNT``, ``_COUNT_GRAPH``): its sweep of the id set ``swept`` goes on from where
        the last count of that set stopped. Answers the count and the excess."""
        counted, excess, cursor = script(args=[*args, self._cursors.pop(swept, "0")])
        if _text(cursor) != "0":  # (a set walked whole in one count keeps nothing here)
            self._cursors[swept] = _text(cursor)
            while len(self._cursors) > _CURSORS:
                del self._cursors[next(iter(self._cursors))]
        return int(counted), int(excess)

    def _drop_orphans(self, index: str, graph: str | None) -> None:
        """Take the ids of the listing set ``index`` that have no record out of every set (see ``_DROP``)."""
        members = (member for member, _ in self.client.zscan_iter(index, count=_BATCH))
        for batch in _batches(members, _BATCH):
            ids = [_text(m) for m in batch]
            pipe = self.client.pipeline(transaction=False)
            for eid in ids:
                pipe.exists(self.store._key("exec", eid))
            self.drop_if_orphans([eid for eid, found in zip(ids, pipe.execute(), strict=True) if not found], graph)

    def _set_of(self, graph: str | None, status: str | None) -> str:
        self._ensure_complete()
        recent = f"{self.namespace}:recent"
        if graph is not None and status is not None:
            return f"{recent}:gs:{status}:{graph}"
        if graph is not None:
            return f"{recent}:graph:{graph}"
        return f"{recent}:status:{status}" if status is not None else recent

    def _ids_below(self, index: str, below: tuple[dt.datetime, str] | None,
                   want: int) -> builtins.list[tuple[str, dt.datetime]]:
        """Up to ``want`` ``(id, saved at)`` of ``index``, newest first, below the key ``below``."""
        if below is None:
            found: Any = self.client.zrevrangebyscore(index, "+inf", "-inf", start=0, num=want, withscores=True)
            return [(_text(m), from_micros(int(score))) for m, score in found]
        score = micros(below[0])
        pipe = self.client.pipeline(transaction=False)
        pipe.zrangebyscore(index, score, score)  # saved in the same microsecond as the cursor: the id decides
        pipe.zrevrangebyscore(index, f"({score}", "-inf", start=0, num=want, withscores=True)
        ties, older = pipe.execute()
        same = sorted((m for m in map(_text, ties) if m < below[1]), reverse=True)
        return [(m, below[0]) for m in same][:want] + [
            (_text(m), from_micros(int(s))) for m, s in older][:max(0, want - len(same))]

    def _ensure_complete(self) -> None:
        """Add executions saved before the listing sets existed (once per database: a marker key says it is
        done). Every save of this release keeps the sets itself."""
        if self._complete:
            return
        marker = f"{self.namespace}:recent:complete"
        if not self.client.exists(marker):
            for batch in _batches(self.client.sscan_iter(f"{self.namespace}:ids", count=_BATCH), _BATCH):
                ids = [_text(m) for m in batch]
                pipe = self.client.pipeline(transaction=False)
                for eid in ids:
                    pipe.hget(self.store._key("exec", eid), "updated_at")
                args: builtins.list[str] = [self.namespace]
                for eid, stamp in zip(ids, pipe.execute(), strict=True):
                    if stamp is not None:
                        text = _text(stamp)
                        args += [eid, text, str(micros(ensure_aware(dt.datetime.fromisoformat(text))))]
                if len(args) > 1:
                    self._index_batch(args=args)
            self.client.set(marker, "1")
        known = f"{self.namespace}:recent:internal-known"
        if not self.client.exists(known):
            self._find_internal_graphs()
            self.client.set(known, "1")
        hidden = f"{self.namespace}:recent:internal-out"
        if not self.client.exists(hidden):
            self._take_out_internal()
            self.client.set(hidden, "1")
        self._complete = True

    def _find_internal_graphs(self) -> None:
        """Add the internal graphs saved before the save script kept ``<ns>:internal-graphs`` to it (once per
        database: found by the names of their sets)."""
        graphs: set[str] = set()
        for prefix in (f"{self.namespace}:graph:", f"{self.namespace}:recent:graph:"):
            for key in self.client.scan_iter(match=_glob_escape(prefix + INTERNAL_GRAPH_PREFIX) + "*", count=_BATCH):
                graphs.add(_text(key)[len(prefix):])
        if graphs:
            self.client.sadd(f"{self.namespace}:internal-graphs", *sorted(graphs))

    def _take_out_internal(self) -> None:
        """Take the internal records an earlier release put in the sets listing every graph out of them: the id
        sets of the internal graphs say which ids they are."""
        for graph in sorted(map(_text, self.client.smembers(f"{self.namespace}:internal-graphs"))):
            for batch in _batches(self.client.sscan_iter(f"{self.namespace}:graph:{graph}", count=_BATCH), _BATCH):
                self._take_out(args=[self.namespace, *map(_text, batch)])


def _batches(items: Iterable[Any], size: int) -> Iterator[builtins.list[Any]]:
    batch: builtins.list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _glob_escape(text: str) -> str:
    """``text`` matched literally by a Redis ``MATCH`` pattern (the namespace may hold ``*``, ``?``, ``[``)."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


__all__ = ["Listing"]
