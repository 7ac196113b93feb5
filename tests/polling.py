"""Waiting in tests for something another thread or process does: one polling loop for every test that needs it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(check: Callable[[], Any], what: str = "the check", timeout: float = 60, every: float = 0.05) -> Any:
    """What ``check()`` returns once it is true (asked every ``every`` seconds); an AssertionError saying ``what``
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"not within {timeout}s: {what}")
