"""``Client`` and ``AsyncClient``: call an igniter_nb server over HTTP (httpx), with the server's errors as
``RemoteError`` and network failures as ``RemoteConnectionError``.

    with ig.server.Client("http://127.0.0.1:8000", token=os.environ["IGNITER_SERVER_TOKEN"]) as client:
        run = client.execute("lead", inputs={"request_id": "r-1"})
        client.deliver_event("lead", event="crm_received", correlation={"request_id": "r-1"},
                             payload={...}, idempotency_key="crm-r-1")
        client.status(run["execution_id"])["status"]
        for message in client.events(run["execution_id"]):    # live: events, status, end (see follow.py)
            ...

Retries (``retries=N``) happen only for calls that are safe to repeat — every GET, the dry run, and
``deliver_event`` when it has an idempotency key (the server answers a repeat with the same result) — on
*connection* errors (the request never reached the server), through httpx's transport; on a connection that dropped
after the request went out (``RemoteConnectionError.sent``; not a timeout); and on the server's ``503
ServerStopping`` (it cut the request off while shutting down) and ``503 StoreUnavailable`` (its store did not
answer): ``stopping_retry.py``. ``execute`` and ``resume``
are never retried: a repeat could start a second execution, or be refused. Both clients return the server's JSON
as plain dicts (shapes in ``/openapi.json``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from igniter_nb.server.answer_size import asend_capped, check_limit, send_capped
from igniter_nb.server.errors import RemoteConnectionError, RemoteError
from igniter_nb.server.follow import READ_TIMEOUT, StreamMessage, afollow, follow
from igniter_nb.server.request_json import json_content as _json_content
from igniter_nb.server.stopping_retry import FIRST_DELAY, MAX_BACKOFF, retry_delay, retry_later

_CONTEXT_FROM_BODY = ("graph", "node", "path", "execution_id")
#: Failures after the request (or part of it) went out: the server may have applied it. A connection that could
#: not be made (ConnectError, ConnectTimeout, PoolTimeout) never reached it.
_AFTER_SENDING = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout,
                  httpx.WriteTimeout)
#: Of those, the connection dropped (not a timeout): a call safe to repeat is retried (``retries``).
_DROPPED = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
#: What to do instead of repeating a call that is not safe to repeat, by the last segment of its route.
_CHECK_FIRST = {
    "execute": "look for the execution (Client.executions) before starting another",
    "events": "check the workflow's signals before delivering it again; with an idempotency_key a repeat is safe",
    "resume": "check the execution's status before resuming again",
}


@dataclass(frozen=True, slots=True)
class _Call:
    """One API call: what to send, and whether a connection failure may be retried."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    repeatable: bool = True
    text: bool = False  # the answer is text (SVG, Mermaid), not JSON


def _segment(value: Any, what: str) -> str:
    """One URL path segment, percent-encoded (``/``, ``%``, spaces and unicode included). ``.`` and ``..`` are
    encoded too: as they are, the URL would be normalised to another route (``/v1/contracts/../execute`` is
    ``/v1/execute``)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty str, got {value!r:.80}")
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


class _Api:
    """The requests both clients send; each public method of the clients builds one of these."""

    @staticmethod
    def health() -> _Call:
        return _Call("GET", "/v1/health")

    @staticmethod
    def contracts() -> _Call:
        return _Call("GET", "/v1/contracts")

    @staticmethod
    def contract(name: str, format: str | None) -> _Call:
        if format not in (None, "json", "svg", "mermaid"):
            raise ValueError(f"format must be None, 'json', 'svg' or 'mermaid', got {format!r}")
        params = {"format": format} if format else {}
        return _Call("GET", f"/v1/contracts/{_segment(name, 'contract name')}", params,
                     text=format in ("svg", "mermaid"))

    @staticmethod
    def execute(name: str, inputs: Mapping[str, Any] | None, callback_url: str | None,
                callback_token: str | None) -> _Call:
        body: dict[str, Any] = {"inputs": dict(inputs or {})}
        if (callback_url is None) != (callback_token is None):
            raise ValueError("give callback_url and callback_token together (or neither)")
        if callback_url is not None:
            body["callback"] = {"url": callback_url, "token": callback_token}
        return _Call("POST", f"/v1/contracts/{_segment(name, 'contract name')}/execute", json=body, repeatable=False)

    @staticmethod
    def deliver_event(name: str, event: str, correlation: Mapping[str, Any], payload: Any,
                      idempotency_key: str | None) -> _Call:
        body: dict[str, Any] = {"event": event, "correlation": dict(correlation), "payload": payload}
        if idempotency_key is not None:
            body["idempotency_key"] = idempotency_key
        return _Call("POST", f"/v1/contracts/{_segment(name, 'contract name')}/events", json=body,
                     repeatable=idempotency_key is not None)

    @staticmethod
    def dry_run_event(name: str, event: str, correlation: Mapping[str, Any], payload: Any,
                      idempotency_key: str | None) -> _Call:
        body = _Api.deliver_event(name, event, correlation, payload, idempotency_key).json
        # writes nothing: safe to repeat after a connection error
        return _Call("POST", f"/v1/contracts/{_segment(name, 'contract name')}/events/dry-run", json=body)

    @staticmethod
    def status(execution_id: str) -> _Call:
        return _Call("GET", f"/v1/executions/{_segment(execution_id, 'execution id')}")

    @staticmethod
    def resume(execution_id: str, token: str, value: Any) -> _Call:
        if not isinstance(token, str) or not token:
            raise ValueError(f"token must be a non-empty str, got {token!r:.80}")
        return _Call("POST", f"/v1/executions/{_segment(execution_id, 'execution id')}/resume",
                     json={"token": token, "value": value}, repeatable=False)

    @staticmethod
    def events(execution_id: str) -> _Call:
        return _Call("GET", f"/v1/executions/{_segment(execution_id, 'execution id')}/events")

    @staticmethod
    def history(execution_id: str, latest: bool = False, cursor: str | None = None) -> _Call:
        params = {"latest": "true"} if latest else {"cursor": cursor} if cursor is not None else {}
        return _Call("GET", f"/v1/executions/{_segment(execution_id, 'execution id')}/history", params)

    @staticmethod
    def executions(graph: str | None, status: str | None, limit: int | None, offset: int | None,
                   cursor: str | None = None, total: bool = False) -> _Call:
        params: dict[str, Any] = {k: v for k, v in (("graph", graph), ("status", status), ("limit", limit),
                                                    ("offset", offset), ("cursor", cursor)) if v is not None}
        if total:
            params["total"] = "true"
        return _Call("GET", "/v1/executions", params)


def _maybe_applied(call: _Call) -> str:
    """What to add to the error of a call whose connection was lost after the request went out: a change the server
    may have applied, and what to do instead of repeating it when a repeat is not safe (nothing for a GET)."""
    if call.method == "GET":
        return ""
    told = "; the request was sent: the server may have applied it"
    if call.repeatable:
        return told
    return f"{told} ({_CHECK_FIRST.get(call.path.rsplit('/', 1)[-1], 'check before repeating')})"


def _record(execution_id: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    [latest] = answer["versions"]
    snapshot = latest["snapshot"]
    workflow = snapshot.get("workflow") if isinstance(snapshot.get("workflow"), Mapping) else {}
    return {"execution_id": execution_id, "graph": snapshot.get("graph"), "status": latest["status"],
            "correlation": (workflow or {}).get("correlation") or None, "version": latest["version"],
            "updated_at": latest["updated_at"], "snapshot": snapshot}


class _ClientBase:
    def __init__(self, base_url: str, *, timeout: float | httpx.Timeout, token: str | None, retries: int,
                 max_answer_bytes: int | None = None) -> None:
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an http:// or https:// URL, got {base_url!r:.200}")
        if type(retries) is not int or retries < 0:
            raise ValueError(f"retries must be an int >= 0, got {retries!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retries = retries
        self.max_answer_bytes = check_limit(max_answer_bytes)
        self._token = token
        self._headers: dict[bytes, bytes] = {b"Accept": b"application/json"}
        if token is not None:
            self._headers[b"Authorization"] = f"Bearer {token}".encode()  # UTF-8 bytes: any token text travels

    def _url(self, call: _Call) -> str:
        return f"{self.base_url}{call.path}"

    def _unreachable(self, call: _Call, exc: httpx.HTTPError, retried: int = 0) -> RemoteConnectionError:
        url = self._url(call)
        kind = type(exc).__name__
        sent = isinstance(exc, _AFTER_SENDING)
        applied = _maybe_applied(call) if sent else ""
        if retried:
            applied = f" (after {retried} {'retry' if retried == 1 else 'retries'}){applied}"
        if isinstance(exc, httpx.TimeoutException):  # ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
            return RemoteConnectionError(f"{call.method} {url} did not complete in time ({kind}: {exc or 'timed out'})"
                                         f"{applied}", url=url, timeout=True, sent=sent, method=call.method)
        if sent:
            return RemoteConnectionError(f"{call.method} {url}: the connection was lost before the answer ({kind}: "
                                         f"{exc}){applied}", url=url, sent=True, method=call.method)
        return RemoteConnectionError(f"cannot reach {url}: {kind}: {exc}", url=url, method=call.method)

    def _dropped_retry(self, call: _Call, exc: httpx.HTTPError, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry`` of ``call``, whose connection dropped after the request went
        out (``exc``): only for a call safe to repeat, ``retries`` times (counted with the 503 retries), and not after
        a timeout (``timeout`` bounds the wait: a retry would multiply it); else None. The first retry goes at once
        (a keep-alive connection the server had closed), later ones after 0.5 s doubling, at most 4 s."""
        if not call.repeatable or retry > self.retries or not isinstance(exc, _DROPPED):
            return None
        return 0.0 if retry == 1 else min(FIRST_DELAY * 2 ** (retry - 2), MAX_BACKOFF)

    def _stopped_retry(self, call: _Call, response: httpx.Response, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry`` of ``call``, answered ``response``: only for a call safe to
        repeat that the server cut off while stopping (503 ``ServerStopping``) or could not take while its store did
        not answer (503 ``StoreUnavailable``), ``retries`` times; else None."""
        if not call.repeatable or retry > self.retries or not retry_later(response):
            return None
        return retry_delay(response, retry)

    def _answer(self, call: _Call, response: httpx.Response) -> Any:
        if response.is_success:
            if call.text:
                return response.text
            try:
                return response.json()
            except ValueError:
                raise self._failure(call, response, "the answer is not JSON") from None
        raise self._failure(call, response)

    def _failure(self, call: _Call, response: httpx.Response, problem: str | None = None) -> RemoteError:
        url = self._url(call)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        server_message = body.get("error") if isinstance(body, dict) else None
        if not isinstance(server_message, str):
            server_message = problem or (str(body)[:500] if body else response.reason_phrase)
        context = {k: body.get(k) for k in _CONTEXT_FROM_BODY} if isinstance(body, dict) else {}
        error_type = body.get("type") if isinstance(body, dict) else None
        return RemoteError(f"HTTP {response.status_code} from {call.method} {url}: {server_message}",
                           status_code=response.status_code, body=body, server_message=server_message,
                           error_type=error_type if isinstance(error_type, str) else None, url=url,
                           method=call.method, context=context)


class Client(_ClientBase):
    """A blocking client. ``timeout`` (seconds, or an ``httpx.Timeout``) bounds connecting and each read;
    ``retries`` connection attempts, and retries of a ``503 ServerStopping``, are added for calls safe to repeat;
    ``token`` is sent as a bearer token;
    ``max_answer_bytes``: an answer larger than this raises ``AnswerTooLargeError`` (None: no limit);
    ``transport`` replaces httpx's network transport (tests)."""

    def __init__(self, base_url: str, *, timeout: float | httpx.Timeout = 30.0, token: str | None = None,
                 retries: int = 0, transport: httpx.BaseTransport | None = None,
                 max_answer_bytes: int | None = None) -> None:
        super().__init__(base_url, timeout=timeout, token=token, retries=retries, max_answer_bytes=max_answer_bytes)

        def client(retrying: bool) -> httpx.Client:
            chosen = transport or httpx.HTTPTransport(retries=retries if retrying else 0)
            return httpx.Client(base_url=self.base_url, timeout=self.timeout, headers=self._headers, transport=chosen)

        self._repeatable = client(True)
        self._once = client(False) if retries and transport is None else self._repeatable
        self._own_transport = transport is not None

    def to_async(self) -> AsyncClient:
        """An ``AsyncClient`` with this client's base URL, timeout, token and retries, and connections of its own
        (close it with ``aclose``). What a live view uses to follow a stream it can cancel at once. A client built
        with ``transport=`` cannot be copied (its transport is synchronous): ``ValueError``."""
        if self._own_transport:
            raise ValueError("a Client built with transport= has no asynchronous twin: build an AsyncClient with an "
                             "asynchronous transport instead")
        return AsyncClient(self.base_url, timeout=self.timeout, token=self._token, retries=self.retries,
                           max_answer_bytes=self.max_answer_bytes)

    def _send(self, call: _Call) -> Any:
        http = self._repeatable if call.repeatable else self._once
        content = _json_content(call.json)
        retry = 0
        while True:
            try:
                if self.max_answer_bytes is None:
                    response = http.request(call.method, call.path, params=call.params, **content)
                else:
                    response = send_capped(http, call.method, call.path, self._url(call), self.max_answer_bytes,
                                           params=call.params, **content)
            except httpx.HTTPError as exc:
                retry += 1
                delay = self._dropped_retry(call, exc, retry)
                if delay is None:
                    raise self._unreachable(call, exc, retry - 1) from exc
                time.sleep(delay)
                continue
            retry += 1
            delay = self._stopped_retry(call, response, retry)
            if delay is None:
                return self._answer(call, response)
            time.sleep(delay)

    def health(self) -> dict[str, Any]:
        """``{status, version, contracts, store}``."""
        return dict(self._send(_Api.health()))

    def contracts(self) -> list[dict[str, Any]]:
        """The served contracts: ``[{name, graph, inputs, outputs, correlation_keys, events}]``."""
        return list(self._send(_Api.contracts())["contracts"])

    def contract(self, name: str, format: str | None = None) -> Any:
        """A contract's graph: a dict (JSON), or SVG / Mermaid text with ``format="svg"`` / ``"mermaid"``."""
        return self._send(_Api.contract(name, format))

    def execute(self, name: str, inputs: Mapping[str, Any] | None = None, *, callback_url: str | None = None,
                callback_token: str | None = None) -> dict[str, Any]:
        """Run contract ``name`` (a workflow starts); the execution view. Never retried. With ``callback_url`` and
        ``callback_token``, an execution that does not finish at once is reported to the URL when it does
        (``POST`` of its execution view, ``Authorization: Bearer <callback_token>``; see docs/server.md)."""
        return dict(self._send(_Api.execute(name, inputs, callback_url, callback_token)))

    def deliver_event(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any = None,
                      idempotency_key: str | None = None) -> dict[str, Any]:
        """Deliver ``event`` to the active workflow with ``correlation``; the updated execution view.
        Retried (connection errors, 503 ``ServerStopping``) only when ``idempotency_key`` is given."""
        return dict(self._send(_Api.deliver_event(name, event, correlation, payload, idempotency_key)))

    def dry_run_event(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any = None,
                      idempotency_key: str | None = None) -> dict[str, Any]:
        """What ``deliver_event`` with the same arguments would do, without doing it: ``{contract, graph, event,
        correlation, ok, execution_id, await_node, status_before, would_recompute, idempotent, errors}``. Problems
        with the delivery are in ``errors`` (not raised); nothing is written. Retried as a GET is."""
        return dict(self._send(_Api.dry_run_event(name, event, correlation, payload, idempotency_key)))

    def status(self, execution_id: str) -> dict[str, Any]:
        """A stored execution: status, outputs, waits, error and diagnostics."""
        return dict(self._send(_Api.status(execution_id)))

    def executions(self, graph: str | None = None, status: str | None = None, *, limit: int | None = None,
                   cursor: str | None = None, offset: int | None = None, total: bool = False) -> dict[str, Any]:
        """A page of stored executions, most recently updated first: ``{executions, limit, next_cursor, total,
        offset, next_offset}``. Pass the page's ``next_cursor`` as ``cursor`` for the next one (None: last
        page); ``total=True`` also counts every match. See :meth:`iter_executions`."""
        return dict(self._send(_Api.executions(graph, status, limit, offset, cursor, total)))

    def iter_executions(self, graph: str | None = None, status: str | None = None, *,
                        limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Every stored execution (the records of :meth:`executions`), newest first, page after page by cursor."""
        cursor: str | None = None
        while True:
            page = self.executions(graph, status, limit=limit, cursor=cursor)
            yield from page["executions"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        """Every stored version of an execution, oldest first: ``[{version, status, updated_at, snapshot}]``
        (page after page: the server answers at most its ``max_history_versions`` at a time)."""
        versions: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self._send(_Api.history(execution_id, cursor=cursor))
            versions.extend(page["versions"])
            cursor = page.get("next_cursor")
            if not cursor:
                return versions

    def record(self, execution_id: str) -> dict[str, Any]:
        """The latest stored version of an execution, as a store's ``record`` holds it: ``{execution_id, graph,
        status, correlation, version, updated_at, snapshot}`` (what store-reading tools need, over HTTP)."""
        return _record(execution_id, self._send(_Api.history(execution_id, latest=True)))

    def resume(self, execution_id: str, token: str, value: Any = None) -> dict[str, Any]:
        """Resume the node of ``execution_id`` pending on ``token`` with ``value``; the updated execution view.
        Never retried (a repeat would be refused with 409)."""
        return dict(self._send(_Api.resume(execution_id, token, value)))

    def events(self, execution_id: str, last_event_id: int | str | None = None, *, reconnects: int = 5,
               read_timeout: float = READ_TIMEOUT) -> Iterator[StreamMessage]:
        """Follow an execution live: its events (each once, in ``seq`` order, after ``last_event_id``), ``status``
        messages, and ``end`` when it finishes. A dropped connection is re-opened with ``Last-Event-ID``;
        ``reconnects`` failed attempts in a row raise ``RemoteConnectionError``."""
        return follow(self, _Api.events(execution_id), last_event_id, reconnects, read_timeout)

    def close(self) -> None:
        """Close the client's HTTP connections (also done by leaving a ``with Client(...)`` block)."""
        self._repeatable.close()
        if self._once is not self._repeatable:
            self._once.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """The same calls as :class:`Client`, awaitable (``httpx.AsyncClient`` underneath)."""

    def __init__(self, base_url: str, *, timeout: float | httpx.Timeout = 30.0, token: str | None = None,
                 retries: int = 0, transport: httpx.AsyncBaseTransport | None = None,
                 max_answer_bytes: int | None = None) -> None:
        super().__init__(base_url, timeout=timeout, token=token, retries=retries, max_answer_bytes=max_answer_bytes)

        def client(retrying: bool) -> httpx.AsyncClient:
            chosen = transport or httpx.AsyncHTTPTransport(retries=retries if retrying else 0)
            return httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout, headers=self._headers,
                                     transport=chosen)

        self._repeatable = client(True)
        self._once = client(False) if retries and transport is None else self._repeatable

    async def _send(self, call: _Call) -> Any:
        http = self._repeatable if call.repeatable else self._once
        content = _json_content(call.json)
        retry = 0
        while True:
            try:
                if self.max_answer_bytes is None:
                    response = await http.request(call.method, call.path, params=call.params, **content)
                else:
                    response = await asend_capped(http, call.method, call.path, self._url(call),
                                                  self.max_answer_bytes, params=call.params, **content)
            except httpx.HTTPError as exc:
                retry += 1
                delay = self._dropped_retry(call, exc, retry)
                if delay is None:
                    raise self._unreachable(call, exc, retry - 1) from exc
                await asyncio.sleep(delay)
                continue
            retry += 1
            delay = self._stopped_retry(call, response, retry)
            if delay is None:
                return self._answer(call, response)
            await asyncio.sleep(delay)

    async def health(self) -> dict[str, Any]:
        return dict(await self._send(_Api.health()))

    async def contracts(self) -> list[dict[str, Any]]:
        return list((await self._send(_Api.contracts()))["contracts"])

    async def contract(self, name: str, format: str | None = None) -> Any:
        return await self._send(_Api.contract(name, format))

    async def execute(self, name: str, inputs: Mapping[str, Any] | None = None, *, callback_url: str | None = None,
                      callback_token: str | None = None) -> dict[str, Any]:
        return dict(await self._send(_Api.execute(name, inputs, callback_url, callback_token)))

    async def deliver_event(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any = None,
                            idempotency_key: str | None = None) -> dict[str, Any]:
        return dict(await self._send(_Api.deliver_event(name, event, correlation, payload, idempotency_key)))

    async def dry_run_event(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any = None,
                            idempotency_key: str | None = None) -> dict[str, Any]:
        return dict(await self._send(_Api.dry_run_event(name, event, correlation, payload, idempotency_key)))

    async def status(self, execution_id: str) -> dict[str, Any]:
        return dict(await self._send(_Api.status(execution_id)))

    async def executions(self, graph: str | None = None, status: str | None = None, *, limit: int | None = None,
                         cursor: str | None = None, offset: int | None = None, total: bool = False) -> dict[str, Any]:
        return dict(await self._send(_Api.executions(graph, status, limit, offset, cursor, total)))

    async def iter_executions(self, graph: str | None = None, status: str | None = None, *,
                              limit: int = 1000) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = await self.executions(graph, status, limit=limit, cursor=cursor)
            for row in page["executions"]:
                yield row
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def history(self, execution_id: str) -> list[dict[str, Any]]:
        versions: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self._send(_Api.history(execution_id, cursor=cursor))
            versions.extend(page["versions"])
            cursor = page.get("next_cursor")
            if not cursor:
                return versions

    async def record(self, execution_id: str) -> dict[str, Any]:
        return _record(execution_id, await self._send(_Api.history(execution_id, latest=True)))

    async def resume(self, execution_id: str, token: str, value: Any = None) -> dict[str, Any]:
        return dict(await self._send(_Api.resume(execution_id, token, value)))

    def events(self, execution_id: str, last_event_id: int | str | None = None, *, reconnects: int = 5,
               read_timeout: float = READ_TIMEOUT) -> AsyncIterator[StreamMessage]:
        """:meth:`Client.events` as an async iterator (``async for message in client.events(...)``)."""
        return afollow(self, _Api.events(execution_id), last_event_id, reconnects, read_timeout)

    async def aclose(self) -> None:
        """Close the client's HTTP connections (also ``close``, and done by leaving an ``async with`` block)."""
        await self._repeatable.aclose()
        if self._once is not self._repeatable:
            await self._once.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


__all__ = ["AsyncClient", "Client", "RemoteConnectionError", "RemoteError", "StreamMessage"]
