"""R3: schemathesis fuzzes every operation of our /openapi.json (bounded, seeded): no response is a 500, every
status code, content type and body matches what the document promises, invalid requests are refused with a
4xx, and no route answers without the bearer token."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

TOKEN = "fuzz-token"
APP = ig.server.create_app(CONTRACTS, store=MemoryStore(), token=TOKEN, max_body_bytes=20_000)
SEED = 20240501
EXAMPLES = 25  # per operation and generation mode; the whole test stays well under a minute

config = schemathesis.config.SchemathesisConfig(seed=SEED)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=config)
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)
schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, ignored_auth]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_openapi_operations_never_500_and_conform_R3(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
