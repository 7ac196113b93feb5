"""How the ``EventSimulator`` reads its store: every active workflow when asked (``workflows``), else a bounded
page listed once per operation (``listed_workflows``), counts from the store's indexes (``active_count``) and a
correlation looked up by index (``_match``).

A select or a display used to read every active snapshot about three times (the text, the HTML and the widget each
listed them); a store of 10,000 waiting workflows took 6-19 s per call. Pinned by counting a real SQLite store's
decodes in ``tests/notebook/test_simulator_reads.py``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

#: Statuses of a workflow that can still receive events.
ACTIVE = ("running", "pending", "waiting")
#: Active workflows the widget's dropdown offers (the most recently saved ones; ``select(correlation=...)`` or
#: ``select(execution_id=...)`` reaches any other): listing them reads their snapshots, and a store of 10,000
#: waiting workflows took seconds per redraw when every one was read.
LISTED_WORKFLOWS = 200


class StoreReads:
    """The reading half of ``EventSimulator`` (it sets ``store``, ``graph``, ``_page`` and ``_listing_depth``)."""

    store: Any
    graph: Any
    _page: tuple[list[Any], int] | None
    _listing_depth: int

    def workflows(self) -> list[Any]:
        """The store's active workflows of this contract (``StoredExecution``), sorted by correlation then id.

        Reads every one (each snapshot once); the simulator's own views read a bounded page instead
        (``listed_workflows``)."""
        found = [rec for status in sorted(ACTIVE) for rec in self.store.list(graph=self.graph.name, status=status)]
        return self._sorted(found)

    def _sorted(self, records: list[Any]) -> list[Any]:
        keys = self.graph.correlation_keys
        return sorted(records, key=lambda r: ([str((r.correlation or {}).get(k, "")) for k in keys], r.execution_id))

    def active_count(self) -> int:
        """How many active workflows of this contract the store holds (counted without reading a snapshot)."""
        from igniter_nb.stores import paging

        if self._page is not None:
            return self._page[1]
        return sum(paging.count(self.store, self.graph.name, status) for status in sorted(ACTIVE))

    def listed_workflows(self) -> tuple[list[Any], int]:
        """``(records, total)``: the ``LISTED_WORKFLOWS`` most recently saved active workflows, sorted by
        correlation then id, and how many active ones there are. Reads only those records' snapshots (a page per
        status); within one operation (a ``select``, a display) the store is read once."""
        if self._page is not None:
            return self._page
        from igniter_nb.stores import paging

        found: list[Any] = []
        total = 0
        for status in sorted(ACTIVE):
            records, more = paging.list_page(self.store, self.graph.name, status, limit=LISTED_WORKFLOWS)
            found.extend(records)
            total += len(records) if more is None else paging.count(self.store, self.graph.name, status)
        newest = sorted(found, key=lambda r: (r.updated_at, r.execution_id), reverse=True)[:LISTED_WORKFLOWS]
        page = (self._sorted(newest), total)
        if self._listing_depth:
            self._page = page
        return page

    @contextlib.contextmanager
    def _listing(self) -> Iterator[None]:
        """One operation: the active workflows are listed at most once within it (``listed_workflows``)."""
        self._listing_depth += 1
        try:
            yield
        finally:
            self._listing_depth -= 1
            if not self._listing_depth:
                self._page = None

    def _match(self, correlation: Mapping[str, Any]) -> str | None:
        """The active workflow with exactly this correlation, by the store's index (no snapshot read), or None
        (also for a correlation the store cannot look up: the dry run then says what is wrong with it)."""
        from igniter_nb.errors import StoreArgumentError

        try:
            found = self.store.find_by_correlation(self.graph.name, {str(k): v for k, v in correlation.items()})
        except (StoreArgumentError, TypeError, ValueError):
            return None
        return str(found) if found is not None else None

    def _listed(self, execution_id: str) -> Any:
        """A copy of the record listed in this operation (restoring may change the snapshot it is given), or None:
        a record read once is not read again."""
        listed = next((r for r in (self._page or ([], 0))[0] if r.execution_id == execution_id), None)
        return None if listed is None else dataclasses.replace(listed, snapshot=copy.deepcopy(listed.snapshot))


__all__ = ["ACTIVE", "LISTED_WORKFLOWS", "StoreReads"]
