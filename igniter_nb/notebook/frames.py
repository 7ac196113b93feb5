"""DataFrames out of executions, their replay, and an exact parquet round trip (store frames: ``store_frames.py``).

Columns are stable and documented in ``docs/notebook.md``. Every frame is an ``IgniterFrame`` (a
``pandas.DataFrame`` whose notebook HTML shows short ids and whole JSON, ``frame_html.py``) with the same dtypes
everywhere: text as pandas' ``string`` dtype (missing values are ``<NA>``, never ``NaN``), ``status`` as a
categorical over ``STATUS_CATEGORIES``, times as ``datetime64[ms, UTC]``, durations as ``timedelta64[ms]``,
counters as ``int64``. Nested values (payloads, values, correlation, lists) are JSON text, so every frame survives
parquet unchanged (``pandas.testing.assert_frame_equal`` holds after ``read_parquet(to_parquet(frame, path))``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from numbers import Integral
from os import PathLike
from typing import TYPE_CHECKING, Any, NamedTuple

from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.notebook.html import text_of
from igniter_nb.settings import without_url_passwords

if TYPE_CHECKING:
    import pandas as pd

    from igniter_nb.notebook.frame_html import IgniterFrame

AUDIT_COLUMNS = ("seq", "type", "execution_id", "graph", "node", "path", "status", "payload", "timestamp")
STATES_COLUMNS = ("node", "path", "kind", "status", "version", "value", "error_type", "error", "invalidated_by",
                  "waiting_for", "event", "resolved_at", "source_location")
STORE_COLUMNS = ("execution_id", "graph", "status", "version", "correlation", "waiting_on", "started_at", "updated_at",
                 "age")
TOKENS_COLUMNS = ("execution_id", "graph", "status", "node", "kind", "event", "token", "item", "payload", "since",
                  "deadline", "correlation", "updated_at")
#: The categories of every ``status`` column, in lifecycle order (sorting by status follows it). A status outside
#: this list (none is known today) is added after them, so nothing is ever lost.
STATUS_CATEGORIES = ("unresolved", "running", "pending", "waiting", "stale", "succeeded", "failed", "cancelled",
                     "timed_out")

NODE_STATUSES = frozenset({"running", "succeeded", "failed", "pending", "waiting", "stale"})
# Event types whose row changes a node's status even when the status column is empty.
_EVENT_STATUS = {"node_started": "running", "node_succeeded": "succeeded", "node_failed": "failed",
                 "node_pending": "pending", "node_waiting": "waiting", "node_invalidated": "stale",
                 "input_updated": "succeeded", "node_resumed": "succeeded"}


def _json(value: Any) -> str:
    """``value`` as JSON text; never raises. A value JSON cannot hold (one that contains itself, one nested past
    the recursion limit, an object whose ``repr`` raises) is the JSON string of its display text
    (``html.text_of``): a frame of a contract holding one raised instead."""
    if isinstance(value, Mapping) and not value:
        return "{}"
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)
    except Exception:
        return json.dumps(text_of(value), ensure_ascii=False)




def _json_default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=repr) if not isinstance(value, tuple) else list(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return repr(value)


def _utc(seconds: Iterable[float | None]) -> pd.Series:
    """Epoch seconds (``None`` for missing) as ``datetime64[ms, UTC]``, rounded to the millisecond."""
    import numpy as np
    import pandas as pd

    arr = np.array([np.nan if s is None else s for s in seconds], dtype="float64")
    return pd.Series(pd.to_datetime(np.round(arr * 1000.0), unit="ms", utc=True)).dt.as_unit("ms")


def _status(values: Iterable[Any]) -> pd.Categorical[str]:
    """A status column: categorical over ``STATUS_CATEGORIES`` (plus any unknown status, sorted after them)."""
    import numpy as np
    import pandas as pd

    items = [None if v is None or v != v else str(v) for v in values]  # v != v: a NaN read back from a file
    extra = sorted({v for v in items if v is not None and v not in STATUS_CATEGORIES})
    categories = [*STATUS_CATEGORIES, *extra]
    code = {name: i for i, name in enumerate(categories)}
    codes = np.array([-1 if v is None else code[v] for v in items], dtype="int16")
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))


def _frame(columns: Mapping[str, Any], text: Iterable[str], kind: str) -> IgniterFrame:
    """An ``IgniterFrame`` of ``columns``: ``text`` columns as the ``string`` dtype, ``status`` categorical."""
    import pandas as pd

    from igniter_nb.notebook.frame_html import as_igniter_frame

    text = set(text)
    data: dict[str, Any] = {}
    for name, values in columns.items():
        if name == "status":
            data[name] = _status(values)
        elif name in text:
            cells = list(values)
            try:
                data[name] = pd.Series(cells, dtype=pd.StringDtype())
            except UnicodeEncodeError:  # a lone surrogate, which Arrow strings (UTF-8) cannot hold: shown as U+FFFD
                from igniter_nb.notebook.html import sendable_text

                data[name] = pd.Series([sendable_text(v) if isinstance(v, str) else v for v in cells],
                                       dtype=pd.StringDtype())
        else:
            data[name] = values
    return as_igniter_frame(pd.DataFrame(data), kind)


# ----------------------------------------------------------------------------------------------- audit


def _execution_of(value: Any, who: str) -> Any:
    """The ``Execution`` of a contract instance (or the execution itself); else a ``TypeError`` naming ``who``."""
    from igniter_nb.runtime.execution import Execution

    execution = getattr(value, "execution", value)
    if not isinstance(execution, Execution):
        raise TypeError(f"{who} needs a contract instance or its execution, got {type(value).__name__} {value!r:.80}")
    return execution


def audit_frame(execution: Any) -> IgniterFrame:
    """One row per event of ``execution`` (or of a contract), in ``seq`` order: ``seq`` (int64), ``type``,
    ``execution_id``, ``graph``, ``node``, ``path`` (text, ``<NA>`` for execution-level events), ``status``
    (categorical), ``payload`` (JSON text) and ``timestamp`` (UTC, ms)."""
    import numpy as np

    execution = _execution_of(execution, "audit_frame")
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
        "status": status,
        "payload": ["{}" if not p else _json(without_url_passwords(dict(p))) for p in payload],
        "timestamp": _utc(list(ts)),
    }
    return _frame(columns, ("type", "execution_id", "graph", "node", "path", "payload"), "audit")


# ----------------------------------------------------------------------------------------------- states


def states_frame(contract: Any) -> IgniterFrame:
    """One row per runtime node, in declaration order, resolved or not (``status`` ``unresolved``, version 0):
    ``node, path, kind, status`` (categorical) ``, version, value`` (JSON text) ``, error_type, error,
    invalidated_by, waiting_for`` (JSON list) ``, event, resolved_at`` (UTC, ms) ``, source_location``.
    Resolves nothing."""
    import numpy as np

    from igniter_nb.diagnostics.states import display_value

    ex = _execution_of(contract, "states_frame")
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
        rows["value"].append(_json(without_url_passwords(display_value(st.value))) if st is not None and err is None else None)
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
    text = tuple(c for c in STATES_COLUMNS if c not in ("status", "version", "resolved_at"))
    return _frame(columns, text, "states")


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
        missing = [c for c in ("seq", "type", "node", "status") if c not in frame.columns]
        if missing:
            shown = ", ".join(map(str, list(frame.columns)[:12])) or "none"
            raise ValueError(f"not an audit frame (contract.audit.to_frame()) or a snapshot log: no {', '.join(missing)} "
                             f"column{'s' if len(missing) > 1 else ''} (its columns: {shown})")
        _check_seqs(frame["seq"].tolist())
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
        states[node] = ReplayState(new_status, _waited(data.get("waiting_for")), _text(data.get("event")),
                                   _text(data.get("error")))

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


def _check_seqs(seqs: list[Any]) -> None:
    """A ``ValueError`` naming the first row whose ``seq`` is not a whole number (a frame edited by hand or written
    by another tool): the steps are ordered by it, and sorting or ``int()`` failed with a message naming neither."""
    for row, seq in enumerate(seqs):
        if not whole_number(seq):
            raise ValueError(f"not an audit frame: row {row} has seq {cut_text(repr(seq), 80)}; every seq is a whole "
                             "number (the event's place in the audit trail)")


def whole_number(value: Any) -> bool:
    """Whether ``value`` (read from a frame) is a whole number: an int (numpy's too, not a bool) or an integral float."""
    if isinstance(value, Integral):
        return not isinstance(value, bool)
    return isinstance(value, float) and value.is_integer()


def _waited(value: Any) -> tuple[str, ...]:
    """A row's ``waiting_for`` as node names: a list as text items, one name as itself, anything else as none."""
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(v if isinstance(v, str) else text_of(v) for v in value)
    return ()


def _text(value: Any) -> str | None:
    """A row's ``event`` or ``error`` as text (``None`` stays ``None``): a hand-edited payload may hold a number
    or a map there."""
    return value if value is None or isinstance(value, str) else text_of(value)


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


# ----------------------------------------------------------------------------------------------- parquet


def to_parquet(frame: pd.DataFrame, path: str | PathLike[str]) -> str:
    """Write ``frame`` to a parquet file (pyarrow); ``read_parquet(path)`` gives back an equal frame."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"to_parquet writes a DataFrame (an igniter_nb frame), got {type(frame).__name__} {frame!r:.80}")
    frame.to_parquet(path, engine="pyarrow")
    return str(path)


def read_parquet(path: str | PathLike[str]) -> pd.DataFrame:
    """Read a frame written by ``to_parquet`` (or any parquet file) with the same dtypes; a file written from an
    ``ig.nb`` frame comes back as an ``IgniterFrame`` (its kind travels in the file's pandas metadata), so
    ``assert_frame_equal(read_parquet(to_parquet(frame, p)), frame)`` holds."""
    import pandas as pd

    from igniter_nb.notebook.frame_html import as_igniter_frame

    frame = pd.read_parquet(path, engine="pyarrow")
    kind = frame.attrs.get("igniter_nb")
    if not isinstance(kind, str):
        return frame
    status = frame["status"].dtype if "status" in frame.columns else None
    if isinstance(status, pd.CategoricalDtype) and tuple(status.categories[:len(STATUS_CATEGORIES)]) != STATUS_CATEGORIES:
        # a file without rows keeps no categories: rebuild the fixed list
        frame["status"] = _status(frame["status"].tolist())
    return as_igniter_frame(frame, kind)


__all__ = [
    "AUDIT_COLUMNS",
    "STATES_COLUMNS",
    "STATUS_CATEGORIES",
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
    "to_parquet",
]


def __getattr__(name: str) -> Any:
    # The store frames live in ``store_frames.py``; kept importable from here.
    if name in ("store_frame", "tokens_frame"):
        from igniter_nb.notebook import store_frames

        return getattr(store_frames, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
