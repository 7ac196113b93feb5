"""The answers of ``create_app``'s exception handlers, as JSON like every route's errors: a request no route
matched (404) or a method no route takes on that path (405, ``Allow`` naming every method that path answers), a
body that failed validation outside a route, and an error a route or the app's own middleware let through (the
store not answering: 503; anything else: 500, logged)."""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match

from igniter_nb.server.routing import (
    busy_response,
    error_response,
    http_error_response,
    outage_response,
    validation_response,
)

log = logging.getLogger("igniter_nb.server")


async def unmatched(request: Request, exc: Exception) -> Response:
    """Errors raised outside our routes (no route matched, wrong method): the same JSON body as ours."""
    if isinstance(exc, HTTPException):
        if exc.status_code in (404, 405) and exc.detail in ("Not Found", "Method Not Allowed"):
            what = "no such route" if exc.status_code == 404 else "method not allowed on"
            headers = dict(exc.headers or {})
            if exc.status_code == 405:
                headers["Allow"] = _allowed_methods(request)
            hint = _without_slash(request) if exc.status_code == 404 else None
            hint = f"{hint[:200]} is one, without the trailing slash; " if hint else ""
            exc = HTTPException(exc.status_code, f"{what}: {request.method} {request.url.path[:200]} ({hint}routes: "
                                "/openapi.json)", headers=headers)
        return http_error_response(exc)
    if isinstance(exc, RequestValidationError):
        return validation_response(exc)
    return error_response(500, "internal server error", "InternalServerError")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers on this path: Starlette's 405 names only the first route whose path
    matched (``GET``), while the path's ``HEAD`` (and any other method) is a route of its own."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _without_slash(request: Request) -> str | None:
    """The path without its trailing slash when a route takes that (the app redirects no slashes: a redirect's
    ``Location`` is built from the request's ``Host`` header), else None."""
    path = request.scope.get("path", "")
    if len(path) < 2 or not path.endswith("/"):
        return None
    trimmed = path.rstrip("/") or "/"
    scope = {**request.scope, "path": trimmed}
    for route in request.app.router.routes:
        if isinstance(route, APIRoute) and route.matches(scope)[0] is not Match.NONE:
            return str(trimmed)
    return None


async def internal(request: Request, exc: Exception) -> Response:
    # errors of the app's own middleware and anything a route let through
    answer = outage_response(request, exc) or busy_response(request, exc)
    if answer is not None:
        return answer
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error", "InternalServerError")
