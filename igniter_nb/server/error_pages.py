"""What an error answer that is not an igniter_nb error body says, in one line: an HTML page a proxy or gateway in
front of the server answered (nginx's ``502 Bad Gateway``), a plain-text error, an RFC 9457 problem document.

The client puts it in ``RemoteError.server_message`` (and its message); the whole answer stays in ``body``. It was
the page itself, markup and line breaks included (``<html>\\r\\n<head><title>502 Bad Gateway</title>…``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

#: The most characters of such an answer's words the one line keeps (the body keeps them all).
SHOWN = 300
#: How much of an answer is looked at: a page's title and first heading come early, and the patterns below scan
#: on from each opening tag, so a hostile page of megabytes of ``<title><title>…`` must not be read whole.
READ = 8192
_HTML_START = re.compile(r"\s*(<!doctype\s+html|<html\b)", re.IGNORECASE)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h[1-6]\b[^>]*>(.*?)</h[1-6]\s*>", re.IGNORECASE | re.DOTALL)
_NOT_SHOWN = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
#: What an HTML page's words are prefixed with: the server never answers HTML, something in front of it did.
HTML_PAGE = "an HTML page, not the server's JSON error (a proxy or gateway in front of it?)"


def one_line(text: str, limit: int = SHOWN) -> str:
    """``text`` with every run of whitespace (line breaks included) as one space, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[:limit - 1]}…"


def is_html(media_type: str, text: str) -> bool:
    """Whether an answer of ``media_type`` (its ``Content-Type`` without parameters) holding ``text`` is a page."""
    return media_type in ("text/html", "application/xhtml+xml") or _HTML_START.match(text) is not None


def page_words(text: str) -> str:
    """What an HTML page says, in one line: its ``<title>``, else its first heading, else its text without markup."""
    for pattern in (_TITLE, _HEADING):
        found = pattern.search(text)
        if found is not None:
            words = one_line(html.unescape(_TAG.sub(" ", found[1])))
            if words:
                return words
    return one_line(html.unescape(_TAG.sub(" ", _NOT_SHOWN.sub(" ", text))))


def said(body: Any, media_type: str) -> str | None:
    """What an error answer's ``body`` (JSON read, else its text) of ``media_type`` says, in one line — or None when
    it says nothing (an empty body)."""
    if isinstance(body, Mapping):
        for key in ("detail", "title"):  # an RFC 9457 problem document
            if isinstance(body.get(key), str) and body[key].strip():
                return one_line(body[key][:READ])
        return one_line(str(body)[:READ]) if body else None
    if not isinstance(body, str) or not body.strip():
        return one_line(str(body)[:READ]) if body else None
    head = body[:READ]
    if is_html(media_type, head):
        words = page_words(head)
        return f"{HTML_PAGE}: {words}" if words else HTML_PAGE
    return one_line(head)


__all__ = ["HTML_PAGE", "READ", "SHOWN", "is_html", "one_line", "page_words", "said"]
