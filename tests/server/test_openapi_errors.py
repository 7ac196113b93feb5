"""The 503 answers are in /openapi.json: every route may answer 503 ``StoreUnavailable`` (the store did not
answer); every route of ``create_app`` may also answer 503 ``ServerStopping`` (its
``StoppedRequests`` middleware, when the graceful shutdown cuts a request off), the live stream also 503
``TooManyStreams``; routes of ``create_router`` inside an app of one's own have no such middleware, so the
stopping 503 is not theirs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS

STREAM = "/v1/executions/{execution_id}/events"
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": operation for path, item in document["paths"].items()
            for method, operation in item.items()}


def test_every_route_of_the_app_documents_503_server_stopping_with_the_error_body(store: Any) -> None:
    for token in (None, "t0k"):
        operations = _operations(ig.server.create_app(CONTRACTS, store=store, token=token).openapi())
        assert len(operations) == 12, sorted(operations)
        for name, operation in operations.items():
            answer = operation["responses"].get("503")
            assert answer is not None, name
            assert answer["content"]["application/json"]["schema"] == ERROR_BODY, name
            assert "ServerStopping" in answer["description"] and "Retry" in answer["description"], name
            assert "StoreUnavailable" in answer["description"], name
            assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}, name
        assert ("401" in operations["GET /v1/health"]["responses"]) is (token is not None)  # what was there stays
        assert "TooManyStreams" in operations[f"GET {STREAM}"]["responses"]["503"]["description"]


def test_routes_of_create_router_document_the_store_s_503_and_not_the_stopping_one(store: Any) -> None:
    parent = FastAPI()
    parent.include_router(ig.server.create_router(CONTRACTS, store=store), prefix="/igniter")
    operations = _operations(parent.openapi())
    stream = operations.pop(f"GET /igniter{STREAM}")["responses"]["503"]
    assert "TooManyStreams" in stream["description"] and "ServerStopping" not in stream["description"]
    assert "StoreUnavailable" in stream["description"]
    assert stream["content"]["application/json"]["schema"] == ERROR_BODY
    for name, operation in operations.items():  # the store can fail under any route; only create_app stops
        answer = operation["responses"]["503"]
        assert "StoreUnavailable" in answer["description"] and "ServerStopping" not in answer["description"], name
