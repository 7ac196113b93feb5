"""OpenAI (and OpenAI-compatible servers) through the official ``openai`` SDK (Chat Completions).

Wire format: system messages stay where they are (``role: system``); an assistant turn with tool calls carries
``tool_calls`` (``id``, ``type: function``, ``function.name``, ``function.arguments`` as JSON text); each tool
result is a ``role: tool`` message with the ``tool_call_id`` it answers. ``max_tokens`` is sent as
``max_completion_tokens`` (``max_tokens`` is deprecated by the API).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from igniter_nb.llm.conversation import Message, ToolCall
from igniter_nb.llm.errors import ConfigurationError
from igniter_nb.llm.providers.base import (
    Connection,
    Provider,
    TextSink,
    body_message,
    check_key,
    function_tools,
    no_redirects,
)
from igniter_nb.llm.providers.bounds import retry_wait
from igniter_nb.llm.request import Reply, Request, Usage


class OpenAIProvider(Provider):
    name = "openai"
    env_prefix = "OPENAI_"

    def new_client(self, connection: Connection) -> Any:
        import openai

        try:
            client = _client_class()(**connection.sdk_kwargs())
        except openai.OpenAIError as exc:  # raised by the constructor for missing credentials
            raise ConfigurationError(f"no OpenAI API key: set the OPENAI_API_KEY environment variable (or api_key on "
                                     f"the executor) [{exc}]", provider=self.name) from None
        check_key(getattr(client, "api_key", None), "OpenAI API key (OPENAI_API_KEY, or api_key on the executor)",
                  self.name)
        return client

    def arguments(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": request.model, "messages": wire_messages(request.messages)}
        if request.tools:
            kwargs["tools"] = function_tools(request)
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.max_tokens is not None:
            kwargs["max_completion_tokens"] = request.max_tokens
        if request.response_schema is not None:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": request.response_name or "reply", "schema": dict(request.response_schema)}}
        kwargs.update(request.options)
        return kwargs

    def create(self, client: Any, request: Request) -> Reply:
        completion = self.call(client.chat.completions.create, **self.arguments(request))
        if not completion.choices:
            raise ValueError("the answer has no choices")
        choice = completion.choices[0]
        if choice.finish_reason is None:  # every whole answer has one (a streamed one without it is refused too)
            raise ValueError("the answer has no stop reason (finish_reason is null): it is not a whole answer")
        message = choice.message
        calls = tuple(_tool_call(c) for c in (message.tool_calls or ()))
        refusal = getattr(message, "refusal", None)
        if not message.content and refusal:  # what the model said is in `refusal`, not `content` (Anthropic's is)
            return Reply(str(refusal), calls, "refusal", _usage(completion.usage), completion.model)
        if message.content is None and not calls and choice.finish_reason not in _NULL_CONTENT_STOPS:
            raise ValueError(_no_content(choice.finish_reason, _reasoning(message)))
        thought = tuple(_reasoning(message).items()) if message.content is None and not calls else ()
        return Reply(message.content or "", calls, choice.finish_reason, _usage(completion.usage), completion.model,
                     thought)

    def stream(self, client: Any, request: Request, on_text: TextSink) -> Reply:
        parts: list[str] = []
        refused: list[str] = []
        finish: str | None = None
        usage = Usage(reported=False)  # until a chunk carries it
        model: str | None = None
        chunks = self.call(client.chat.completions.create, **self.arguments(request), stream=True,
                                                stream_options={"include_usage": True})
        received, contented = 0, False  # (whether any chunk carried content, even "": OpenAI's first one does)
        reasoned: dict[str, int] = {}  # characters each reasoning field carried (``_REASONING_FIELDS``)
        with chunks:
            for chunk in chunks:
                received += 1
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
                for choice in chunk.choices[:1]:
                    text = choice.delta.content if choice.delta is not None else None
                    contented = contented or text is not None
                    if text:
                        parts.append(text)
                        on_text(text)
                    for field, chars in _reasoning(choice.delta).items():
                        reasoned[field] = reasoned.get(field, 0) + chars
                    refusal = getattr(choice.delta, "refusal", None) if choice.delta is not None else None
                    if refusal:
                        refused.append(refusal)
                        on_text(refusal)
                    finish = choice.finish_reason or finish
        if not received:
            raise ValueError("the streamed answer held no chunk")
        if finish is None:  # every complete answer ends with one: the stream was cut short
            raise ValueError(f"the stream ended after {received} chunks without a finish_reason")
        if refused and not parts:
            return Reply("".join(refused), (), "refusal", usage, model)
        if not contented and finish not in _NULL_CONTENT_STOPS:  # (a streamed answer is never one with tool calls)
            raise ValueError(_no_content(finish, reasoned))
        return Reply("".join(parts), (), finish, usage, model, () if contented else tuple(reasoned.items()))

    def status_error(self, exc: Exception) -> tuple[int, str] | None:
        import openai

        if isinstance(exc, openai.APIStatusError):
            return exc.status_code, body_message(exc.body, exc.message)
        return None

    def sdk_error(self) -> type[Exception]:
        import openai

        return openai.OpenAIError  # type: ignore[no-any-return]

    def is_connection_error(self, exc: Exception) -> bool:
        import openai

        return isinstance(exc, openai.APIConnectionError)


@functools.cache
def _client_class() -> type:
    """``openai.OpenAI`` following no redirect (``no_redirects``: the prompt went with a 307 to any host), and
    waiting before a retry no longer than the call's ``total_timeout`` leaves (``retry_wait``)."""
    import openai

    class OpenAI(openai.OpenAI):
        def _prepare_options(self, options: Any) -> Any:
            return no_redirects(super()._prepare_options(options))

        def _calculate_retry_timeout(self, remaining_retries: int, options: Any, response_headers: Any = None) -> float:
            return retry_wait(float(super()._calculate_retry_timeout(remaining_retries, options, response_headers)))

    return OpenAI


def wire_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            out.append({"role": "assistant", "content": m.content or None, "tool_calls": [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments), ensure_ascii=False)}}
                for c in m.tool_calls]})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def _tool_call(call: Any) -> ToolCall:
    function = call.function
    text = function.arguments or "{}"
    try:
        arguments = json.loads(text)
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise ValueError(f"tool call {call.id!r} ({function.name}) has arguments that are not a JSON object: "
                         f"{text[:200]!r}")
    return ToolCall(call.id, function.name, arguments)


#: finish reasons whose answer may hold no content at all: a refusal (``content_filter``: the text was withheld) and
#: a reply cut at the output limit (``length``) — both judged by their stop reason (``structured.check_stop``).
_NULL_CONTENT_STOPS = frozenset({"content_filter", "length", "model_context_window_exceeded"})


#: where OpenAI-compatible servers put a reasoning model's thinking (vLLM, DeepSeek: ``reasoning_content``; others:
#: ``reasoning``); not part of the OpenAI API, never taken as the answer.
_REASONING_FIELDS = ("reasoning_content", "reasoning")


def _reasoning(message: Any) -> dict[str, int]:
    """``{field: characters}`` of each reasoning field ``message`` (or a streamed delta) carries text in."""
    found = {}
    for field in _REASONING_FIELDS:
        text = getattr(message, field, None) if message is not None else None
        if isinstance(text, str) and text:
            found[field] = len(text)
    return found


def _no_content(finish: Any, reasoning: dict[str, int] | None = None) -> str:
    """Why an answer with no content, no tool calls and no refusal is not taken for the empty reply ``""``; naming
    the reasoning field that holds the model's text, when one does (its length only: the text is not the answer)."""
    said = (f"the answer has no content (message content is null, finish_reason {str(finish)[:40]!r}) and neither tool "
            "calls nor a refusal: it is not an answer (an empty one is content \"\")")
    if not reasoning:
        return (f"{said}; an OpenAI-compatible server may have put the model's whole output in a field it does not "
                "document (a reasoning model's)")
    field, chars = next(iter(reasoning.items()))
    return (f"{said}. The model's text is in {field!r} ({chars} characters), which this adapter does not take as the "
            "answer: it is a reasoning model's thinking, not its reply. The server put all of the output there — the "
            "model did not finish thinking, or the server's reasoning parser did not find where its answer starts")


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage(reported=False)
    return Usage(int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0))


__all__ = ["OpenAIProvider", "wire_messages"]
