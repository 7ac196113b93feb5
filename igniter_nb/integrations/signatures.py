"""Webhook signatures, the two ways the industry signs them: HMAC-SHA256 over the raw request body.

- ``"stripe"`` — header ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``; the signed text is
  ``"<t>.<raw body>"``; a timestamp further than ``tolerance`` seconds from now is refused (replays). Empty and
  unknown items are skipped, as Stripe's SDKs skip them.
- ``"github"`` — header ``X-Hub-Signature-256: sha256=<hex>``; the signed text is the raw body. There is no
  timestamp: replays are caught by the idempotency key, by default the signed body's digest (``webhooks.py``;
  the unsigned ``X-GitHub-Delivery`` is only a label). ``X-Hub-Signature`` (sha1) is not accepted.

Several secrets may be active at once (rotation): a request passes when any of them produced any of its
signatures. Comparisons are constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import Any

SCHEMES = ("stripe", "github")
DEFAULT_HEADERS = {"stripe": "Stripe-Signature", "github": "X-Hub-Signature-256"}
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_MAX_HEADER = 4096
LEGACY_GITHUB_HEADER = "X-Hub-Signature"
"""GitHub's HMAC-SHA1 signature header, which the github scheme does not accept."""
SHA1_REFUSED = ("sha1 signatures (X-Hub-Signature) are not accepted: send X-Hub-Signature-256 (sha256=<hex>, "
                "HMAC-SHA256), which GitHub adds to every delivery of a webhook that has a secret")


class SignatureRejected(Exception):
    """A request's signature is missing, malformed, wrong or too old; ``reason`` says which, for the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def secrets_of(secret: str | bytes | Sequence[str | bytes]) -> tuple[bytes, ...]:
    """The active secrets as bytes (text is UTF-8); refuses an empty secret or an empty list, and text with
    whitespace at either end (a newline read from a file or a .env: no sender signs with it; bytes are taken as
    they are)."""
    if isinstance(secret, str | bytes):
        items: list[Any] = [secret]
    elif isinstance(secret, Sequence):
        items = list(secret)
    else:
        raise TypeError(f"secret= must be a str or bytes, or a list of them, got {type(secret).__name__}")
    if not items:
        raise ValueError("secret= needs at least one secret")
    out = []
    for item in items:
        if not isinstance(item, str | bytes) or not item:
            raise ValueError(f"each webhook secret must be a non-empty str or bytes, got {type(item).__name__}")
        if isinstance(item, str) and item != item.strip():
            raise ValueError("a webhook secret starts or ends with whitespace (a newline read from a file or a "
                             ".env?; its value is not shown): strip it, or pass bytes to use it as it is")
        out.append(item.encode() if isinstance(item, str) else bytes(item))
    return tuple(out)


def _hmac(secret: bytes, *parts: bytes) -> str:
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.hexdigest()


def sign(body: bytes | str, secret: str | bytes, *, scheme: str = "stripe", timestamp: int | None = None,
         header: str | None = None) -> dict[str, str]:
    """The signature header a sender adds to a request carrying ``body``: ``{header name: value}``.

    >>> sign(b'{"id": 1}', "whsec_test", timestamp=1700000000)
    {'Stripe-Signature': 't=1700000000,v1=...'}
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if not isinstance(body, bytes | bytearray | memoryview | str):  # bytes(dict) and bytes(None) say nothing useful
        raise TypeError(f"sign() signs the raw body bytes (or text) sent, got {type(body).__name__}: sign "
                        "json.dumps(event).encode() and send those same bytes")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    keys = secrets_of(secret)
    if len(keys) != 1:
        raise ValueError(f"sign() signs with one secret, the sender's; got a list of {len(keys)} (a receiver takes "
                         "several, to rotate them)")
    (key,) = keys
    name = header or DEFAULT_HEADERS[scheme]
    if scheme == "github":
        return {name: "sha256=" + _hmac(key, raw)}
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0):  # verify reads ASCII digits only
        raise ValueError(f"timestamp must be whole unix seconds >= 0, got {timestamp!r:.40}")
    moment = int(time.time()) if timestamp is None else int(timestamp)
    return {name: f"t={moment},v1={_hmac(key, str(moment).encode(), b'.', raw)}"}


def verify(scheme: str, header_value: str | None, body: bytes, secrets: tuple[bytes, ...], *,
           tolerance: float, now: float | None = None) -> None:
    """Return if ``header_value`` signs ``body`` with one of ``secrets``; else raise ``SignatureRejected``."""
    if header_value is None or not header_value.strip():
        raise SignatureRejected("missing signature header")
    if len(header_value) > _MAX_HEADER:
        raise SignatureRejected("malformed signature header (too long)")
    if scheme == "github":
        _verify_github(header_value.strip(), body, secrets)
    else:
        _verify_stripe(header_value, body, secrets, tolerance, time.time() if now is None else now)


def _verify_github(value: str, body: bytes, secrets: tuple[bytes, ...]) -> None:
    prefix, _, digest = value.partition("=")
    if prefix.strip().lower() == "sha1":
        raise SignatureRejected(f"malformed signature header: {SHA1_REFUSED}")
    if prefix != "sha256" or not _HEX_SHA256.match(digest):
        raise SignatureRejected("malformed signature header: expected 'sha256=<64 hex digits>'")
    given = digest.lower().encode()
    if not any(hmac.compare_digest(_hmac(key, body).encode(), given) for key in secrets):
        raise SignatureRejected("signature does not match the body")


def _verify_stripe(value: str, body: bytes, secrets: tuple[bytes, ...], tolerance: float, now: float) -> None:
    timestamps, signatures = [], []
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            if key in ("t", "v1"):  # the two items we read, without their value
                raise SignatureRejected(f"malformed signature header: '{key}' has no '=<value>'")
            continue  # an empty item ("t=1,,v1=..", a trailing comma) or an unknown one: skipped, as Stripe's SDKs do
        if key == "t":
            timestamps.append(val)
        elif key == "v1" and _HEX_SHA256.match(val):
            signatures.append(val.lower().encode())
        # other schemes (v0, future versions) are ignored, as Stripe's own libraries do
    if len(timestamps) != 1 or not (timestamps[0].isascii() and timestamps[0].isdigit()) or len(timestamps[0]) > 12:
        raise SignatureRejected("malformed signature header: expected exactly one 't=<unix seconds>'")
    if not signatures:
        raise SignatureRejected("malformed signature header: no 'v1=<64 hex digits>' signature")
    stamp = timestamps[0]
    if abs(now - int(stamp)) > tolerance:
        raise SignatureRejected(f"signature timestamp is outside the tolerance of {tolerance:g} seconds")
    expected = [_hmac(key, stamp.encode(), b".", body).encode() for key in secrets]
    # every pair is compared, so the time taken does not say which secret or signature came close
    matched = False
    for mine in expected:
        for given in signatures:
            matched |= hmac.compare_digest(mine, given)
    if not matched:
        raise SignatureRejected("signature does not match the body")


__all__ = ["DEFAULT_HEADERS", "SCHEMES", "SignatureRejected", "secrets_of", "sign", "verify"]
