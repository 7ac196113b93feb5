"""Anthropic through the official ``anthropic`` SDK (Messages API).

Wire format: every system message goes into the ``system`` parameter (joined by a blank line, in order: the
reference kept only the first, L-49); an assistant turn with tool calls is a list of ``text`` and ``tool_use``
blocks with the model's ids; tool results are ``tool_result`` blocks (with ``tool_use_id``) in a ``user``
turn. Consecutive turns of one role are merged into one turn, as the API expects. ``temperature`` is no longer
a typed SDK argument, so it travels in ``extra_body`` (only when set).
"""

from __future__ import annotations

import functools
from typing import Any

from igniter_nb.llm.conversation import Message, ToolCall
from igniter_nb.llm.errors import ConfigurationError
from igniter_nb.llm.providers.base import (
    MAX_RETRY_AFTER,
    Connection,
    Provider,
    TextSink,
    body_message,
    check_key,
    no_redirects,
    retry_after_of,
)
from igniter_nb.llm.providers.bounds import retry_wait
from igniter_nb.llm.request import Reply, Request, Usage

#: Anthropic requires ``max_tokens``; this is used when the executor sets none.
DEFAULT_MAX_TOKENS = 1024


class AnthropicProvider(Provider):
    name = "anthropic"
    env_prefix = "ANTHROPIC_"

    def new_client(self, connection: Connection) -> Any:
        import anthropic

        kwargs = connection.sdk_kwargs()
        missing = ("no Anthropic API key: set the ANTHROPIC_API_KEY environment variable (or api_key on the "
                   "executor)")
        try:
            client = _bounded_client_class()(**kwargs)
        except getattr(anthropic, "CredentialsError", ()) as exc:  # no key, and no profile/federation configuration
            raise ConfigurationError(f"{missing} [{exc}]", provider=self.name) from None
        if client.api_key is None and client.auth_token is None and getattr(client, "credentials", None) is None:
            raise ConfigurationError(missing, provider=self.name)
        check_key(client.api_key, "Anthropic API key (ANTHROPIC_API_KEY, or api_key on the executor)", self.name)
        check_key(client.auth_token, "Anthropic auth token (ANTHROPIC_AUTH_TOKEN)", self.name)
        return client

    # ------------------------------------------------------------------ requests
    def arguments(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": wire_messages(request.messages),
        }
        systems = request.system_texts
        if systems:
            kwargs["system"] = "\n\n".join(systems)
        if request.tools:
            kwargs["tools"] = [{"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                               for t in request.tools]
        if request.response_schema is not None:
            import anthropic

            kwargs["output_config"] = {"format": {"type": "json_schema",
                                                  "schema": anthropic.transform_schema(dict(request.response_schema))}}
        extra_body: dict[str, Any] = {}
        if request.temperature is not None:
            extra_body["temperature"] = request.temperature
        options = dict(request.options)
        extra_body.update(options.pop("extra_body", None) or {})
        if extra_body:
            kwargs["extra_body"] = extra_body
        kwargs.update(options)
        return kwargs

    def create(self, client: Any, request: Request) -> Reply:
        return reply_of(self.call(client.messages.create, **self.arguments(request)))

    def stream(self, client: Any, request: Request, on_text: TextSink) -> Reply:
        seen: list[str] = []  # the stream's events so far, by type (to say what came out of order)
        with self.call(client.messages.stream, **self.arguments(request)) as events:
            stream = iter(events)
            while True:
                try:  # (the SDK's accumulator assumes the API's order: its AssertionError or IndexError say no more)
                    event = next(stream)
                except StopIteration:
                    break
                except (AssertionError, IndexError) as exc:
                    raise ValueError(_out_of_order(seen, exc)) from exc
                if event.type == "text":  # (what text_stream yields: the text of each text_delta; on_text's own
                    on_text(event.text)  # exceptions go through as they are)
                else:
                    seen.append(event.type)
            try:
                final = events.get_final_message()
            except AssertionError as exc:
                raise ValueError(_out_of_order(seen, exc)) from exc
            return reply_of(final)

    # ------------------------------------------------------------------ errors
    def status_error(self, exc: Exception) -> tuple[int, str] | None:
        import anthropic

        if isinstance(exc, anthropic.APIStatusError):
            message = getattr(exc, "api_message", None) or body_message(exc.body, exc.message)
            return exc.status_code, message
        return None

    def sdk_error(self) -> type[Exception]:
        import anthropic

        return anthropic.AnthropicError  # type: ignore[no-any-return]

    def is_connection_error(self, exc: Exception) -> bool:
        import anthropic

        return isinstance(exc, anthropic.APIConnectionError)


@functools.cache
def _bounded_client_class() -> type:
    """``anthropic.Anthropic`` following no redirect (``no_redirects``: its ``x-api-key`` went with one to any
    host), and waiting at most ``MAX_RETRY_AFTER`` seconds before a retry. The SDK honours any
    ``Retry-After`` up to ~50 days (a proxy's bad header hung the worker, whatever ``timeout`` said); this one
    does what the OpenAI SDK does: a longer wait is not retried (the ``ProviderError`` says how long it was), and
    a retry whose wait cannot be honoured falls back to the SDK's exponential back-off."""
    import anthropic

    class BoundedAnthropic(anthropic.Anthropic):
        def _prepare_options(self, options: Any) -> Any:
            return no_redirects(super()._prepare_options(options))

        def _should_retry(self, response: Any) -> bool:
            wait = retry_after_of(response.headers)
            if wait is not None and wait > MAX_RETRY_AFTER:
                return False
            return bool(super()._should_retry(response))

        def _calculate_retry_timeout(self, remaining_retries: int, options: Any, response_headers: Any = None) -> float:
            wait = retry_after_of(response_headers)
            if wait is None or wait > MAX_RETRY_AFTER:  # ("inf" too, which the SDK would wait ~50 days for)
                response_headers = None  # the SDK's own exponential back-off
            return retry_wait(float(super()._calculate_retry_timeout(remaining_retries, options, response_headers)))

    BoundedAnthropic.__qualname__ = BoundedAnthropic.__name__ = "Anthropic"
    return BoundedAnthropic


def wire_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """The non-system messages as Anthropic ``messages`` (tool turns as content blocks, same roles merged)."""
    turns: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
            if m.is_error:
                block["is_error"] = True
            role, blocks = "user", [block]
        elif m.role == "assistant" and m.tool_calls:
            blocks = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)} for c in m.tool_calls]
            role = "assistant"
        else:
            role, blocks = m.role, [{"type": "text", "text": m.content}]
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:  # a lone text block is sent as plain text, the API's simplest form
        blocks = turn["content"]
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            turn["content"] = blocks[0]["text"]
    return turns


def _out_of_order(seen: list[str], exc: BaseException) -> str:
    """What the SDK's bare ``AssertionError`` / ``IndexError`` meant: the streamed events were not in the API's
    order (``message_start`` first; a content block's ``content_block_start`` before its deltas and stop)."""
    shown = ", ".join(seen[-6:]) if seen else "none"
    if len(seen) > 6:
        shown = f"… {shown}"
    if isinstance(exc, AssertionError):
        what = "the stream ended without a message_start event, which comes first"
    else:
        what = ("a content_block_delta or content_block_stop came for a content block that no content_block_start "
                "had opened")
    return f"the streamed events came out of order: {what} (events before it: {shown})"


def reply_of(message: Any) -> Reply:
    if message.stop_reason is None:  # every whole message has one (the stream's message_delta carries it)
        raise ValueError("the answer has no stop reason (stop_reason is null): it is not a whole answer")
    text = "".join(b.text for b in message.content if getattr(b, "type", None) == "text")
    calls = tuple(ToolCall(b.id, b.name, _arguments(b)) for b in message.content
                  if getattr(b, "type", None) == "tool_use")
    usage = getattr(message, "usage", None)
    inputs, outputs = getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None)
    return Reply(text, calls, message.stop_reason,
                 Usage(int(inputs or 0), int(outputs or 0), inputs is not None or outputs is not None),
                 getattr(message, "model", None))


def _arguments(block: Any) -> dict[str, Any]:
    """A ``tool_use`` block's ``input``, which the API sends as a JSON object: anything else (a list of pairs that
    ``dict()`` would have made into an object, a text, a number, null) is not a valid answer."""
    value = block.input
    if not isinstance(value, dict):
        import json

        shown = json.dumps(value, ensure_ascii=False, default=repr)
        raise ValueError(f"tool call {block.id!r} ({block.name}) has arguments that are not a JSON object: "
                         f"{shown[:200]!r}")
    return dict(value)


__all__ = ["AnthropicProvider", "reply_of", "wire_messages"]
