"""The server answers 408 ``RequestTimeout`` (a body or, under ``igniter-nb serve``, headers that do not arrive in
time) and 431 ``HeadersTooLarge`` (``igniter-nb serve``'s header limit) on any route, but ``/openapi.json`` listed
neither: clients generated from it and the schemathesis fuzz test did not know them. Every operation of
``create_app`` now lists both with the error body; ``create_router``'s (an app of one's own: neither the body
timeout middleware nor the serve protocol is there) do not."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": operation for path, item in document["paths"].items()
            for method, operation in item.items()}


def test_every_operation_of_the_app_lists_408_and_431_with_the_error_body(store: Any) -> None:
    for token in (None, "t0k"):
        operations = _operations(ig.server.create_app(CONTRACTS, store=store, token=token).openapi())
        assert len(operations) == 12
        for name, operation in operations.items():
            for status, kind in (("408", "RequestTimeout"), ("431", "HeadersTooLarge")):
                answer = operation["responses"].get(status)
                assert answer is not None, (name, status)
                assert answer["content"]["application/json"]["schema"] == ERROR_BODY, (name, status)
                assert kind in answer["description"], (name, status)
            assert "503" in operation["responses"] and "200" in operation["responses"]  # what was there stays


def test_routes_of_create_router_do_not_list_them(store: Any) -> None:
    parent = FastAPI()
    parent.include_router(ig.server.create_router(CONTRACTS, store=store), prefix="/igniter")
    for name, operation in _operations(parent.openapi()).items():
        assert "408" not in operation["responses"] and "431" not in operation["responses"], name
