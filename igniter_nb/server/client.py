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
ServerStopping`` (it cut the request off while shutting down), ``503 StoreUnavailable`` (its store did not
answer) and ``503 ServerBusy`` (it could not start a thread for the request): ``stopping_retry.py``. ``execute`` and ``resume``
are never retried: a repeat could start a second execution, or be refused. Both clients return the server's JSON
as plain dicts (shapes in ``/openapi.json``). Each call has an overall deadline, ``total_timeout``
(``total_timeout.py``): a timeout there is never retried either.

The requests both clients send, and how their answers, failures and retries are read, are in ``client_base.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx

from igniter_nb.server.answer_size import DEFAULT_MAX_ANSWER_BYTES, asend_capped, send_capped
from igniter_nb.server.client_base import _AFTER_SENDING as _AFTER_SENDING
from igniter_nb.server.client_base import _CHECK_FIRST as _CHECK_FIRST
from igniter_nb.server.client_base import _CONTEXT_FROM_BODY as _CONTEXT_FROM_BODY
from igniter_nb.server.client_base import _DROPPED as _DROPPED
from igniter_nb.server.client_base import HISTORY_FALLBACK_PAGES, without_credentials
from igniter_nb.server.client_base import _Api as _Api
from igniter_nb.server.client_base import _Call as _Call
from igniter_nb.server.client_base import _ClientBase as _ClientBase
from igniter_nb.server.client_base import _history_page as _history_page
from igniter_nb.server.client_base import _maybe_applied as _maybe_applied
from igniter_nb.server.client_base import _record as _record
from igniter_nb.server.client_base import _segment as _segment
from igniter_nb.server.errors import AnswerTooLargeError, RemoteConnectionError, RemoteError, shown_url
from igniter_nb.server.follow import READ_TIMEOUT, StreamMessage, afollow, follow
from igniter_nb.server.request_json import json_content as _json_content
from igniter_nb.server.total_timeout import awithin, bounded_transport, passed, within


def _history_call(execution_id: str, cursor: str | None, limit: int | None) -> _Call:
    call = _Api.history(execution_id, cursor=cursor)
    return call if limit is None else replace(call, params={**call.params, "limit": limit})


class Client(_ClientBase):
    """A blocking client. ``timeout`` (seconds, or an ``httpx.Timeout``) bounds connecting and each read;
    ``total_timeout`` (seconds; None: 3 × the timeout) bounds each call in all, however the answer trickles in;
    ``retries`` connection attempts, and retries of a ``503 ServerStopping``, are added for calls safe to repeat;
    ``token`` is sent as a bearer token;
    ``max_answer_bytes``: an answer larger than this raises ``AnswerTooLargeError`` (64 MiB unless set; None: no
    limit; ``history`` reads a page larger than it in smaller pages);
    ``transport`` replaces httpx's network transport (tests)."""

    def __init__(self, base_url: str, *, timeout: float | httpx.Timeout = 30.0, token: str | None = None,
                 retries: int = 0, transport: httpx.BaseTransport | None = None,
                 max_answer_bytes: int | None = DEFAULT_MAX_ANSWER_BYTES, total_timeout: float | None = None) -> None:
        super().__init__(base_url, timeout=timeout, token=token, retries=retries, max_answer_bytes=max_answer_bytes,
                         total_timeout=total_timeout)

        url, auth = without_credentials(self.base_url)  # (httpx logs each request's URL: the password goes apart)

        def client(retrying: bool) -> httpx.Client:
            chosen = transport or httpx.HTTPTransport(retries=retries if retrying else 0)
            if isinstance(chosen, httpx.HTTPTransport):
                bounded_transport(chosen, self.total_timeout, shown_url(self.base_url))  # each wait cut to it
            return httpx.Client(base_url=url, auth=auth, timeout=self.timeout, headers=self._headers,
                                transport=chosen)

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
                           max_answer_bytes=self.max_answer_bytes, total_timeout=self.total_timeout)

    def _send(self, call: _Call) -> Any:
        http = self._repeatable if call.repeatable else self._once
        content = _json_content(call.json)
        retry = 0
        with within(self.total_timeout):
            while True:
                try:
                    if self.max_answer_bytes is None:
                        response = http.request(call.method, call.path, params=call.params, **content)
                    else:
                        response = send_capped(http, call.method, call.path, self._url(call), self.max_answer_bytes,
                                               params=call.params, **content)
                except httpx.HTTPError as exc:
                    retry += 1
                    delay = self._in_time(self._dropped_retry(call, exc, retry))
                    if delay is None:
                        raise self._unreachable(call, exc, retry - 1, late=passed()) from exc
                    time.sleep(delay)
                    continue
                retry += 1
                delay = self._in_time(self._stopped_retry(call, response, retry))
                if delay is None:
                    return self._answer(call, response)
                time.sleep(delay)

    def health(self) -> dict[str, Any]:
        """``{status, version, contracts, store}``."""
        return dict(self._send(_Api.health()))

    def contracts(self) -> list[dict[str, Any]]:
        """The served contracts: ``[{name, graph, inputs, outputs, correlation_keys, events}]``."""
        call = _Api.contracts()
        return list(self._listed(call, self._send(call), "contracts"))

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
        call = _Api.executions(graph, status, limit, offset, cursor, total)
        return self._page(call, self._send(call), "executions")

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
        smaller = iter(HISTORY_FALLBACK_PAGES)
        limit: int | None = None
        while True:
            call = _history_call(execution_id, cursor, limit)
            try:
                page = self._page(call, self._send(call), "versions")
            except AnswerTooLargeError:
                limit = next(smaller, None)  # a page past max_answer_bytes: the same versions in smaller pages
                if limit is None:
                    raise
                continue
            versions.extend(page["versions"])
            cursor = page.get("next_cursor")
            if not cursor:
                return versions

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int | None = None) -> dict[str, Any]:
        """One page of an execution's history: the versions after ``after_version``, oldest first, at most ``limit``
        (None: the server's ``max_history_versions``), as the route answers it: ``{execution_id, versions: [{version,
        status, updated_at, snapshot}], limit, next_cursor}``. ``next_cursor`` is the page's last version as text
        (``after_version=int(next_cursor)`` reads the next page), None on the last page; past the last version the
        page is empty. Arguments are checked as a store's ``history_page`` checks them (``StoreArgumentError``); a
        ``limit`` past the server's ``max_history_versions`` is its 422 (``RemoteError``, ``body["limit"]`` its
        largest). Retried as ``history`` is."""
        call = _Api.history_page(execution_id, after_version, limit)
        return _history_page(call, self._page(call, self._send(call), "versions"), limit)

    def record(self, execution_id: str) -> dict[str, Any]:
        """The latest stored version of an execution, as a store's ``record`` holds it: ``{execution_id, graph,
        status, correlation, version, updated_at, snapshot}`` (what store-reading tools need, over HTTP)."""
        call = _Api.history(execution_id, latest=True)
        return self._latest(call, execution_id, self._send(call))

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
                 max_answer_bytes: int | None = DEFAULT_MAX_ANSWER_BYTES, total_timeout: float | None = None) -> None:
        super().__init__(base_url, timeout=timeout, token=token, retries=retries, max_answer_bytes=max_answer_bytes,
                         total_timeout=total_timeout)

        url, auth = without_credentials(self.base_url)

        def client(retrying: bool) -> httpx.AsyncClient:
            chosen = transport or httpx.AsyncHTTPTransport(retries=retries if retrying else 0)
            return httpx.AsyncClient(base_url=url, auth=auth, timeout=self.timeout, headers=self._headers,
                                     transport=chosen)

        self._repeatable = client(True)
        self._once = client(False) if retries and transport is None else self._repeatable

    async def _send(self, call: _Call) -> Any:
        retries = [0]
        try:
            with within(self.total_timeout):
                async with awithin(self.total_timeout):
                    return await self._attempts(call, retries)
        except TimeoutError:  # asyncio.timeout cut the call off wherever it was: the request may have gone out
            raise self._too_late(call, True, retries[0]) from None  # (the attempt cut off was retry number retries[0])

    async def _attempts(self, call: _Call, retries: list[int]) -> Any:
        """``call`` sent until answered or failed for good; ``retries[0]`` counts the attempts made."""
        http = self._repeatable if call.repeatable else self._once
        content = _json_content(call.json)
        while True:
            try:
                if self.max_answer_bytes is None:
                    response = await http.request(call.method, call.path, params=call.params, **content)
                else:
                    response = await asend_capped(http, call.method, call.path, self._url(call),
                                                  self.max_answer_bytes, params=call.params, **content)
            except httpx.HTTPError as exc:
                retries[0] += 1
                delay = self._in_time(self._dropped_retry(call, exc, retries[0]))
                if delay is None:
                    raise self._unreachable(call, exc, retries[0] - 1, late=passed()) from exc
                await asyncio.sleep(delay)
                continue
            retries[0] += 1
            delay = self._in_time(self._stopped_retry(call, response, retries[0]))
            if delay is None:
                return self._answer(call, response)
            await asyncio.sleep(delay)

    async def health(self) -> dict[str, Any]:
        return dict(await self._send(_Api.health()))

    async def contracts(self) -> list[dict[str, Any]]:
        call = _Api.contracts()
        return list(self._listed(call, await self._send(call), "contracts"))

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
        call = _Api.executions(graph, status, limit, offset, cursor, total)
        return self._page(call, await self._send(call), "executions")

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
        smaller = iter(HISTORY_FALLBACK_PAGES)
        limit: int | None = None
        while True:
            call = _history_call(execution_id, cursor, limit)
            try:
                page = self._page(call, await self._send(call), "versions")
            except AnswerTooLargeError:
                limit = next(smaller, None)
                if limit is None:
                    raise
                continue
            versions.extend(page["versions"])
            cursor = page.get("next_cursor")
            if not cursor:
                return versions

    async def history_page(self, execution_id: str, *, after_version: int = 0,
                           limit: int | None = None) -> dict[str, Any]:
        """:meth:`Client.history_page`, awaitable."""
        call = _Api.history_page(execution_id, after_version, limit)
        return _history_page(call, self._page(call, await self._send(call), "versions"), limit)

    async def record(self, execution_id: str) -> dict[str, Any]:
        call = _Api.history(execution_id, latest=True)
        return self._latest(call, execution_id, await self._send(call))

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
