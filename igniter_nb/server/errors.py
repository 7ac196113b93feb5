"""The errors of the server layer: an unknown contract name or a refused request on the server, and the client's
errors.

They subclass ``ig.IgniterError``, so ``err.context`` carries where they happened (here: the URL, the HTTP
method and status code) like every other igniter_nb error.
"""

from __future__ import annotations

from typing import Any

from igniter_nb.errors import IgniterError
from igniter_nb.settings import redact_url


def shown_url(url: str) -> str:
    """``url`` as messages and errors show it: a password in it (``http://user:secret@host``) and any
    ``password=`` (``secret=``, ``token=``) query value as ``***`` — ``settings.redact_url``, the one way every
    layer hides a URL's password."""
    return redact_url(url)


class UnknownContractError(IgniterError):
    """The server serves no contract under this name (HTTP 404)."""


class RequestProblem(IgniterError):
    """A request the server refuses (before touching any contract, or because of the stored state it found):
    ``status`` says which 4xx."""

    def __init__(self, message: str, *, status: int = 422, **context: Any) -> None:
        self.status = status
        super().__init__(message, **context)


class RemoteError(IgniterError):
    """The server answered with an error status: ``status_code``, ``server_message`` (the server's own words),
    ``error_type`` (the server's error class name, e.g. ``"DuplicateSignalError"``) and the parsed ``body``.
    ``err.graph``/``err.node``/``err.execution_id`` come from the server's error body when it had them."""

    def __init__(self, message: str = "", *, status_code: int, body: Any = None, server_message: str | None = None,
                 error_type: str | None = None, **kw: Any) -> None:
        self.status_code = status_code
        self.body = body
        self.server_message = server_message if server_message is not None else message
        self.error_type = error_type
        super().__init__(message, status_code=status_code, **kw)


class RemoteConnectionError(IgniterError):
    """The server could not be reached, or did not answer in time; ``url`` names where the call went.

    ``sent``: False when the connection could not be made (the server never saw the request); True when the
    request went out and the connection was lost (or timed out) before the answer — the server may have applied
    it, so a call that is not safe to repeat (``execute``, ``resume``, ``deliver_event`` without an idempotency
    key) must be checked, not repeated blindly."""

    def __init__(self, message: str = "", *, url: str, timeout: bool = False, sent: bool = False, **kw: Any) -> None:
        self.url = url
        self.timeout = timeout
        self.sent = sent
        super().__init__(message, url=url, sent=sent, **kw)


class UnroutableExecutionIdError(IgniterError, ValueError):
    """An execution id the client cannot send as one URL path segment — one holding ``/`` (the server decodes
    ``%2F`` before routing: ``e-1/history`` would reach that execution's history) or ``.``/``..`` (a dot segment,
    which a proxy that decodes ``%2E`` resolves to another route). No execution id is one (letters, digits,
    ``_ . : -``, starting with a letter or digit), so nothing is sent. A ``ValueError``."""


class AnswerTooLargeError(IgniterError):
    """The server's answer was larger than the client's ``max_answer_bytes``: nothing more of it was read.
    ``url``, ``limit`` and, when the server declared it, ``declared`` (its ``Content-Length``)."""

    def __init__(self, message: str = "", *, url: str, limit: int, **kw: Any) -> None:
        self.url = url
        self.limit = limit
        super().__init__(message, url=url, limit=limit, **kw)


__all__ = ["AnswerTooLargeError", "RemoteConnectionError", "RemoteError", "RequestProblem", "UnknownContractError",
           "UnroutableExecutionIdError"]
