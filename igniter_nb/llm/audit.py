"""What an LLM executor records of its calls in the execution's log: the ``llm_call`` event of one request
(:func:`call_payload`) and a tool result as the audit keeps it (:func:`audit_result`). ``executor.py`` decides when;
this module says what the record holds (``docs/llm.md``, the audit)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from igniter_nb.llm.errors import LLMError
from igniter_nb.llm.request import Reply, Request, Usage
from igniter_nb.llm.tools import AUDIT_TEXT_LIMIT


def call_payload(request: Request, index: int, purpose: str, rounds: int, reply: Reply | None, started: float, *,
                 cached: bool, streamed: bool, billed: Usage | None = None,
                 error: LLMError | None = None) -> dict[str, Any]:
    """The payload of the ``llm_call`` event of request ``index`` (round ``rounds``), sent at ``started``
    (``time.perf_counter()``): its model, tokens billed, latency, stop reason, tool calls, and error if any."""
    payload: dict[str, Any] = {
        "provider": request.provider, "model": request.model, "request": index, "round": rounds,
        "purpose": purpose, "input_tokens": billed.input_tokens if billed else 0,
        "output_tokens": billed.output_tokens if billed else 0,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "stop_reason": reply.stop_reason if reply else None,
        "tool_call_ids": [c.id for c in reply.tool_calls] if reply else [],
        "tool_names": [c.name for c in reply.tool_calls] if reply else [],
        "cached": cached, "streamed": streamed,
    }
    if billed is not None and not billed.reported:  # the provider said nothing: the zeros are not a count
        payload["usage_reported"] = False
    if error is not None:
        payload["error"] = error.message
        payload["status_code"] = getattr(error, "status_code", None)
        if error.context.get("retry_after") is not None:  # the wait a rate limit asked for
            payload["retry_after"] = error.context["retry_after"]
    return payload


def audit_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """A tool result as the audit keeps it: its text cut at ``AUDIT_TEXT_LIMIT`` characters."""
    content = str(result.get("content", ""))
    shown = content if len(content) <= AUDIT_TEXT_LIMIT else content[:AUDIT_TEXT_LIMIT] + "…"
    return {"id": result["id"], "name": result["name"], "content": shown, "is_error": bool(result.get("is_error"))}


__all__ = ["audit_result", "call_payload"]
