"""``StubServer``: a local stand-in for a provider's HTTP API, for tests and offline notebooks.

It listens on ``127.0.0.1`` (a free port), speaks the provider's real wire format — Anthropic Messages (JSON
and server-sent events), OpenAI Chat Completions (JSON and ``data:`` chunks), Ollama ``/api/chat`` (JSON and
NDJSON) — refuses what the real API refuses (see ``stub_wire``), answers from a script, and records every
request it received, so a test can point the official SDK at it and assert on what was sent::

    with StubServer("anthropic", [StubReply("Hello!")]) as stub:
        os.environ.update(stub.environment())      # ANTHROPIC_BASE_URL and a stub ANTHROPIC_API_KEY
        ...                                        # run the executor
        stub.requests[0].body["messages"]

Nothing leaves the machine. Needs Starlette and uvicorn (the ``[server]`` extra).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from igniter_nb.llm.stub_wire import (
    StubCut,
    StubFailure,
    StubRaw,
    StubReply,
    StubSlow,
    WireError,
    anthropic_events,
    anthropic_message,
    check_request,
    error_body,
    ollama_lines,
    ollama_response,
    openai_chunks,
    openai_completion,
)

_PATHS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions", "ollama": "/api/chat"}
Answer = StubReply | StubFailure | StubRaw | StubCut | StubSlow
Responder = Callable[["StubRequest"], Answer]


@dataclass(frozen=True, slots=True)
class StubRequest:
    """One request the stub received: ``path``, lower-cased ``headers`` and the JSON ``body``."""

    path: str
    headers: Mapping[str, str]
    body: Any

    @property
    def messages(self) -> list[Any]:
        """The request body's ``messages`` list (empty when the body has none)."""
        return list(self.body.get("messages") or []) if isinstance(self.body, Mapping) else []

    @property
    def roles(self) -> list[str]:
        """The role of each message in ``messages``, in order."""
        return [m.get("role") for m in self.messages]


class StubServer:
    """A scripted ``provider`` API on 127.0.0.1. ``replies`` (``StubReply``/``StubFailure``) are answered in
    order; ``responder(request)`` answers when the script is empty (without either, the stub answers 500).
    ``StubRaw`` (a verbatim body), ``StubCut`` (a stream dropped midway) and ``StubSlow`` (a late answer) make
    it misbehave."""

    def __init__(self, provider: str, replies: Iterable[Answer] = (), *,
                 responder: Responder | None = None) -> None:
        if provider not in _PATHS:
            raise ValueError(f"unknown provider {provider!r}; stubs exist for {', '.join(_PATHS)}")
        self.provider = provider
        self.responder = responder
        self.requests: list[StubRequest] = []
        self._script: deque[Answer] = deque(replies)
        self._lock = threading.Lock()
        self._count = itertools.count(1)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # ------------------------------------------------------------------ scripting
    def add(self, *replies: Answer) -> StubServer:
        """Queue more replies."""
        with self._lock:
            self._script.extend(replies)
        return self

    def _next(self, request: StubRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        if self.responder is not None:
            return self.responder(request)
        # (told not to retry: an SDK would otherwise ask again, with back-off, for nothing)
        return StubFailure(500, "the stub has no scripted reply left for this request",
                           headers={"x-should-retry": "false"})

    # ------------------------------------------------------------------ addresses
    @property
    def url(self) -> str:
        """The base URL to give the SDK (OpenAI's includes ``/v1``)."""
        if self.port is None:
            raise RuntimeError("the stub server is not running: call start() or use it as a context manager")
        root = f"http://127.0.0.1:{self.port}"
        return f"{root}/v1" if self.provider == "openai" else root

    def environment(self) -> dict[str, str]:
        """The SDK's own environment variables pointing at this stub (with a dummy key where one is needed)."""
        return {"anthropic": {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": "stub-key"},
                "openai": {"OPENAI_BASE_URL": self.url, "OPENAI_API_KEY": "stub-key"},
                "ollama": {"OLLAMA_HOST": self.url}}[self.provider]

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> StubServer:
        """Listen on a free port of 127.0.0.1 in a background thread and return the server once it answers
        (``RuntimeError`` after ``timeout`` seconds)."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"stub-{self.provider}-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.provider} stub server did not start within {timeout} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and wait up to ``timeout`` seconds for the server thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"127.0.0.1:{self.port}" if self.port else "stopped"
        return f"StubServer({self.provider}, {where}, {len(self.requests)} requests)"

    # ------------------------------------------------------------------ the app
    def _app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response, StreamingResponse
        from starlette.routing import Route

        provider = self.provider

        async def answer(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return JSONResponse(error_body(provider, 400, "request body is not valid JSON"), status_code=400)
            headers = {k.lower(): v for k, v in request.headers.items()}
            recorded = StubRequest(request.url.path, headers, body)
            try:
                check_request(provider, headers, body)
            except WireError as exc:
                with self._lock:
                    self.requests.append(recorded)
                return JSONResponse(exc.body, status_code=exc.status)
            reply = self._next(recorded)
            if isinstance(reply, StubSlow):
                await asyncio.sleep(reply.seconds)
                reply = reply.reply
            if isinstance(reply, StubRaw):
                return Response(reply.body, status_code=reply.status, media_type=reply.content_type,
                                headers=dict(reply.headers))
            if isinstance(reply, StubCut):
                lines = list(_stream_of(provider, reply.reply, str(body["model"]), next(self._count)))
                return StreamingResponse(_cut(lines[:reply.after]), media_type="text/event-stream"
                                         if provider != "ollama" else "application/x-ndjson")
            if isinstance(reply, StubFailure):
                extra = dict(reply.headers)
                if reply.retry_after_ms is not None:
                    extra["retry-after-ms"] = str(reply.retry_after_ms)
                return JSONResponse(error_body(provider, reply.status, reply.message), status_code=reply.status,
                                    headers=extra)
            n = next(self._count)
            model = str(body["model"])
            if provider == "anthropic":
                if body.get("stream"):
                    return StreamingResponse(_iterate(anthropic_events(reply, model, n)), media_type="text/event-stream")
                return JSONResponse(anthropic_message(reply, model, n))
            if provider == "openai":
                if body.get("stream"):
                    usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    return StreamingResponse(_iterate(openai_chunks(reply, model, n, usage)),
                                             media_type="text/event-stream")
                return JSONResponse(openai_completion(reply, model, n))
            if body.get("stream", True):  # Ollama streams unless told not to
                return StreamingResponse(_iterate(ollama_lines(reply, model, n)), media_type="application/x-ndjson")
            return JSONResponse(ollama_response(reply, model, n))

        return Starlette(routes=[Route(_PATHS[provider], answer, methods=["POST"])])


async def _iterate(lines: Iterator[str]) -> Any:
    for line in lines:
        yield line.encode()


def _stream_of(provider: str, reply: StubReply, model: str, n: int) -> Iterator[str]:
    if provider == "anthropic":
        return anthropic_events(reply, model, n)
    if provider == "openai":
        return openai_chunks(reply, model, n, True)
    return ollama_lines(reply, model, n)


async def _cut(lines: list[str]) -> Any:
    for line in lines:
        yield line.encode()
    # an exception inside the body makes the server drop the connection before the response is complete
    raise ConnectionAbortedError("StubCut: connection dropped mid-answer")


__all__ = ["StubCut", "StubFailure", "StubRaw", "StubReply", "StubRequest", "StubServer", "StubSlow"]
