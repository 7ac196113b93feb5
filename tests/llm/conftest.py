"""Fixtures for the LLM executor tests: stub provider servers on 127.0.0.1 (real HTTP, each provider's wire
format) that the official SDKs are pointed at through their own environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from igniter_nb.llm.testing import StubServer

PROVIDERS = ("anthropic", "openai", "ollama")
_PREFIXES = ("ANTHROPIC_", "OPENAI_", "OLLAMA_")


@pytest.fixture(autouse=True)
def clean_provider_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No provider variable of the machine leaks into a test, and no SDK reads credentials from disk."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))


@pytest.fixture(autouse=True)
def closed_provider_clients() -> Iterator[None]:
    """The SDK clients a test's requests cached (pointed at its stub server, gone after it) are closed after it, so
    their pooled sockets are not left open for the rest of the run (ResourceWarning)."""
    yield
    from igniter_nb.llm.providers import close_clients

    close_clients()


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., StubServer]]:
    """``stubs(provider, replies=(), responder=None, env=True)``: a started stub (stopped after the test); with
    ``env`` the SDK's environment variables point at it."""
    started: list[StubServer] = []

    def start(provider: str, replies: Any = (), *, responder: Any = None, env: bool = True) -> StubServer:
        stub = StubServer(provider, replies, responder=responder).start()
        started.append(stub)
        if env:
            for key, value in stub.environment().items():
                monkeypatch.setenv(key, value)
        return stub

    yield start
    for stub in started:
        stub.stop()
