"""The wire formats a stub provider speaks: request checks and response bodies (plain and streamed) of the
Anthropic Messages API, OpenAI Chat Completions and Ollama ``/api/chat``, written from the providers' API
references and the official SDKs' types (``anthropic.types.Message`` and its stream events,
``openai.types.chat.ChatCompletion``/``ChatCompletionChunk``, ``ollama.ChatResponse``).

The checks are the ones the real APIs apply to what an executor sends and that the reference got wrong
(L-49): no ``system`` or ``tool`` role in Anthropic ``messages``; every ``tool_result`` answers a ``tool_use``
of the assistant turn just before; an OpenAI assistant turn with ``tool_calls`` is followed by a ``tool``
message for each id; credentials are present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class WireError(Exception):
    """A request the real API would refuse: ``status`` and the provider's own error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class StubReply:
    """What a stub answers: text, tool calls ``(id, name, arguments)``, token counts, and optionally a stop
    reason (default: the provider's word for "done" or "tool use") and an OpenAI ``refusal`` (the message's
    ``refusal`` field, or ``refusal`` deltas when streamed; other providers ignore it)."""

    text: str = ""
    tool_calls: tuple[tuple[str, str, Mapping[str, Any]], ...] = ()
    input_tokens: int = 10
    output_tokens: int = 5
    stop_reason: str | None = None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class StubFailure:
    """An error the stub answers with (``retry_after_ms`` adds that header, as rate limits do)."""

    status: int
    message: str
    retry_after_ms: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StubRaw:
    """A response sent verbatim, for a provider that misbehaves: any ``body`` (invalid JSON, missing fields,
    unknown values), ``status`` and ``content_type``."""

    body: str | bytes
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StubCut:
    """``reply`` answered as a stream (whether or not one was asked for) whose connection is dropped after its
    first ``after`` pieces (server-sent events or NDJSON lines): a connection lost mid-answer."""

    reply: StubReply
    after: int = 1


@dataclass(frozen=True, slots=True)
class StubSlow:
    """``reply`` answered after ``seconds`` (past an SDK's timeout, a slow provider)."""

    seconds: float
    reply: StubReply | StubFailure | StubRaw


def pieces(text: str) -> list[str]:
    """Text cut into word-sized pieces, as a model streams it."""
    return [p for p in re.findall(r"\S+\s*|\s+", text)] or [""]


# ----------------------------------------------------------------------------------------------- errors


def error_body(provider: str, status: int, message: str) -> dict[str, Any]:
    if provider == "anthropic":
        kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    if provider == "openai":
        kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return {"error": message}


def _refuse(provider: str, message: str, status: int = 400) -> WireError:
    return WireError(status, error_body(provider, status, message))


# ----------------------------------------------------------------------------------------------- checks


def check_request(provider: str, headers: Mapping[str, str], body: Any) -> None:
    """Raise ``WireError`` for a request the real API would refuse."""
    if not isinstance(body, Mapping):
        raise _refuse(provider, "request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _refuse(provider, "model: field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _refuse(provider, "messages: at least one message is required")
    if provider == "anthropic":
        _check_anthropic(headers, body, messages)
    elif provider == "openai":
        _check_openai(headers, messages)
    else:
        _check_ollama(messages)


def _check_anthropic(headers: Mapping[str, str], body: Mapping[str, Any], messages: list[Any]) -> None:
    # (anthropic SDK 2.x sends the API key as ``Authorization: Bearer``; older ones as ``x-api-key``)
    if not headers.get("x-api-key") and not str(headers.get("authorization", "")).removeprefix("Bearer ").strip():
        raise _refuse("anthropic", "x-api-key or authorization header is required", 401)
    if not headers.get("anthropic-version"):
        raise _refuse("anthropic", "anthropic-version header is required")
    if not isinstance(body.get("max_tokens"), int):
        raise _refuse("anthropic", "max_tokens: field required")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise _refuse("anthropic", "system: must be a string or a list of text blocks")
    for i, tool in enumerate(body.get("tools") or []):
        schema = tool.get("input_schema") if isinstance(tool, Mapping) else None
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise _refuse("anthropic", f"tools.{i}.input_schema: must be a JSON schema of type object")
    asked: list[str] = []
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, Mapping) else None
        if role not in ("user", "assistant"):
            raise _refuse("anthropic", f"messages.{i}.role: Input should be 'user' or 'assistant' (got {role!r})")
        content = m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or not blocks:
            raise _refuse("anthropic", f"messages.{i}.content: must be a string or a non-empty list of blocks")
        answered = [str(b.get("tool_use_id")) for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_result"]
        if answered and role != "user":
            raise _refuse("anthropic", f"messages.{i}: tool_result blocks belong in a user message")
        unknown = [a for a in answered if a not in asked]
        if unknown:
            raise _refuse("anthropic", f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                                       f"{', '.join(map(str, unknown))}. Each `tool_result` block must have a "
                                       "corresponding `tool_use` block in the previous message.")
        if asked and set(asked) - set(answered):
            raise _refuse("anthropic", f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                                       f"immediately after: {', '.join(sorted(set(asked) - set(answered)))}")
        asked = [str(b.get("id")) for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_use"]
        for b in blocks:
            if isinstance(b, Mapping) and b.get("type") == "text" and not b.get("text"):
                raise _refuse("anthropic", f"messages.{i}: text content blocks must be non-empty")


def _check_openai(headers: Mapping[str, str], messages: list[Any]) -> None:
    if not str(headers.get("authorization", "")).startswith("Bearer ") or headers["authorization"] == "Bearer ":
        raise _refuse("openai", "You didn't provide an API key.", 401)
    waiting: set[str] = set()
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, Mapping) else None
        if role not in ("system", "developer", "user", "assistant", "tool"):
            raise _refuse("openai", f"Invalid value for 'messages[{i}].role': {role!r}")
        if role == "tool":
            ident = m.get("tool_call_id")
            if ident not in waiting:
                raise _refuse("openai", f"Invalid parameter: messages with role 'tool' must be a response to a preceding "
                                        f"message with 'tool_calls' (messages[{i}].tool_call_id={ident!r})")
            waiting.discard(ident)
            continue
        if waiting:
            raise _refuse("openai", "An assistant message with 'tool_calls' must be followed by tool messages responding "
                                    f"to each 'tool_call_id'. The following tool_call_ids did not have response "
                                    f"messages: {', '.join(sorted(waiting))}")
        if role == "assistant" and m.get("tool_calls"):
            for call in m["tool_calls"]:
                json.loads(call["function"]["arguments"])  # arguments travel as JSON text
                waiting.add(call["id"])
    if waiting:
        raise _refuse("openai", f"tool_call_ids without response messages: {', '.join(sorted(waiting))}")


def _check_ollama(messages: list[Any]) -> None:
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, Mapping) else None
        if role not in ("system", "user", "assistant", "tool"):
            raise _refuse("ollama", f"invalid role {role!r} in messages[{i}]")


# ----------------------------------------------------------------------------------------------- responses


def _stop(provider: str, reply: StubReply) -> str:
    if reply.stop_reason is not None:
        return reply.stop_reason
    done = {"anthropic": ("end_turn", "tool_use"), "openai": ("stop", "tool_calls"), "ollama": ("stop", "stop")}
    return done[provider][1 if reply.tool_calls else 0]


def anthropic_message(reply: StubReply, model: str, n: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
    content += [{"type": "tool_use", "id": i, "name": name, "input": dict(args)} for i, name, args in reply.tool_calls]
    return {"id": f"msg_stub_{n}", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": _stop("anthropic", reply), "stop_sequence": None,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}}


def anthropic_events(reply: StubReply, model: str, n: int) -> Iterator[str]:
    """The server-sent events of a streamed Messages response."""
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    start = anthropic_message(reply, model, n)
    start.update(content=[], stop_reason=None, usage={"input_tokens": reply.input_tokens, "output_tokens": 1})
    yield event("message_start", {"type": "message_start", "message": start})
    yield event("ping", {"type": "ping"})
    index = 0
    if reply.text:
        yield event("content_block_start", {"type": "content_block_start", "index": 0,
                                            "content_block": {"type": "text", "text": ""}})
        for piece in pieces(reply.text):
            yield event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": piece}})
        yield event("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1
    for ident, name, args in reply.tool_calls:
        yield event("content_block_start", {"type": "content_block_start", "index": index,
                                            "content_block": {"type": "tool_use", "id": ident, "name": name, "input": {}}})
        yield event("content_block_delta", {"type": "content_block_delta", "index": index,
                                            "delta": {"type": "input_json_delta", "partial_json": json.dumps(dict(args))}})
        yield event("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    yield event("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": _stop("anthropic", reply), "stop_sequence": None},
                                  "usage": {"output_tokens": reply.output_tokens}})
    yield event("message_stop", {"type": "message_stop"})


def _openai_calls(reply: StubReply) -> list[dict[str, Any]]:
    return [{"id": i, "type": "function", "function": {"name": name, "arguments": json.dumps(dict(args))}}
            for i, name, args in reply.tool_calls]


def openai_completion(reply: StubReply, model: str, n: int) -> dict[str, Any]:
    # as the API: null beside tool calls or a refusal, else the text, "" when empty (a bare null is refused)
    content = reply.text or (None if reply.tool_calls or reply.refusal else "")
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": reply.refusal}
    if reply.tool_calls:
        message["tool_calls"] = _openai_calls(reply)
    return {"id": f"chatcmpl-stub-{n}", "object": "chat.completion", "created": 1_700_000_000 + n, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": _stop("openai", reply), "logprobs": None}],
            "usage": {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
                      "total_tokens": reply.input_tokens + reply.output_tokens}}


def openai_chunks(reply: StubReply, model: str, n: int, include_usage: bool) -> Iterator[str]:
    """The ``data:`` lines of a streamed Chat Completion, ending with ``[DONE]``."""
    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> str:
        data = {"id": f"chatcmpl-stub-{n}", "object": "chat.completion.chunk", "created": 1_700_000_000 + n,
                "model": model, "choices": choices}
        if include_usage:
            data["usage"] = usage
        return f"data: {json.dumps(data)}\n\n"

    yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for piece in (pieces(reply.text) if reply.text else []):
        yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    for piece in (pieces(reply.refusal) if reply.refusal else []):
        yield chunk([{"index": 0, "delta": {"refusal": piece}, "finish_reason": None}])
    for k, call in enumerate(_openai_calls(reply)):
        yield chunk([{"index": 0, "delta": {"tool_calls": [{"index": k, **call}]}, "finish_reason": None}])
    yield chunk([{"index": 0, "delta": {}, "finish_reason": _stop("openai", reply)}])
    if include_usage:
        yield chunk([], {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
                         "total_tokens": reply.input_tokens + reply.output_tokens})
    yield "data: [DONE]\n\n"


def ollama_response(reply: StubReply, model: str, n: int, *, content: str | None = None,
                    done: bool = True) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text if content is None else content}
    if done and reply.tool_calls:
        message["tool_calls"] = [{"function": {"name": name, "arguments": dict(args)}} for _, name, args in reply.tool_calls]
    data: dict[str, Any] = {"model": model, "created_at": f"2024-01-01T00:00:{n % 60:02d}Z", "message": message,
                            "done": done}
    if done:
        data.update(done_reason=_stop("ollama", reply), total_duration=1_000_000, load_duration=1000,
                    prompt_eval_count=reply.input_tokens, prompt_eval_duration=1000, eval_count=reply.output_tokens,
                    eval_duration=1000)
    return data


def ollama_lines(reply: StubReply, model: str, n: int) -> Iterator[str]:
    """The NDJSON lines of a streamed ``/api/chat`` response."""
    for piece in (pieces(reply.text) if reply.text else []):
        yield json.dumps(ollama_response(reply, model, n, content=piece, done=False)) + "\n"
    yield json.dumps(ollama_response(reply, model, n, content="")) + "\n"


__all__ = ["StubCut", "StubFailure", "StubRaw", "StubReply", "StubSlow", "WireError", "anthropic_events", "anthropic_message", "check_request",
           "error_body", "ollama_lines", "ollama_response", "openai_chunks", "openai_completion", "pieces"]
