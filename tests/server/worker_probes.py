"""What the worker-spreading tests (tests/server/test_balance.py, test_reuseport.py, test_nodelay.py) drive a
server with: a bare ASGI app, and keep-alive clients that report which worker process answered them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers every request 200 ``ok``; completes the lifespan."""
    assert scope["type"] in ("http", "lifespan")
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def pids_by_connection(url: str, connections: int, requests: int) -> list[set[int]]:
    """Open ``connections`` keep-alive connections at once (one client each) and send ``requests`` executions of
    ``tests.server.pid_contracts``' ``worker_pid`` on each; the worker pids that answered, per connection."""
    clients = [httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1))
               for _ in range(connections)]

    async def pids(client: httpx.AsyncClient) -> set[int]:
        answered = set()
        for n in range(requests):
            response = await client.post("/v1/contracts/worker_pid/execute", json={"inputs": {"n": n}})
            assert response.status_code == 200, response.text
            answered.add(response.json()["outputs"]["pid"])
        return answered

    try:
        return await asyncio.gather(*(pids(client) for client in clients))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
