"""``create_app`` and ``create_router``: the HTTP API of PRODUCT §10 as a FastAPI application.

    app = ig.server.create_app({"lead": LeadWorkflow}, store="sqlite:///igniter.db", token="s3cret")

or, inside an application of your own (the router carries its own error mapping and token check)::

    parent.include_router(ig.server.create_router({"lead": LeadWorkflow}, store=store), prefix="/igniter")
    parent.add_middleware(ig.server.BodySizeLimit, max_body_bytes=1_000_000)

Every route that touches the store runs that work in the threadpool (``run_in_threadpool``), so blocking
store calls never stall the event loop — unless ``create_app(threads=0)`` asks for it to run on the event loop.
See ``docs/server.md`` for every route, status code and body. What ``/openapi.json`` lists each route may answer
besides 200 is ``responses.py``; the answers of the app's exception handlers are ``unmatched.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException

from igniter_nb import settings
from igniter_nb.server.callback_tokens import CallbackTokens
from igniter_nb.server.callbacks import CallbackReports
from igniter_nb.server.errors import RequestProblem
from igniter_nb.server.limits import BODY_TIMEOUT, BodySizeLimit, check_body_timeout
from igniter_nb.server.models import (
    ContractList,
    DeliveryPreviewView,
    EventRequest,
    ExecuteRequest,
    ExecutionDetail,
    ExecutionPage,
    ExecutionStatus,
    ExecutionView,
    Health,
    History,
    RemoteOutcome,
    ResumeRequest,
)
from igniter_nb.server.responses import (
    CALLBACK_ERRORS,
    E400,
    E401,
    E404,
    E413,
    E415,
    E422,
    GRAPH_CONTENT,
    POST_ERRORS,
    RESUME_ERRORS,
    SERVER_LIMITS,
    STREAM,
    Responses,
    e503,
    stream_503,
)
from igniter_nb.server.routing import IgniterRoute, JSONAnswer, bearer_token
from igniter_nb.server.served import ServedContracts
from igniter_nb.server.service import Answer, ContractService
from igniter_nb.server.stopped import StoppedRequests
from igniter_nb.server.stream import (
    IDLE_SECONDS,
    LAST_EVENT_ID,
    PING_SECONDS,
    SEND_TIMEOUT,
    ExecutionStream,
    opening,
    seen_everything,
)
from igniter_nb.server.unmatched import internal, unmatched

# A served SVG opened directly is a document of this origin. The renderers escape every name, so it holds no
# script; the policy keeps it that way should one ever slip through (inline styles, which it uses, stay allowed),
# and nosniff keeps a browser from reading the SVG or the Mermaid text as anything else.
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}
_PICTURE_HEADERS = {**_NOSNIFF, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def _resolve_store(store: Any) -> tuple[Any, bool]:
    """The store to serve from and whether the app owns it (made from a URL here, so closed with the app)."""
    if store is None:
        from igniter_nb.config import default_store

        return default_store(), False
    if isinstance(store, str):
        from igniter_nb.stores.url import from_url

        return from_url(store), True
    return store, False


async def on_event_loop(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``work(*args, **kwargs)`` on the event loop's own thread: what ``create_app(threads=0)`` runs store and
    contract work with instead of ``run_in_threadpool`` (no thread hand-off; the loop waits while it runs)."""
    return work(*args, **kwargs)


Offload = Callable[..., Any]  # run_in_threadpool or on_event_loop: awaitable(work, *args, **kwargs)


#: Live streams one app (one worker process) keeps open at once; past it, 503 (``create_app(max_streams=)``).
MAX_STREAMS = settings.DEFAULT_MAX_STREAMS
#: The most versions one ``GET /v1/executions/{id}/history`` answer holds (``create_app(max_history_versions=)``).
MAX_HISTORY_VERSIONS = 100


@dataclass(frozen=True, slots=True)
class _AnswerLimits:
    streams: int
    history_versions: int

    @classmethod
    def checked(cls, max_streams: int, max_history_versions: int) -> _AnswerLimits:
        from igniter_nb.server.stream_slots import check_max_streams

        if type(max_history_versions) is not int or not 1 <= max_history_versions <= 100_000:
            raise ValueError(f"max_history_versions must be an int from 1 to 100000, got {max_history_versions!r:.80}")
        return cls(check_max_streams(max_streams), max_history_versions)


def _check_idle(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 86_400:
        raise ValueError(f"stream_idle_seconds must be a number of seconds from 0 to 86400, got {seconds!r:.80}")
    return float(seconds)


def check_public_url(public_url: str | None) -> str | None:
    if public_url is None:
        return None
    if not settings.is_base_url(public_url):
        raise ValueError(f"public_url must be this server's http:// or https:// base URL, got {public_url!r:.200}")
    return public_url.rstrip("/")


def create_router(contracts: Any, *, store: Any = None, token: str | None = None, public_url: str | None = None,
                  callback_retries: int | None = None, stream_idle_seconds: float = IDLE_SECONDS,
                  max_streams: int | None = None, max_history_versions: int = MAX_HISTORY_VERSIONS,
                  legacy_callback_tokens: bool | None = None) -> APIRouter:
    """The API's routes as an ``APIRouter`` to include in an app of your own.

    ``contracts``: ``{name: ContractClass}``, a mapping (registry), a list of classes or one class. ``store``: a
    store object, a store URL, or None for the configured default store (``ig.configure`` /
    ``IGNITER_STORE_URL``) — the same store the rest of the process uses. ``token``: when given, every route
    requires ``Authorization: Bearer <token>``. ``public_url``, ``callback_retries``, ``stream_idle_seconds``,
    ``max_streams``, ``max_history_versions``, ``legacy_callback_tokens``: see :func:`create_app`. The body-size
    limit is a middleware (:class:`~igniter_nb.server.limits.BodySizeLimit`): ``create_app`` adds it; add it to your
    own app too. ``token=None``, ``public_url=None``, ``callback_retries=None`` and ``legacy_callback_tokens=None``
    read ``IGNITER_SERVER_TOKEN``, ``IGNITER_PUBLIC_URL``, ``IGNITER_CALLBACK_RETRIES`` and
    ``IGNITER_LEGACY_CALLBACK_TOKENS`` (docs/integrations.md, "Configuration").
    """
    settings.apply_log_level()
    token, public_url = settings.server_token(token), settings.public_url(public_url)
    callback_retries = settings.callback_retries(callback_retries)
    tokens = CallbackTokens.of(token, settings.legacy_callback_tokens(legacy_callback_tokens))
    service = ContractService(ServedContracts(contracts), _resolve_store(store)[0],
                              public_url=check_public_url(public_url), callback_tokens=tokens)
    return _router(service, token, CallbackReports(service.store, callback_retries), _check_idle(stream_idle_seconds),
                   _AnswerLimits.checked(settings.max_streams(max_streams), max_history_versions))


def _router(service: ContractService, token: str | None, reports: CallbackReports,
            stream_idle_seconds: float, limits: _AnswerLimits, offload: Offload = run_in_threadpool,
            stopping: bool = False) -> APIRouter:
    """The routes; ``stopping``: they will run inside ``StoppedRequests`` (``create_app``), so every one may answer
    503 ``ServerStopping`` and ``/openapi.json`` says so."""
    from igniter_nb.server.stream_slots import StreamSlots, stream_headers

    async def _blocking(work: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> Response:
        """Run ``work`` (it calls the store: blocking) with ``offload`` and answer its JSON-safe dict.

        One threadpool hop per request: a sync ``def`` route would take a second one to validate the response,
        and the dicts are JSON-safe by construction (``views``, ``encoding.json_safe``); the response models stay
        the documentation, and the schemathesis tests check that every answer matches them.
        """
        return JSONAnswer(await offload(work, *args, **kwargs))

    if token is not None and (not isinstance(token, str) or not token):
        raise ValueError("token must be a non-empty str (or None for no authentication)")
    if token is not None and not settings.token_sendable(token):
        # no client could ever send this token back, and every request would be a 401; the value is not shown
        raise ValueError("token must not start or end with whitespace nor hold control characters: no client could "
                         "send it back in an Authorization header (its value is not shown)")
    route_class: type[IgniterRoute] = IgniterRoute
    auth = []
    if token:  # the route checks the token; the dependency only puts the bearer scheme into /openapi.json
        expected = token.encode("utf-8")

        class TokenRoute(IgniterRoute):
            token = expected

        route_class = TokenRoute
        auth = [Depends(HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`"))]
    common: Responses = {**(E401 if token else {}), **(SERVER_LIMITS if stopping else {}), **e503(stopping)}
    router = APIRouter(route_class=route_class, dependencies=auth, responses=common, strict_content_type=False,
                       default_response_class=JSONAnswer)

    class CallbackRoute(route_class):  # type: ignore[misc, valid-type]
        own_bearer = True  # the callback token, not the server's: a remote server does not know the latter

    async def answering(work: Callable[..., Answer], *args: Any, **kwargs: Any) -> Response:
        """Run a change with ``offload``, answer its view, then send the callbacks it made due."""
        answer = await offload(work, *args, **kwargs)
        reports.send(answer)
        return JSONAnswer(answer.view)
    store_name = type(service.store).__name__
    streams = StreamSlots(limits.streams)
    contract_list = {"contracts": service.catalog}

    @router.get("/v1/health", response_model=Health, summary="Liveness and what this server serves")
    async def health() -> dict[str, Any]:
        from igniter_nb import __version__

        return {"status": "ok", "version": __version__, "contracts": service.contracts.names(), "store": store_name}

    @router.get("/v1/contracts", response_model=ContractList, summary="The served contracts")
    async def contracts() -> dict[str, Any]:
        return contract_list

    @router.get("/v1/contracts/{name}", summary="A contract's graph as JSON, SVG or Mermaid",
                responses={200: {"content": GRAPH_CONTENT}, **E404, **E422})
    async def contract_graph(name: str, format: Literal["json", "svg", "mermaid"] = "json") -> Response:
        graph = service.contracts.get(name).compiled_graph()
        if format == "svg":  # layout is CPU work (or a `dot` subprocess): off the event loop
            from igniter_nb.notebook.render import render_graph

            return Response(await run_in_threadpool(render_graph, graph), media_type="image/svg+xml",
                            headers=_PICTURE_HEADERS)
        if format == "mermaid":
            return Response(graph.to_mermaid(), media_type="text/plain; charset=utf-8", headers=_NOSNIFF)
        from igniter_nb.server.encoding import json_safe

        return JSONAnswer({"contract": name, **json_safe(graph.to_dict())})

    @router.post("/v1/contracts/{name}/execute", response_model=ExecutionView, responses=POST_ERRORS,
                 summary="Run a contract (start a workflow when it has correlation keys)")
    async def execute(name: str, body: ExecuteRequest | None = None) -> Response:
        callback = body.callback.model_dump() if body is not None and body.callback is not None else None
        return await answering(service.execute, name, body.inputs if body is not None else {}, callback)

    @router.post("/v1/contracts/{name}/events", response_model=ExecutionView, responses=POST_ERRORS,
                 summary="Deliver an awaited event to the active workflow with this correlation")
    async def deliver_event(name: str, body: EventRequest) -> Response:
        return await answering(service.deliver, name, event=body.event, correlation=body.correlation,
                               payload=body.payload, idempotency_key=body.idempotency_key)

    @router.post("/v1/contracts/{name}/events/dry-run", response_model=DeliveryPreviewView,
                 responses={**E400, **E404, **E413, **E415, **E422},
                 summary="Check an event delivery without making it: which workflow, what would recompute, what is wrong",
                 description="The checks of `POST /v1/contracts/{name}/events`, made read-only: nothing is written "
                             "and no node runs. Problems with the delivery (an event not awaited, a correlation no "
                             "active workflow has, a payload that fails the schema, a repeated signal) are listed in "
                             "`errors` with `ok: false` — the answer is still 200. See docs/server.md, \"Dry run\".")
    async def dry_run_event(name: str, body: EventRequest) -> Response:
        return await _blocking(service.dry_run, name, event=body.event, correlation=body.correlation,
                               payload=body.payload, idempotency_key=body.idempotency_key)

    @router.get("/v1/executions", response_model=ExecutionPage, responses=E422,
                summary="Stored executions, most recently updated first")
    async def executions(
        graph: Annotated[str | None, Query(max_length=200, description="Graph or served contract name")] = None,
        status: ExecutionStatus | Literal[""] | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(min_length=1, max_length=400, description=(
            "The `next_cursor` of the previous page: this page continues after it."))] = None,
        offset: Annotated[int, Query(ge=0, le=99_000, description=(
            "Skip this many executions first (reads offset + limit of them: prefer `cursor`)."))] = 0,
        total: Annotated[bool, Query(description="Also count every matching execution (`total`).")] = False,
    ) -> Response:
        # `?graph=&status=` (empty values) means no filter, as in the URL template of the docs
        return await _blocking(service.list, graph=graph or None, status=status or None, limit=limit, offset=offset,
                               cursor=cursor, total=total)

    @router.get("/v1/executions/{execution_id}", response_model=ExecutionDetail, responses=E404,
                summary="An execution's status, outputs, waits and diagnostics")
    async def execution(execution_id: str) -> Response:
        return await _blocking(service.read, execution_id)

    @router.get("/v1/executions/{execution_id}/history", response_model=History, responses={**E404, **E422},
                summary="Every stored version of an execution, oldest first (or only the latest)")
    async def history(
        execution_id: str,
        latest: Annotated[bool, Query(description="Only the latest stored version (what a store's record holds).")]
        = False,
        limit: Annotated[int | None, Query(ge=1, le=100_000, description=(
            "The most versions in this page: at most, and by default, the server's `max_history_versions` "
            "(100 unless set)."))] = None,
        cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,15}$", description=(
            "The `next_cursor` of the previous page: this page continues after it."))] = None,
    ) -> Response:
        if limit is not None and limit > limits.history_versions:
            raise RequestProblem(f"limit={limit} is more than this server's max_history_versions "
                                 f"({limits.history_versions}); page with cursor", limit=limits.history_versions)
        return await _blocking(service.history, execution_id, latest=latest, cursor=cursor,
                               limit=limit or limits.history_versions)

    @router.get("/v1/executions/{execution_id}/events", response_class=Response, responses={**STREAM, **E404,
                **E422, **stream_503(stopping)}, summary="Follow an execution live (server-sent events; resume with Last-Event-ID)")
    async def execution_events(
        execution_id: str,
        request: Request,
        last_event: Annotated[str | None, Header(alias="Last-Event-ID", pattern=LAST_EVENT_ID, description=(
            "The id of the last event received, as the stream sent it (`<seq>-<epoch>`, or a plain `<seq>`): the "
            "stream continues after it; an id of an execution since deleted and saved anew under the same id "
            "starts at its first event."))] = None,
    ) -> Response:
        # text, not an int: the id is echoed as the stream sent it, and "3.0", "+3" or "1_0" (which an int
        # parameter takes) name no event the stream ever sent
        record, last_event_id = await offload(opening, service.store, service.record_id(execution_id), last_event)
        if seen_everything(record, last_event_id):
            return Response(status_code=204)
        refusal = streams.refusal()  # every slot taken: 503 (for HEAD too: what GET would answer)
        if refusal is not None:
            return refusal
        if request.method == "HEAD":  # the headers only: the stream never opens, takes no slot
            return stream_headers()
        stream = ExecutionStream(service.store, record, last_event_id, idle_seconds=stream_idle_seconds)
        return streams.stream(stream.messages(), ping=PING_SECONDS, send_timeout=SEND_TIMEOUT)

    @router.post("/v1/executions/{execution_id}/resume", response_model=ExecutionView,
                 responses=RESUME_ERRORS, summary="Resume a pending node of a stored execution by its token")
    async def resume(execution_id: str, body: ResumeRequest) -> Response:
        return await answering(service.resume, execution_id, token=body.token, value=body.value)

    async def remote_callback(execution_id: str, body: RemoteOutcome, request: Request) -> Response:
        capability = bearer_token(request.headers.get("authorization")) or ""
        return await answering(service.remote_callback, execution_id, body.model_dump(), capability)

    router.add_api_route(
        "/v1/executions/{execution_id}/remote-callback", remote_callback, methods=["POST"],
        route_class_override=CallbackRoute, response_model=ExecutionView,
        responses=CALLBACK_ERRORS,
        summary="A remote server reports the execution a remote node of this one waits for",
        description="Authorized by the callback token this server gave with the call (`Authorization: Bearer "
                    "<callback token>`), not by the server's token. See docs/server.md, \"Remote nodes\".")
    _add_head_routes(router)
    return router


def _add_head_routes(router: APIRouter) -> None:
    """``HEAD`` for every ``GET`` route (RFC 9110 9.3.2): the same endpoint, token check and status, the body left
    out by the server. FastAPI's ``APIRoute`` does not add HEAD as Starlette's ``Route`` does (fastapi#1773), and
    ``methods=["GET", "HEAD"]`` would put a second operation per path into /openapi.json. So each is its own route,
    out of the schema, after every other route: a request the routes before it match (POST /events) never looks
    at them. The live stream answers HEAD with its headers and never opens (``stream_slots.stream_headers``)."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and route.methods == {"GET"}:
            router.add_api_route(route.path, route.endpoint, methods=["HEAD"], response_model=route.response_model,
                                 response_class=route.response_class, include_in_schema=False,
                                 name=f"{route.name}_head")


def create_app(
    contracts: Any,
    *,
    store: Any = None,
    token: str | None = None,
    max_body_bytes: int | None = None,
    cors_origins: Sequence[str] | None = None,
    public_url: str | None = None,
    callback_retries: int | None = None,
    stream_idle_seconds: float = IDLE_SECONDS,
    threads: int | None = None,
    max_streams: int | None = None,
    max_history_versions: int = MAX_HISTORY_VERSIONS,
    body_timeout: float = BODY_TIMEOUT,
    legacy_callback_tokens: bool | None = None,
) -> FastAPI:
    """A FastAPI app serving ``contracts`` (see :func:`create_router` for ``contracts``, ``store``, ``token``).

    ``max_body_bytes``: larger request bodies get 413 (counted as they arrive, chunked ones too).
    ``body_timeout``: a request body not complete this many seconds after the request came gets 408 (30).
    ``cors_origins``: origins allowed to call from a browser; CORS stays off unless given.
    ``public_url``: this server's base URL as other servers reach it (``http://host:port``); when set, remote
    nodes of the executions it runs ask the remote server to call back here when they finish.
    ``callback_retries``: retries of a callback this server sends (after the first attempt, with back-off; 5
    unless set).
    ``stream_idle_seconds``: a live stream with no new version for this long is closed (clients reconnect).
    ``max_streams``: live streams open at once in this process; past it a stream request gets 503.
    ``max_history_versions``: the most versions one history answer holds (``next_cursor`` pages on).
    ``legacy_callback_tokens``: whether the callback route still takes callback tokens without a tag (handed out
    before tags existed), judging them by the store; False refuses them before any store read (docs/server.md,
    "How the callback is secured"; it needs ``token``, else ``SettingsError``); True unless set
    (``IGNITER_LEGACY_CALLBACK_TOKENS``).
    ``threads``: how many threads of this process run store and contract work at once (Starlette's threadpool,
    40 when not set). Fewer threads, 1-2, shorten the slowest answers of contracts that only compute and use
    the store (Python runs one thread at a time, and a thread back from the database waits its turn behind the
    others); keep the default when nodes wait on the network (LLM calls, remote nodes): each waits on a thread.
    ``threads=0`` runs that work on the event loop's own thread: no hand-off to a worker thread (~0.1-0.3 ms of
    CPU per request), for contracts that only compute on a store that does not wait on a network (SQLite,
    memory); while one request's work runs, the process reads no other request and feeds no live stream, so a
    slow node (an LLM call, a remote node, PostgreSQL's round trips) holds up everything else this worker serves.

    Left at None, ``token``, ``max_body_bytes`` (1,000,000), ``cors_origins``, ``public_url``, ``threads``,
    ``callback_retries`` (5) and ``max_streams`` (100) come from ``IGNITER_SERVER_TOKEN``, ``IGNITER_MAX_BODY_BYTES``,
    ``IGNITER_CORS_ORIGINS``, ``IGNITER_PUBLIC_URL``, ``IGNITER_SERVER_THREADS``, ``IGNITER_CALLBACK_RETRIES`` and
    ``IGNITER_MAX_STREAMS`` when set (docs/integrations.md, "Configuration"); ``IGNITER_LOG_LEVEL`` sets the ``igniter_nb`` logger's level.
    """
    settings.apply_log_level()
    body_timeout = check_body_timeout(body_timeout)
    token, public_url = settings.server_token(token), settings.public_url(public_url)
    max_body_bytes, cors_origins = settings.max_body_bytes(max_body_bytes), settings.cors_origins(cors_origins)
    threads, callback_retries = settings.server_threads(threads), settings.callback_retries(callback_retries)
    offload: Offload = on_event_loop if threads == 0 else run_in_threadpool
    resolved, owned = _resolve_store(store)
    tokens = CallbackTokens.of(token, settings.legacy_callback_tokens(legacy_callback_tokens))
    service = ContractService(ServedContracts(contracts), resolved, public_url=check_public_url(public_url),
                              callback_tokens=tokens)
    reports = CallbackReports(resolved, callback_retries)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if threads:  # run_in_threadpool's limiter: one per event loop, this worker's
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield
        await reports.drain(timeout=5.0)
        if owned:
            await run_in_threadpool(resolved.close)

    from igniter_nb import __version__

    # redirect_slashes=False: a path with a trailing slash is a JSON 404 naming the route without it, not Starlette's
    # empty-bodied 307 whose Location is built from the request's Host header (an open redirect a cache can keep)
    app = FastAPI(title="igniter_nb", version=__version__, lifespan=lifespan, redoc_url=None, redirect_slashes=False,
                  description="Contracts and durable workflows over HTTP. Errors: `{error, type, ...context}`.")
    # The routes go into the app's own router, not through `include_router`: FastAPI includes a router lazily
    # (every request is matched against the included routes twice, with scope bookkeeping for each route tried),
    # ~0.15 ms of CPU per request here. Each APIRoute already carries its dependencies, responses and route class.
    app.router.routes.extend(_router(service, token, reports, _check_idle(stream_idle_seconds),
                                     _AnswerLimits.checked(settings.max_streams(max_streams), max_history_versions), offload,
                                     stopping=True).routes)
    app.add_exception_handler(HTTPException, unmatched)
    app.add_exception_handler(RequestValidationError, unmatched)
    app.add_exception_handler(Exception, internal)
    app.add_middleware(StoppedRequests)  # inside the others: a CORS header goes on its 503 too
    app.add_middleware(BodySizeLimit, max_body_bytes=max_body_bytes, body_timeout=body_timeout)
    if cors_origins:
        from igniter_nb.server.cors import BrowserAccess

        app.add_middleware(BrowserAccess, origins=list(cors_origins))
    app.state.igniter = service
    return app


__all__ = ["create_app", "create_router"]
