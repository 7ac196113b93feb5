"""Request and response bodies of the HTTP API, as pydantic models: FastAPI validates requests with them and
builds ``/openapi.json`` from them, so the document always says what the server really does."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from igniter_nb.integrations.idempotency_keys import MAX_IDEMPOTENCY_KEY

#: Every status an execution can have in a store (and so in a response).
ExecutionStatus = Literal["running", "pending", "waiting", "succeeded", "failed", "cancelled", "timed_out"]

_STRICT = ConfigDict(extra="forbid")  # a misspelt field is an error, never silently ignored


# ----------------------------------------------------------------------------------------------- requests


class CallbackRequest(BaseModel):
    """Where to report an execution that does not finish at once (remote nodes ask for this)."""

    model_config = _STRICT
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$",
                     description="An http(s) URL; the execution view is POSTed there once the execution finishes.")
    token: str = Field(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9._~+/=-]+$",
                       description="Sent back as `Authorization: Bearer <token>` with the callback.")


class ExecuteRequest(BaseModel):
    """``POST /v1/contracts/{name}/execute``."""

    model_config = _STRICT
    inputs: dict[str, Any] = Field(default_factory=dict, description="The contract's inputs by name.")
    callback: CallbackRequest | None = Field(
        default=None, description="Report the execution to this URL when it finishes (if it does not at once).")


class EventRequest(BaseModel):
    """``POST /v1/contracts/{name}/events``."""

    model_config = _STRICT
    event: str = Field(min_length=1, max_length=200, description="The awaited event's name.")
    correlation: dict[str, Any] = Field(description="The workflow's correlation keys and values.")
    payload: Any = Field(default=None, description="The event's data (validated against the await's schema).")
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=MAX_IDEMPOTENCY_KEY, pattern=r"\S",
        description="Repeating a delivery with the same key returns the workflow unchanged instead of a 409. At most "
                    f"{MAX_IDEMPOTENCY_KEY} characters, as a webhook or an RQ job takes it.",
    )


class ResumeRequest(BaseModel):
    """``POST /v1/executions/{id}/resume``."""

    model_config = _STRICT
    token: str = Field(min_length=1, max_length=500, description="The token the node is pending on.")
    value: Any = Field(default=None, description="The pending node's value.")


# ----------------------------------------------------------------------------------------------- responses


class PreviewProblem(BaseModel):
    """One reason a delivery would be refused: the error class ``deliver`` would raise and its message (plus
    ``nearest`` active correlations for ``WorkflowNotFoundError``)."""

    model_config = ConfigDict(extra="allow")
    type: str
    message: str
    check: Literal["event", "correlation", "payload", "workflow"] = Field(
        description="What was found wrong: the event, the correlation, the payload, or the matched workflow.")


class DeliveryPreviewView(BaseModel):
    """``POST /v1/contracts/{name}/events/dry-run``: what delivering the event would do. Nothing was written."""

    contract: str = Field(description="The served contract name.")
    graph: str
    event: str
    correlation: dict[str, Any]
    ok: bool = Field(description="Whether the delivery would be accepted (``errors`` is empty).")
    execution_id: str | None = Field(description="The active workflow the correlation matches (null if none).")
    await_node: str | None = Field(description="The await node the event binds to.")
    status_before: ExecutionStatus | None = Field(description="The matched workflow's status now.")
    would_recompute: list[str] = Field(description="The await's downstream nodes not yet succeeded, in resolution order.")
    idempotent: bool = Field(description="Already delivered with this idempotency key: delivering answers it unchanged.")
    errors: list[PreviewProblem] = Field(description="Every independent problem the delivery would be refused for.")


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: ``error`` (the message), ``type`` (the error class) and the error's context."""

    model_config = ConfigDict(extra="allow")
    error: str
    type: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    contracts: list[str]
    store: str


class InputInfo(BaseModel):
    name: str
    type: str | None
    required: bool
    default: Any = None
    has_default: bool


class ContractInfo(BaseModel):
    name: str
    graph: str
    inputs: list[InputInfo]
    outputs: list[str]
    correlation_keys: list[str]
    events: list[str] = Field(description="The events the contract awaits (deliverable to /events).")


class ContractList(BaseModel):
    contracts: list[ContractInfo]


class FailureInfo(BaseModel):
    type: str
    message: str
    node: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class AwaitInfo(BaseModel):
    node: str
    event: str


class PendingInfo(BaseModel):
    node: str
    token: str
    payload: dict[str, Any] = Field(default_factory=dict)


class RemoteOutcome(BaseModel):
    """``POST /v1/executions/{id}/remote-callback``: a remote server reporting the execution a remote node of
    this execution started (its execution view; other fields of the view are ignored)."""

    model_config = ConfigDict(extra="ignore")
    execution_id: str = Field(min_length=1, max_length=200, description="The remote execution's id.")
    status: ExecutionStatus
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: FailureInfo | None = None


class ExecutionView(BaseModel):
    """One execution as the server reports it after running, delivering to or reading it."""

    execution_id: str
    graph: str
    contract: str | None = Field(description="The served contract name (null if this server does not serve it).")
    status: ExecutionStatus
    correlation: dict[str, Any] | None
    outputs: dict[str, Any] = Field(description="Outputs that have a value; failed and blocked ones are absent.")
    waiting_for: list[str] = Field(description="Awaited events not yet delivered, each once (none once a workflow "
                                               "finished: it takes no more events).")
    waiting_on: list[AwaitInfo] = Field(description="The await nodes behind `waiting_for`.")
    pending: list[PendingInfo] = Field(description="Deferred work (tokens) the execution waits for.")
    error: FailureInfo | None
    version: int | None = Field(description="The stored version after this call (null if it could not be stored).")
    updated_at: str | None = None


class DroppedWait(BaseModel):
    """A remote node's wait the stored execution holds but the current graph dropped: the node is gone (a deploy
    renamed or removed it) before its remote execution finished."""

    node: str = Field(description="The remote node's name in the version of the contract that saved the execution.")
    remote_execution_id: str = Field(description="The remote execution it waits for.")
    remote_contract: str | None = Field(description="The remote server's contract name.")
    remote_url: str = Field(description="The remote server's URL (a password in it as `***`).")
    error: str = Field(description="What `Contract.sync_remote` reports for it as `unreadable`: the node, the "
                                   "remote execution and the `Cls.migrate(store, rename={old: new})` call that "
                                   "moves the wait onto the node's new name.")


class ExecutionDetail(ExecutionView):
    """``GET /v1/executions/{id}``: the view plus the diagnostics report (``contract.diagnostics.to_dict()``)."""

    diagnostics: dict[str, Any] | None
    diagnostics_note: str | None = None
    dropped_waits: list[DroppedWait] = Field([], description=(
        "Waits of remote nodes the current graph no longer has (a deploy renamed or removed the node while its "
        "remote execution ran): the restore dropped them, so `pending` does not list them, and the remote server's "
        "callback is a 409 until the execution is moved with `Cls.migrate(store, rename={old: new})` (each entry's "
        "`error` names the call). Empty otherwise."))


class ExecutionRecord(BaseModel):
    execution_id: str
    graph: str | None
    status: str | None
    correlation: dict[str, Any] | None
    version: int
    updated_at: str


class ExecutionPage(BaseModel):
    """``GET /v1/executions``: one page of stored executions, most recently updated first. Follow
    ``next_cursor`` (``?cursor=...``) to the next page; each page reads about ``limit`` records from the store."""

    executions: list[ExecutionRecord]
    limit: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page. Opaque: it names the last "
                    "record of this page (a key, not a position), so records saved or deleted meanwhile never "
                    "make a page repeat or skip one; an execution saved again while paging moves to the front.")
    total: int | None = Field(description="How many executions match the filters, when asked with `total=true` "
                                          "(counting reads the store's index of every execution); else null.")
    offset: int = Field(description="The `offset` asked for (0 with a cursor).")
    next_offset: int | None = Field(description="`offset` of the next page when paging by offset (null with a "
                                                "cursor or on the last page). Prefer `next_cursor`.")
    lookalike: str | None = Field(None, description="Only on an empty page whose `graph` filter prints like a "
                                  "served contract or graph name but is other code points (another Unicode "
                                  "spelling, an invisible character): that served name. Matching stays exact.")
    note: str | None = Field(None, description="With `lookalike`: what differs, e.g. \"no execution of graph "
                             "'le\\u200bad'; it looks like the served 'lead' (the same text but for invisible "
                             "characters: ...)\".")


class HistoryVersion(BaseModel):
    version: int
    status: str | None
    updated_at: str
    snapshot: dict[str, Any]


class History(BaseModel):
    execution_id: str
    versions: list[HistoryVersion]
    limit: int | None = Field(None, description="The most versions this page could hold (null with latest=true).")
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null: the last page.")


__all__ = [
    "AwaitInfo",
    "CallbackRequest",
    "ContractInfo",
    "ContractList",
    "DeliveryPreviewView",
    "ErrorBody",
    "EventRequest",
    "ExecuteRequest",
    "ExecutionDetail",
    "ExecutionPage",
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionView",
    "FailureInfo",
    "Health",
    "History",
    "HistoryVersion",
    "InputInfo",
    "PendingInfo",
    "PreviewProblem",
    "RemoteOutcome",
    "ResumeRequest",
]
