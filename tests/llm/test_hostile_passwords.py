"""A provider ``base_url`` holding a password (``http://user:secret@proxy``, a basic-auth proxy in front of the
provider) or a secret query value (``?token=...``): every ``ProviderError`` named the URL whole — its message and
``context["url"]``, which a failed node keeps in its stored snapshot and audit. Now they show it as the rest of
igniter_nb does (``user:***@``, ``token=***``, ``settings.redact_url``)."""

from __future__ import annotations

import json
import socket

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class


def _closed_port() -> int:
    with socket.socket() as sock:  # (bound and closed: nothing listens there)
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _url(provider: str, secret: str) -> str:
    port = _closed_port()
    if secret == "password":
        return f"http://user:hunter2@127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
    return f"http://127.0.0.1:{port}/v1?token=hunter2" if provider == "openai" else \
        f"http://127.0.0.1:{port}/?token=hunter2"


@pytest.mark.parametrize("secret", ["password", "query token"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unreachable_provider_is_named_without_the_secret_of_its_url(provider, secret):
    executor = executor_class(provider, base_url=_url(provider, secret), api_key="k", max_retries=0)
    with pytest.raises(ig.llm.ProviderError) as info:
        executor().complete("q")
    assert "cannot reach" in str(info.value) and "127.0.0.1" in str(info.value)
    assert "hunter2" not in str(info.value) and "hunter2" not in str(info.value.context)


def test_the_failed_node_stores_no_secret(stubs):
    executor = executor_class("anthropic", base_url=_url("anthropic", "password"), api_key="k", max_retries=0)
    store = MemoryStore()
    contract = contract_class(executor, store_runner=True)({"question": "q"}, store=store)
    assert contract.status == "failed"
    assert "***" in str(contract.execution.states["answer"].error)
    stored = json.dumps(store.record(contract.execution_id).snapshot, default=str)
    assert "cannot reach" in stored and "hunter2" not in stored
