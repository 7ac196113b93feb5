"""Collection nodes: run a child contract once per item, and ``CollectionResult``, what they produce.

Item order is the source's order whatever order the items finish in. In ``collect`` mode a failed item
(including one whose child cannot even be built from its inputs: L-31) is recorded and the node succeeds; in
``fail_fast`` mode the first failure fails the node and items not started yet are skipped. A pending or
waiting item makes the node pending/waiting (L-08); its child is kept so resuming the token continues it.

Re-resolution (an input changed, a retry, a resume) reuses an item whose child class and inputs are unchanged
and that succeeded; pending items are continued, failed and changed items run again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.registry import contract_name
from igniter_nb.errors import CollectionInputError, CollectionKeyError, IgniterError, ResolutionError
from igniter_nb.model import CollectionNode
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.inputs import same_value
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import BLOCKED, FAILED, PENDING, SUCCEEDED, WAITING, Status

if TYPE_CHECKING:
    import pandas as pd

    from igniter_nb.runtime.children import ChildRuns
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.resolver import Resolver

ITEM_COLUMNS = ("key", "status", "error_type", "error", "child_execution_id")


# ---------------------------------------------------------------------------------------------- results
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
        return self.status is SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status is FAILED

    @property
    def pending(self) -> bool:
        """True while the item's child is pending *or* waiting (it has not finished)."""
        return self.status in BLOCKED

    @property
    def waiting(self) -> bool:
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
            data["deferred"] = self.deferred.to_dict()
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
        return {k: i for k, i in self.items.items() if i.status is SUCCEEDED}

    @property
    def failures(self) -> dict[Any, CollectionItem]:
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


@dataclass(frozen=True, slots=True)
class CollectionDeferred(DeferredResult):
    """The wait of a collection node with unfinished items: the first pending item's token and payload,
    plus ``collection`` (the ``CollectionResult`` so far, with per-item statuses)."""

    collection: CollectionResult | None = None

    def to_dict(self) -> dict[str, Any]:
        data = DeferredResult.to_dict(self)
        if self.collection is not None:
            data["collection"] = {**self.collection.summary, "pending_keys": list(self.collection.pending_items)}
        return data


# ---------------------------------------------------------------------------------------------- runs
@dataclass(slots=True)
class ItemJob:
    """One item to run: its position, key and child inputs; ``reuse`` is a live child to continue."""

    index: int
    key: Any
    inputs: dict[str, Any]
    reuse: Any = None


class CollectionRun:
    """The item records of one collection node, kept between resolutions (reuse, resume)."""

    __slots__ = ("contract", "items", "node")

    def __init__(self, node: CollectionNode) -> None:
        self.node = node
        self.contract: Any = node.contract
        self.items: dict[Any, CollectionItem] = {}

    def holds_token(self, token: str) -> bool:
        return self.item_for_token(token) is not None

    def item_for_token(self, token: str) -> CollectionItem | None:
        from igniter_nb.runtime.children import holds_token

        for item in self.items.values():
            if item.status in BLOCKED and item.contract is not None and (
                (item.deferred is not None and item.deferred.token == token) or holds_token(item.contract, token)
            ):
                return item
        return None

    def resume_by_token(self, token: str, value: Any = None) -> Any:
        """Resume the item child blocked on ``token``; the collection re-resolves on the next read."""
        item = self.item_for_token(token)
        if item is None:
            raise ResolutionError(f"collection '{self.node.name}' has no pending item waiting on token '{token}'",
                                  node=self.node.name, path=self.node.path)
        item.contract.resume_by_token(token, value=value)
        return item.contract


def run_item_locally(cls: Any, job: ItemJob) -> CollectionItem:
    """Build (or continue) the item's child in this process and resolve it. Never raises for user errors."""
    child = job.reuse
    if child is None:
        try:
            child = cls(job.inputs, store=None)
        except IgniterError as exc:  # the child cannot even be built: a failed item (L-31)
            return CollectionItem(job.key, FAILED, None, exc, job.inputs)
        except Exception as exc:
            err = ResolutionError(f"{contract_name(cls)} could not be built from item {job.key!r}: "
                                  f"{type(exc).__name__}: {exc}", cause_type=type(exc).__qualname__)
            err.__cause__ = exc
            return CollectionItem(job.key, FAILED, None, err, job.inputs)
    child.resolve_all()
    return item_of_child(job, child)


def item_of_child(job: ItemJob, child: Any) -> CollectionItem:
    ex = child.execution
    status = ex.status_of()
    if status is SUCCEEDED:
        return CollectionItem(job.key, SUCCEEDED, child.result, None, job.inputs, child.execution_id)
    if status is FAILED:
        return CollectionItem(job.key, FAILED, child.result, ex.first_error(), job.inputs, child.execution_id)
    return CollectionItem(job.key, status, child.result, None, job.inputs, child.execution_id, ex.first_deferred())


# ---------------------------------------------------------------------------------------------- items
def _located(execution: Execution, node: CollectionNode, cls: type[ResolutionError], message: str,
             **extra: Any) -> ResolutionError:
    return cls(message, graph=execution.graph.name, node=node.name, path=node.path,
               execution_id=execution.execution_id, source_location=node.source_location, **extra)


def prepare_items(node: CollectionNode, values: Mapping[str, Any], execution: Execution) -> list[tuple[Any, dict[str, Any]]]:
    """``[(key, child inputs), ...]`` from the source value; raises ``CollectionInputError``/``CollectionKeyError``."""
    from igniter_nb.runtime.children import call_mapper

    source = values[node.source]
    context = {name: values[name] for name in node.context}
    if node.map_inputs is not None and isinstance(source, Mapping):
        source = list(source.items())  # a dict source becomes (key, value) pairs for the mapper
    if isinstance(source, str | bytes | bytearray | Mapping) or not isinstance(source, Sequence):
        hint = " (give `map_inputs=` to turn a dict into items)" if isinstance(source, Mapping) else ""
        raise _located(execution, node, CollectionInputError,
                       f"Collection '{node.name}' expects a list of item dicts from '{node.source}', got "
                       f"{type(source).__name__}{hint}", source_type=type(source).__name__)
    prepared: list[tuple[Any, dict[str, Any]]] = []
    missing: list[int] = []
    for index, raw in enumerate(source):
        if node.map_inputs is not None:
            try:
                item = call_mapper(execution, node, node.map_inputs, {"item": raw, **context})
            except IgniterError as exc:
                exc.context.setdefault("item_index", index)
                raise
        else:
            item = raw
        if not isinstance(item, Mapping):
            raise _located(execution, node, CollectionInputError,
                           f"Collection '{node.name}' expects item dicts, got {type(item).__name__} at index {index}",
                           item_index=index)
        if node.key not in item:
            missing.append(index)
            continue
        prepared.append((item[node.key], dict(item)))
    if missing:
        shown = ", ".join(str(i) for i in missing[:10])
        raise _located(execution, node, CollectionKeyError,
                       f"Collection '{node.name}': items at index {shown}{', ...' if len(missing) > 10 else ''} "
                       f"are missing key '{node.key}'", missing_indexes=missing)
    seen: set[Any] = set()
    duplicates: list[Any] = []
    for key, _ in prepared:
        try:
            if key in seen:
                if key not in duplicates:
                    duplicates.append(key)
            else:
                seen.add(key)
        except TypeError:
            raise _located(execution, node, CollectionKeyError,
                           f"Collection '{node.name}': key '{node.key}' value {key!r} is not hashable") from None
    if duplicates:
        raise _located(execution, node, CollectionKeyError,
                       f"Collection '{node.name}' has duplicate keys: {', '.join(repr(k) for k in duplicates)}",
                       duplicate_keys=duplicates)
    return prepared


def _reusable(prev: CollectionItem | None, inputs: dict[str, Any]) -> bool:
    return prev is not None and prev.status is not FAILED and same_value(dict(prev.inputs), inputs)


def resolve_collection(runs: ChildRuns, node: CollectionNode, resolver: Resolver) -> NodeState:
    from igniter_nb.runtime.progress import item_progress

    values, blocked = resolver.dependency_values(node)
    if blocked is not None:
        return blocked
    assert values is not None
    ex = runs.execution
    try:
        prepared = prepare_items(node, values, ex)
    except IgniterError as exc:
        return resolver.failed(node, exc)
    run = runs.collections.get(node.name)
    if run is None or run.contract is not node.contract:
        run = runs.collections[node.name] = CollectionRun(node)
    records: dict[Any, CollectionItem] = {}
    jobs: list[ItemJob] = []
    for index, (key, inputs) in enumerate(prepared):
        prev = run.items.get(key)
        if prev is not None and _reusable(prev, inputs):
            if prev.status is SUCCEEDED:
                records[key] = prev  # unchanged and done: nothing to run
                continue
            jobs.append(ItemJob(index, key, inputs, prev.contract))  # pending: continue the same child
        else:
            jobs.append(ItemJob(index, key, inputs))

    emit = ex.bus.emit

    def started(job: ItemJob) -> None:
        emit("collection_item_started", node.name, node.path, "running", {"item_inputs": job.inputs, "item_key": job.key})

    failure: CollectionItem | None = None
    bar = item_progress(ex, node, len(jobs))
    outcomes = ex.runner.run_items(ex, node, jobs, started)
    try:
        for job, item in outcomes:
            records[job.key] = item
            bar.update()
            if item.status is SUCCEEDED:
                emit("collection_item_succeeded", node.name, node.path, "succeeded",
                     {"child_execution_id": item.child_execution_id, "item_key": job.key})
            elif item.status is FAILED:
                emit("collection_item_failed", node.name, node.path, "failed",
                     {"error": str(item.error), "error_type": type(item.error).__name__,
                      "child_execution_id": item.child_execution_id, "item_key": job.key})
                if node.mode == "fail_fast":
                    failure = item
                    break
            else:
                emit("collection_item_pending", node.name, node.path, str(item.status),
                     {"child_execution_id": item.child_execution_id, "item_key": job.key,
                      "token": item.deferred.token if item.deferred is not None else None})
    finally:
        outcomes.close()  # fail_fast: cancels the items not started yet
        bar.close()
    run.items = {key: records[key] for key, _ in prepared if key in records}
    if failure is not None:
        return resolver.failed(node, _item_failure(ex, node, failure))
    result = CollectionResult(run.items, node.mode, node=node.name, graph=ex.graph.name)
    blocked_items = [i for i in run.items.values() if i.status in BLOCKED and i.deferred is not None]
    if blocked_items:
        first = blocked_items[0].deferred
        assert first is not None
        status = WAITING if any(i.status is WAITING for i in blocked_items) else PENDING
        deferred = CollectionDeferred(first.token, first.payload, first.source_node, first.waiting_on, first.event,
                                      collection=result)
        return resolver.blocked(node, deferred, status, (node.name,))
    return resolver.succeeded(node, result)


def _item_failure(execution: Execution, node: CollectionNode, item: CollectionItem) -> ResolutionError:
    error = item.error
    message = getattr(error, "message", None) or str(error)
    err = _located(execution, node, ResolutionError,
                   f"Collection '{node.name}' (fail_fast) item {item.key!r} failed: {message}",
                   item_key=item.key, child_execution_id=item.child_execution_id,
                   cause_type=type(error).__name__)
    err.__cause__ = error
    return err
