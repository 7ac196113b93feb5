"""The environment variables igniter_nb reads, in one place: what each means is in docs/integrations.md,
"Configuration" (one table, listing :data:`VARIABLES`).

Nothing here runs at import: each reader looks at its variable when a feature first needs it (the default
store, ``create_app``, ``igniter-nb serve``) and checks it then, so a bad value fails where it is used, with a
:class:`~igniter_nb.errors.SettingsError` naming the variable (and its value, except the token's). An argument
given in code or a command-line flag always wins over the variable; the variable wins over the default.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence, Set
from typing import Any
from urllib.parse import SplitResult, urlsplit

from igniter_nb.errors import SettingsError

STORE_URL = "IGNITER_STORE_URL"
"""The default store's URL (:func:`store_url`)."""
SERVER_TOKEN = "IGNITER_SERVER_TOKEN"
"""The server's bearer token (:func:`server_token`)."""
LOG_LEVEL = "IGNITER_LOG_LEVEL"
"""The ``igniter_nb`` logger's level (:func:`log_level_name`)."""
MAX_BODY_BYTES = "IGNITER_MAX_BODY_BYTES"
"""The server's request body limit (:func:`max_body_bytes`)."""
PUBLIC_URL = "IGNITER_PUBLIC_URL"
"""This server's base URL for remote callbacks (:func:`public_url`)."""
CORS_ORIGINS = "IGNITER_CORS_ORIGINS"
"""Browser origins allowed to call the server (:func:`cors_origins`)."""
SERVER_THREADS = "IGNITER_SERVER_THREADS"
"""How many threads of a server process run store and contract work at once (:func:`server_threads`)."""
CALLBACK_RETRIES = "IGNITER_CALLBACK_RETRIES"
"""Retries of a callback the server sends, after the first attempt (:func:`callback_retries`)."""
SERVER_BALANCE = "IGNITER_SERVER_BALANCE"
"""How ``igniter-nb serve`` hands connections to its workers (:func:`server_balance`)."""
MAX_STREAMS = "IGNITER_MAX_STREAMS"
"""Live event streams one server process keeps open at once (:func:`max_streams`)."""
LEGACY_CALLBACK_TOKENS = "IGNITER_LEGACY_CALLBACK_TOKENS"
"""Whether the callback route still takes callback tokens without a tag (:func:`legacy_callback_tokens`)."""

VARIABLES: tuple[str, ...] = (STORE_URL, SERVER_TOKEN, LOG_LEVEL, MAX_BODY_BYTES, PUBLIC_URL, CORS_ORIGINS,
                              SERVER_THREADS, CALLBACK_RETRIES, SERVER_BALANCE, MAX_STREAMS, LEGACY_CALLBACK_TOKENS)
"""Every service setting, in the order of the docs' table."""
SWITCHES: tuple[str, ...] = ("IGNITER_NB_RENDER", "IGNITER_NB_DOT_TIMEOUT", "IGNITER_NB_PROGRESS")
"""Switches read where they act, listed in the same table: graph drawing and its ``dot`` time limit
(``notebook/render.py``) and collection progress bars (``runtime/progress.py``)."""

LOG_LEVELS: tuple[str, ...] = ("critical", "error", "warning", "info", "debug")
"""The values ``IGNITER_LOG_LEVEL`` accepts (in any case)."""
BALANCE_MODES: tuple[str, ...] = ("supervisor", "reuseport", "shared")
"""The values ``IGNITER_SERVER_BALANCE`` (and ``igniter-nb serve --balance``) accept."""
DEFAULT_MAX_BODY_BYTES = 1_000_000
"""The request body limit when neither an argument nor ``IGNITER_MAX_BODY_BYTES`` sets one."""
DEFAULT_CALLBACK_RETRIES = 5
"""Retries of a callback when neither an argument nor ``IGNITER_CALLBACK_RETRIES`` sets them."""
DEFAULT_MAX_STREAMS = 100
"""Live streams one server process keeps open when neither an argument nor ``IGNITER_MAX_STREAMS`` sets it."""
LOGGER = "igniter_nb"
"""The logger every igniter_nb module logs under (``igniter_nb.server``, ``igniter_nb.stores.feed``, ...)."""

_TOKEN_HINT = "make one with: python -c 'import secrets; print(secrets.token_hex(24))'"


def _value(name: str) -> str | None:
    """The variable's value without surrounding whitespace; None when it is unset or empty."""
    return os.environ.get(name, "").strip() or None


def store_url() -> str | None:
    """``IGNITER_STORE_URL``, or None (the caller builds the store: :func:`igniter_nb.config.default_store`)."""
    return _value(STORE_URL)


_SECRET_PARAM = re.compile(r"([?&][^=&#]*(?:password|secret|token)[^=&#]*=)([^&#]*)", re.IGNORECASE)


#: Where a URL's authority (``user:password@host:port``) starts: after its ``scheme://`` (a scheme in any case), after
#: a leading ``//`` (a network-path reference), and, with neither, at the start (``user:pw@host:80``).
_AUTHORITY_START = re.compile(r"[^:/?#]*://|//")


def _url_secrets(url: str) -> tuple[str, list[str]]:
    """``url`` with its secrets replaced by ``***``, and those secrets: the password of the user part (everything
    between the user's ``:`` and the host part's *last* ``@``: a password may hold an unencoded ``@``) and the value
    of every query parameter naming a password, secret or token (libpq and redis-py take ``?password=``).

    The host part runs from where :data:`_AUTHORITY_START` says to the first ``/``, ``?`` or ``#``: an ``@`` only in
    the path, query or fragment is no user part. Without a scheme, ``a:b@host`` is read as user ``a``, password
    ``b`` (so ``mailto:x@host`` shows as ``mailto:***@host``: hiding too much, never too little)."""
    start = _AUTHORITY_START.match(url)
    scheme = start.group(0) if start else ""
    rest = url[len(scheme):]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    found: list[str] = []
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        if password:
            found.append(password)
            netloc = f"{user}:***@{host}"

    def hide(match: re.Match[str]) -> str:
        if not match.group(2):
            return match.group(0)
        found.append(match.group(2))
        return match.group(1) + "***"

    tail = _SECRET_PARAM.sub(hide, tail)
    return f"{scheme}{netloc}{tail}", found


def redact_url(url: str, text: str | None = None) -> str:
    """``url`` with the password of its user part and any ``password=`` (``secret=``, ``token=``) query value
    replaced by ``***``; with ``text``, that text with the URL and those secrets in it replaced the same way
    (for messages about the URL, such as a driver's)."""
    from urllib.parse import unquote

    shown, found = _url_secrets(url)
    if text is None:
        return shown
    text = text.replace(url, shown)
    pieces = {each for secret in found for each in (secret, unquote(secret), *secret.split("@")) if len(each) >= 3}
    for piece in sorted(pieces, key=len, reverse=True):  # longest first: a piece inside another is not left half
        text = text.replace(piece, "***")
    return text


# How deep without_url_passwords looks: deeper than any stored wait; below it, values are kept as they are.
_URL_WALK_DEPTH = 200


def without_url_passwords(value: Any, depth: int = 0) -> Any:
    """``value`` (plain data: a payload, a stored snapshot's part) with every ``remote_url`` text in it (a remote
    node's wait, and the events about it) as :func:`redact_url` shows it. A copy of what changed, the same objects
    elsewhere: what is stored keeps its URL (a wait resumes with it); only what is shown or sent changes."""
    if depth > _URL_WALK_DEPTH:
        return value
    if isinstance(value, Mapping):
        shown = {k: (redact_url_value(v) if k == "remote_url" else without_url_passwords(v, depth + 1))
                 for k, v in value.items()}
        return value if all(shown[k] is v for k, v in value.items()) else shown
    if isinstance(value, list | tuple):
        items = [without_url_passwords(v, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def redact_url_value(value: Any) -> Any:
    """:func:`redact_url` of ``value`` when it is text; any other value (``None``, a number a hand-edited record
    holds) as it is, so a view of stored data never fails on it."""
    if not isinstance(value, str):
        return value
    shown = redact_url(value)
    return value if shown == value else shown


def redact_query(text: str) -> str:
    """``text`` (a URL's query, or a file name with one: ``x.db?cache=shared&password=s``) with the value of each
    query parameter naming a password, secret or token replaced by ``***``, as :func:`redact_url` does in a URL."""
    return _SECRET_PARAM.sub(lambda match: match.group(1) + "***" if match.group(2) else match.group(0), text)


#: A URL inside a message: a scheme (starting where a word starts) and everything up to whitespace or a quote.
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redacted_line(text: object, url: str | None = None) -> str:
    """The first line of ``text`` (``str()`` of it, as ``igniter_nb._error_text.first_line`` takes it) with the
    secrets of ``url`` (:func:`redact_url`) and of every other URL written in it (a password in its user part, a
    ``password=`` query value) replaced by ``***``: hidden before the line is cut, so a cut cannot leave half a
    password. For a driver's or a module's message quoted in an error of ours."""
    from igniter_nb._error_text import MAX_LINE, first_line

    piece = first_line(text, 8 * MAX_LINE)  # (a bounded piece: what the final cut keeps, and some)
    if url is not None:
        piece = redact_url(url, piece)
    return first_line(_URL_IN_TEXT.sub(lambda found: _url_secrets(found.group(0))[0], piece))


def token_sendable(token: str) -> bool:
    """Whether a client can send ``token`` back in an ``Authorization`` header: HTTP drops a header value's outer
    whitespace and cannot carry control characters."""
    return token == token.strip() and token.isprintable()


def server_token(given: str | None = None) -> str | None:
    """The server's bearer token: ``given`` when not None, else ``IGNITER_SERVER_TOKEN``, else None (no token).

    The variable's value is never shown: a value with whitespace or control characters (which no client can send
    back in an ``Authorization`` header) is refused naming the variable only.
    """
    if given is not None:
        return given
    raw = os.environ.get(SERVER_TOKEN, "")
    if not raw:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise SettingsError(f"{SERVER_TOKEN} contains whitespace or control characters (its value is not shown): a "
                            f"bearer token is one word, leave the variable empty for no token; {_TOKEN_HINT}",
                            variable=SERVER_TOKEN)
    return raw


def log_level_name() -> str | None:
    """``IGNITER_LOG_LEVEL`` as a level name in lower case (``"debug"``), or None when it is unset."""
    value = _value(LOG_LEVEL)
    if value is None:
        return None
    if value.lower() not in LOG_LEVELS:
        raise SettingsError(f"{LOG_LEVEL}={value!r:.80} is not a log level: use one of {', '.join(LOG_LEVELS)}",
                            variable=LOG_LEVEL)
    return value.lower()


def apply_log_level() -> None:
    """Set the ``igniter_nb`` logger's level from ``IGNITER_LOG_LEVEL`` — unless it is unset, or code (or
    ``igniter-nb serve --log-level``) already set a level. The root logger and handlers are left alone: where
    records go is the application's choice."""
    name = log_level_name()
    logger = logging.getLogger(LOGGER)
    if name is not None and logger.level == logging.NOTSET:
        logger.setLevel(name.upper())


def max_body_bytes(given: int | None = None) -> int:
    """The server's request body limit: ``given`` when not None (an int >= 1, not a bool), else
    ``IGNITER_MAX_BODY_BYTES``, else 1,000,000. 0 is refused: every request with a body would get 413."""
    if given is not None:
        if type(given) is not int or given < 1:
            raise SettingsError(f"max_body_bytes must be an int >= 1 (bytes), got {given!r:.80}",
                                variable=MAX_BODY_BYTES)
        return given
    value = _value(MAX_BODY_BYTES)
    if value is None:
        return DEFAULT_MAX_BODY_BYTES
    if not re.fullmatch(r"\d[\d_]*", value) or int(value) < 1:
        raise SettingsError(f"{MAX_BODY_BYTES}={value!r:.80} is not a whole number of bytes >= 1 (e.g. 1000000)",
                            variable=MAX_BODY_BYTES)
    return int(value)


def server_threads(given: int | None = None) -> int | None:
    """How many threads of one server process run store and contract work at once: ``given`` when not None, else
    ``IGNITER_SERVER_THREADS``, else None (Starlette's threadpool as it comes: 40 threads). 0: none, the work runs
    on the event loop (``create_app(threads=0)``)."""
    return _whole_number(given, SERVER_THREADS, argument="threads", unit="threads", example=2, default=None)


def callback_retries(given: int | None = None) -> int:
    """How many times a callback the server sends is retried after the first attempt: ``given`` when not None,
    else ``IGNITER_CALLBACK_RETRIES``, else 5."""
    count = _whole_number(given, CALLBACK_RETRIES, argument="callback_retries", unit="retries", example=5,
                          default=DEFAULT_CALLBACK_RETRIES)
    assert count is not None  # (the default is a number)
    return count


def max_streams(given: int | None = None) -> int:
    """Live event streams one server process keeps open at once (past it a stream request gets 503): ``given``
    when not None, else ``IGNITER_MAX_STREAMS``, else 100."""
    count = _whole_number(given, MAX_STREAMS, argument="max_streams", unit="streams", example=100,
                          default=DEFAULT_MAX_STREAMS, minimum=1)
    assert count is not None  # (the default is a number)
    return count


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def legacy_callback_tokens(given: bool | None = None) -> bool:
    """Whether the callback route still takes callback tokens without a tag (``server/callback_tokens.py``),
    judging them by the store: ``given`` when not None, else ``IGNITER_LEGACY_CALLBACK_TOKENS`` (``1``/``true``/
    ``yes``/``on`` or ``0``/``false``/``no``/``off``, any case), else True."""
    if given is not None:
        if type(given) is not bool:
            raise SettingsError(f"legacy_callback_tokens must be True or False, got {given!r:.80}",
                                variable=LEGACY_CALLBACK_TOKENS)
        return given
    value = _value(LEGACY_CALLBACK_TOKENS)
    if value is None:
        return True
    if value.lower() not in (*_YES, *_NO):
        raise SettingsError(f"{LEGACY_CALLBACK_TOKENS}={value!r:.80} is not a yes or no: use 1, true, yes, on or 0, "
                            "false, no, off", variable=LEGACY_CALLBACK_TOKENS)
    return value.lower() in _YES


def _whole_number(given: int | None, variable: str, *, argument: str, unit: str, example: int,
                  default: int | None, minimum: int = 0) -> int | None:
    """``given`` when not None (an int >= ``minimum``, not a bool), else the whole number in ``variable``, else
    ``default``; a wrong value is a :class:`SettingsError` naming the argument or the variable."""
    if given is None:
        value = _value(variable)
        if value is None:
            return default
        if not re.fullmatch(r"\d+", value) or int(value) < minimum:
            raise SettingsError(f"{variable}={value!r:.80} is not a whole number of {unit} >= {minimum} "
                                f"(e.g. {example})", variable=variable)
        return int(value)
    if type(given) is not int or given < minimum:
        raise SettingsError(f"{argument} must be an int >= {minimum}, got {given!r:.80}", variable=variable)
    return given


def server_balance() -> str | None:
    """``IGNITER_SERVER_BALANCE`` in lower case (``"supervisor"``, ``"reuseport"`` or ``"shared"``), or None when it
    is unset (``igniter-nb serve`` then picks its default). Only ``igniter-nb serve`` reads it, when ``--balance``
    and ``--no-reuse-port`` are not given."""
    value = _value(SERVER_BALANCE)
    if value is None:
        return None
    if value.lower() not in BALANCE_MODES:
        raise SettingsError(f"{SERVER_BALANCE}={value!r:.80} is not a way to balance connections: use one of "
                            f"{', '.join(BALANCE_MODES)}", variable=SERVER_BALANCE)
    return value.lower()


def is_base_url(value: object) -> bool:
    """Whether ``value`` is an ``http(s)://host[:port][/path]`` URL without query or fragment."""
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in ("http", "https") and parts.hostname and not parts.query
                and not parts.fragment)


def public_url(given: str | None = None) -> str | None:
    """This server's base URL for remote callbacks: ``given`` when not None, else ``IGNITER_PUBLIC_URL``, else
    None (no callbacks asked for)."""
    if given is not None:
        return given
    value = _value(PUBLIC_URL)
    if value is not None and not is_base_url(value):
        raise SettingsError(f"{PUBLIC_URL}={value!r:.200} is not this server's http:// or https:// base URL "
                            "(e.g. https://igniter.example.com)", variable=PUBLIC_URL)
    return value


def cors_origins(given: Sequence[str] | None = None, *, argument: str = "cors_origins") -> list[str] | None:
    """Origins allowed to call the server from a browser: ``given`` when not None (each checked; errors name
    ``argument``, e.g. ``--cors-origin``), else ``IGNITER_CORS_ORIGINS`` (comma-separated), else None (CORS off)."""
    if given is not None:
        if isinstance(given, str | bytes) or not isinstance(given, Sequence | Set):
            raise SettingsError(f"{argument} must be a list of origins (['https://app.example.com']), got "
                                f"{type(given).__name__} {given!r:.100}", variable=CORS_ORIGINS)
        origins = list(given)
        for origin in origins:
            if not isinstance(origin, str) or not is_origin(origin):
                raise SettingsError(f"{argument} {origin!r:.100} is not an origin: write scheme://host[:port] "
                                    "without a path (https://app.example.com), or *; a browser's Origin header "
                                    "never matches anything else", variable=CORS_ORIGINS)
        return origins
    value = _value(CORS_ORIGINS)
    if value is None:
        return None
    origins = [part.strip() for part in value.split(",")]
    for origin in origins:
        if not is_origin(origin):
            raise SettingsError(f"{CORS_ORIGINS}={value!r:.200}: {origin!r:.100} is not an origin — write "
                                "scheme://host[:port] without a path (https://app.example.com), or *, separated "
                                "by commas", variable=CORS_ORIGINS)
    return origins


def is_origin(origin: str) -> bool:
    """Whether ``origin`` is a browser origin (``scheme://host[:port]``, http or https, no path) or ``*``."""
    if origin == "*":
        return True
    parts = urlsplit(origin)
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.path and not parts.query
            and not parts.fragment and "@" not in parts.netloc and _port_ok(parts))


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018  (reading it raises ValueError for a port that is not a number 0-65535)
    except ValueError:
        return False
    return True


__all__ = [
    "BALANCE_MODES",
    "CALLBACK_RETRIES",
    "CORS_ORIGINS",
    "DEFAULT_CALLBACK_RETRIES",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_STREAMS",
    "LEGACY_CALLBACK_TOKENS",
    "LOGGER",
    "LOG_LEVEL",
    "LOG_LEVELS",
    "MAX_BODY_BYTES",
    "MAX_STREAMS",
    "PUBLIC_URL",
    "SERVER_BALANCE",
    "SERVER_THREADS",
    "SERVER_TOKEN",
    "STORE_URL",
    "SWITCHES",
    "VARIABLES",
    "apply_log_level",
    "callback_retries",
    "cors_origins",
    "is_base_url",
    "is_origin",
    "legacy_callback_tokens",
    "log_level_name",
    "max_body_bytes",
    "max_streams",
    "public_url",
    "redact_query",
    "redact_url",
    "redact_url_value",
    "without_url_passwords",
    "redacted_line",
    "server_balance",
    "server_threads",
    "server_token",
    "store_url",
    "token_sendable",
]
