"""The overall deadline of one client call (``Client(total_timeout=...)``): ``timeout`` bounds connecting and each
read, so a server trickling its answer a byte at a time — each byte within the timeout — held a call, and a remote
node's worker, for as long as it liked.

The blocking ``Client`` cannot interrupt a socket read from outside, so its connections are made through a network
backend (httpcore's own, wrapped) that gives every connect, read and write at most the time left before the
current call's deadline, and fails at once when none is left: httpx then raises its ``ConnectTimeout`` /
``ReadTimeout`` / ``WriteTimeout`` as for any timeout. The deadline is a context variable, set by the call
(:func:`within`), so one client shared by threads bounds each thread's call by its own deadline. The
``AsyncClient`` runs each call under ``asyncio.timeout`` (:func:`awithin`), which cancels wherever the call is.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

#: A call's default ``total_timeout``: this many times the client's longest timeout (connecting, sending and waiting
#: for the answer may each take up to ``timeout``; reading the answer after that fits in the rest unless it trickles).
DEFAULT_FACTOR = 3

#: The longest socket wait the deadline sets; past it a wait is left unbounded, as without one.
LONGEST_WAIT = 10.0**7

_deadline: ContextVar[float | None] = ContextVar("igniter_client_deadline", default=None)


def seconds(value: Any) -> bool:
    """A finite number of seconds > 0 (not a bool; an int past a float's range is no number of seconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return 0 < float(value) < math.inf
    except OverflowError:
        return False


def check_timeout(timeout: Any) -> httpx.Timeout:
    """``timeout`` as the client keeps it: seconds > 0, an ``httpx.Timeout`` whose parts are seconds > 0 or None,
    or None (no timeout); ``ValueError`` naming the value (``"5"``, ``0``, ``nan`` or ``True`` passed to httpx as
    they were: a timeout of ``nan`` s, a ``str`` refused only by the socket at the first call)."""
    if isinstance(timeout, httpx.Timeout):
        parts = {"connect": timeout.connect, "read": timeout.read, "write": timeout.write, "pool": timeout.pool}
        bad = next(((name, part) for name, part in parts.items() if part is not None and not seconds(part)), None)
        if bad is not None:
            raise ValueError(f"timeout must be a number of seconds > 0, an httpx.Timeout of such numbers or None, "
                             f"got httpx.Timeout with {bad[0]}={bad[1]!r:.80}")
        return httpx.Timeout(**{name: _wait(part) for name, part in parts.items()})
    if timeout is not None and not seconds(timeout):
        raise ValueError(f"timeout must be a number of seconds > 0, an httpx.Timeout of such numbers or None, got "
                         f"{timeout!r:.80}")
    return httpx.Timeout(_wait(timeout))


def _wait(part: float | None) -> float | None:
    """A socket wait of ``part`` seconds; past :data:`LONGEST_WAIT` none (a wait of 1e300 s overflows the OS's
    timeval: ``OverflowError`` at the first call — a wait that long is no bound)."""
    return None if part is None or part >= LONGEST_WAIT else float(part)


def check_total_timeout(total_timeout: Any, timeout: httpx.Timeout) -> float | None:
    """``total_timeout`` as the client keeps it: seconds > 0; None gives :data:`DEFAULT_FACTOR` × the longest part of
    ``timeout``, or no deadline when ``timeout`` has none either (``httpx.Timeout(None)``)."""
    if total_timeout is None:
        parts = [p for p in (timeout.connect, timeout.read, timeout.write, timeout.pool) if p is not None]
        return DEFAULT_FACTOR * max(parts) if parts else None
    if not seconds(total_timeout):
        raise ValueError(f"total_timeout must be a number of seconds > 0 (or None: {DEFAULT_FACTOR} × timeout), "
                         f"got {total_timeout!r:.80}")
    return float(total_timeout)


@contextlib.contextmanager
def within(total_timeout: float | None) -> Iterator[None]:
    """The block is one call: the connections of a blocking client wait at most until ``total_timeout`` from now."""
    token = _deadline.set(None if total_timeout is None else time.monotonic() + total_timeout)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextlib.contextmanager
def until(deadline: float) -> Iterator[None]:
    """Within the block, the connections of a blocking client wait at most until ``deadline`` (``time.monotonic``):
    a live stream's idle deadline, set around each read (``follow.py``) — never across a ``yield``."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextlib.asynccontextmanager
async def awithin(total_timeout: float | None) -> AsyncIterator[None]:
    """The block is one call of an ``AsyncClient``, cancelled at ``total_timeout``: ``TimeoutError`` then."""
    if total_timeout is None:
        yield
        return
    async with asyncio.timeout(total_timeout if total_timeout < LONGEST_WAIT else None):
        yield


def passed() -> bool:
    """Whether the current call's deadline has passed (False outside a call, or without a deadline)."""
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


def left() -> float | None:
    """Seconds left before the current call's deadline (None: no deadline)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def _bounded(timeout: float | None, timed_out: type[Exception]) -> float | None:
    """``timeout`` cut to the time left before the current call's deadline; ``timed_out`` when none is left."""
    remaining = left()
    if remaining is None:
        return timeout
    if remaining <= 0:
        raise timed_out("the call's total_timeout passed")
    if timeout is None:  # (a socket wait of 1e300 s overflows the OS's timeval: a wait that long is no bound)
        return remaining if remaining < LONGEST_WAIT else None
    return min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's network backend, every wait cut to the current call's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout),
                                                         socket_options))

    def sleep(self, seconds: float) -> None:  # httpcore's own connect retries wait here
        remaining = left()
        self._backend.sleep(seconds if remaining is None else max(min(seconds, remaining), 0))


class TotalTimeoutWarning(RuntimeWarning):
    """A ``Client``'s ``total_timeout`` cannot be enforced on its transport: each read is bounded by ``timeout``
    only. Raised as an error with ``warnings.simplefilter("error", ig.server.TotalTimeoutWarning)``."""


def bounded_transport(transport: httpx.HTTPTransport, total_timeout: float | None = None,
                      base_url: str = "") -> httpx.HTTPTransport:
    """``transport`` with its connections made through :class:`_Backend`. httpx exposes no network backend: the
    pool's (``ConnectionPool`` and its proxy subclasses keep it as ``_network_backend``) is wrapped in place. A
    transport without one (an httpx whose internals changed, a subclass with a pool of its own) cannot be bounded:
    with a ``total_timeout``, :class:`TotalTimeoutWarning` says so, naming what is missing — the deadline is never
    lost silently (its calls are then bounded by ``timeout`` only)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, _Backend):
        return transport
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
        return transport
    if total_timeout is not None:
        missing = ("has no connection pool (_pool)" if pool is None else
                   f"has a connection pool ({type(pool).__name__}) without a network backend (_network_backend)"
                   if backend is None else
                   f"has a network backend that is not an httpcore.NetworkBackend ({type(backend).__name__})")
        warnings.warn(f"Client({base_url!r:.200}): total_timeout={total_timeout:g}s cannot be enforced: the transport "
                      f"({type(transport).__name__}, httpx {httpx.__version__}) {missing}; each read is bounded by "
                      "timeout only", TotalTimeoutWarning, stacklevel=4)
    return transport


__all__ = ["DEFAULT_FACTOR", "TotalTimeoutWarning", "awithin", "bounded_transport", "check_timeout",
           "check_total_timeout", "left", "passed", "seconds", "until", "within"]
