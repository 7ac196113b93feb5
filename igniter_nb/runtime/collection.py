"""Collection nodes: run a child contract once per item (their value, ``CollectionResult``, is in
``collection_result.py`` and importable from here too).

Item order is the source's order whatever order the items finish in. In ``collect`` mode a failed item
(including one whose child cannot even be built from its inputs: L-31) is recorded and the node succeeds; in
``fail_fast`` mode the first failure fails the node and items not started yet are skipped. A pending or
waiting item makes the node pending/waiting (L-08); its child is kept so resuming the token continues it.

Re-resolution (an input changed, a retry, a resume) reuses an item whose child class and inputs are unchanged
and that succeeded; pending items are continued, failed and changed items run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.registry import contract_name
from igniter_nb.errors import CollectionInputError, CollectionKeyError, IgniterError, ResolutionError
from igniter_nb.model import CollectionNode
from igniter_nb.runtime.collection_result import CollectionDeferred, CollectionItem, CollectionResult, error_dict
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.inputs import same_inputs
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import BLOCKED, FAILED, PENDING, SUCCEEDED, WAITING
from igniter_nb.runtime.steps import exception_text

if TYPE_CHECKING:
    from igniter_nb.runtime.children import ChildRuns
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.resolver import Resolver

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

        for item in self.blocked_items():
            if (item.deferred is not None and item.deferred.token == token) or holds_token(item.contract, token):
                return item
        return None

    def blocked_items(self) -> list[CollectionItem]:
        """The pending/waiting items that have a live child (where a token may be held)."""
        return [item for item in self.items.values() if item.status in BLOCKED and item.contract is not None]

    def resume_by_token(self, token: str, value: Any = None) -> Any:
        """Resume the item child blocked on ``token``; the collection re-resolves on the next read."""
        item = self.item_for_token(token)
        if item is None:
            raise ResolutionError(f"collection '{self.node.name}' has no pending item waiting on token '{token}'",
                                  node=self.node.name, path=self.node.path)
        descend(item.contract.resume_by_token, token, value)
        return item.contract


def run_item_locally(cls: Any, job: ItemJob) -> CollectionItem:
    """Build (or continue) the item's child in this process and resolve it. Never raises for user errors."""
    child = job.reuse
    if child is None:
        try:
            child = cls._create(job.inputs)
        except IgniterError as exc:  # the child cannot even be built: a failed item (L-31)
            return CollectionItem(job.key, FAILED, None, exc, job.inputs)
        except Exception as exc:
            err = ResolutionError(f"{contract_name(cls)} could not be built from item {job.key!r}: "
                                  f"{type(exc).__name__}: {exception_text(exc)}", cause_type=type(exc).__qualname__)
            err.__cause__ = exc
            return CollectionItem(job.key, FAILED, None, err, job.inputs)
    descend(child.resolve_all)
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


def _unfindable(key: Any) -> str | None:
    """Why an item keyed ``key`` could not be found by its key again (None when it could): a float NaN, another
    value not equal to itself (``Decimal("NaN")``), or a tuple holding one. (An infinity equals itself: found.)"""
    if type(key) is str or type(key) is int:  # the usual keys, first
        return None
    if isinstance(key, float):
        return None if key == key else "is NaN, which never equals itself"
    if isinstance(key, tuple):
        for part in key:
            reason = _unfindable(part)
            if reason is not None:
                return f"holds {part!r}, which {reason}"
        return None
    try:
        equal = bool(key == key)
    except Exception:  # (a comparison that raises finds nothing either)
        equal = False
    return None if equal else "does not equal itself"


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
    for index, (key, _) in enumerate(prepared):  # (no item was missing its key: index is the source's)
        try:
            if key in seen:
                if key not in duplicates:
                    duplicates.append(key)
            else:
                seen.add(key)
        except TypeError:
            raise _located(execution, node, CollectionKeyError,
                           f"Collection '{node.name}': key '{node.key}' value {key!r} is not hashable") from None
        reason = _unfindable(key)
        if reason is not None:  # a NaN key was accepted, and its item could never be looked up (nan != nan)
            raise _located(execution, node, CollectionKeyError,
                           f"Collection '{node.name}': item at index {index} has key '{node.key}' = {key!r}, which "
                           f"{reason}: the item could never be found by its key (result[key], reuse on the next "
                           "resolution); give each item a key equal to itself, e.g. a finite number or a text",
                           item_index=index, item_key=repr(key))
    if duplicates:
        raise _located(execution, node, CollectionKeyError,
                       f"Collection '{node.name}' has duplicate keys: {', '.join(repr(k) for k in duplicates)}",
                       duplicate_keys=duplicates)
    return prepared


def _reusable(prev: CollectionItem | None, inputs: dict[str, Any]) -> bool:
    return prev is not None and prev.status is not FAILED and same_inputs(prev.inputs, inputs)


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


__all__ = ["CollectionDeferred", "CollectionItem", "CollectionResult", "CollectionRun", "ItemJob", "error_dict",
           "prepare_items", "resolve_collection", "run_item_locally"]
