"""A provider (or a proxy in front of it) that answers with a redirect to another host or port. The SDKs follow
redirects, and httpx drops only the ``Authorization`` header when the origin changes: the Anthropic SDK's
``x-api-key`` went to the other server with the prompt (a 307/308 repeats the POST and its body), so did Ollama's
prompt. Now no provider request follows a redirect: the 3xx is a ``ProviderError`` saying where it pointed (a
password in that URL hidden) and that it was not followed."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubRaw
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class

_PATHS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions", "ollama": "/api/chat"}


def _quiet(text: str) -> None:
    pass


class _Elsewhere(http.server.ThreadingHTTPServer):
    """Another server on 127.0.0.1: records every request it gets (any method), with its headers, and answers 200."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append((self.command, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def elsewhere() -> Iterator[_Elsewhere]:
    server = _Elsewhere()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_redirect_to_another_port_is_not_followed_and_nothing_reaches_it(provider, status, stream, stubs,
                                                                          elsewhere):
    port = elsewhere.server_address[1]
    target = f"http://user:hunter2@127.0.0.1:{port}{_PATHS[provider]}"
    stub = stubs(provider, [StubRaw(b"", status=status, headers={"location": target})])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=0, api_key="sk-secret-key")().complete(
            "the private prompt", stream=_quiet if stream else None)
    assert elsewhere.seen == []  # neither the key nor the prompt went there
    assert len(stub.requests) == 1
    message = str(info.value)
    assert f"redirect (HTTP {status})" in message and "not followed" in message
    assert f"127.0.0.1:{port}" in message and "hunter2" not in message
    assert info.value.status_code == status and info.value.provider == provider


def test_a_redirect_fails_the_node_located(stubs, elsewhere):
    port = elsewhere.server_address[1]
    stubs("anthropic", [StubRaw(b"", status=307, headers={"location": f"http://127.0.0.1:{port}/v1/messages"})])
    contract = contract_class(executor_class("anthropic", max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.context["node"] == "answer"
    assert "not followed" in str(error)
    assert elsewhere.seen == []
