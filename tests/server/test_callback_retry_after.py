"""A callback the server sends waits what the receiver's ``Retry-After`` asks on a 429 or 503 (whole seconds, at most
``MAX_RETRY_AFTER``), and its own back-off otherwise — against a real uvicorn on 127.0.0.1. The waits are read from
the stop event the sender waits on (it records them and returns at once), so the test takes no time to wait."""

from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from igniter_nb.server import callbacks
from igniter_nb.server.callbacks import Callback
from tests.server.live_server import LiveServer


class RecordingStop(threading.Event):
    """The sender's stop event: records each back-off it is asked to wait, and returns at once (not stopped)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        return False


def _receiver(answers: list[tuple[int, dict[str, str]]]) -> tuple[Starlette, list[Any]]:
    seen: list[Any] = []

    async def hook(request: Request) -> JSONResponse:
        seen.append(await request.json())
        status, headers = answers[min(len(seen) - 1, len(answers) - 1)]
        return JSONResponse({"ok": status < 400}, status_code=status, headers=headers)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])]), seen


def _send(answers: list[tuple[int, dict[str, str]]], retries: int = 5) -> tuple[dict[str, Any], list[float], int]:
    app, seen = _receiver(answers)
    with LiveServer(app) as server:
        stop = RecordingStop()
        result = callbacks.post(Callback("ex-1", 1, f"{server.url}/hook", "tok"), {"execution_id": "ex-1"},
                                retries=retries, stop=stop)
    return result, stop.waits, len(seen)


def test_a_503_with_retry_after_is_retried_after_the_seconds_it_asks() -> None:
    result, waits, posts = _send([(503, {"Retry-After": "3"}), (503, {"Retry-After": "2"}), (200, {})])
    assert result["sent"] is True and result["attempts"] == 3 and posts == 3
    assert waits == [3.0, 2.0]


def test_a_429_asking_too_long_waits_at_most_the_cap_and_others_use_the_back_off() -> None:
    result, waits, _ = _send([(429, {"Retry-After": "7200"}), (500, {"Retry-After": "9"}),
                              (503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), (200, {})])
    assert result["sent"] is True and result["attempts"] == 4
    # the cap; a 500's Retry-After is not read (the back-off's second step); a date is not read (third step)
    assert waits == [callbacks.MAX_RETRY_AFTER, 1.0, 2.0]
