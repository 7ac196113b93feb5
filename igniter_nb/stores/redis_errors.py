"""``RedisStore``'s errors for a server it cannot reach: a Redis server that does not answer or refuses the client (a
wrong password) raises ``StoreError`` naming the store and its URL without the password, from every method that
talks to the server (redis-py's ``ConnectionError`` stays its ``__cause__``); a URL option redis-py refuses raises
``StoreArgumentError`` when the store is made (``check_options``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from igniter_nb.errors import StoreError


def server_of(store: Any) -> str:
    """Where ``store``'s server is, as an error message may show it (no password)."""
    if store._url is not None:
        from igniter_nb.stores.url import shown_url

        return str(shown_url(store._url))
    kwargs = getattr(getattr(store.client, "connection_pool", None), "connection_kwargs", None) or {}
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


#: methods that write: a connection lost after their command was sent may have lost only the answer
_WRITES = frozenset({"save", "delete"})


def _naming(method: Callable[..., Any]) -> Callable[..., Any]:
    # A lost answer is an error, not a retry (redis-py sends a command once), and the command may have run: a
    # write's error says so, as the SQL store's does, so nobody reads it as "nothing was written".
    # (``context["may_be_written"]``: a caller that knows what the write was — ``start`` — says what to do about it)
    writes = method.__name__ in _WRITES
    after = ("; if the connection was lost after the command was sent, it may have been carried out: read the "
             "execution again, or retry with the same idempotency key") if writes else ""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except self._unreachable as exc:
            raise StoreError(f"{self!r}: could not reach the Redis server at {server_of(self)}: "
                             f"{type(exc).__name__}: {exc}{after}", may_be_written=writes or None) from exc

    return call


def naming_the_server(cls: type, names: Iterable[str]) -> None:
    """Wrap each method ``names`` of ``cls`` (the methods that talk to the server; the others call these)."""
    for name in names:
        setattr(cls, name, _naming(getattr(cls, name)))


def check_options(client: Any, url: str) -> None:
    """Refuse a URL whose options redis-py reads only when it makes a connection (``ssl_cert_reqs=bogus`` raised a
    raw ``RedisError`` at the first read): one connection object is made here from the URL's options — no socket is
    opened — and what it refuses is a ``StoreArgumentError`` naming the URL without its password."""
    import redis

    pool = client.connection_pool
    try:
        pool.connection_class(**pool.connection_kwargs)
    except (redis.exceptions.RedisError, ValueError, TypeError) as exc:
        from igniter_nb.stores.url import unusable_url

        raise unusable_url(url, exc) from exc


__all__ = ["check_options", "naming_the_server", "server_of"]
