"""A read run on a daemon thread joined with a timeout, for the tests of reads that used to hang: a regression
fails the test instead of hanging the run."""

from __future__ import annotations

import threading
from typing import Any


def read_in_thread(read: Any, timeout: float = 30) -> dict[str, Any]:
    """``{"value": read()}`` or ``{"error": exc}``, plus ``"finished"``: False when it was still running after
    ``timeout`` seconds."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = read()
        except BaseException as exc:  # reported by the test, not lost in the thread
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    out["finished"] = not t.is_alive()
    return out
