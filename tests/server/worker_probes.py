"""What the worker tests (tests/server/test_balance.py, test_reuseport.py, test_nodelay.py,
test_process_failure.py) drive a server with: a bare ASGI app, keep-alive clients that report which worker process
answered them, and a slow request in flight while the server is stopped."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.polling import wait_for
from tests.server.server_process import ServerProcess


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


def stopped_during_slow_request(server: ServerProcess, started: Path, seconds: float, sig: int = signal.SIGTERM,
                                timeout: float = 20.0) -> tuple[int | None, httpx.Response]:
    """Stop ``server`` (serving ``tests.server.pid_contracts``) with ``sig`` while a ``slow_worker_pid`` request
    runs — it writes the file ``started`` once it runs, then sleeps ``seconds`` — and wait up to ``timeout`` seconds
    for it to exit (then it is killed). Returns (its exit code, the slow request's answer); a request that got no
    answer fails the test."""
    answer: dict[str, Any] = {}

    def slow() -> None:
        try:
            answer["response"] = httpx.post(f"{server.url}/v1/contracts/slow_worker_pid/execute", timeout=90,
                                            json={"inputs": {"started": str(started), "seconds": seconds}})
        except httpx.HTTPError as exc:
            answer["error"] = exc

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        wait_for(started.exists, f"the slow request running:\n{server.log()}")
        code = server.stop(sig, timeout=timeout)
    finally:
        thread.join(90)
    assert "error" not in answer, answer
    return code, answer["response"]
