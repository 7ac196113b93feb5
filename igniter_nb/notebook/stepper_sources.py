"""Where a ``SnapshotStepper``'s steps come from: a store's saved versions, a parquet snapshot log, and the
contract class to draw them with.

A saved version's snapshot JSON is parsed on first use (``_Version``), so opening a long log costs one parse per
step looked at, not one per step. A store that pages its history (``history_page`` and ``version_of``: memory,
file, SQL, Redis, parquet, and a server's ``ServiceStore``, through the history route's pages) is read
``VERSION_PAGE`` versions at a time, when a step of that page is first looked at (``LazyVersions``): opening reads
the latest version only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.diagnostics.cut import cut_text

if TYPE_CHECKING:
    import pandas as pd

#: Columns of a snapshot log (``ParquetStore`` / ``export_parquet``); a frame with ``snapshot`` is one.
SNAPSHOT_LOG_COLUMNS = ("execution_id", "version", "saved_at", "graph", "status", "correlation", "snapshot")


class Version:
    """A saved version whose snapshot JSON is parsed on first use."""

    __slots__ = ("_snapshot", "_text", "graph", "saved_at", "status", "version")

    def __init__(self, version: int, saved_at: dt.datetime | None, status: str | None, graph: str | None,
                 snapshot: Mapping[str, Any] | None = None, text: str | None = None) -> None:
        self.version = version
        self.saved_at = saved_at
        self.status = status
        self.graph = graph
        self._snapshot = dict(snapshot) if snapshot is not None else None
        self._text = text

    @property
    def snapshot(self) -> dict[str, Any]:
        if self._snapshot is None:
            try:
                data = json.loads(self._text or "{}")
            except ValueError as exc:  # (a log edited by hand or cut short) say which version, not just where
                raise ValueError(f"version {self.version} of the snapshot log: its snapshot is not JSON ({exc})") from None
            self._snapshot = data if isinstance(data, dict) else {}
            self._text = None
        return self._snapshot


#: Versions read from a store at a time, on the first look at one of them (``LazyVersions``).
VERSION_PAGE = 50


def _version_of(record: Any) -> Version:
    return Version(int(record.version), record.updated_at, record.status, record.graph, record.snapshot)


class LazyVersions:
    """The versions ``1..latest`` of one stored execution as a sequence, read from the store a page
    (``VERSION_PAGE``) at a time on first use and kept. Version ``n`` is step ``n - 1``; a store whose numbers
    are not ``1..latest`` in a row is read whole once instead (``store_versions``)."""

    def __init__(self, store: Any, execution_id: str, latest: int) -> None:
        self._store = store
        self._execution_id = execution_id
        self._count = latest
        self._known: dict[int, Version] = {}
        self._whole: list[Version] | None = None
        last = self._page(latest - 1, 1)
        if last:
            self._known[latest - 1] = last[0]

    def __len__(self) -> int:
        return len(self._whole) if self._whole is not None else self._count

    def __getitem__(self, index: int) -> Version:
        if self._whole is not None:
            return self._whole[index]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        if index not in self._known:
            start = index - index % VERSION_PAGE
            for k, version in enumerate(self._page(start, min(VERSION_PAGE, self._count - start))):
                self._known.setdefault(start + k, version)
            if self._whole is not None:
                return self._whole[index]
        return self._known[index]

    def _page(self, start: int, limit: int) -> list[Version]:
        """The versions of steps ``start..start+limit-1`` (version numbers ``start+1…``)."""
        from igniter_nb.stores import paging

        records = paging.history_page(self._store, self._execution_id, after_version=start, limit=limit)
        if [int(r.version) for r in records] != list(range(start + 1, start + 1 + limit)):
            self._whole = store_versions(self._store, self._execution_id)  # numbered otherwise: read it whole
            return []
        return [_version_of(r) for r in records]

    def extend(self, versions: Iterable[Version]) -> None:
        """Versions saved after the stepper opened (``live=True``), in order."""
        if self._whole is not None:
            self._whole.extend(versions)
            return
        for version in versions:
            self._known[self._count] = version
            self._count += 1


def open_versions(store: Any, execution_id: str) -> LazyVersions | list[Version]:
    """A store's versions of ``execution_id``: ``LazyVersions`` when the store pages its history (it has
    ``history_page`` and ``version_of``), else every version read now (``store_versions``).
    ``SnapshotNotFoundError`` when the execution is not stored."""
    latest = store.version_of(execution_id) if callable(getattr(store, "version_of", None)) else None
    if callable(getattr(store, "history_page", None)):
        if latest is None:
            store.history_page(execution_id, after_version=0, limit=1)  # the store's own not-found error
        if latest:
            return LazyVersions(store, execution_id, int(latest))
    return store_versions(store, execution_id)


def store_versions(store: Any, execution_id: str) -> list[Version]:
    reader = getattr(store, "history_records", None)
    if callable(reader):
        return [Version(int(r.version), r.updated_at, r.status, r.graph, r.snapshot) for r in reader(execution_id)]
    snapshots = list(store.history(execution_id))
    latest = store.record(execution_id)
    versions = []
    for number, snap in enumerate(snapshots, start=1):
        last = number == len(snapshots)
        versions.append(Version(number, latest.updated_at if last else None, latest.status if last else None,
                                 latest.graph if last else snap.get("graph"), snap))
    return versions


def read_log(path: str | os.PathLike[str], execution_id: str | None) -> pd.DataFrame:
    """A parquet file or dataset as a frame; for a snapshot log and a known execution only its rows."""
    import pyarrow.dataset as ds

    root = os.fspath(path)
    if execution_id is not None and os.path.isdir(os.path.join(root, execution_id)):  # ParquetStore layout
        folder = os.path.join(root, execution_id)
        dataset = ds.dataset(folder, format="parquet")
    else:
        dataset = ds.dataset(root, format="parquet")  # names starting with "_" or "." are skipped
    names = set(dataset.schema.names)
    if execution_id is not None and "execution_id" in names:
        table = dataset.to_table(filter=ds.field("execution_id") == execution_id)
    else:
        table = dataset.to_table()
    return table.to_pandas()


def pick_execution(frame: pd.DataFrame, execution_id: str | None, source: Any) -> str:
    ids = sorted({str(v) for v in frame["execution_id"].dropna().unique()})
    if execution_id is not None:
        if execution_id not in ids:
            raise ValueError(f"execution {execution_id!r} is not in this snapshot log")
        return execution_id
    if len(ids) == 1:
        return ids[0]
    where = f" ({source})" if isinstance(source, str | os.PathLike) else ""
    listed = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
    raise ValueError(f"the snapshot log{where} holds {len(ids)} executions; pick one with execution_id= ({listed})"
                     if ids else f"the snapshot log{where} is empty")


def log_versions(frame: pd.DataFrame) -> list[Version]:
    from igniter_nb.notebook.frames import whole_number

    for row, given in enumerate(frame["version"].tolist() if "version" in frame else ()):
        if given is not None and not whole_number(given):
            raise ValueError(f"not a snapshot log: row {row} has version {cut_text(repr(given), 80)}; every version "
                             "is a whole number (the steps are ordered by it)")
    ordered = frame.sort_values("version", kind="stable") if len(frame) else frame
    cols = {c: ordered[c].tolist() if c in ordered else [None] * len(ordered) for c in SNAPSHOT_LOG_COLUMNS}
    versions = []
    for i in range(len(ordered)):
        saved: Any = cols["saved_at"][i]
        if hasattr(saved, "to_pydatetime"):
            saved = saved.to_pydatetime()
        saved_at = saved if isinstance(saved, dt.datetime) else None
        raw = cols["snapshot"][i]
        text, snap = (raw, None) if isinstance(raw, str) else (None, raw if isinstance(raw, Mapping) else {})
        status = cols["status"][i]
        graph = cols["graph"][i]
        number: Any = cols["version"][i]
        versions.append(Version(int(number) if number is not None else i + 1, saved_at,
                                 status if isinstance(status, str) else None, graph if isinstance(graph, str) else None,
                                 snap, text))
    return versions


def graph_for(graph: Any, name: str | None, ref: str | None = None) -> Any:
    """A ``CompiledGraph`` from what was given (graph, contract class or instance; ``ValueError`` when it is not the
    stored graph ``name``), else from the contract registry:
    by the snapshot's ``module:QualName`` first (graph names need not be unique), then by graph name. A class that
    cannot be found or compiled gives ``None`` (the stepper then draws no picture)."""
    if graph is not None:
        given = graph if hasattr(graph, "nodes") and hasattr(graph, "dep_plan") else \
            getattr(graph, "graph", None) or getattr(getattr(graph, "execution", None), "graph", None)
        if given is None:
            raise TypeError(f"graph= must be a CompiledGraph, a contract class or a contract, got {graph!r}")
        if name is not None and getattr(given, "name", None) != name:
            # its nodes are not the stored ones: the picture would show another contract, every node unresolved
            raise ValueError(f"graph= is {getattr(given, 'name', None)!r}, but the execution is of graph {name!r}: give "
                             f"that contract's class, or leave graph= out to find it by name")
        return given
    from igniter_nb.compiler.registry import lookup_contract

    for key in (ref, name):
        cls = lookup_contract(key) if key else None
        if cls is None:
            continue
        try:
            compiled = cls.compiled_graph()
        except Exception:  # e.g. another class of the same name without a definition
            continue
        if name is None or compiled.name == name:
            return compiled
    return None


__all__ = ["SNAPSHOT_LOG_COLUMNS", "VERSION_PAGE", "LazyVersions", "Version", "graph_for", "log_versions",
           "open_versions", "pick_execution", "read_log", "store_versions"]
