"""What both HTTP clients share: the API calls they send, and how an answer, a failure or a retry is read.

``_Api`` builds each request (``_Call``); ``_ClientBase`` checks the client's settings and turns an httpx answer or
exception into the result, ``RemoteError`` or ``RemoteConnectionError``, and says when a call may be retried.
``client.py`` holds the two clients (``Client``, ``AsyncClient``) that send them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from igniter_nb.runtime.strict_json import NotJSONNumber, finite_float, refuse_constant
from igniter_nb.server.answer_size import DEFAULT_MAX_ANSWER_BYTES, check_limit
from igniter_nb.server.error_pages import said
from igniter_nb.server.errors import RemoteConnectionError, RemoteError, UnroutableExecutionIdError, shown_url
from igniter_nb.server.stopping_retry import FIRST_DELAY, MAX_BACKOFF, retry_delay, retry_later
from igniter_nb.server.total_timeout import check_timeout, check_total_timeout, left
from igniter_nb.settings import redact_url
from igniter_nb.stores.paging import check_history_page

_CONTEXT_FROM_BODY = ("graph", "node", "path", "execution_id")
_MAX_CURSOR = 10**15  # the history route's cursor: at most 15 digits
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


#: The media type of the answer to ``contract(name, format=...)`` for the formats that are text, not JSON.
_PICTURE_MEDIA = {"svg": "image/svg+xml", "mermaid": "text/plain"}


def _media_type(response: httpx.Response) -> str:
    """The answer's ``Content-Type`` without its parameters, lower-case (``""`` without one)."""
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class _Call:
    """One API call: what to send, and whether a connection failure may be retried."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    repeatable: bool = True
    media: str | None = None  # the answer is text of this media type (SVG, Mermaid), not JSON


def _segment(value: Any, what: str) -> str:
    """One URL path segment, percent-encoded (``/``, ``%``, spaces and unicode included). ``.`` and ``..`` are
    encoded too: as they are, the URL would be normalised to another route (``/v1/contracts/../execute`` is
    ``/v1/execute``)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty str, got {value!r:.80}")
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def without_credentials(url: str | httpx.URL) -> tuple[httpx.URL, httpx.BasicAuth | None]:
    """``url`` without its user part, and that user part as the ``auth=`` to send instead (None: it has none).

    Given the URL ``http://user:pw@host``, httpx sends ``Authorization: Basic`` of the user and password it decodes
    from it (``%40`` as ``@``, ``%20`` as a space, UTF-8; an unencoded ``@`` belongs to the password up to the last
    one) — and logs the whole URL, password included, at INFO (``HTTP Request: GET http://user:pw@host/...``).
    Given this URL and ``auth=``, it sends the same header, from the same decoded user and password, and logs the URL
    without them. As httpx does, a user part with neither a user nor a password sends nothing; and, as before, the
    URL's credentials replace an ``Authorization`` header the request has (a client's bearer token)."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return parsed, None
    user, password = parsed.username, parsed.password
    return parsed.copy_with(userinfo=b""), httpx.BasicAuth(user, password) if user or password else None


def _execution_segment(value: Any) -> str:
    """An execution id as a URL path segment. An id that cannot be one is refused here
    (``UnroutableExecutionIdError``; no execution id is one: letters, digits, ``_ . : -``): one holding ``/`` —
    the server decodes ``%2F`` before routing, so ``eid/history`` would reach another route, that execution's
    history, or its live stream where a status was asked for — and ``.``/``..``, dot segments a proxy that decodes
    ``%2E`` resolves to another route. ``?``, ``#`` and ``%`` are encoded and reach the id's own route."""
    if isinstance(value, str) and "/" in value:
        raise UnroutableExecutionIdError(f"execution id {value[:80]!r} holds '/', which no execution id does "
                                         "(letters, digits, '_', '.', ':' or '-'); sent, it would reach another "
                                         "route of the server")
    if value in (".", ".."):
        raise UnroutableExecutionIdError(f"execution id {value!r} is a dot segment, which no execution id is (it "
                                         "starts with a letter or digit); sent, a proxy could resolve it to another "
                                         "route of the server")
    return _segment(value, "execution id")


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
                     media=_PICTURE_MEDIA.get(format or "json"))

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
        return _Call("GET", f"/v1/executions/{_execution_segment(execution_id)}")

    @staticmethod
    def resume(execution_id: str, token: str, value: Any) -> _Call:
        if not isinstance(token, str) or not token:
            raise ValueError(f"token must be a non-empty str, got {token!r:.80}")
        return _Call("POST", f"/v1/executions/{_execution_segment(execution_id)}/resume",
                     json={"token": token, "value": value}, repeatable=False)

    @staticmethod
    def events(execution_id: str) -> _Call:
        return _Call("GET", f"/v1/executions/{_execution_segment(execution_id)}/events")

    @staticmethod
    def history(execution_id: str, latest: bool = False, cursor: str | None = None) -> _Call:
        params = {"latest": "true"} if latest else {"cursor": cursor} if cursor is not None else {}
        return _Call("GET", f"/v1/executions/{_execution_segment(execution_id)}/history", params)

    @staticmethod
    def history_page(execution_id: str, after_version: Any, limit: Any) -> _Call:
        """One page of the history route, its arguments checked as a store's ``history_page`` checks them. Past any
        version the route's cursor can name (15 digits), the latest version instead (:func:`_history_page` reads it)."""
        check_history_page(after_version, 1 if limit is None else limit)  # (no limit: the server's page)
        if after_version >= _MAX_CURSOR:
            return _Api.history(execution_id, latest=True)
        call = _Api.history(execution_id, cursor=str(after_version))
        return call if limit is None else replace(call, params={**call.params, "limit": limit})

    @staticmethod
    def executions(graph: str | None, status: str | None, limit: int | None, offset: int | None,
                   cursor: str | None = None, total: bool = False) -> _Call:
        params: dict[str, Any] = {k: v for k, v in (("graph", graph), ("status", status), ("limit", limit),
                                                    ("offset", offset), ("cursor", cursor)) if v is not None}
        if total:
            params["total"] = "true"
        return _Call("GET", "/v1/executions", params)


def read_json(text: str | bytes) -> Any:
    """``text`` read as JSON; ``ValueError`` saying why not (``"not JSON (...)"``, ``"JSON nested too deeply to
    read"``): the decoder raises ``RecursionError`` for nesting deeper than it can read, which no answer the server
    sends has (a server's answers, error bodies and stream messages are read through here). ``NaN``, ``Infinity``
    and a number too large for a float (``1e999``), which ``json`` reads as floats, are refused as the server
    refuses them in a request: the server never writes one (it sends a non-finite float as the text ``"NaN"``), so
    one comes from something else answering in its place, and taken as a value (a remote node's outputs) it is one
    no real remote execution could give."""
    try:
        return json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None
    except NotJSONNumber as exc:
        raise ValueError(f"not JSON ({exc})") from None
    except ValueError as exc:  # (JSONDecodeError, or an integer of more digits than Python converts)
        raise ValueError(f"not JSON ({' '.join(str(exc).split())[:120]})") from None


def _maybe_applied(call: _Call) -> str:
    """What to add to the error of a call whose connection was lost after the request went out: a change the server
    may have applied, and what to do instead of repeating it when a repeat is not safe (nothing for a GET)."""
    if call.method == "GET":
        return ""
    told = "; the request was sent: the server may have applied it"
    if call.repeatable:
        return told
    return f"{told} ({_CHECK_FIRST.get(call.path.rsplit('/', 1)[-1], 'check before repeating')})"


def _history_page(call: _Call, answer: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
    """The answer to :meth:`_Api.history_page`'s ``call``: the server's page, or — when the call read the latest
    version, as it does past any version the route can name — an empty last page (the read answered 404 for an
    execution the server does not have)."""
    if "latest" not in call.params:
        return dict(answer)
    return {"execution_id": answer["execution_id"], "versions": [], "limit": limit, "next_cursor": None}


def _record(execution_id: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    [latest] = answer["versions"]
    snapshot = latest["snapshot"]
    workflow = snapshot.get("workflow") if isinstance(snapshot.get("workflow"), Mapping) else {}
    return {"execution_id": execution_id, "graph": snapshot.get("graph"), "status": latest["status"],
            "correlation": (workflow or {}).get("correlation") or None, "version": latest["version"],
            "updated_at": latest["updated_at"], "snapshot": snapshot}


#: The smaller pages ``history`` asks for, in turn, when a page is larger than ``max_answer_bytes``.
HISTORY_FALLBACK_PAGES = (25, 5, 1)


def check_base_url(base_url: Any) -> None:
    """A ``ValueError`` naming ``base_url`` (its password hidden) unless it is an http(s) URL with a host and, if
    given, a port httpx can use: a bad port or bracket was httpx's ``InvalidURL`` or ``urllib``'s bare "Invalid
    IPv6 URL", and a port past 65535 was taken and failed at the first call; and without a query string, after
    which httpx would append each route's path (``/igniter?x=1v1/health``)."""
    if not isinstance(base_url, str):
        raise ValueError(f"base_url must be an http:// or https:// URL, got {base_url!r:.200}")
    why = ""
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 (reading it checks it: not a number, or past 65535)
        httpx.URL(base_url)
    except ValueError as exc:  # (httpx.InvalidURL is a ValueError too)
        parts, why = None, f" ({redact_url(base_url, str(exc))[:200]})"
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http:// or https:// URL with a host and a valid port, got "
                         f"{shown_url(base_url)!r:.200}{why}")
    if b"?" in httpx.URL(base_url).raw_path:  # (a trailing "?" alone too: httpx keeps it in the path it joins)
        raise ValueError(f"base_url must not hold a query string ({shown_url(base_url)!r:.200}): the client appends "
                         "each route's path to the base URL, and after a query it would be part of the query — every "
                         "call would reach another route; give the server's address alone (a token as token=)")


class _ClientBase:
    def __init__(self, base_url: str, *, timeout: float | httpx.Timeout, token: str | None, retries: int,
                 max_answer_bytes: int | None = DEFAULT_MAX_ANSWER_BYTES, total_timeout: float | None = None) -> None:
        check_base_url(base_url)
        if type(retries) is not int or retries < 0:
            raise ValueError(f"retries must be an int >= 0, got {retries!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = check_timeout(timeout)
        self.total_timeout = check_total_timeout(total_timeout, self.timeout)
        self.retries = retries
        self.max_answer_bytes = check_limit(max_answer_bytes)
        self._token = token
        self._headers: dict[bytes, bytes] = {b"Accept": b"application/json"}
        if token is not None:
            self._headers[b"Authorization"] = f"Bearer {token}".encode()  # UTF-8 bytes: any token text travels

    def _url(self, call: _Call) -> str:
        """Where ``call`` goes, as messages and errors show it (a password in the base URL as ``***``)."""
        return f"{shown_url(self.base_url)}{call.path}"

    def _unreachable(self, call: _Call, exc: httpx.HTTPError, retried: int = 0,
                     late: bool = False) -> RemoteConnectionError:
        """The error of ``call`` failing with ``exc`` after ``retried`` retries; ``late``: at its ``total_timeout``."""
        url = self._url(call)
        kind = type(exc).__name__
        sent = isinstance(exc, _AFTER_SENDING)
        if late and isinstance(exc, httpx.TimeoutException):
            return self._too_late(call, sent, retried)
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

    def _too_late(self, call: _Call, sent: bool, retried: int = 0) -> RemoteConnectionError:
        """The error of ``call`` cut off at its ``total_timeout`` (``sent``: the request had gone out)."""
        url = self._url(call)
        applied = _maybe_applied(call) if sent else ""
        if retried:
            applied = f" (after {retried} {'retry' if retried == 1 else 'retries'}){applied}"
        return RemoteConnectionError(f"{call.method} {url} did not complete within total_timeout="
                                     f"{self.total_timeout:g}s{applied}", url=url, timeout=True, sent=sent,
                                     method=call.method, total_timeout=self.total_timeout)

    @staticmethod
    def _in_time(delay: float | None) -> float | None:
        """``delay`` before a retry, or None when the call's ``total_timeout`` would pass first (no retry then)."""
        remaining = left()
        return None if delay is None or (remaining is not None and remaining <= delay) else delay

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
        not answer (503 ``StoreUnavailable``) or without a thread for it (503 ``ServerBusy``), ``retries`` times;
        else None."""
        if not call.repeatable or retry > self.retries or not retry_later(response):
            return None
        return retry_delay(response, retry)

    def _answer(self, call: _Call, response: httpx.Response) -> Any:
        if response.is_success:
            if call.media is not None:
                media = _media_type(response)
                if media != call.media:  # a proxy's page, or a server that ignores ?format=, is not the picture
                    raise self._not_a_page(call, response.text, f"answered {media or 'no content type'}, not "
                                           f"{call.media} (format={call.params.get('format')!r})")
                return response.text
            try:
                answer = read_json(response.content)
            except ValueError as exc:
                raise self._failure(call, response, f"the answer is {exc}") from None
            if not isinstance(answer, dict):  # every route answers an object; dict(...) of it raised TypeError
                raise self._not_a_page(call, answer, f"answered JSON that is not an object: "
                                       f"{response.text[:80]!r}")
            return answer
        raise self._failure(call, response)

    def _page(self, call: _Call, answer: Any, key: str) -> dict[str, Any]:
        """``answer`` to a paged route (``key``: ``"executions"`` or ``"versions"``) checked as a page: an object with a
        list under ``key`` and a ``next_cursor`` that is null or text moving past the cursor asked for (a history's:
        a larger version number). A server, or a cache in front that ignores the query string, answering the same
        page with the same ``next_cursor`` kept every paging loop (``history``, ``iter_executions``, a
        ``ServiceStore``) asking for ever; it is a ``RemoteError`` (``status_code`` 200) instead."""
        if not isinstance(answer, Mapping) or not isinstance(answer.get(key), list):
            got = type(answer).__name__ if not isinstance(answer, Mapping) else f"an object without a {key!r} list"
            raise self._not_a_page(call, answer, f"answered something that is not a page of {key} ({got})")
        given, asked = answer.get("next_cursor"), call.params.get("cursor")
        if given is None:
            return dict(answer)
        if not isinstance(given, str) or not given or (key == "versions" and not (given.isascii() and given.isdigit())):
            raise self._not_a_page(call, answer, f"answered a next_cursor that is not a cursor: {given!r:.80}")
        if asked is not None and (given == str(asked) or (key == "versions" and int(given) <= int(asked))):
            raise self._not_a_page(call, answer, f"answered next_cursor {given[:80]!r} for the page after cursor "
                                   f"{str(asked)[:80]!r}: paging would never end (a cache in front that ignores the "
                                   "query string?)")
        return dict(answer)

    def _listed(self, call: _Call, answer: Any, key: str) -> list[Any]:
        """The list under ``key`` of ``answer`` (``contracts``), else a ``RemoteError``."""
        found = answer.get(key) if isinstance(answer, Mapping) else None
        if not isinstance(found, list):
            raise self._not_a_page(call, answer, f"answered an object without a {key!r} list")
        return found

    def _latest(self, call: _Call, execution_id: str, answer: Any) -> dict[str, Any]:
        """``_record`` of the ``latest=true`` history ``answer``: exactly one version, an object with a snapshot."""
        versions = self._page(call, answer, "versions")["versions"]
        if len(versions) != 1 or not isinstance(versions[0], Mapping) or not isinstance(
                versions[0].get("snapshot"), Mapping):
            raise self._not_a_page(call, answer, f"answered {len(versions)} versions, not the latest one with its "
                                   "snapshot")
        return _record(execution_id, answer)

    def _not_a_page(self, call: _Call, answer: Any, problem: str) -> RemoteError:
        url = self._url(call)
        return RemoteError(f"HTTP 200 from {call.method} {url}: {problem}", status_code=200, body=answer,
                           server_message=problem, url=url, method=call.method)

    def _failure(self, call: _Call, response: httpx.Response, problem: str | None = None) -> RemoteError:
        url = self._url(call)
        try:
            body: Any = read_json(response.content)
        except ValueError:
            body = response.text
        server_message = body.get("error") if isinstance(body, dict) else None
        if not isinstance(server_message, str):  # not our error body: a proxy's HTML page, text, a problem document
            server_message = problem or said(body, _media_type(response)) or response.reason_phrase
        if response.has_redirect_location:  # never followed (httpx's default, kept): a request goes to base_url only
            try:
                target = str(response.request.url.join(response.headers["location"]))
            except ValueError:  # (httpx.InvalidURL: a Location that is no URL, shown as it came)
                target = response.headers["location"]
            target = shown_url(target)[:300]
            server_message = (f"a redirect to {target}, which is not followed: a request (its token, its body) goes "
                              "only to the client's base_url; give the client that address if the server moved")
        context = {k: body.get(k) for k in _CONTEXT_FROM_BODY} if isinstance(body, dict) else {}
        error_type = body.get("type") if isinstance(body, dict) else None
        return RemoteError(f"HTTP {response.status_code} from {call.method} {url}: {server_message}",
                           status_code=response.status_code, body=body, server_message=server_message,
                           error_type=error_type if isinstance(error_type, str) else None, url=url,
                           method=call.method, context=context)
