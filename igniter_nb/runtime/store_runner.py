"""The ``store`` runner: inline resolution, and the execution saved after every lifecycle and resume.

Failures are saved too (L-10), with their status; a restored execution keeps the store it came from (L-06).
Saves are compare-and-set on the version this execution last wrote, so a stale writer gets
``ConcurrencyError`` instead of overwriting someone else's progress.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from igniter_nb.runtime.runners import InlineRunner, register_runner

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def persist(execution: Execution, store: Any, *, after_failure: Callable[[], Any] | None = None) -> int | None:
    """Save ``execution`` into ``store`` (CAS on the last version it wrote or read); returns the new version,
    or ``None`` when nothing happened since this execution's last save (no second identical version).

    A node value the codec cannot encode fails its node (``runtime/unstorable.py``) and the save goes on with
    the failure; ``after_failure`` then runs (the workflow engine refreshes the workflow status), else the
    execution resolves again so dependents fail with the node.
    """
    SnapshotEncodingError, takes_event_chunks, snapshot_execution, fail_unstorable = _persist_uses()
    chunked = takes_event_chunks(store)  # the store keeps the event log by reference (runtime/event_chunks.py)
    for _ in range(len(execution.graph.nodes) + 1):  # each round fails one more node, at most every node once
        last_seq = execution.bus.last_seq()
        if execution.saved_seq == last_seq and execution.store_version is not None and execution.store_version > 0:
            return None
        try:
            snap = snapshot_execution(execution, copy=False, event_chunks=chunked)  # the store serialises it
        except SnapshotEncodingError as exc:
            if not fail_unstorable(execution, exc):
                raise
            if after_failure is not None:
                after_failure()
            else:
                execution.resolve_all()  # (a store runner saves from its lifecycle: the next round sees it)
            continue
        return _save(execution, store, snap, last_seq)
    raise SnapshotEncodingError(f"could not save execution {execution.execution_id}: its values keep failing to encode",
                                graph=execution.graph.name, execution_id=execution.execution_id)


@functools.cache
def _persist_uses() -> tuple[Any, Any, Any, Any]:
    """What ``persist`` calls, imported on first use (the import statement costs a microsecond on every save)."""
    from igniter_nb.errors import SnapshotEncodingError
    from igniter_nb.runtime.event_chunks import takes_event_chunks
    from igniter_nb.runtime.snapshot import snapshot_execution
    from igniter_nb.runtime.unstorable import fail_unstorable

    return SnapshotEncodingError, takes_event_chunks, snapshot_execution, fail_unstorable


@functools.cache
def _save_uses() -> tuple[Any, Any]:
    """What ``_save`` calls, from the layers above (config, stores), imported on first use."""
    from igniter_nb.config import warn_if_implicit
    from igniter_nb.stores.base import save_runtime_snapshot

    return warn_if_implicit, save_runtime_snapshot


@functools.cache
def _workflow_status() -> Any:
    """The workflow status of each contract status (``workflow/engine.py``), imported on first use."""
    from igniter_nb.workflow.engine import _STATUS_OF_CONTRACT

    return _STATUS_OF_CONTRACT


def _save(execution: Execution, store: Any, snap: dict[str, Any], last_seq: int) -> int:
    warn_if_implicit, save_runtime_snapshot = _save_uses()
    workflow = execution.workflow or {}
    if workflow.get("status") in ("running", "waiting"):
        # A workflow resumed outside deliver_event (e.g. resume_from_store): its status follows its nodes.
        workflow["status"] = _workflow_status()[execution.status_of()]
    status = workflow.get("status") or snap["status"]
    if status not in ("running", "pending", "waiting", "succeeded", "failed", "cancelled", "timed_out"):
        status = "failed" if status == "failed" else "succeeded"
    warn_if_implicit(store)
    version = save_runtime_snapshot(  # JSON-safe by construction: a memory store skips its JSON check
        store,
        snap,
        graph=execution.graph.name,
        correlation=workflow.get("correlation") or None,
        status=status,
        expected_version=execution.store_version,
    )
    execution.store_version = version
    execution.saved_seq = last_seq
    return int(version)


class StoreRunner(InlineRunner):
    name = "store"

    def __init__(self, *, max_workers: int | None = None, store: Any = None, executor: Any = None) -> None:
        self.store = store
        self.max_workers = max_workers

    def store_for(self, execution: Execution) -> Any:
        if execution.store is not None:
            return execution.store
        if self.store is None:
            from igniter_nb.config import default_store

            self.store = default_store()
        return self.store

    def after_lifecycle(self, execution: Execution) -> None:
        persist(execution, self.store_for(execution))

    def after_resume(self, execution: Execution) -> None:
        # A worker that resumes wants the outputs computed and saved, not a "succeeded" record with stale
        # dependents: resolve (its lifecycle saves), then save if that lifecycle had nothing to do.
        execution.resolve_all()
        persist(execution, self.store_for(execution))


register_runner("store", StoreRunner)
