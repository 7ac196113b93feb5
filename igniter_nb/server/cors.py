"""``BrowserAccess``: the CORS middleware ``create_app`` adds when ``cors_origins`` is given.

Starlette's ``CORSMiddleware`` with the API's methods and headers, except that a refused preflight is answered
with the server's JSON error body (``{"error", "type", ...}``) naming what was refused and what is allowed,
instead of Starlette's plain-text ``Disallowed CORS origin``: every error of the API is JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from igniter_nb.server.routing import error_response

METHODS = ("GET", "POST")
#: ``Last-Event-ID``: a script following the live stream with ``fetch`` resumes with it (see "The live stream").
HEADERS = ("Authorization", "Content-Type", "Last-Event-ID")


class BrowserAccess(CORSMiddleware):
    """Let browsers on ``origins`` call the API (GET/POST, the headers in :data:`HEADERS`)."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        super().__init__(app, allow_origins=list(origins), allow_methods=list(METHODS), allow_headers=list(HEADERS))
        self.origins = list(origins)

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code != 400:
            return answer
        refused = bytes(answer.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")}
        return error_response(
            400, f"CORS preflight refused: {refused} not allowed (origins: {', '.join(self.origins)[:500]}; "
                 f"methods: {', '.join(METHODS)}; headers: {', '.join(HEADERS)})", "BadRequest", headers=headers,
            refused=refused.split(", "), origin=request_headers.get("origin", "")[:200],
            method=request_headers.get("access-control-request-method", "")[:40],
            request_headers=request_headers.get("access-control-request-headers", "")[:500])


__all__ = ["HEADERS", "METHODS", "BrowserAccess"]
