"""``from_url``: build any store from one URL string (the form ``IGNITER_STORE_URL`` takes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from igniter_nb.errors import StoreArgumentError

SUPPORTED = (
    "memory://",
    "file:///absolute/dir (or file://relative/dir)",
    "sqlite:///path.db (relative), sqlite:////abs/path.db, sqlite:// (in memory)",
    "postgresql://… or postgresql+psycopg://…",
    "redis://… or rediss://… (optional ?namespace=name)",
    "parquet:///absolute/dir (or parquet://relative/dir)",
)


def from_url(url: str) -> Any:
    """Return a new store for ``url``; see :data:`SUPPORTED` and ``docs/stores.md``.

    ``file://`` and ``parquet://`` take the rest of the URL as the directory: three slashes make it absolute
    (``file:///var/lib/igniter``), two make it relative to the working directory (``file://state``).
    """
    if not isinstance(url, str) or "://" not in url:
        raise StoreArgumentError(f"store URL {shown_url(url)!r} has no scheme; supported: {'; '.join(SUPPORTED)}")
    scheme = url.split("://", 1)[0].lower()
    try:
        return _build(url, scheme)
    except StoreArgumentError:
        raise
    except ValueError as exc:  # a port that is not a number, an option a driver cannot read
        raise unusable_url(url, exc) from exc
    except Exception as exc:  # SQLAlchemy's ArgumentError / NoSuchModuleError: a driver that does not exist
        if type(exc).__module__.startswith("sqlalchemy") and "ArgumentError" in [c.__name__ for c in type(exc).__mro__]:
            raise unusable_url(url, exc) from exc
        raise


def unusable_url(url: str, exc: BaseException) -> StoreArgumentError:
    """The error for a store URL that ``exc`` says cannot be used: the URL and the first line of ``exc``, both
    without the password (also raised by ``RedisStore`` for an option redis-py refuses)."""
    from igniter_nb._error_text import described
    from igniter_nb.settings import redacted_line

    return StoreArgumentError(f"store URL {shown_url(url)!r} cannot be used: {described(exc, redacted_line(exc, url))}")


def _build(url: str, scheme: str) -> Any:
    if scheme == "memory":
        from igniter_nb.stores.memory import MemoryStore

        return MemoryStore()
    if scheme in ("file", "parquet"):
        path = _directory(url)
        if scheme == "file":
            from igniter_nb.stores.file import FileStore

            return FileStore(path)
        from igniter_nb.stores.parquet import ParquetStore

        return ParquetStore(path)
    if scheme == "sqlite" or scheme.startswith(("sqlite+", "postgresql", "postgres")):
        from igniter_nb.stores.sql import SQLStore

        return SQLStore(url)
    if scheme in ("redis", "rediss", "unix"):
        from igniter_nb.stores.redis import RedisStore

        parts = urlsplit(url)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        namespace = query.pop("namespace", "igniter")
        rest = "&".join(f"{k}={v}" for k, v in query.items())
        clean = parts._replace(query=rest).geturl()
        return RedisStore(clean, namespace=unquote(namespace))
    raise StoreArgumentError(f"unknown store URL scheme {scheme!r} in {shown_url(url)!r}; supported: "
                             f"{'; '.join(SUPPORTED)}")


#: The most characters of a URL an error message quotes whole; a longer one (a 5,000-character option) is shown as
#: its head and tail around how many characters were left out.
URL_SHOWN = 200


def shown_url(url: object) -> object:
    """``url`` as an error message may show it: the password of its user part and any ``password=``
    (``secret=``, ``token=``) value replaced by ``***``; a URL without ``://`` (malformed: its user part cannot
    be told from its scheme) keeps only what follows its last ``@``; then, past :data:`URL_SHOWN` characters, cut
    to its head and tail (``_error_text.short_path``: hidden before the cut, so a cut cannot leave half a
    password). Anything but text — what a caller passed by mistake — is given back as text whose own ``repr`` is
    itself (so ``f"{shown_url(url)!r}"`` shows it once), cut the same way: ``bytes`` as ``b'...'`` of their text
    with the password hidden as above, anything else as its ``repr`` (SQLAlchemy's ``URL`` hides its own
    password there)."""
    from igniter_nb._error_text import short_path
    from igniter_nb.settings import redact_url

    if isinstance(url, (bytes, bytearray)):
        return _AsIs("b" + repr(shown_url(bytes(url).decode("utf-8", "replace"))))
    if not isinstance(url, str):
        return _AsIs(short_path(_repr_of(url), URL_SHOWN, escape=False))
    if "://" in url:
        shown = redact_url(url)
    else:
        shown = f"***@{url.rpartition('@')[2]}" if "@" in url else url
    return short_path(shown, URL_SHOWN, escape=False)  # (quoted with repr, which escapes what needs it)


class _AsIs(str):
    """Text whose ``repr`` is itself: a non-text URL already shown as its (cut) ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _repr_of(value: object) -> str:
    """``repr(value)``, or ``<Type>`` when ``repr`` fails."""
    try:
        return repr(value)
    except Exception:  # any failure: the type still says what was given
        return f"<{type(value).__name__}>"


def _directory(url: str) -> Path:
    raw = url.split("://", 1)[1]
    if "@" in raw.split("/", 1)[0]:  # a login: taken as a path, it made a directory named after the password
        raise StoreArgumentError(f"store URL {shown_url(url)!r} has a user part (a login before '@'): a "
                                 f"{url.split('://', 1)[0].lower()}:// store takes only a directory; write an '@' "
                                 "that belongs to a directory name as %40")
    rest = unquote(raw)
    if not rest or rest == "/":
        raise StoreArgumentError(f"store URL {shown_url(url)!r} names no directory")
    return Path(rest)
