"""What the webhook endpoint reads from a request before its body: header names and values, the content type and
coding; and ``_Refusal``, the answer other than success that every check raises (``webhooks.py`` turns it into JSON),
with :func:`store_failure`, the answer to a store failing for its own reasons."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import ConcurrencyError, SnapshotNotFoundError, StoreArgumentError, StoreError
from igniter_nb.integrations.body_charset import charset_problem
from igniter_nb.integrations.signatures import SignatureRejected


class _Refusal(Exception):
    """An answer other than success: its status, its JSON body, extra headers."""

    def __init__(self, status: int, error: str, context: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.body = {**(context or {}), "error": error}
        self.headers = dict(headers or {})


_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110's token: what a header name may be


def _header_name(name: Any, what: str) -> str:
    """``name``, checked to be a header name a request can carry (no request could match another one)."""
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise ValueError(f"{what} must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~, no spaces), "
                         f"got {name!r:.80}")
    return name


def _one_header(request: Any, name: str, rejected: type[SignatureRejected] | None) -> str | None:
    """The value of header ``name``, read as UTF-8 text, refused when the request carries it more than once (which
    of the values counts is not defined, and a proxy or a log in front may have read another one than we would)
    or when its bytes are not UTF-8. Starlette's own reading (latin-1) would turn a key sent as "clé-1" into
    "clÃ©-1", a key the sender never sent."""
    wanted = name.lower().encode("latin-1")
    values = [value for key, value in request.headers.raw if key.lower() == wanted]
    if not values:
        return None
    context: dict[str, Any] = {"header": name}
    if len(values) > 1:
        said = fix = f"the header {name} is given {len(values)} times: send it once"
    else:
        try:
            return bytes(values[0]).decode("utf-8")
        except UnicodeDecodeError as exc:
            said = f"the header {name} is not UTF-8 text (byte {exc.start} is invalid)"
            fix, context["byte"] = f"{said}: send the key as UTF-8", exc.start
    if rejected is not None:
        raise rejected(f"malformed signature header: {said}")
    raise _Refusal(400, fix, context)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _check_content_type(content_type: str | None) -> None:
    """A body sent with a non-JSON ``Content-Type``, or declaring a charset other than UTF-8, is refused, as the
    server refuses it (``body_charset.py``); none at all is read as JSON. A form (GitHub's "application/x-www-form-urlencoded" webhook setting) gets a hint."""
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        charset = charset_problem(content_type)  # read as UTF-8 all the same: refused as the server's routes do
        if charset is not None:
            raise _Refusal(400, charset[0], {"charset": charset[1]})
        return
    hint = (": set the sender's content type to application/json (on GitHub: the webhook's Content type setting)"
            if media in _FORM_TYPES else "")
    raise _Refusal(400, f"send the body as JSON (Content-Type: application/json), not {content_type[:80]!r}{hint}",
                   {"content_type": content_type[:80]})


def _check_content_encoding(coding: str | None) -> None:
    """A body sent compressed (``Content-Encoding: gzip``) is refused with 415 naming the coding: the signature
    covers the bytes sent and the endpoint does not decompress them (a small gzip body can unpack to gigabytes),
    so it would otherwise be refused as text that is not UTF-8. ``identity`` is no coding at all."""
    if coding is None or all(part.strip().lower() in ("", "identity") for part in coding.split(",")):
        return
    raise _Refusal(415, f"the body is sent with Content-Encoding {coding[:80]!r}, which this endpoint does not decode: "
                        "send it uncompressed", {"content_encoding": coding[:80]})


_log = logging.getLogger("igniter_nb.integrations.webhooks")


def store_failure(exc: BaseException, where: str) -> _Refusal | None:
    """The 503 ``StoreUnavailable`` (``Retry-After: 1``) for a ``StoreError`` the store raised for its own reasons —
    read-only, a damaged file, a folder it cannot move — as the events route answers it
    (``server/routing.store_failure_response``), its message (which names paths) in the log only; else None. Not
    for what a delivery causes: an unknown execution, a lost compare-and-set, a bad argument."""
    if not isinstance(exc, StoreError) or isinstance(exc, SnapshotNotFoundError | ConcurrencyError | StoreArgumentError):
        return None
    _log.error("%s: the store failed the delivery: %s", where, exc, exc_info=exc)
    return _Refusal(503, "the store could not carry out the delivery (StoreError; the server's log has the details): "
                         "retry later — it may or may not have taken effect, and a delivery with the same "
                         "idempotency key is applied at most once", {"type": "StoreUnavailable"},
                    headers={"Retry-After": "1"})
