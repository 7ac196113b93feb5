"""``ig.nb.start_or_restore``: start a workflow, or carry on with the one already running — so a notebook that
starts a workflow can be run again (Run All twice, or after stopping halfway) instead of failing with
``DuplicateWorkflowError``.

It belongs next to ``Contract.start`` (as ``Contract.start_or_restore``); it lives here until the workflow API
takes it, and reads the store only through the store protocol (``find_by_correlation``, ``record``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def start_or_restore(workflow: Any, inputs: Mapping[str, Any] | None = None, /, *, store: Any = None,
                     now: dt.datetime | None = None, **keyword_inputs: Any) -> Any:
    """The active ``workflow`` whose correlation these inputs give, restored from ``store``; if there is none,
    a new one started with ``workflow.start(inputs, store=store, now=now)``.

    Active means running, pending or waiting: a finished workflow (succeeded, failed, cancelled, timed out) is
    never restored — the same business keys then start a new one, exactly as ``start`` allows. Inputs that do
    not match the running workflow's are not applied to it (it keeps its own); correlation values are checked
    as ``start`` checks them (``InputError``). A contract without ``correlate_by`` has nothing to find again
    and is always started. If another process starts the same workflow at the same moment, the one it saved is
    restored. Deliveries in a notebook that may run twice should pass an ``idempotency_key``, so delivering
    again to a restored workflow is a no-op instead of a ``DuplicateSignalError``.
    """
    from igniter_nb.config import default_store
    from igniter_nb.errors import DuplicateWorkflowError
    from igniter_nb.workflow.contract_class import contract_class
    from igniter_nb.workflow.correlation import correlation_from_inputs

    contract_class(workflow, "start_or_restore")  # (an instance would get as far as its correlation, wrongly refused)
    given = {**(dict(inputs) if inputs else {}), **keyword_inputs}
    store = store if store is not None else default_store()
    graph = workflow.compiled_graph()
    # (a control character is no reason not to restore a workflow stored before start refused them: start refuses
    # a new one)
    correlation = correlation_from_inputs(graph, given, refuse_control=False)
    if correlation:
        existing = store.find_by_correlation(graph.name, correlation)
        if existing is not None:
            return workflow.restore_from_store(existing, store=store)
    try:
        return workflow.start(given, store=store, now=now)
    except DuplicateWorkflowError as exc:  # started elsewhere between the lookup and the save
        existing = exc.context.get("existing_execution_id") or store.find_by_correlation(graph.name, correlation)
        if existing is None:
            raise
        return workflow.restore_from_store(existing, store=store)


__all__ = ["start_or_restore"]
