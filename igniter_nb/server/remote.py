"""The runtime of ``c.remote(...)`` nodes: a contract run by another igniter_nb server, called with ``Client``.

Importing this module registers the handler (``runtime.children.register_handler("remote", ...)``); the runtime
imports it by name the first time a remote node resolves. What a remote node becomes (docs/server.md, "Remote
nodes"):

- the remote execution **succeeded** → the node's value is the remote ``outputs`` (a dict);
- it **failed**, was **cancelled** or **timed out** → the node fails with a ``ResolutionError`` naming the URL,
  the remote contract, its status and message and the remote execution id;
- it is **pending, waiting or running** → the node is *pending* (never failed: L-43) on the token
  ``remote:<remote execution id>``, the remote execution id in its deferred payload. It resumes when the remote
  execution finishes: the remote server calls back (when the parent runs inside a server with a public URL), or
  ``Contract.sync_remote`` asks;
- the server cannot be reached, times out, answers an HTTP error or something that is not an execution → the
  node fails with a ``ResolutionError`` with the same context — never a raw httpx error.

A remote node that resolves again while pending on a remote execution of the *same inputs* asks for that
execution's status instead of running the remote contract a second time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import unicodedata
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from igniter_nb._error_text import cut_end
from igniter_nb.errors import ResolutionError
from igniter_nb.model import RemoteNode
from igniter_nb.runtime.children import register_handler
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import PENDING
from igniter_nb.server.callback_tokens import CallbackTokens
from igniter_nb.server.client import Client
from igniter_nb.server.client_base import _execution_segment
from igniter_nb.server.encoding import json_safe
from igniter_nb.server.errors import (
    AnswerTooLargeError,
    RemoteConnectionError,
    RemoteError,
    UnroutableExecutionIdError,
    shown_url,
)
from igniter_nb.stores.base import FINISHED_STATUSES as FINISHED

#: Tokens of remote waits start with this; the rest is the remote execution id.
TOKEN_PREFIX = "remote:"
ACTIVE = ("running", "pending", "waiting")
#: The event each exchange with a remote server leaves in the calling execution's log.
REMOTE_CALLED = "remote_called"
#: The most bytes of a remote server's answer a remote node reads (``c.remote(..., max_answer_bytes=N)``).
MAX_ANSWER_BYTES = 10_000_000
#: The longest remote execution id a remote node accepts: what the callback route takes (``RemoteOutcome``).
MAX_EXECUTION_ID = 200
#: The most event names of a remote execution's ``waiting_for`` a pending remote node keeps.
MAX_WAITING_FOR = 100
#: The most characters of a remote server's own words (its error message, a failed execution's message) a remote
#: node's error keeps (``remote_message``): the error is stored with the calling execution, and a broken or hostile
#: server's message can be megabytes (up to ``max_answer_bytes``).
MAX_REMOTE_MESSAGE = 2000


def _cut(text: str, limit: int = MAX_REMOTE_MESSAGE) -> str:
    return cut_end(text, limit)


def remote_token(remote_execution_id: str) -> str:
    """The token a node waiting on remote execution ``remote_execution_id`` is pending on."""
    return f"{TOKEN_PREFIX}{remote_execution_id}"


def remote_wait(value: Any) -> Mapping[str, Any] | None:
    """The deferred payload of a wait on a remote execution (``remote_url``, ``remote_contract``,
    ``remote_execution_id``...), or None when ``value`` is not one."""
    if isinstance(value, DeferredResult) and value.token.startswith(TOKEN_PREFIX) and value.event is None:
        payload = value.payload
        if isinstance(payload.get("remote_execution_id"), str) and isinstance(payload.get("remote_url"), str):
            return payload
    return None


def waits_for(value: Any, node: Any, graph: Any) -> bool:
    """Whether ``value`` (a state value) is the wait remote node ``node`` of ``graph`` made: its own (``source_node``),
    or one a remote node of the same remote contract made under a name ``graph`` no longer has — a remote node
    renamed by ``Contract.migrate`` keeps the wait it made under its old name."""
    if not isinstance(value, DeferredResult):
        return False
    if value.source_node == node.name:
        return True
    wait = remote_wait(value)
    return (wait is not None and value.source_node not in graph.nodes_by_name
            and wait.get("remote_contract") == node.contract)


def capability_digest(capability: str) -> str:
    """What the calling side keeps of a callback capability: its SHA-256, never the capability itself."""
    return hashlib.sha256(capability.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------------------------- request context


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """Set by a server around the contract work of one request: remote nodes of ``graph`` (the execution the
    request runs) ask the remote server to call back ``public_url``, with a token ``tokens`` makes."""

    public_url: str
    graph: Any
    tokens: CallbackTokens


_callbacks: ContextVar[CallbackSettings | None] = ContextVar("igniter_remote_callbacks", default=None)
_outcomes: ContextVar[Mapping[str, Mapping[str, Any]] | None] = ContextVar("igniter_remote_outcomes", default=None)


@contextlib.contextmanager
def callbacks_to(public_url: str | None, graph: Any, tokens: CallbackTokens | None = None) -> Iterator[None]:
    """Within the block, remote nodes of ``graph`` ask for a callback to ``public_url`` (None: no callbacks), with
    a token made by ``tokens`` (``callback_tokens.py``; None: untagged tokens).

    A context variable: it reaches code running on this thread (inline and store runners); under the ``threads``
    runner a remote node asks for no callback, and the parent resumes by ``Contract.sync_remote``."""
    settings = CallbackSettings(public_url.rstrip("/"), graph, tokens or CallbackTokens()) if public_url else None
    token = _callbacks.set(settings)
    try:
        yield
    finally:
        _callbacks.reset(token)


@contextlib.contextmanager
def delivering(outcomes: Mapping[str, Mapping[str, Any]]) -> Iterator[None]:
    """Within the block, a remote node pending on a token of ``outcomes`` ({token: remote execution view}) takes
    that outcome instead of asking the remote server (used to apply a callback or a polled status)."""
    token = _outcomes.set(outcomes)
    try:
        yield
    finally:
        _outcomes.reset(token)


# ----------------------------------------------------------------------------------------------- the handler


def inputs_digest(inputs: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class RemoteCall:
    """One remote node calling its server: the HTTP exchange, and the errors it can end in, located."""

    def __init__(self, node_name: str, contract: str, url: str, timeout: float, token_env: str | None,
                 max_answer_bytes: Any = None, total_timeout: Any = None) -> None:
        self.node_name = node_name
        self.contract = contract
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.token_env = token_env
        self.where = f"{contract}@{shown_url(self.url)}"  # (a password in the URL never shows in an error)
        self.max_answer_bytes = MAX_ANSWER_BYTES if max_answer_bytes is None else max_answer_bytes
        self.total_timeout = total_timeout  # None: the Client's default, 3 × timeout

    @classmethod
    def of(cls, node: RemoteNode, wait: Mapping[str, Any] | None = None) -> RemoteCall:
        """The call of ``node`` — to the URL ``wait`` (a pending call of it) went to, if given."""
        token_env = node.metadata.get("token_env")
        url = str(wait["remote_url"]) if wait is not None else node.url
        return cls(node.name, node.contract, url, node.timeout, None if token_env is None else str(token_env),
                   node.metadata.get("max_answer_bytes"), node.metadata.get("total_timeout"))

    @classmethod
    def waiting(cls, node_name: str, wait: Mapping[str, Any]) -> RemoteCall:
        """The call a stored wait (a deferred payload) records, for asking its status later."""
        token_env = wait.get("token_env")
        timeout = wait.get("timeout") or 30
        call = cls(node_name, str(wait.get("remote_contract")), str(wait["remote_url"]), 30.0,
                   None if token_env is None else str(token_env), wait.get("max_answer_bytes"),
                   wait.get("total_timeout"))
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            raise call.error(f"the stored wait is damaged: timeout must be a number of seconds > 0, got {timeout!r:.80}",
                             remote_execution_id=wait.get("remote_execution_id"))
        call.timeout = float(timeout)
        return call

    def error(self, message: str, **context: Any) -> ResolutionError:
        return ResolutionError(f"remote '{self.node_name}' ({self.where}): {message}", url=shown_url(self.url),
                               remote_contract=self.contract, **context)

    def client(self) -> Client:
        token = None
        if self.token_env is not None:
            token = os.environ.get(self.token_env)
            if not token:
                raise self.error(f"the environment variable {self.token_env} (token_env=) is not set or is empty")
        limit = self.max_answer_bytes
        if type(limit) is not int or limit < 1:
            raise self.error(f"max_answer_bytes= must be an int >= 1, got {limit!r:.80}")
        try:
            return Client(self.url, timeout=self.timeout, token=token, max_answer_bytes=limit,
                          total_timeout=self.total_timeout)
        except ValueError as exc:  # total_timeout= (the other arguments were checked above or by c.remote)
            raise self.error(f"{str(exc).replace('total_timeout', 'total_timeout=', 1)}") from None

    def execute(self, inputs: Mapping[str, Any], callback: tuple[str, str] | None) -> dict[str, Any]:
        url, capability = callback or (None, None)
        return self._exchange(lambda c: c.execute(self.contract, inputs, callback_url=url, callback_token=capability))

    def status(self, remote_execution_id: str) -> dict[str, Any]:
        return self._exchange(lambda c: c.status(remote_execution_id), remote_execution_id=remote_execution_id)

    def _exchange(self, send: Any, **context: Any) -> dict[str, Any]:
        with self.client() as client:
            try:
                answer = send(client)
            except RemoteConnectionError as exc:
                late = exc.context.get("total_timeout")
                problem = (f"no complete answer within total_timeout={late:g}s" if late is not None else
                           f"no answer within {self.timeout:g}s" if exc.timeout else
                           "dropped the connection before answering" if exc.sent else "cannot be reached")
                raise self.error(f"{problem}: {exc.message}", remote_status=None, remote_message=exc.message,
                                 timeout=exc.timeout or None, sent=exc.sent or None, **context) from exc
            except RemoteError as exc:
                said = _cut(str(exc.server_message))
                raise self.error(f"answered HTTP {exc.status_code}: {said}", remote_status=None,
                                 http_status=exc.status_code, remote_message=said,
                                 remote_error_type=_cut(exc.error_type, MAX_EXECUTION_ID) if exc.error_type else None,
                                 **context) from exc
            except AnswerTooLargeError as exc:
                raise self.error(f"answered more than {exc.limit} bytes (max_answer_bytes=); nothing more was read",
                                 remote_status=None, limit=exc.limit, declared=exc.context.get("declared"),
                                 **context) from exc
        wrong = _answer_problem(answer, context.get("remote_execution_id"))
        if wrong is not None:  # a 200 whose body is not the execution asked for: never taken as its outcome
            raise self.error(f"answered {wrong}", remote_status=None, http_status=200, **context)
        return answer

    def state(self, node: RemoteNode, outcome: Mapping[str, Any], runs: Any, resolver: Any, *, via: str,
              digest: str, callback_digest: str | None) -> NodeState:
        """The state of ``node`` for a remote execution ``outcome`` (its execution view)."""
        rid = str(outcome["execution_id"])
        status = outcome.get("status")
        runs.execution.bus.emit(REMOTE_CALLED, node.name, node.path, None, {
            "url": shown_url(self.url), "contract": self.contract, "remote_execution_id": rid, "remote_status": status,
            "via": via})
        if status == "succeeded":
            outputs = outcome.get("outputs")
            if not isinstance(outputs, dict):
                raise self.error(f"succeeded without an outputs object (execution {rid})", remote_status=status,
                                 remote_execution_id=rid)
            return resolver.succeeded(node, outputs)  # type: ignore[no-any-return]
        if status in FINISHED:
            found = outcome.get("error")
            error: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            message = _cut(str(error.get("message") or f"the remote execution is {status}"))
            shown = {k: _cut(str(error[k]), MAX_EXECUTION_ID) for k in ("type", "node") if error.get(k) is not None}
            at = f" at node '{shown['node']}'" if error.get("node") else ""
            raise self.error(f"remote execution {rid} {status}{at}: {message}", remote_status=status,
                             remote_message=message, remote_execution_id=rid, remote_error=shown)
        if status in ACTIVE:
            payload: dict[str, Any] = {
                "remote_url": self.url, "remote_contract": self.contract, "remote_execution_id": rid,
                "remote_status": status, "waiting_for": _event_names(outcome.get("waiting_for")),
                "inputs_digest": digest, "timeout": self.timeout,
            }
            if self.token_env is not None:
                payload["token_env"] = self.token_env
            if self.max_answer_bytes != MAX_ANSWER_BYTES:
                payload["max_answer_bytes"] = self.max_answer_bytes
            if self.total_timeout is not None:
                payload["total_timeout"] = self.total_timeout
            if callback_digest is not None:
                payload["callback_digest"] = callback_digest
            wait = DeferredResult(remote_token(rid), payload, node.name)
            return resolver.blocked(node, wait, PENDING, (node.name,))  # type: ignore[no-any-return]
        raise self.error(f"answered an unknown status {str(status)[:80]!r} for execution {rid}",
                         remote_status=str(status)[:80], remote_execution_id=rid)


def _event_names(found: Any) -> list[str]:
    """The ``waiting_for`` a remote execution reports, as the parent keeps it in its deferred payload (saved with every
    version of the parent): at most :data:`MAX_WAITING_FOR` event names, each cut to :data:`MAX_EXECUTION_ID`
    characters; what is not text is no event name and is left out."""
    if not isinstance(found, list):
        return []
    return [name[:MAX_EXECUTION_ID] for name in found if isinstance(name, str)][:MAX_WAITING_FOR]


def _answer_problem(answer: Any, asked: str | None) -> str | None:
    """What makes a 200 answer unusable as the view of a remote execution (of ``asked``, when the status of one was
    asked), or ``None``. The id becomes a token, a stored payload field and a callback URL's match (the callback
    route takes ids of at most :data:`MAX_EXECUTION_ID` characters), so it must be printable text."""
    if not isinstance(answer, dict) or not isinstance(answer.get("execution_id"), str) or not answer["execution_id"]:
        return f"something that is not an execution: {str(answer)[:200]}"
    rid = answer["execution_id"]
    if len(rid) > MAX_EXECUTION_ID:
        return f"an execution id longer than {MAX_EXECUTION_ID} characters: {rid[:80]!r}…"
    bad = next((ch for ch in rid if unicodedata.category(ch) in ("Cc", "Cf", "Cs")), None)
    if bad is not None:
        return (f"an execution id holding a control or format character (U+{ord(bad):04X}): "
                f"{rid[:200].encode('unicode_escape').decode()!r}")
    try:
        _execution_segment(rid)  # the id its status is asked by later: one the client could not send is no id
    except UnroutableExecutionIdError as exc:
        return f"an execution id whose status could never be asked: {exc.message}"
    if asked is not None and rid != asked:
        return f"about execution {rid[:200]!r} when asked about {asked[:200]!r}"
    status = answer.get("status")
    if not isinstance(status, str):
        return f"a status that is not text ({type(status).__name__}) for execution {rid!r}"
    return None


def _callback_for(execution: Any) -> tuple[str, str] | None:
    """``(callback URL, capability)`` when the request running ``execution`` asked for callbacks, else None.

    Only the execution the request runs is stored under its own id: a remote node of a nested child (a composed
    contract, a collection item) asks to be called back at that outermost execution, which finds the node in its
    child tree when the callback comes (``resuming.apply_remote_outcome``)."""
    from igniter_nb.runtime.children import outermost_execution

    settings = _callbacks.get()
    if settings is None:
        return None
    root = outermost_execution() or execution
    if root.graph is not settings.graph:
        return None
    url = f"{settings.public_url}/v1/executions/{quote(root.execution_id, safe='')}/remote-callback"
    return url, settings.tokens.make(root.execution_id)


def resolve_remote(runs: Any, node: RemoteNode, resolver: Any) -> NodeState:
    """The runtime of a remote node (see the module docstring)."""
    values, blocked = resolver.dependency_values(node)
    if blocked is not None:
        return blocked  # type: ignore[no-any-return]
    execution = runs.execution
    inputs = json_safe({remote_input: values[local] for remote_input, local in node.inputs.items()})
    digest = inputs_digest(inputs)
    previous = execution.states.get(node.name)
    wait = remote_wait(previous.value) if previous is not None else None
    if wait is not None and waits_for(previous.value, node, execution.graph) and wait.get("inputs_digest") == digest:
        # the same call is already out there: never run the remote contract twice for one set of inputs
        call = RemoteCall.of(node, wait)
        rid = str(wait["remote_execution_id"])
        delivered = (_outcomes.get() or {}).get(remote_token(rid))
        outcome = delivered if delivered is not None else call.status(rid)
        return call.state(node, outcome, runs, resolver, via="delivered" if delivered is not None else "status",
                          digest=digest, callback_digest=wait.get("callback_digest"))
    call = RemoteCall.of(node)
    callback = _callback_for(execution)
    outcome = call.execute(inputs, callback)
    return call.state(node, outcome, runs, resolver, via="execute", digest=digest,
                      callback_digest=capability_digest(callback[1]) if callback else None)


register_handler("remote", resolve_remote)

__all__ = [
    "ACTIVE",
    "FINISHED",
    "MAX_ANSWER_BYTES",
    "MAX_EXECUTION_ID",
    "MAX_REMOTE_MESSAGE",
    "MAX_WAITING_FOR",
    "REMOTE_CALLED",
    "TOKEN_PREFIX",
    "CallbackSettings",
    "RemoteCall",
    "callbacks_to",
    "capability_digest",
    "delivering",
    "inputs_digest",
    "remote_token",
    "remote_wait",
    "resolve_remote",
    "waits_for",
]
