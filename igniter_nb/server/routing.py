"""How a request is read and how its failures are answered: the route class every server route uses.

``IgniterRoute`` reads JSON bodies strictly (``encoding.parse_json``) and turns every failure a client can cause
into the documented status with a JSON body ``{"error": message, "type": class name, ...context}``:

=====  ==========================================================================================
400    the body is not JSON (syntax, encoding, ``NaN``, a number too large, nesting too deep), or not
       sent as ``application/json``
401    missing or wrong bearer token
404    unknown contract, execution, or (on event delivery) no active workflow with that correlation
409    duplicate workflow, duplicate signal (and its subclasses), a compare-and-set lost after retries,
       a stored workflow that no longer fits the graph
408    body not complete within ``body_timeout`` seconds (a slow-loris body; the connection is closed)
413    body larger than the limit
422    anything else wrong with the request: input, payload, event, query parameter, body shape
503    the store did not answer (``StoreUnavailable``, ``Retry-After: 1``; ``outage.store_outage``) or failed for its
       own reasons (a ``StoreError`` no request caused: ``store_failure_response``); the process
       could not start a thread for the request (``ServerBusy``, ``Retry-After: 1``; ``busy_response``)
=====  ==========================================================================================

The mapping lives in the route (not only in app-level exception handlers), so it holds wherever the router
is mounted — inside another FastAPI app or a plain Starlette app.
"""

from __future__ import annotations

import hmac
import itertools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from igniter_nb import errors
from igniter_nb._error_text import short_path
from igniter_nb.errors import CONTEXT_SHOWN, MESSAGE_SHOWN, IgniterError
from igniter_nb.integrations.body_charset import charset_problem
from igniter_nb.server.encoding import BadJSON, json_bytes, json_safe, parse_json
from igniter_nb.server.errors import RequestProblem, UnknownContractError
from igniter_nb.server.limits import BodyTimedOut, BodyTooLarge
from igniter_nb.server.outage import store_outage

log = logging.getLogger("igniter_nb.server")

# Checked in order: the first class an error is an instance of decides (subclasses land with their base, so an
# ``IdempotencyConflictError`` — a ``DuplicateSignalError`` — is a 409 without being listed).
_STATUS_BY_ERROR: tuple[tuple[type[BaseException], int], ...] = tuple(
    (cls, status)
    for cls, status in (
        (UnknownContractError, 404),
        (errors.SnapshotNotFoundError, 404),
        (errors.WorkflowNotFoundError, 404),
        (errors.DuplicateSignalError, 409),
        (errors.DuplicateWorkflowError, 409),
        (errors.ConcurrencyError, 409),
        (getattr(errors, "GraphChangedError", None), 409),  # added by the graph-change work; 409 once it exists
    )
    if isinstance(cls, type)
)


def status_for(error: BaseException) -> int:
    """The HTTP status of an igniter_nb error raised while serving a request (422 unless listed above)."""
    if isinstance(error, RequestProblem):
        return error.status
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    if isinstance(error, errors.StoreError) and not isinstance(error, errors.StoreArgumentError):
        return 503  # (answered by store_failure_response, its message in the log only)
    return 422


class JSONAnswer(JSONResponse):
    """Every JSON answer of the server: Starlette's ``JSONResponse``, except that text holding an unpaired
    surrogate (stored by Python code: an HTTP request cannot bring one in) is sent ``\\u``-escaped instead of
    failing with a 500 (``encoding.json_bytes``)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def error_body(error: IgniterError) -> dict[str, Any]:
    """``{"error", "type", ...context}`` with every context value made JSON-safe."""
    return _body(error.message or type(error).__name__, type(error).__name__, error.context)


#: The most items of one list (or keys of one object) inside a context value an error body shows; the rest are
#: counted in a last item (``"… 9,990 more items left out"``).
ITEMS_SHOWN = 50
#: The most characters of one context value's JSON text in an error body: a value still longer once its texts and
#: lists are cut is sent as its JSON text, head and tail (``errors.MESSAGE_SHOWN``, the limit of the message).
VALUE_SHOWN = MESSAGE_SHOWN


def _body(message: str, kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
    # message and type first (a reader sees them first); context items never overwrite them
    body: dict[str, Any] = {"error": message, "type": kind}
    body.update((_shown_text(str(k)), shown_value(json_safe(v))) for k, v in context.items() if k not in body)
    return body


def shown_value(value: Any) -> Any:
    """A context value (JSON data) as an error body sends it: every text in it (object keys too) at most
    ``errors.CONTEXT_SHOWN`` characters, else its head and tail around how many characters were left out
    (``_error_text.short_path``, as an error's ``[graph=..., execution=...]`` suffix cuts an item); every list and
    object at most :data:`ITEMS_SHOWN` items, the rest counted; and the whole value's JSON text at most
    :data:`VALUE_SHOWN` characters, else that text cut head and tail. A 5 MB correlation value or input value an
    error kept in its context reaches the client cut, never whole (``err.context`` on the server keeps it)."""
    shown = _cut(value, 0)
    if isinstance(shown, dict | list):
        text = json_bytes(shown).decode()
        if len(text) > VALUE_SHOWN:
            return short_path(text, VALUE_SHOWN, escape=False)
    return shown


def _shown_text(text: str) -> str:
    return text if len(text) <= CONTEXT_SHOWN else short_path(text, CONTEXT_SHOWN, escape=False)


def _cut(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _shown_text(value)
    if depth > 32:  # (json_safe keeps at most its own depth; a deeper value is its text)
        return _shown_text(json_bytes(value).decode())
    if isinstance(value, dict):
        items = list(itertools.islice(value.items(), ITEMS_SHOWN))
        cut = {_shown_text(str(k)): _cut(v, depth + 1) for k, v in items}
        if len(value) > len(items):
            cut["…"] = f"{len(value) - len(items):,} more keys left out"
        return cut
    if isinstance(value, list):
        shown = [_cut(v, depth + 1) for v in value[:ITEMS_SHOWN]]
        if len(value) > ITEMS_SHOWN:
            shown.append(f"… {len(value) - ITEMS_SHOWN:,} more items left out")
        return shown
    return value


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None,
                   **context: Any) -> JSONResponse:
    return JSONAnswer(_body(message, kind, context), status_code=status, headers=headers)


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's request validation failure as our error body (a JSON syntax error is a 400, not a 422)."""
    problems = []
    for item in exc.errors():
        if item.get("type") == "json_invalid":  # FastAPI's own parser (used when our strict one is bypassed)
            detail = (item.get("ctx") or {}).get("error", "JSON decode error")
            return error_response(400, f"Invalid JSON: {detail}", "BadRequest")
        location = ".".join(str(p) for p in item.get("loc", ()))
        problems.append({"loc": location, "msg": str(item.get("msg", "")), "type": str(item.get("type", ""))})
    text = "; ".join(f"{p['loc']}: {p['msg']}" for p in problems[:10])
    return error_response(422, f"invalid request: {text}", "RequestValidationError", problems=problems)


def http_error_response(exc: HTTPException) -> JSONResponse:
    kind = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 408: "RequestTimeout",
            413: "ContentTooLarge"}.get(exc.status_code, "HTTPError")
    extra = {"limit": exc.limit} if isinstance(exc, BodyTooLarge) else exc.context() if isinstance(
        exc, BodyTimedOut) else {}
    return error_response(exc.status_code, str(exc.detail), kind, headers=dict(exc.headers or {}), **extra)


def failure_response(exc: IgniterError) -> JSONResponse:
    return JSONAnswer(error_body(exc), status_code=status_for(exc))


def outage_response(request: Request, exc: BaseException) -> JSONResponse | None:
    """503 ``StoreUnavailable`` when ``exc`` is (or was caused by) the store not answering; else None. The
    driver's message goes to the log only: it may name hosts, users and files."""
    outage = store_outage(exc)
    if outage is None:
        return store_failure_response(request, exc)
    log.error("the store did not answer %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(503, f"the store did not answer ({type(outage).__name__}; the server's log has the "
                          "details): retry later — a request that changes something may or may not have taken "
                          "effect, and an event with the same idempotency_key is applied at most once",
                          "StoreUnavailable", headers={"Retry-After": "1"})


#: Store errors a request causes: an unknown execution (404), a lost compare-and-set (409), a bad argument (422).
_CLIENT_STORE_ERRORS = (errors.SnapshotNotFoundError, errors.ConcurrencyError, errors.StoreArgumentError)


def store_failure_response(request: Request, exc: BaseException) -> JSONResponse | None:
    """503 ``StoreUnavailable`` when ``exc`` is a ``StoreError`` the store raised for its own reasons — a read-only
    store refusing a write, a file it finds damaged, a folder it cannot move, a full disk — which no change to the
    request would cure (it was a 422, "anything else wrong with the request"); else None. The store's message
    names its directory and files: it goes to the log only."""
    if not isinstance(exc, errors.StoreError) or isinstance(exc, _CLIENT_STORE_ERRORS):
        return None
    log.error("the store failed %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    return error_response(503, "the store could not carry out the request (StoreError; the server's log has the "
                          "details): retry later — a request that changes something may or may not have taken "
                          "effect, and an event with the same idempotency_key is applied at most once",
                          "StoreUnavailable", headers={"Retry-After": "1"})


#: What Python's ``Thread.start`` says when the OS refuses a new thread (a process or cgroup thread limit, no memory
#: left for its stack).
NO_THREAD = "can't start new thread"


def busy_response(request: Request, exc: BaseException) -> JSONResponse | None:
    """503 ``ServerBusy`` (``Retry-After: 1``) when ``exc`` is the OS refusing this process a new thread — the
    threadpool that runs a request's store and contract work starts one when none is idle (a worker's first
    requests, a burst), and a machine at its thread or memory limit refuses it: an overloaded server, not a bug
    (it was a 500). Else None."""
    if not (isinstance(exc, RuntimeError) and NO_THREAD in str(exc)):
        return None
    log.warning("could not start a thread for %s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "this server process could not start a thread for the request (it is at its thread "
                          "or memory limit): retry later — a request that changes something may or may not have "
                          "taken effect, and an event with the same idempotency_key is applied at most once",
                          "ServerBusy", headers={"Retry-After": "1"})


_JSON_TYPES = ("application/json",)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


#: The one ``Content-Encoding`` a body may name: none at all.
_IDENTITY = "identity"


def _body_headers_problem(request: Request) -> JSONResponse | None:
    """A 400 for a body the server cannot read as it is labelled, else None: a ``Content-Type`` that is not JSON or
    declares a charset other than UTF-8 (read as UTF-8 all the same, latin-1 text that is valid UTF-8 was stored as
    another text), or a ``Content-Type`` given more than once (which one a proxy in front read is not known); a 415
    for a ``Content-Encoding`` other than ``identity``, as the webhook endpoint answers it (the server reads bodies
    uncompressed: a gzip body was read as if plain and refused as "not UTF-8", and a plain body labelled ``br`` ran,
    while a proxy or logger in front that decodes what the label says saw another body)."""
    types = request.headers.getlist("content-type")
    if len(types) > 1:
        return error_response(400, f"header 'Content-Type' is given more than once ({len(types)} times): send it once",
                              "BadRequest", header="Content-Type", values=[v[:200] for v in types[:10]])
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        return error_response(400, f"send the body as JSON (Content-Type: application/json), not "
                              f"{content_type[:80]!r}", "BadRequest")
    charset = charset_problem(content_type)  # (the webhook endpoint's own check: one rule)
    if charset is not None:
        return error_response(400, charset[0], "BadRequest", charset=charset[1])
    codings = request.headers.getlist("content-encoding")  # (a list header: values sent apart count together)
    coding = ", ".join(codings)
    if codings and any(part.strip().lower() not in ("", _IDENTITY) for part in coding.split(",")):
        return error_response(415, f"the body is sent with Content-Encoding {coding[:80]!r}, which this server does "
                              "not decode: send it uncompressed", "UnsupportedMediaType",
                              headers={"Accept-Encoding": _IDENTITY}, content_encoding=coding[:80])
    return None


class StrictJSONRequest(Request):
    """A request whose ``json()`` refuses what is not strict JSON (see ``encoding.parse_json``) with a 400."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except BadJSON as exc:
                raise HTTPException(400, str(exc)) from None
        return self._json


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None."""
    scheme, _, given = (authorization or "").partition(" ")
    return (given.strip() or None) if scheme.lower() == "bearer" else None


def bearer_token_matches(authorization: str | None, expected: bytes) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <expected>``, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    # header values arrive decoded as latin-1: encoding back gives the bytes the client sent (UTF-8 for us)
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode("latin-1"), expected)


class IgniterRoute(APIRoute):
    """An ``APIRoute`` with strict JSON bodies and the error mapping above. With ``token`` set (a subclass per
    router, see ``app.py``) a request without ``Authorization: Bearer <token>`` gets its 401 before anything
    else happens — before its body is even read."""

    token: bytes | None = None
    #: A route that checks a bearer token of its own (a callback's capability) instead of the server's token:
    #: a request without any ``Authorization: Bearer ...`` gets its 401 before the body is read.
    own_bearer: bool = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None
        taken = _parameters(self)
        token = None if self.own_bearer else self.token
        own_bearer = self.own_bearer

        async def run(request: Request) -> Response:
            if token is not None and not bearer_token_matches(request.headers.get("authorization"), token):
                return error_response(401, "missing or wrong bearer token (send Authorization: Bearer <token>)",
                                      "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
            if own_bearer and not bearer_token(request.headers.get("authorization")):
                return error_response(401, "missing bearer token (send Authorization: Bearer <callback token>)",
                                      "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
            repeated = _repeated(request, *taken)
            if repeated is not None:
                return repeated
            try:
                if takes_body:
                    refused = _body_headers_problem(request)
                    if refused is not None:
                        return refused
                return await handler(StrictJSONRequest(request.scope, request.receive))
            except RequestValidationError as exc:
                return validation_response(exc)
            except HTTPException as exc:
                return http_error_response(exc)
            except IgniterError as exc:
                return outage_response(request, exc) or failure_response(exc)
            except errors.LookalikeCorrelationWarning as exc:  # warnings made errors (-W error): a refused start
                return JSONAnswer(_body(exc.message, type(exc).__name__, exc.context), status_code=409)
            except Exception as exc:
                answer = outage_response(request, exc) or busy_response(request, exc)
                if answer is None:
                    raise
                return answer

        return run


def _parameters(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters and headers ``route`` reads (their names as sent; headers lower-case)."""
    query: set[str] = set()
    headers: set[str] = set()
    pending = [route.dependant]
    while pending:  # the route's own parameters and its dependencies' (FastAPI's Dependant tree)
        dependant = pending.pop()
        query.update(field.alias for field in dependant.query_params)
        headers.update(field.alias.lower().replace("_", "-") for field in dependant.header_params)
        pending.extend(dependant.dependencies)
    return frozenset(query), frozenset(headers)


def _repeated(request: Request, query: frozenset[str], headers: frozenset[str]) -> JSONResponse | None:
    """A 422 for a query parameter or header the route reads that the request gives more than once (FastAPI reads
    the last query value and the first header, while a proxy, cache or access rule in front may have read another
    one: HTTP parameter pollution, refused as a JSON key repeated in a body is); else None."""
    if query and request.scope.get("query_string"):
        params = request.query_params
        for name in query:
            values = params.getlist(name)
            if len(values) > 1:
                return error_response(422, f"query parameter {name!r} is given more than once ({len(values)} "
                                      f"times): give it once", "RequestProblem", parameter=name,
                                      values=[v[:200] for v in values[:10]])
    for name in headers:
        values = request.headers.getlist(name)
        if len(values) > 1:
            shown = {"last-event-id": "Last-Event-ID"}.get(name, name)
            return error_response(422, f"header {shown!r} is given more than once ({len(values)} times): send it "
                                  "once", "RequestProblem", header=shown, values=[v[:200] for v in values[:10]])
    return None


__all__ = [
    "IgniterRoute",
    "JSONAnswer",
    "bearer_token",
    "bearer_token_matches",
    "busy_response",
    "RequestProblem",
    "error_body",
    "error_response",
    "failure_response",
    "http_error_response",
    "outage_response",
    "status_for",
    "store_failure_response",
    "validation_response",
]
