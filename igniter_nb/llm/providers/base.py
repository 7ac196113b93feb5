"""What every provider adapter shares: connection settings, SDK clients built from the configuration *as it is
at call time* (L-48), and the translation of SDK exceptions into ``ProviderError``/``ConfigurationError``.

Clients are reused while nothing that built them changed: the cache key holds the executor's connection
settings *and* every environment variable of the provider's prefix (``ANTHROPIC_``, ``OPENAI_``, ``OLLAMA_``),
read on each call — so setting ``ANTHROPIC_BASE_URL`` between two calls takes effect on the second one, and
connections are still pooled between calls that share a configuration.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import inspect
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb._error_text import cut_end
from igniter_nb.llm.errors import ConfigurationError, LLMError, ProviderError
from igniter_nb.llm.providers.bounds import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_TOTAL_TIMEOUT,
    Bounds,
    bounded,
    install,
    stop_class,
)
from igniter_nb.llm.request import Reply, Request
from igniter_nb.settings import redact_url

TextSink = Callable[[str], Any]
_MAX_CLIENTS = 16
#: Stop reasons of an answer cut at the output limit (Anthropic ``max_tokens``, OpenAI and Ollama ``length``).
CUT_STOPS = frozenset({"max_tokens", "length", "model_context_window_exceeded"})
#: The longest ``Retry-After`` an SDK retry waits (seconds; the OpenAI SDK's own bound): a provider asking for a
#: longer wait is not retried but answered with a ``ProviderError`` saying how long it asked for.
MAX_RETRY_AFTER = 120.0
#: The most characters of a provider's own error words a ``ProviderError`` keeps (``provider_message``, and its
#: message): an error answer is a sentence, but a proxy's HTML page or a broken provider's message can be megabytes,
#: and a failed node keeps its error in the stored snapshot and the ``llm_call`` audit.
PROVIDER_MESSAGE_SHOWN = 2000


@dataclass(frozen=True, slots=True)
class Connection:
    """How to reach a provider, as configured in code (``None`` = the SDK's own default or environment)."""

    api_key: str | None = None
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    client_options: Mapping[str, Any] = field(default_factory=dict)
    #: each call's deadline and answer size cap (``bounds.py``); not SDK settings: one client serves any of them
    total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT
    max_answer_bytes: int | None = DEFAULT_MAX_ANSWER_BYTES

    def sdk_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for an SDK client taking ``api_key``, ``base_url``, ``timeout`` and ``max_retries``:
        the ones set here, over ``client_options``."""
        kwargs: dict[str, Any] = dict(self.client_options)
        for name in ("api_key", "base_url", "timeout", "max_retries"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs

    def key(self) -> tuple[Any, ...]:
        options = tuple(sorted((str(k), repr(v)) for k, v in self.client_options.items()))
        return (self.api_key, self.base_url, self.timeout, self.max_retries, options)


class Provider:
    """One provider behind its official SDK. Subclasses set ``name``, ``env_prefix`` and implement
    ``new_client``, ``create``, ``stream`` and ``status_error``."""

    name: str = ""
    env_prefix: str = ""

    def __init__(self) -> None:
        self._clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ clients
    def environment(self) -> tuple[tuple[str, str], ...]:
        """The provider's environment variables now (part of the client cache key)."""
        return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(self.env_prefix)))

    def client(self, connection: Connection) -> Any:
        """An SDK client for ``connection`` and the current environment (built anew when either changed)."""
        key = (connection.key(), self.environment())
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                self._clients.move_to_end(key)
                return found
        try:
            client = self.new_client(connection)
        except TypeError as exc:  # an unknown keyword in client_options (the SDK's own words say which)
            raise ConfigurationError(f"the {self.name} SDK client does not take these options ({exc}): check "
                                     "client_options", provider=self.name) from None
        install(getattr(client, "_client", None), self.name)  # each call's deadline and size cap (bounds.py)
        with self._lock:
            self._clients[key] = client
            while len(self._clients) > _MAX_CLIENTS:
                _, old = self._clients.popitem(last=False)
                _close(old)
        return client

    def close_clients(self) -> int:
        """Close every cached SDK client (their pooled connections); the next request builds a new one. How many
        were closed."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            _close(client)
        return len(clients)

    def new_client(self, connection: Connection) -> Any:  # pragma: no cover - every provider overrides it
        raise NotImplementedError

    def sdk_error(self) -> type[Exception]:
        """The base class of the SDK's own errors, which it passes on without retrying or wrapping them."""
        return Exception

    def where(self, client: Any, connection: Connection) -> str:
        """The URL requests go to, as error messages show it: a password in it (``user:***@``) and a secret query
        value (``token=***``) hidden, as everywhere in igniter_nb (the errors are kept in a failed node's
        snapshot)."""
        return redact_url(self.base_url(client, connection))

    def base_url(self, client: Any, connection: Connection) -> str:
        """The URL requests go to, as configured."""
        return str(getattr(client, "base_url", None) or connection.base_url or "?")

    # ------------------------------------------------------------------ calls
    def send(self, request: Request, connection: Connection, on_text: TextSink | None = None) -> Reply:
        """Send ``request`` (streaming text to ``on_text`` when given). SDK errors become ``ProviderError``, and so
        does an answer the SDK or the adapter cannot read (not JSON, fields missing, a stream with nothing in it):
        the message names the provider and the URL. An exception of ``on_text`` itself goes through unchanged."""
        client = self.client(connection)
        sink = _Sink(on_text) if on_text is not None else None
        try:
            with bounded(connection.total_timeout, connection.max_answer_bytes, stop_class(self.sdk_error())) as bounds:
                reply = self.stream(client, request, sink) if sink is not None else self.create(client, request)
        except LLMError:
            raise
        except Exception as exc:
            if sink is not None and exc is sink.failure:
                raise
            if bounds.exceeded is not None:
                raise self.out_of_bounds(bounds, self.where(client, connection)) from exc
            error = self.translate(exc, client, connection)
            if error is None:
                where = self.where(client, connection)
                error = ProviderError(f"{self.name} at {where} answered with something that is not a valid response: "
                                      f"{_brief(exc)}", provider=self.name, url=where)
            raise error from exc
        problem = tool_call_problem(reply)
        if problem is not None:  # a pending node could never be resumed with such calls: refused on arrival
            where = self.where(client, connection)
            raise ProviderError(f"{self.name} at {where} answered with {problem}", provider=self.name, url=where)
        return reply

    def out_of_bounds(self, bounds: Bounds, where: str) -> ProviderError:
        """The error of a call stopped at one of its bounds (``bounds.exceeded``)."""
        if bounds.exceeded == "max_answer_bytes":
            return ProviderError(f"{self.name} at {where} answered more than {bounds.max_answer_bytes} bytes "
                                 "(max_answer_bytes on the executor); nothing more was read and the call was not "
                                 "retried", provider=self.name, url=where, max_answer_bytes=bounds.max_answer_bytes)
        return ProviderError(f"{self.name} at {where}: no complete answer within total_timeout="
                             f"{bounds.total_timeout:g}s (total_timeout on the executor: the whole call, retries "
                             "included; timeout bounds each read only); the call was stopped and not retried, the "
                             "provider may have received the request", provider=self.name, url=where,
                             total_timeout=bounds.total_timeout)

    def create(self, client: Any, request: Request) -> Reply:  # pragma: no cover
        raise NotImplementedError

    def call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """``method(**kwargs)`` after checking the SDK method takes those keywords: an unknown one (from
        ``request_options``) is a ``ConfigurationError`` here, not an exception mistaken for a bad answer."""
        signature = _signature(getattr(method, "__func__", method), hasattr(method, "__func__"))
        if signature is not None:  # (None: no signature to check: the call itself will say)
            try:
                signature.bind(**kwargs)
            except TypeError as exc:
                raise ConfigurationError(f"the {self.name} SDK's {getattr(method, '__qualname__', method)}() does not "
                                         f"take these arguments ({exc}): check request_options",
                                         provider=self.name) from None
        return method(**kwargs)

    def stream(self, client: Any, request: Request, on_text: TextSink) -> Reply:  # pragma: no cover
        raise NotImplementedError

    def translate(self, exc: Exception, client: Any, connection: Connection) -> ProviderError | None:
        """A ``ProviderError`` for an SDK exception, or ``None`` to let it through unchanged."""
        found = self.status_error(exc)
        if found is not None:
            status, message = found
            message = _cut(message)
            response = getattr(exc, "response", None)
            if 300 <= status < 400 and response is not None:
                return redirect_error(self.name, self.where(client, connection), status,
                                      getattr(response, "headers", {}).get("location"), getattr(response, "request", None))
            wait = retry_after_of(getattr(getattr(exc, "response", None), "headers", None))
            if wait is None:
                return ProviderError(f"{self.name} answered {status}: {message}", provider=self.name,
                                     status_code=status, provider_message=message)
            said = f"it asked to wait {_seconds(wait)} s before retrying"
            if wait > MAX_RETRY_AFTER:
                said += f", longer than the {MAX_RETRY_AFTER:g} s a retry waits, so it was not retried"
            return ProviderError(f"{self.name} answered {status}: {message} ({said})", provider=self.name,
                                 status_code=status, provider_message=message, retry_after=wait)
        if self.is_connection_error(exc) or is_transport_error(exc):
            where = self.where(client, connection)
            root = _root_cause(exc)  # the SDKs' own words are often just "Connection error."
            detail = _brief(exc) if root is exc or str(root) in str(exc) else f"{_brief(exc)} ({_brief(root)})"
            detail = redact_url(self.base_url(client, connection), detail)  # (an SDK's words may quote the URL)
            if _lost_after_sending(exc):
                return ProviderError(f"the connection to {self.name} at {where} failed before the answer was complete "
                                     f"({detail}); the provider may have received the request", provider=self.name,
                                     url=where)
            return ProviderError(f"cannot reach {self.name} at {where}: {detail}", provider=self.name, url=where)
        return None

    def status_error(self, exc: Exception) -> tuple[int, str] | None:  # pragma: no cover
        raise NotImplementedError

    def is_connection_error(self, exc: Exception) -> bool:  # pragma: no cover
        raise NotImplementedError


@functools.lru_cache(maxsize=64)
def _signature(function: Callable[..., Any], bound: bool) -> inspect.Signature | None:
    """The signature ``Provider.call`` checks keywords against, read once per SDK method: a bound method
    (``client.messages.create``) is a new object at every access, so it is cached by its function, without the
    ``self`` it is bound to; ``None`` when there is none to read."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    if bound and parameters and parameters[0].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                       inspect.Parameter.POSITIONAL_OR_KEYWORD):
        signature = signature.replace(parameters=parameters[1:])  # as inspect.signature(bound method) reads it
    return signature


def no_redirects(options: Any) -> Any:
    """An SDK request's options (``FinalRequestOptions``) made not to follow redirects: the SDKs follow them, and
    httpx drops only ``Authorization`` when the origin changes — Anthropic's ``x-api-key``, and the prompt a 307
    or 308 sends again, went to whatever host the ``Location`` named. A 3xx is :func:`redirect_error` instead."""
    options.follow_redirects = False
    return options


def redirect_error(provider: str, where: str, status: int, location: Any, request: Any) -> ProviderError:
    """The error of a provider request answered with a redirect (never followed: :func:`no_redirects`), naming
    where it pointed (resolved against the request's URL; a password in it as ``***``)."""
    target = "no Location"
    if isinstance(location, str) and location:
        try:
            target = str(request.url.join(location)) if request is not None else location
        except Exception:  # (a Location that is no URL: shown as it came)
            target = location
        target = redact_url(target)[:300]
    return ProviderError(f"{provider} at {where} answered a redirect (HTTP {status}) to {target}, which is not "
                         "followed: a provider request carries the API key and the prompt, and goes only to the "
                         "configured base_url (set base_url to the new address if the provider moved there)",
                         provider=provider, url=where, status_code=status, location=target)


def retry_after_of(headers: Any) -> float | None:
    """The wait a provider's answer asks for before a retry, in seconds, read as the Anthropic and OpenAI SDKs read
    it (``retry-after-ms``, else ``retry-after`` as seconds or as an HTTP date); ``None`` when it asks for no wait
    (no header, zero, negative, not a number, not finite)."""
    if headers is None:
        return None
    try:
        milliseconds, seconds = headers.get("retry-after-ms"), headers.get("retry-after")
    except Exception:  # (not a mapping of headers)
        return None
    wait: float | None = None
    for text, scale in ((milliseconds, 1000.0), (seconds, 1.0)):
        try:
            wait = float(text) / scale
            break
        except (TypeError, ValueError):
            continue
    if wait is None and isinstance(seconds, str):
        moment = email.utils.parsedate_tz(seconds)
        if moment is not None:
            wait = float(email.utils.mktime_tz(moment) - time.time())
    if wait is None or not math.isfinite(wait) or wait <= 0:
        return None
    return wait


def _cut(text: str) -> str:
    """``text`` cut to :data:`PROVIDER_MESSAGE_SHOWN` characters, saying how many were left out."""
    return cut_end(text, PROVIDER_MESSAGE_SHOWN)


def _seconds(wait: float) -> str:
    return f"{wait:.0f}" if wait >= 10 else f"{wait:.3g}"


def check_key(value: Any, what: str, provider: str) -> None:
    """Refuse an API key an HTTP header cannot carry (a newline, a space, a typographic quote pasted with it):
    the SDK would fail with a bare ``UnicodeEncodeError`` or a misleading "Connection error". The key is not
    shown, only where the bad character is."""
    if not isinstance(value, str):
        return
    for i, char in enumerate(value):
        if not "\x21" <= char <= "\x7e":
            kind = {"\n": "a newline", "\r": "a carriage return", " ": "a space", "\t": "a tab"}.get(
                char, f"the character U+{ord(char):04X}")
            raise ConfigurationError(f"the {what} holds {kind} at position {i + 1}, which an HTTP header cannot "
                                     "carry: check for a stray newline, space or quote where the key was pasted",
                                     provider=provider)


def function_tools(request: Request) -> list[dict[str, Any]]:
    """The request's tools in the ``{"type": "function", "function": {...}}`` form OpenAI and Ollama share."""
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": dict(t.parameters)}} for t in request.tools]


def body_message(body: Any, fallback: str) -> str:
    """The provider's own error words from a JSON error body (``{"error": {"message": ...}}`` and variants)."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(body.get("message"), str):
            return str(body["message"])
    if isinstance(body, str) and body.strip():  # not JSON (a proxy's HTML page): its start says more than nothing
        text = " ".join(body.split())
        return text[:300] + ("…" if len(text) > 300 else "")
    return fallback


def tool_call_problem(reply: Reply) -> str | None:
    """What makes the reply's tool calls unanswerable — calls cut at the output limit (their arguments may be
    incomplete), a call without an id or a tool name, two calls with one id (results are matched by id) — or
    ``None``."""
    if reply.tool_calls and reply.stop_reason in CUT_STOPS:
        return (f"tool calls cut at the output limit (stop reason {reply.stop_reason!r}): their arguments may be "
                "incomplete, so none is run or waited on; raise max_tokens")
    seen: set[str] = set()
    for i, call in enumerate(reply.tool_calls):
        if not isinstance(call.id, str) or not call.id:
            return f"tool call #{i + 1} ({call.name!r}) without an id"
        if not isinstance(call.name, str) or not call.name:
            return f"tool call {call.id!r} without a tool name"
        if call.id in seen:
            return f"two tool calls with the id {call.id!r}"
        seen.add(call.id)
        where = _not_json_number(call.arguments, "")
        if where is not None:
            return (f"tool call {call.id!r} ({call.name}) whose arguments hold a number JSON does not have "
                    f"({where}): NaN or an infinity cannot be sent back to the provider nor stored as JSON")
    return None


def _not_json_number(value: Any, path: str) -> str | None:
    """Where ``value`` (a tool call's arguments as read) holds a float JSON has not — ``NaN``, ``Infinity``, which
    the SDKs' JSON readers accept — as ``"arguments['a'][0] = nan"``; ``None`` when nowhere. Walked without
    recursion (arguments may nest hundreds of levels: ``test_deep_arguments.py``), the path cut at 200 characters."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            shown = where if len(where) <= 200 else f"{where[:200]}…"
            return f"arguments{shown} = {item!r}"
        if isinstance(item, Mapping):
            stack.extend((v, f"{where}[{k!r}]") for k, v in reversed(list(item.items())))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None


class _Sink:
    """The caller's ``on_text``, remembering an exception it raised (so it is not mistaken for the provider's)."""

    def __init__(self, on_text: TextSink) -> None:
        self.on_text = on_text
        self.failure: BaseException | None = None

    def __call__(self, text: str) -> Any:
        try:
            return self.on_text(text)
        except BaseException as exc:
            self.failure = exc
            raise


def is_transport_error(exc: BaseException) -> bool:
    """An HTTP transport failure of ``httpx`` (or the ``httpx2`` the Anthropic and OpenAI SDKs use): a connection
    refused, dropped mid-answer or timed out, wherever the SDK let it through unwrapped (reading a stream)."""
    return any(c.__name__ == "TransportError" and c.__module__.split(".")[0] in ("httpx", "httpx2")
               for c in type(exc).__mro__)


#: httpx's names for a connection that failed after the request went out (reading the answer, or writing it)
_AFTER_SENDING = frozenset({"ReadError", "ReadTimeout", "RemoteProtocolError", "WriteError", "WriteTimeout"})


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def _lost_after_sending(exc: BaseException) -> bool:
    """Whether the failure (or a cause of it) is a connection lost after the request went out, as opposed to one
    that could not be made (refused, unknown host, a URL that is not one)."""
    return any(type(e).__name__ in _AFTER_SENDING for e in _causes(exc))


def _root_cause(exc: BaseException) -> BaseException:
    return _causes(exc)[-1]


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}{'…' if len(text) > 300 else ''}"


def _close(client: Any) -> None:
    close = getattr(client, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):  # a client that cannot close cleanly is dropped anyway
            close()


__all__ = ["MAX_RETRY_AFTER", "PROVIDER_MESSAGE_SHOWN", "Connection", "Provider", "TextSink", "body_message", "function_tools", "no_redirects",
           "redirect_error", "retry_after_of"]
