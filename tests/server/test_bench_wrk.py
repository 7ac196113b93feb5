"""bench/_wrk.py, the wrk driver of bench/server.py (B8), against a real uvicorn on 127.0.0.1: every prepared request
is sent exactly once (its own method, path, headers and body), a 4xx and a missing answer count as errors, and the
latencies are one per answer (wrk's made-up "coordinated omission" samples taken out). Needs the `wrk` binary
(`make setup` installs it: scripts/system-deps.sh)."""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request

from bench import _wrk
from tests.server.live_server import LiveServer

# Skipped only outside CI: CI installs wrk (scripts/system-deps.sh), so there a missing wrk fails the test.
pytestmark = pytest.mark.skipif(shutil.which("wrk") is None and not os.environ.get("CI"),
                                reason="wrk is not installed (make setup installs it)")


def _app(seen: list[tuple[str, str, str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/items/{name}")
    async def item(name: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        if name == "taken":
            raise HTTPException(409, "taken")
        seen.append(("POST", name, request.headers.get("idempotency-key", ""), body))
        if body.get("slow"):  # answers far slower than the others: wrk then adds its made-up samples
            await asyncio.sleep(0.05)
        return {"ok": True}

    @app.put("/items/{name}")
    async def put(name: str, request: Request) -> dict[str, Any]:
        seen.append(("PUT", name, request.headers.get("idempotency-key", ""), await request.json()))
        return {"ok": True}

    return app


def test_wrk_sends_each_prepared_request_once_and_counts_4xx_as_errors() -> None:
    seen: list[tuple[str, str, str, Any]] = []
    requests = [_wrk.json_post(f"/items/n{i}", {"i": i, "slow": i % 25 == 0}, {"Idempotency-Key": f"k{i}"})
                for i in range(300)]
    requests.append(_wrk.Request("PUT", "/items/put", {"Content-Type": "application/json"}, b'{"i": -1}'))
    requests += [_wrk.json_post("/missing", {"i": -2}), _wrk.json_post("/items/taken", {"i": -3})]  # 404, 409
    with LiveServer(_app(seen)) as server:
        result = _wrk.drive(server.url, requests, 16, bound_s=30)

    assert result.sent == len(requests)
    received = sorted((m, n, k, b["i"]) for m, n, k, b in seen if isinstance(b, dict))
    assert received == sorted([("POST", f"n{i}", f"k{i}", i) for i in range(300)] + [("PUT", "put", "", -1)])
    assert result.statuses == {200: 301, 404: 1, 409: 1}
    assert result.errors(len(requests)) == 2
    # one latency per answer: wrk added samples for the 12 slow answers (made up), and they are taken out again
    assert len(result.latencies_ms) == len(requests)
    assert result.cpu_s > 0


def test_raw_latencies_undo_wrks_correction() -> None:
    def correct(raw: dict[int, int], expected: int) -> dict[int, int]:  # wrk 4.1's stats_correct, on a dict
        data = dict(raw)
        for n in range(expected * 2, max(raw) + 1):
            count, m = raw.get(n, 0), n - expected
            while count and m > expected:
                data[m] = data.get(m, 0) + count
                m -= expected
        return data

    raw = {900: 5, 1000: 20, 1500: 3, 2600: 1, 7300: 2}
    duration, answers, connections = 32_000, 32, 4  # E = 32000 // (32 // 4) = 4000... then 1000 below
    assert _wrk.raw_latencies(correct(raw, 4000), duration, answers, connections) == raw
    assert _wrk.raw_latencies(correct(raw, 1000), 8000, answers, connections) == raw
    assert correct(raw, 1000) != raw
