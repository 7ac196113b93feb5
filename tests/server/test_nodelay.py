"""``igniter-nb serve`` switches Nagle's algorithm off on every connection, also when uvicorn binds the listening
socket itself and hands it to worker processes (``--workers`` above 1), where asyncio does not (uvicorn #3149)."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from igniter_nb.server import balance, reuseport, serve
from igniter_nb.server.nodelay import NoDelayHTTPProtocol
from tests.server.worker_probes import ok_app


class _Recording(NoDelayHTTPProtocol):
    seen: list[int] = []

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        self.seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_connections_on_a_socket_bound_by_uvicorn_get_tcp_nodelay() -> None:
    config = uvicorn.Config(ok_app, host="127.0.0.1", port=0, http=_Recording, log_level="warning")
    listener = config.bind_socket()  # what uvicorn's multiprocess supervisor does before starting the workers
    port = listener.getsockname()[1]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            assert [client.get("/").text for _ in range(3)] == ["ok"] * 3
        assert _Recording.seen and all(flag != 0 for flag in _Recording.seen)
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def test_serve_gives_uvicorn_the_nodelay_protocol(monkeypatch: Any, tmp_path: Any) -> None:
    given: dict[str, Any] = {}
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() passes its settings to the workers there
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: given.update(kwargs))  # record, do not serve
    monkeypatch.setattr(reuseport, "run", lambda *args, **kwargs: given.update(kwargs))  # (one socket per worker)
    monkeypatch.setattr(balance, "run", lambda *args, **kwargs: given.update(kwargs))  # (the supervisor hands over)
    code = serve.serve("tests.server.server_contracts:CONTRACTS", host="127.0.0.1", port=0,
                     store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, token_env=None)
    assert code == 0
    assert given["http"] == "igniter_nb.server.nodelay:NoDelayHTTPProtocol" and given["workers"] == 2
