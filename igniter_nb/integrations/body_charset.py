"""The one rule for a JSON body's declared charset, where a body enters a service: the server's routes
(``server/routing.py``) and the webhook endpoint (``webhook_requests.py``) answer it alike.

JSON travels as UTF-8 (RFC 8259) and both read every body as UTF-8: a body declared
``Content-Type: application/json; charset=latin-1`` was read as UTF-8 all the same, so latin-1 text that happens to
be valid UTF-8 (``Ã©``, the bytes C3 A9) was stored as another text (``é``), silently. Such a body is refused with a
400 naming the charset; ``charset=utf-8`` (any case, ``utf8``, quoted) or no charset at all is read."""

from __future__ import annotations

#: The charset names a body may declare (compared in lower case).
UTF8_NAMES = ("utf-8", "utf8")
#: Characters of a declared charset an answer shows.
_SHOWN = 40


def declared_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value (quotes removed), or None without one."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip()
    return None


def charset_problem(content_type: str | None) -> tuple[str, str] | None:
    """``(message, charset as shown)`` of the 400 for a body whose ``Content-Type`` declares a charset other than
    UTF-8, else None."""
    charset = declared_charset(content_type)
    if charset is None or charset.lower() in UTF8_NAMES:
        return None
    shown = charset[:_SHOWN]
    return (f"the body is declared charset={shown}: JSON is read as UTF-8 (RFC 8259) — send it in UTF-8, with "
            "charset=utf-8 or no charset"), shown


__all__ = ["UTF8_NAMES", "charset_problem", "declared_charset"]
