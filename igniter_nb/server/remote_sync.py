"""``Contract.sync_remote``: resume stored executions whose remote nodes wait for remote executions that finished
— the poll that needs no callback (a parent run outside a server, a callback lost, a server without
``public_url``). Run it from a scheduler (cron, a job queue) as often as the remote work warrants.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from igniter_nb.errors import IgniterError
from igniter_nb.server.errors import RequestProblem, shown_url
from igniter_nb.server.remote import FINISHED, RemoteCall, remote_wait
from igniter_nb.server.remote_dropped import dropped_waits
from igniter_nb.server.resuming import apply_remote_outcome, remote_deferreds, update_stored

_ACTIVE = ("running", "pending", "waiting")


def sync_remote(cls: Any, store: Any = None, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Ask each remote server about every stored execution of ``cls`` pending on a remote node, and resume
    (compare-and-set save) those whose remote execution finished. One entry per remote wait looked at:
    ``{execution_id, remote_url, remote_contract, remote_execution_id, remote_status, action, status, error}``
    where ``action`` is ``"resumed"``, ``"still_running"`` (nothing written), ``"unreachable"`` (no answer: the
    connection failed or timed out; ``error`` says why), ``"remote_error"`` (the remote server answered an HTTP
    error other than 404 — a refused token, a proxy's 502: ``error`` names the status; or a 200 that is not the
    execution asked for: an answer about another execution, a status that is not text), ``"not_found"`` (the remote
    server answered 404 for that execution: it will never finish there), ``"already_resumed"`` (someone else
    applied it first) or ``"refused"`` (the stored execution cannot take it, e.g. the workflow was cancelled:
    ``error``); and ``"unreadable"`` (one entry for a stored execution that cannot be restored — damaged, or saved by
    an older version of the contract — for a stored wait that is damaged, or for a wait of a remote node the current
    graph no longer has (renamed or removed by a deploy: ``error`` names it and the ``migrate`` call); ``error``
    says why; the others are synced). Nothing is written for
    ``still_running``, ``unreachable``, ``remote_error``, ``not_found`` and ``unreadable``."""
    from igniter_nb.config import default_store
    from igniter_nb.runtime.restore import restore_record
    from igniter_nb.server.callbacks import due, send_due
    from igniter_nb.server.views import status_of

    store = store if store is not None else default_store()
    graph = cls.compiled_graph()
    report: list[dict[str, Any]] = []
    for listed in _active_records(store, graph.name):
        try:
            contract = restore_record(cls, listed, store=store)
        except IgniterError as exc:  # one record that no longer restores must not stop the others' sync
            report.append({"execution_id": listed.execution_id, "remote_url": None, "remote_contract": None,
                           "remote_execution_id": None, "remote_status": None, "action": "unreadable",
                           "status": listed.status, "error": str(exc)})
            continue
        for dropped in dropped_waits(contract, listed.snapshot):  # its node renamed or removed
            report.append({"execution_id": listed.execution_id, "remote_url": dropped["remote_url"],
                           "remote_contract": dropped["remote_contract"],
                           "remote_execution_id": dropped["remote_execution_id"], "remote_status": None,
                           "action": "unreadable", "status": listed.status, "error": dropped["error"]})
        for deferred in remote_deferreds(contract.execution).values():
            wait = remote_wait(deferred) or {}
            entry: dict[str, Any] = {
                "execution_id": listed.execution_id, "remote_url": shown_url(str(wait["remote_url"])),
                "remote_contract": wait.get("remote_contract"), "remote_execution_id": wait["remote_execution_id"],
                "remote_status": None, "action": None, "status": listed.status, "error": None,
            }
            report.append(entry)
            try:
                call = RemoteCall.waiting(str(deferred.source_node or "remote"), wait)
            except IgniterError as exc:  # a damaged stored wait: said, and the others are synced
                entry.update(action="unreadable", error=str(exc))
                continue
            entry.update(remote_url=shown_url(call.url), remote_contract=call.contract)
            try:
                outcome = call.status(str(wait["remote_execution_id"]))
            except IgniterError as exc:
                # 404: the server answered but does not know the execution (restarted on a memory store, or it was
                # deleted): it will never finish there — not a network problem to wait out; another error answer
                # (401, 502...) is a server that answered, not one that could not be reached
                answered = exc.context.get("http_status")
                action = "unreachable" if answered is None else "not_found" if answered == 404 else "remote_error"
                entry.update(action=action, error=str(exc))
                continue
            entry["remote_status"] = outcome.get("status")
            if outcome.get("status") not in FINISHED:
                entry["action"] = "still_running"
                continue
            def apply(contract: Any, outcome: dict[str, Any] = outcome) -> bool:
                return apply_remote_outcome(contract, outcome, via="poll", now=now)

            try:
                updated, changed = update_stored(store, listed.execution_id, lambda record: cls, apply)
            except RequestProblem as exc:
                entry.update(action="refused", error=exc.message)
                continue
            status = status_of(updated)
            entry.update(action="resumed" if changed else "already_resumed", status=status)
            callbacks = due(updated, status)
            if callbacks:  # this execution was itself called remotely: tell its caller
                from igniter_nb.server.views import execution_view

                send_due(store, cls, callbacks, execution_view(updated, name=None))
    return report


def _active_records(store: Any, graph: str) -> list[Any]:
    records = []
    for status in _ACTIVE:
        records.extend(store.list(graph=graph, status=status))
    return records


__all__ = ["sync_remote"]
