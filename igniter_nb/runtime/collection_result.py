"""``CollectionResult``: what a collection node produces — its items by key, with summaries and a DataFrame view.

``CollectionItem`` is one item; ``CollectionDeferred`` is the value of a collection node whose items are not
all finished (a ``DeferredResult`` that also carries the ``CollectionResult`` so far).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import IgniterError
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.status import BLOCKED, FAILED, SUCCEEDED, WAITING, Status
from igniter_nb.settings import without_url_passwords

if TYPE_CHECKING:
    import pandas as pd

ITEM_COLUMNS = ("key", "status", "error_type", "error", "child_execution_id")


@dataclass(frozen=True, slots=True, eq=False)
class CollectionItem:
    """One item of a collection: its key, status, child result (``None`` if the child could not be built),
    error (for failed items), the inputs it ran with and, for pending/waiting items, the ``DeferredResult``."""

    key: Any
    status: Status
    result: Any = None
    error: BaseException | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    child_execution_id: str | None = None
    deferred: DeferredResult | None = None

    @property
    def succeeded(self) -> bool:
        """True when the item's child contract succeeded."""
        return self.status is SUCCEEDED

    @property
    def failed(self) -> bool:
        """True when the item's child contract failed (``error`` says why)."""
        return self.status is FAILED

    @property
    def pending(self) -> bool:
        """True while the item's child is pending *or* waiting (it has not finished)."""
        return self.status in BLOCKED

    @property
    def waiting(self) -> bool:
        """True while the item's child waits for an external event."""
        return self.status is WAITING

    @property
    def contract(self) -> Any:
        """The live child contract instance (``None`` when it ran in another process or was never built)."""
        return getattr(self.result, "contract", None)

    def to_dict(self) -> dict[str, Any]:
        """``{key, status, result?, error?, deferred?}``: ``result`` (the child's outputs) only for successes."""
        data: dict[str, Any] = {"key": self.key, "status": str(self.status)}
        if self.status is SUCCEEDED and self.result is not None:
            data["result"] = self.result.to_dict()
        if self.error is not None:
            data["error"] = error_dict(self.error)
        if self.deferred is not None:
            data["deferred"] = without_url_passwords(self.deferred.to_dict())  # (shown: the item keeps its wait)
        return data

    def __repr__(self) -> str:
        return f"<CollectionItem {self.key!r} {self.status}>"


def error_dict(error: BaseException) -> dict[str, Any]:
    """``{type, message, context}`` for any error (igniter errors keep their context and cause type)."""
    to_dict = getattr(error, "to_dict", None)
    if isinstance(error, IgniterError) and to_dict is not None:
        data: dict[str, Any] = to_dict()
        return data
    return {"type": type(error).__name__, "message": str(error), "context": {}}


class CollectionResult:
    """The value of a collection node: items by key, in source order, with summaries.

    ``items`` (dict key → ``CollectionItem``), ``keys``, ``result[key]``, ``successes``, ``failures``,
    ``pending_items``, ``items_summary``, ``failed_items``, ``summary``, ``to_dict()``, ``to_frame()``.
    Iterating yields the items; ``key in result`` tests keys.
    """

    __slots__ = ("graph", "items", "mode", "node")

    def __init__(self, items: Mapping[Any, CollectionItem], mode: str = "collect", *, node: str | None = None,
                 graph: str | None = None) -> None:
        self.items: dict[Any, CollectionItem] = dict(items)
        self.mode = mode
        self.node = node
        self.graph = graph

    # -- reading ------------------------------------------------------------------
    @property
    def keys(self) -> list[Any]:
        """The item keys, in the source's order."""
        return list(self.items)

    def __getitem__(self, key: Any) -> CollectionItem:
        try:
            return self.items[key]
        except KeyError:
            shown = ", ".join(repr(k) for k in list(self.items)[:10])
            raise KeyError(f"collection '{self.node}' has no item with key {key!r} (keys: {shown}"
                           f"{', ...' if len(self.items) > 10 else ''})") from None

    def __contains__(self, key: object) -> bool:
        try:
            return key in self.items
        except TypeError:
            return False

    def __iter__(self) -> Iterator[CollectionItem]:
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        s = self.summary
        return (f"<CollectionResult {self.node or ''} {s['status']}: total={s['total']} succeeded={s['succeeded']} "
                f"failed={s['failed']} pending={s['pending']}>")

    @property
    def successes(self) -> dict[Any, CollectionItem]:
        """Key → item, for the items that succeeded."""
        return {k: i for k, i in self.items.items() if i.status is SUCCEEDED}

    @property
    def failures(self) -> dict[Any, CollectionItem]:
        """Key → item, for the items that failed."""
        return {k: i for k, i in self.items.items() if i.status is FAILED}

    @property
    def pending_items(self) -> dict[Any, CollectionItem]:
        """Items whose child is pending or waiting."""
        return {k: i for k, i in self.items.items() if i.status in BLOCKED}

    @property
    def items_summary(self) -> dict[Any, dict[str, Any]]:
        """``{key: {status, error?}}`` (``error`` is the message, present for failed items only)."""
        out: dict[Any, dict[str, Any]] = {}
        for k, i in self.items.items():
            entry: dict[str, Any] = {"status": str(i.status)}
            if i.error is not None:
                entry["error"] = str(i.error)
            out[k] = entry
        return out

    @property
    def failed_items(self) -> dict[Any, dict[str, Any]]:
        """``{key: {type, message, context}}`` for failed items."""
        return {k: error_dict(i.error) for k, i in self.items.items() if i.status is FAILED and i.error is not None}

    @property
    def summary(self) -> dict[str, Any]:
        """``{mode, total, succeeded, failed, pending, status}``.

        ``pending`` counts items not finished (pending or waiting). ``status``: ``waiting`` while any item
        waits for an external event, ``pending`` while any other item is pending, else ``succeeded`` (no failures, also when empty), ``failed`` (every item failed) or
        ``partial_failure``.
        """
        total = len(self.items)
        succeeded = failed = pending = 0
        waiting = False
        for i in self.items.values():
            st = i.status
            if st is SUCCEEDED:
                succeeded += 1
            elif st is FAILED:
                failed += 1
            else:
                pending += 1
                waiting = waiting or st is WAITING
        if pending:
            status = "waiting" if waiting else "pending"
        elif failed == 0:
            status = "succeeded"
        elif succeeded == 0:
            status = "failed"
        else:
            status = "partial_failure"
        return {"mode": self.mode, "total": total, "succeeded": succeeded, "failed": failed, "pending": pending,
                "status": status}

    def to_dict(self) -> dict[str, Any]:
        """``{mode, summary, items: {key: item.to_dict()}}``."""
        return {"mode": self.mode, "summary": self.summary, "items": {k: i.to_dict() for k, i in self.items.items()}}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import collection_mimebundle
        except ImportError:
            return {"text/plain": repr(self)}
        bundle: dict[str, Any] = collection_mimebundle(self)
        return bundle

    def to_frame(self) -> pd.DataFrame:
        """One row per item: key, status, error_type, error, child_execution_id, then the child's outputs
        (succeeded items only; an output named like one of those columns becomes ``output_<name>``)."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        extra: dict[str, None] = {}
        for i in self.items.values():
            row: dict[str, Any] = {
                "key": i.key,
                "status": str(i.status),
                "error_type": type(i.error).__name__ if i.error is not None else None,
                "error": str(i.error) if i.error is not None else None,
                "child_execution_id": i.child_execution_id,
            }
            if i.status is SUCCEEDED and i.result is not None:
                for name, value in i.result.to_dict().items():
                    column = f"output_{name}" if name in ITEM_COLUMNS else name
                    extra[column] = None
                    row[column] = value
            rows.append(row)
        return pd.DataFrame(rows, columns=[*ITEM_COLUMNS, *extra])


@dataclass(frozen=True, slots=True, repr=False)  # (DeferredResult's repr: a remote URL's password hidden)
class CollectionDeferred(DeferredResult):
    """The wait of a collection node with unfinished items: the first pending item's token and payload,
    plus ``collection`` (the ``CollectionResult`` so far, with per-item statuses)."""

    collection: CollectionResult | None = None

    def to_dict(self) -> dict[str, Any]:
        data = DeferredResult.to_dict(self)
        if self.collection is not None:
            data["collection"] = {**self.collection.summary, "pending_keys": list(self.collection.pending_items)}
        return data
