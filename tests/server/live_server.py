"""An ASGI app under a real uvicorn on a free 127.0.0.1 port (bound when the ``LiveServer`` is made), in a thread of
the test process — for tests that need real HTTP (streams, remote nodes calling each other) while sharing a store
object with the test.

    with LiveServer(ig.server.create_app(CONTRACTS, store=store)) as server:
        httpx.get(f"{server.url}/v1/health")

Use the ``live_app`` fixture (tests/server/conftest.py) to have every server stopped by a finalizer.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class LiveServer:
    """One app served by uvicorn in a daemon thread; ``url`` once started."""

    def __init__(self, app: Any, *, port: int | None = None) -> None:
        # bound here, on the port given or one the kernel chooses, and handed to uvicorn: a port chosen first and
        # bound only once the thread runs could be taken meanwhile by another process of a busy machine
        self.socket = socket.create_server(("127.0.0.1", port or 0))
        self.port = int(self.socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name=f"uvicorn-{self.port}", daemon=True)

    def start(self, timeout: float = 10.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
        self.socket.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
