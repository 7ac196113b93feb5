"""The bounds of one provider call: a deadline for all of it (``Executor.total_timeout``) and a cap on the bytes
its answers may hold (``Executor.max_answer_bytes``).

An SDK's ``timeout`` bounds connecting and each read: a provider (or a proxy) trickling its answer a byte at a
time, each byte in time, held the calling thread — and the node — for as long as it liked; one streaming an endless
body filled the process's memory. The SDKs expose no network layer, so the SDK client's connection pool is given a
network backend of its own (:func:`install`, the way ``server/total_timeout.py`` bounds the ``Client``): every
connect, read and write waits at most until the current call's deadline, and the bytes read are counted. Past
either bound the read raises the provider's :func:`stop_class` — an SDK error the SDKs pass on without retrying
(a retry would start the wait or the body again) — and ``Provider.send`` turns it into a ``ProviderError`` saying
which bound.

The bounds are a context variable set around each call (:func:`bounded`), so one cached SDK client shared by
threads bounds each thread's call by its own. Bytes are counted as they arrive on the connection (a compressed
answer by its compressed size), across the call's attempts.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

#: A provider call's default deadline, in seconds: longer than most answers take to generate and stream (the SDKs'
#: own per-read default is 600 s), and never shorter than the executor's ``timeout`` × (1 + retries) when it is left
#: at this default (``Executor._connection``); ``Executor.total_timeout`` sets another, None none.
DEFAULT_TOTAL_TIMEOUT = 1800.0
#: The most bytes a provider call reads by default (``Executor.max_answer_bytes``; None: no limit): 64 MiB, as the
#: server ``Client`` reads. An answer is kilobytes; a long streamed one a few megabytes.
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: The longest socket wait the deadline sets; past it a wait is left as the SDK set it.
_LONGEST_WAIT = 10.0**7


@dataclass(slots=True)
class Bounds:
    """One call's bounds, and what stopped it (``exceeded``: ``"total_timeout"`` or ``"max_answer_bytes"``)."""

    total_timeout: float | None
    max_answer_bytes: int | None
    stop: type[Exception]
    deadline: float | None = None
    read: int = 0
    exceeded: str | None = None

    def wait(self, timeout: float | None) -> float | None:
        """``timeout`` cut to the time left before the deadline; the stop error when none is left."""
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.stopped("total_timeout")
        if timeout is None:
            return left if left < _LONGEST_WAIT else None
        return min(timeout, left)

    def stopped(self, bound: str) -> Exception:
        self.exceeded = bound
        return self.stop(f"the call passed its {bound}")

    def passed(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


_current: ContextVar[Bounds | None] = ContextVar("igniter_llm_call_bounds", default=None)


@contextlib.contextmanager
def bounded(total_timeout: float | None, max_answer_bytes: int | None, stop: type[Exception]) -> Iterator[Bounds]:
    """The block is one provider call: its connections wait at most ``total_timeout`` from now and read at most
    ``max_answer_bytes``; past either, ``stop`` is raised where the read was (``Bounds.exceeded`` says which)."""
    bounds = Bounds(total_timeout, max_answer_bytes, stop,
                    None if total_timeout is None else time.monotonic() + total_timeout)
    token = _current.set(bounds)
    try:
        yield bounds
    finally:
        _current.reset(token)


def _bounds() -> Bounds | None:
    return _current.get()


def retry_wait(seconds: float) -> float:
    """An SDK's wait before a retry, cut to the time left before the current call's deadline: its retry sleeps are no
    network wait the backend sees, and a ``Retry-After: 120`` slept past a deadline of 1 s (the connect after it
    then fails at once, :class:`Bounds`)."""
    bounds = _bounds()
    if bounds is None or bounds.deadline is None:
        return seconds
    return max(min(seconds, bounds.deadline - time.monotonic()), 0.0)


class _Stream:
    """A network stream of httpcore or httpcore2 whose waits and reads obey the current call's bounds."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bounds = _bounds()
        if bounds is None:
            return self._stream.read(max_bytes, timeout)  # type: ignore[no-any-return]
        try:
            data: bytes = self._stream.read(max_bytes, bounds.wait(timeout))
        except Exception as exc:
            if bounds.exceeded is None and bounds.passed():  # (the wait cut to the deadline timed out)
                raise bounds.stopped("total_timeout") from exc
            raise
        bounds.read += len(data)
        if bounds.max_answer_bytes is not None and bounds.read > bounds.max_answer_bytes:
            raise bounds.stopped("max_answer_bytes")
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bounds = _bounds()
        if bounds is None:
            self._stream.write(buffer, timeout)
            return
        try:
            self._stream.write(buffer, bounds.wait(timeout))
        except Exception as exc:
            if bounds.exceeded is None and bounds.passed():
                raise bounds.stopped("total_timeout") from exc
            raise

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        bounds = _bounds()
        wait = timeout if bounds is None else bounds.wait(timeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend:
    """An httpcore/httpcore2 network backend whose streams are :class:`_Stream`."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> Any:
        bounds = _bounds()
        wait = timeout if bounds is None else bounds.wait(timeout)
        return _Stream(self._backend.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        bounds = _bounds()
        wait = timeout if bounds is None else bounds.wait(timeout)
        return _Stream(self._backend.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        bounds = _bounds()
        if bounds is not None and bounds.deadline is not None:
            seconds = max(min(seconds, bounds.deadline - time.monotonic()), 0)
        self._backend.sleep(seconds)


class UnboundedWarning(RuntimeWarning):
    """An LLM provider's SDK client has no connection pool the call bounds can reach (an SDK whose internals changed,
    an ``http_client`` with a transport of its own): its calls are bounded by ``timeout`` only."""


def install(http_client: Any, provider: str) -> None:
    """Give every connection pool of ``http_client`` (an ``httpx`` or ``httpx2`` client: its transport and any
    proxy mounts) the bounded network backend; :class:`UnboundedWarning` when there is none to give it to."""
    transports = [getattr(http_client, "_transport", None), *(getattr(http_client, "_mounts", None) or {}).values()]
    found = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, _Backend):
            found = True
        elif backend is not None and callable(getattr(backend, "connect_tcp", None)):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
            found = True
    if not found:
        warnings.warn(f"the {provider} SDK client's HTTP transport ({type(transports[0]).__name__}) has no connection "
                      "pool to bound: total_timeout and max_answer_bytes cannot be enforced, each read is bounded by "
                      "timeout only", UnboundedWarning, stacklevel=3)


_stops: dict[str, type[Exception]] = {}


def stop_class(base: type[Exception]) -> type[Exception]:
    """The error a bounded read raises for a provider whose SDK errors derive from ``base``: the SDKs pass their own
    errors on unchanged (no retry, no wrapping). One class per ``base``."""
    key = f"{base.__module__}.{base.__qualname__}"
    found = _stops.get(key)
    if found is None:
        found = _stops.setdefault(key, type("CallBoundPassed", (base,), {"__module__": __name__}))
    return found


__all__ = ["DEFAULT_MAX_ANSWER_BYTES", "DEFAULT_TOTAL_TIMEOUT", "Bounds", "UnboundedWarning", "bounded", "install",
           "retry_wait", "stop_class"]
