"""Ollama through the official ``ollama`` SDK (``/api/chat``).

Wire format: messages keep their roles (system messages in place); an assistant turn with tool calls carries
``tool_calls`` (``function.name``, ``function.arguments`` as an object); each tool result is a ``role: tool``
message naming the tool in ``tool_name``. Ollama's tool calls have no ids, so the executor numbers them
(``call_1``, ``call_2``, ... over the conversation): results are matched by those ids like any provider's.
The host comes from ``base_url`` or ``OLLAMA_HOST``; the SDK has no retries of its own, so ``max_retries``
becomes the HTTP transport's connection retries.
"""

from __future__ import annotations

from typing import Any

from igniter_nb.llm.conversation import Message, ToolCall
from igniter_nb.llm.providers.base import (
    Connection,
    Provider,
    TextSink,
    _cut,
    check_key,
    function_tools,
    redirect_error,
)
from igniter_nb.llm.request import Reply, Request, Usage
from igniter_nb.settings import redact_url


class OllamaProvider(Provider):
    name = "ollama"
    env_prefix = "OLLAMA_"

    def new_client(self, connection: Connection) -> Any:
        import ollama

        kwargs: dict[str, Any] = dict(connection.client_options)
        if connection.timeout is not None:
            kwargs["timeout"] = connection.timeout
        if connection.max_retries is not None and "transport" not in kwargs:
            import httpx

            kwargs["transport"] = httpx.HTTPTransport(retries=connection.max_retries)
        if connection.api_key is not None:
            check_key(connection.api_key, "Ollama API key (api_key on the executor)", self.name)
            # a new dict: the one in client_options is the executor class's own (shared by its subclasses)
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Bearer {connection.api_key}"}
        # no redirect is followed (the prompt went with a 307 to any host); the SDK turns a 3xx into a ResponseError
        # without its Location, so the hook says where it pointed first
        kwargs["follow_redirects"] = False
        hooks = dict(kwargs.get("event_hooks") or {})
        kwargs["event_hooks"] = {**hooks, "response": [*hooks.get("response", ()), _refuse_redirect]}
        return ollama.Client(host=connection.base_url, **kwargs)

    def base_url(self, client: Any, connection: Connection) -> str:
        inner = getattr(client, "_client", None)
        return str(getattr(inner, "base_url", None) or connection.base_url or "?")

    def arguments(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": request.model, "messages": wire_messages(request.messages)}
        if request.tools:
            kwargs["tools"] = function_tools(request)
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        if request.response_schema is not None:
            kwargs["format"] = dict(request.response_schema)
        extra = dict(request.options)
        options.update(extra.pop("options", None) or {})
        if options:
            kwargs["options"] = options
        kwargs.update(extra)
        return kwargs

    def create(self, client: Any, request: Request) -> Reply:
        response = self.call(client.chat, **self.arguments(request))
        if not response.done:  # a whole answer says done (a stream without its done line is refused too)
            raise ValueError("the answer has no stop reason (done is false): it is not a whole answer")
        return _reply(response, response.message.content or "", request)

    def stream(self, client: Any, request: Request, on_text: TextSink) -> Reply:
        parts: list[str] = []
        last: Any = None
        calls: list[Any] = []
        for part in self.call(client.chat, **self.arguments(request), stream=True):
            last = part
            text = part.message.content if part.message is not None else None
            if text:
                parts.append(text)
                on_text(text)
            if part.message is not None and part.message.tool_calls:
                calls.extend(part.message.tool_calls)
        if last is None:
            raise ValueError("the streamed answer held no line")
        if not last.done:  # the last line of a complete answer says done: the stream was cut short
            raise ValueError("the stream ended before its last line (done: true)")
        return _reply(last, "".join(parts), request, calls)

    def status_error(self, exc: Exception) -> tuple[int, str] | None:
        import ollama

        if isinstance(exc, ollama.ResponseError):
            return exc.status_code, str(exc.error)
        return None

    def translate(self, exc: Exception, client: Any, connection: Connection) -> Any:
        import ollama

        if isinstance(exc, ollama.ResponseError) and exc.status_code < 0:  # an error line inside a stream
            from igniter_nb.llm.errors import ProviderError

            said = _cut(str(exc.error))
            return ProviderError(f"ollama failed: {said}", provider=self.name, provider_message=said)
        return super().translate(exc, client, connection)

    def is_connection_error(self, exc: Exception) -> bool:
        import httpx

        return isinstance(exc, ConnectionError | httpx.TransportError)


def _refuse_redirect(response: Any) -> None:
    """An httpx response hook: a redirect is :func:`redirect_error` (raised through the SDK unchanged)."""
    if response.is_redirect:
        request = response.request
        where = redact_url(str(request.url.copy_with(path="/", query=None)).rstrip("/"))
        raise redirect_error("ollama", where, response.status_code, response.headers.get("location"), request)


def wire_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "content": m.content, "tool_name": m.name})
        elif m.role == "assistant" and m.tool_calls:
            out.append({"role": "assistant", "content": m.content, "tool_calls": [
                {"function": {"name": c.name, "arguments": dict(c.arguments)}} for c in m.tool_calls]})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def _reply(response: Any, text: str, request: Request, calls: list[Any] | None = None) -> Reply:
    raw = calls if calls is not None else list(response.message.tool_calls or ()) if response.message else []
    asked = sum(len(m.tool_calls) for m in request.messages)  # ids continue the conversation's numbering
    tool_calls = tuple(ToolCall(f"call_{asked + i}", c.function.name, dict(c.function.arguments or {}))
                       for i, c in enumerate(raw, start=1))
    usage = Usage(int(response.prompt_eval_count or 0), int(response.eval_count or 0),
                  response.prompt_eval_count is not None or response.eval_count is not None)
    return Reply(text, tool_calls, response.done_reason, usage, response.model)


__all__ = ["OllamaProvider", "wire_messages"]
