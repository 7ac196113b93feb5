"""What ``/openapi.json`` says each route may answer besides its 200: the error bodies, their descriptions, the
503 every route may give (the store not answering; with ``create_app``'s ``StoppedRequests`` middleware also the
server stopping) and the live stream's answers. ``app.py`` hands them to the routes it declares."""

from __future__ import annotations

from typing import Any

from igniter_nb.server.models import ErrorBody

Responses = dict[int | str, dict[str, Any]]
ERROR: dict[str, Any] = {"model": ErrorBody}
E400: Responses = {400: {**ERROR, "description": "The body is not JSON (or not sent as application/json)."}}
E401: Responses = {401: {**ERROR, "description": "Missing or wrong bearer token."}}
E404: Responses = {404: {**ERROR, "description": "Unknown contract or execution."}}
E409: Responses = {409: {**ERROR, "description": "Duplicate workflow or signal, or a save that kept losing to others."}}
E413: Responses = {413: {**ERROR, "description": "The body is larger than the server's limit."}}
E415: Responses = {415: {**ERROR, "description": "The body is sent with a Content-Encoding (gzip, br, ...): send it "
                                                 "uncompressed (`UnsupportedMediaType`)."}}
E422: Responses = {422: {**ERROR, "description": "Invalid input, payload, event, parameter or body shape."}}
POST_ERRORS: Responses = {**E400, **E404, **E409, **E413, **E415, **E422}
RESUME_ERRORS: Responses = {**E400, **E404, **E413, **E415, **E422, 409: {**ERROR, "description": (
    "Nothing is pending on that token (already resumed, or never pending), or the workflow finished; or a save "
    "that kept losing to others.")}}
CALLBACK_ERRORS: Responses = {
    **RESUME_ERRORS,
    401: {**ERROR, "description": "Missing bearer token, or not a callback token this execution handed out (the "
                                   "same answer for an execution that does not exist)."},
    409: {**ERROR, "description": "No remote node of this execution waits for that remote execution (yet: the "
                                   "caller retries), or the workflow finished; or the remote node that handed out "
                                   "the token is one the current graph no longer has (`GraphChangedError`)."},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
STOPPING = ("The server stopped before this request finished (`ServerStopping`: it was shutting down and the time "
            "it gives requests in flight ran out); whether it took effect is not known. Retry it (an event with the "
            "same idempotency_key is applied at most once).")
STORE_DOWN = ("The store did not answer (`StoreUnavailable`: the database or Redis cannot be reached, or failed); "
              "a request that changes something may or may not have taken effect. Retry it (an event with the same "
              "idempotency_key is applied at most once). Or the server process could not start a thread for the "
              "request (`ServerBusy`: at its thread or memory limit); retry it the same way.")


#: What any route of ``create_app`` may answer before it runs (docs/server.md, "Limits"): 408 from its body timeout
#: (and ``igniter-nb serve``'s header timeout), 431 from ``igniter-nb serve``'s header limit.
SERVER_LIMITS: Responses = {
    408: {**ERROR, "description": "The request body did not arrive within `body_timeout` seconds, or (under "
                                  "`igniter-nb serve`) its headers not within the header timeout "
                                  "(`RequestTimeout`; the connection is closed). Send it again, faster."},
    431: {**ERROR, "description": "The request line and headers are larger than `igniter-nb serve`'s limit "
                                  "(`HeadersTooLarge`; the connection is closed)."},
}


def e503(stopping: bool) -> Responses:
    """Every route's 503: the store not answering; with ``create_app``'s ``StoppedRequests`` middleware also the
    server stopping (``create_router``'s routes have no such middleware)."""
    text = f"{STORE_DOWN} Or: {STOPPING[0].lower()}{STOPPING[1:]}" if stopping else STORE_DOWN
    return {503: {**ERROR, "description": text, "headers": RETRY_AFTER}}


TOO_MANY_STREAMS = "Every live-stream slot of this worker is taken (`TooManyStreams`, see `max_streams`)."
STREAM: Responses = {
    200: {"description": "Server-sent events: `status` messages, one message per execution event (id = its seq), "
                         "then `end` once the execution finished. See docs/server.md, \"The live stream\".",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    204: {"description": "The execution finished and `Last-Event-ID` is its last event: nothing more will come."},
}


def stream_503(stopping: bool) -> Responses:
    """The live stream's 503: its slots taken, the store not answering, and with ``create_app``'s middleware also
    the server stopping."""
    text = f"{TOO_MANY_STREAMS} Or: {e503(stopping)[503]['description']}"
    return {503: {**ERROR, "description": text, "headers": RETRY_AFTER}}


GRAPH_CONTENT = {
    "application/json": {"schema": {"type": "object"}},
    "image/svg+xml": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}},
}
