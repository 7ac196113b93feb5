"""DataFrames out of executions and stores, their replay, and an exact parquet round trip.

Columns are stable and documented in ``docs/notebook.md``. Nested values (payloads, values, correlation,
lists) are JSON text, so every frame survives parquet unchanged (``pandas.testing.assert_frame_equal`` holds
after ``read_parquet(to_parquet(frame, path))``). Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import pandas as pd

AUDIT_COLUMNS = ("seq", "type", "execution_id", "graph", "node", "path", "status", "payload", "timestamp")
STATES_COLUMNS = ("node", "path", "kind", "status", "version", "value", "error_type", "error", "invalidated_by",
                  "waiting_for", "event", "resolved_at", "source_location")
STORE_COLUMNS = ("execution_id", "graph", "status", "version", "correlation", "waiting_on", "started_at", "updated_at",
                 "age")
TOKENS_COLUMNS = ("execution_id", "graph", "status", "node", "kind", "event", "token", "item", "payload", "since",
                  "deadline", "correlation", "updated_at")

NODE_STATUSES = frozenset({"running", "succeeded", "failed", "pending", "waiting", "stale"})
# Event types whose row changes a node's status even when the status column is empty.
_EVENT_STATUS = {"node_started": "running", "node_succeeded": "succeeded", "node_failed": "failed",
                 "node_pending": "pending", "node_waiting": "waiting", "node_invalidated": "stale",
                 "input_updated": "succeeded", "node_resumed": "succeeded"}


def _str_dtype() -> Any:
    import pandas as pd

    return "str" if int(pd.__version__.split(".")[0]) >= 3 else object


def _json(value: Any) -> str:
    if isinstance(value, Mapping) and not value:
        return "{}"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=repr) if not isinstance(value, tuple) else list(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return repr(value)


def _utc(seconds: list[float | None]) -> pd.Series:
    import numpy as np
    import pandas as pd

    arr = np.array([np.nan if s is None else s for s in seconds], dtype="float64")
    return pd.Series(pd.to_datetime(arr, unit="s", utc=True))


def _frame(columns: Mapping[str, Any], text: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    str_dtype = _str_dtype()
    data = {name: (pd.Series(values, dtype=str_dtype) if name in text else values) for name, values in columns.items()}
    return pd.DataFrame(data)


# ----------------------------------------------------------------------------------------------- audit


def audit_frame(execution: Any) -> pd.DataFrame:
    """One row per event of ``execution`` (or of a contract): ``seq`` (int64), ``type``, ``execution_id``,
    ``graph``, ``node``, ``path``, ``status`` (text, empty for execution-level events), ``payload`` (JSON text)
    and ``timestamp`` (UTC)."""
    import numpy as np

    execution = getattr(execution, "execution", execution)
    events = execution.bus.events
    graph = execution.graph.name
    if events:
        seq, typ, eid, node, path, status, payload, ts = zip(*events, strict=True)
    else:
        seq = typ = eid = node = path = status = payload = ts = ()
    columns = {
        "seq": np.array(seq, dtype="int64"),
        "type": list(typ),
        "execution_id": list(eid),
        "graph": [graph] * len(events),
        "node": list(node),
        "path": list(path),
        "status": [None if s is None else str(s) for s in status],
        "payload": ["{}" if not p else _json(dict(p)) for p in payload],
        "timestamp": _utc(list(ts)),
    }
    return _frame(columns, ("type", "execution_id", "graph", "node", "path", "status", "payload"))


# ----------------------------------------------------------------------------------------------- states


def states_frame(contract: Any) -> pd.DataFrame:
    """One row per runtime node, in declaration order, resolved or not (``status`` ``unresolved``, version 0):
    ``node, path, kind, status, version, value`` (JSON text) ``, error_type, error, invalidated_by,
    waiting_for`` (JSON list) ``, event, resolved_at`` (UTC) ``, source_location``. Resolves nothing."""
    import numpy as np

    from igniter_nb.diagnostics.states import display_value

    ex = getattr(contract, "execution", contract)
    rows: dict[str, list[Any]] = {c: [] for c in STATES_COLUMNS}
    for node in ex.graph.nodes:
        st = ex.states.get(node.name)
        err = st.error if st is not None else None
        deferred = st.value if st is not None and str(st.status) in ("pending", "waiting") else None
        rows["node"].append(node.name)
        rows["path"].append(node.path)
        rows["kind"].append(node.kind)
        rows["status"].append(str(st.status) if st is not None else "unresolved")
        rows["version"].append(st.version if st is not None else 0)
        rows["value"].append(_json(display_value(st.value)) if st is not None and err is None else None)
        rows["error_type"].append(type(err).__name__ if err is not None else None)
        rows["error"].append(str(getattr(err, "message", err)) if err is not None else None)
        rows["invalidated_by"].append(st.invalidated_by if st is not None else None)
        rows["waiting_for"].append(json.dumps(list(st.waiting_for)) if st is not None else "[]")
        rows["event"].append(getattr(deferred, "event", None) or (getattr(node, "event", None) if deferred else None))
        rows["resolved_at"].append(st.resolved_at if st is not None else None)
        rows["source_location"].append(node.source_location)
    columns: dict[str, Any] = dict(rows)
    columns["version"] = np.array(rows["version"], dtype="int64")
    columns["resolved_at"] = _utc(rows["resolved_at"])
    text = tuple(c for c in STATES_COLUMNS if c not in ("version", "resolved_at"))
    return _frame(columns, text)


# ----------------------------------------------------------------------------------------------- replay


class ReplayState(NamedTuple):
    """A node's state as rebuilt from the audit trail."""

    status: str
    waiting_for: tuple[str, ...] = ()
    event: str | None = None
    error: str | None = None


class ReplayStep(NamedTuple):
    """The node states right after audit event ``seq`` (``step`` counts from 0)."""

    step: int
    seq: int
    type: str
    node: str | None
    states: dict[str, ReplayState]

    @property
    def statuses(self) -> dict[str, str]:
        return {name: st.status for name, st in self.states.items()}


class ReplayLog:
    """The columns of an audit frame, ordered by ``seq``, with a way to rebuild states at any step cheaply
    (checkpoints every ``CHECKPOINT`` steps, so a jump replays at most that many events)."""

    CHECKPOINT = 256

    def __init__(self, frame: pd.DataFrame) -> None:
        ordered = frame.sort_values("seq", kind="stable") if len(frame) else frame
        n = len(ordered)
        self.seqs = [int(v) for v in ordered["seq"].tolist()]
        self.types = [str(v) for v in ordered["type"].tolist()]
        self.nodes = [v if isinstance(v, str) else None for v in ordered["node"].tolist()]
        self.paths = ordered["path"].tolist() if "path" in ordered else [None] * n
        self.statuses = [v if isinstance(v, str) else None for v in ordered["status"].tolist()]
        self.payloads = ordered["payload"].tolist() if "payload" in ordered else [None] * n
        graphs = ordered["graph"].dropna().unique().tolist() if "graph" in ordered and n else []
        self.graph: str | None = str(graphs[0]) if graphs else None
        self._checkpoints: list[dict[str, ReplayState]] = []

    def __len__(self) -> int:
        return len(self.seqs)

    def apply(self, states: dict[str, ReplayState], i: int) -> None:
        """Apply row ``i`` to ``states`` in place."""
        node = self.nodes[i]
        if node is None or _is_output_path(node, self.paths[i]):
            return  # execution-level rows, and output rows (an output shows its source node's state)
        status = self.statuses[i]
        new_status = status if status in NODE_STATUSES else _EVENT_STATUS.get(self.types[i])
        if new_status is None:
            return
        data = _payload(self.payloads[i]) if new_status in ("pending", "waiting", "failed") else {}
        states[node] = ReplayState(new_status, tuple(data.get("waiting_for") or ()), data.get("event"), data.get("error"))

    def states_at(self, index: int) -> dict[str, ReplayState]:
        """Node states right after row ``index`` (0-based)."""
        if not 0 <= index < len(self.seqs):
            raise IndexError(f"step {index} out of range (0..{len(self.seqs) - 1})")
        k = self.CHECKPOINT
        while len(self._checkpoints) <= index // k:  # checkpoint c = the states right after row c * k
            c = len(self._checkpoints)
            states = dict(self._checkpoints[-1]) if c else {}
            for i in range((c - 1) * k + 1 if c else 0, min(c * k + 1, len(self.seqs))):
                self.apply(states, i)
            self._checkpoints.append(states)
        base = index // k
        states = dict(self._checkpoints[base])
        for i in range(base * k + 1, index + 1):
            self.apply(states, i)
        return states

    def step(self, index: int) -> ReplayStep:
        return ReplayStep(index, self.seqs[index], self.types[index], self.nodes[index], self.states_at(index))


def _is_output_path(node: str, path: Any) -> bool:
    return isinstance(path, str) and (path == f"output.{node}" or path.endswith(f".output.{node}"))


def replay(frame: pd.DataFrame) -> Iterator[ReplayStep]:
    """Yield, per audit event (ordered by ``seq``), the node states as of that event.

    Works on ``audit.to_frame()`` output or anything read back from parquet. A row changes its node when its
    ``status`` is a node status (``running, succeeded, failed, pending, waiting, stale``) or its ``type`` is a
    node event; execution-level rows (and rows about outputs) yield the states unchanged.
    """
    log = ReplayLog(frame)
    states: dict[str, ReplayState] = {}
    for index in range(len(log)):
        log.apply(states, index)
        yield ReplayStep(index, log.seqs[index], log.types[index], log.nodes[index], dict(states))


def _payload(text: Any) -> dict[str, Any]:
    if isinstance(text, Mapping):
        return dict(text)
    if not isinstance(text, str) or not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def replay_diff(before: Mapping[str, ReplayState], after: Mapping[str, ReplayState]) -> dict[str, tuple[str, str]]:
    """Nodes whose status changed: name → (status before or ``unresolved``, status after)."""
    changed: dict[str, tuple[str, str]] = {}
    for name in sorted({*before, *after}):
        old = before[name].status if name in before else "unresolved"
        new = after[name].status if name in after else "unresolved"
        if old != new:
            changed[name] = (old, new)
    return changed


# ----------------------------------------------------------------------------------------------- stores
#
# Stored snapshots are the real ``igniter_nb.snapshot/1`` format (``runtime/snapshot.py``): node states keep the
# status, ``waiting_for`` (the nodes that originate the wait) and a codec-encoded value, which for a pending or
# waiting node is ``{"__ig__": "deferred", "value": {token, payload, source_node, event?, collection?}}``;
# collection items keep their own ``deferred``; a workflow's record is ``snapshot["workflow"]``
# (``status, correlation, started_at, updated_at, deadlines, signals``).


def _decoded(value: Any) -> Any:
    """``codec.decode(value)``, or ``value`` itself when it cannot be decoded outside a restore (child results)."""
    from igniter_nb.runtime import codec

    try:
        return codec.decode(value)
    except Exception:
        return value


def _deferred_of(value: Any) -> dict[str, Any] | None:
    """The deferred record of a stored state value: ``token, payload, source_node, event`` (or ``None``)."""
    if isinstance(value, Mapping) and value.get("__ig__") == "deferred" and isinstance(value.get("value"), Mapping):
        data = dict(value["value"])
    else:
        decoded = _decoded(value)
        to_dict = getattr(decoded, "to_dict", None)
        if callable(to_dict) and hasattr(decoded, "token"):
            data = dict(to_dict())
        elif isinstance(value, Mapping) and "token" in value:  # a plain (uncoded) record
            data = dict(value)
        else:
            return None
    return data if data.get("token") is not None else None


class _Wait(NamedTuple):
    node: str
    status: str
    kind: str  # "event" | "token"
    event: str | None
    token: str | None
    item: str | None
    payload: Any
    since: float | None


def _origin_waits(snapshot: Mapping[str, Any]) -> list[_Wait]:
    """The waits a stored snapshot is blocked on, one per node that *originates* a wait (a node listed in its
    own ``waiting_for``: an executor that deferred, an await node, or a composition/branch/collection whose
    child waits) — dependents blocked through them are left out. A collection gives one wait per unfinished
    item (its own token). Sorted by node name."""
    states = snapshot.get("states")
    if not isinstance(states, Mapping):
        return []
    collections = snapshot.get("collections") if isinstance(snapshot.get("collections"), Mapping) else {}
    found: list[_Wait] = []
    for name in sorted(states):
        st = states[name]
        if not isinstance(st, Mapping) or str(st.get("status")) not in ("pending", "waiting"):
            continue
        waiting_for = st.get("waiting_for") or ()
        deferred = _deferred_of(st.get("value"))
        if name not in waiting_for and (deferred is None or deferred.get("source_node") != name):
            continue  # a dependent: it waits through another node
        since = st.get("resolved_at") if isinstance(st.get("resolved_at"), int | float) else None
        items = (collections or {}).get(name, {}).get("items") if isinstance((collections or {}).get(name), Mapping) else None
        unfinished = [i for i in items or () if isinstance(i, Mapping) and i.get("status") in ("pending", "waiting")]
        if unfinished:
            for item in unfinished:
                d = dict(item.get("deferred") or {})
                found.append(_Wait(str(name), str(item["status"]), "event" if d.get("event") else "token",
                                   d.get("event"), _text(d.get("token")), _text(_decoded(item.get("key"))),
                                   d.get("payload"), since))
            continue
        d = deferred or {}
        found.append(_Wait(str(name), str(st["status"]), "event" if d.get("event") else "token", d.get("event"),
                           _text(d.get("token")), None, d.get("payload"), since))
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _workflow(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    wf = snapshot.get("workflow")
    return dict(wf) if isinstance(wf, Mapping) else {}


def _iso_seconds(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _started_at(snapshot: Mapping[str, Any], fallback: float) -> float:
    """When the execution began: the workflow's ``started_at``, else its first event's time, else ``fallback``."""
    started = _iso_seconds(_workflow(snapshot).get("started_at"))
    if started is not None:
        return started
    events = snapshot.get("events")
    if isinstance(events, list) and events and isinstance(events[0], Mapping):
        ts = events[0].get("timestamp")
        if isinstance(ts, int | float):
            return float(ts)
    return fallback


def _waiting_on(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{node, event}]`` of a stored snapshot: the workflow's own list when saved, else the nodes whose wait
    for an external event it originates (each node once)."""
    workflow = _workflow(snapshot)
    if isinstance(workflow.get("waiting_on"), list):
        return [dict(w) for w in workflow["waiting_on"] if isinstance(w, Mapping)]
    found: list[dict[str, Any]] = []
    for wait in _origin_waits(snapshot):
        entry = {"node": wait.node, "event": wait.event}
        if wait.kind == "event" and entry not in found:
            found.append(entry)
    return found


def _records(store: Any, graph: str | None) -> list[Any]:
    return sorted(store.list(graph=graph), key=lambda r: (str(r.graph), str(r.execution_id)))


def store_frame(store: Any, graph: str | None = None, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per stored execution or workflow (its latest version), sorted by graph and id:
    ``execution_id, graph, status, version`` (int64) ``, correlation`` (JSON text) ``, waiting_on`` (JSON list
    of ``{node, event}``) ``, started_at, updated_at`` (UTC) ``, age`` (timedelta from ``started_at`` to
    ``now``), then one ``corr_<key>`` text column per correlation key found (sorted by key).

    ``status`` is the store's (for a workflow: the workflow status); ``started_at`` is the workflow's start, or
    the first event of a plain execution; ``updated_at`` is when the latest version was saved."""
    import numpy as np
    import pandas as pd

    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now= must be timezone-aware (e.g. datetime.now(datetime.UTC))")
    records = _records(store, graph)
    keys = sorted({str(k) for r in records for k in (r.correlation or {})})
    rows: dict[str, list[Any]] = {c: [] for c in STORE_COLUMNS}
    corr_cols: dict[str, list[Any]] = {f"corr_{k}": [] for k in keys}
    for r in records:
        snapshot = r.snapshot or {}
        correlation = dict(r.correlation or {})
        updated = r.updated_at.timestamp()
        started = _started_at(snapshot, updated)
        rows["execution_id"].append(r.execution_id)
        rows["graph"].append(r.graph)
        rows["status"].append(r.status)
        rows["version"].append(r.version)
        rows["correlation"].append(_json(correlation) if r.correlation is not None else None)
        rows["waiting_on"].append(json.dumps(_waiting_on(snapshot), sort_keys=True))
        rows["started_at"].append(started)
        rows["updated_at"].append(updated)
        rows["age"].append(now.timestamp() - started)
        for k in keys:
            v = correlation.get(k)
            corr_cols[f"corr_{k}"].append(None if v is None else str(v))
    columns: dict[str, Any] = dict(rows)
    columns["version"] = np.array(rows["version"], dtype="int64")
    columns["started_at"] = _utc(rows["started_at"])
    columns["updated_at"] = _utc(rows["updated_at"])
    columns["age"] = pd.to_timedelta(np.array(rows["age"], dtype="float64"), unit="s")
    columns.update(corr_cols)
    text = ("execution_id", "graph", "status", "correlation", "waiting_on", *corr_cols)
    return _frame(columns, text)


def tokens_frame(store: Any, graph: str | None = None) -> pd.DataFrame:
    """Outstanding waits of active executions, one row per wait, sorted by graph, id and node:
    ``execution_id, graph, status`` (the execution's) ``, node`` (the node that originates the wait: an
    executor that deferred, an await node, or the composition/branch/collection node whose child waits)
    ``, kind`` (``event`` or ``token``) ``, event, token, item`` (collection item key, one row per unfinished
    item) ``, payload`` (JSON text) ``, since`` (UTC, when the node started waiting) ``, deadline`` (UTC, an
    await timeout of a workflow) ``, correlation`` (JSON text) ``, updated_at`` (UTC)."""
    from igniter_nb.stores.base import ACTIVE_STATUSES

    rows: dict[str, list[Any]] = {c: [] for c in TOKENS_COLUMNS}
    for r in _records(store, graph):
        if r.status not in ACTIVE_STATUSES:
            continue
        snapshot = r.snapshot or {}
        deadlines = _workflow(snapshot).get("deadlines") or {}
        for wait in _origin_waits(snapshot):
            rows["execution_id"].append(r.execution_id)
            rows["graph"].append(r.graph)
            rows["status"].append(r.status)
            rows["node"].append(wait.node)
            rows["kind"].append(wait.kind)
            rows["event"].append(wait.event)
            rows["token"].append(wait.token)
            rows["item"].append(wait.item)
            rows["payload"].append(_json(wait.payload if wait.payload is not None else {}))
            rows["since"].append(wait.since)
            rows["deadline"].append(_iso_seconds(deadlines.get(wait.node)) if isinstance(deadlines, Mapping) else None)
            rows["correlation"].append(_json(dict(r.correlation)) if r.correlation is not None else None)
            rows["updated_at"].append(r.updated_at.timestamp())
    columns: dict[str, Any] = dict(rows)
    for name in ("since", "deadline", "updated_at"):
        columns[name] = _utc(rows[name])
    return _frame(columns, tuple(c for c in TOKENS_COLUMNS if c not in ("since", "deadline", "updated_at")))


# ----------------------------------------------------------------------------------------------- parquet


def to_parquet(frame: pd.DataFrame, path: str | PathLike[str]) -> str:
    """Write ``frame`` to a parquet file (pyarrow); ``read_parquet(path)`` gives back an equal frame."""
    frame.to_parquet(path, engine="pyarrow")
    return str(path)


def read_parquet(path: str | PathLike[str]) -> pd.DataFrame:
    """Read a frame written by ``to_parquet`` (or any parquet file) with the same dtypes."""
    import pandas as pd

    return pd.read_parquet(path, engine="pyarrow")


__all__ = [
    "AUDIT_COLUMNS",
    "STATES_COLUMNS",
    "STORE_COLUMNS",
    "TOKENS_COLUMNS",
    "ReplayLog",
    "ReplayState",
    "ReplayStep",
    "audit_frame",
    "read_parquet",
    "replay",
    "replay_diff",
    "states_frame",
    "store_frame",
    "to_parquet",
]
