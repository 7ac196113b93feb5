"""The callback tokens a server hands a remote server with each remote call, and the first check of one that comes
back (``POST /v1/executions/{id}/remote-callback``), made without reading the store.

A token is 32 random bytes (``secrets.token_urlsafe``, the *nonce*). A server with a token of its own (``token=`` /
``IGNITER_SERVER_TOKEN``) appends a *tag*: ``<nonce>.<tag>``, the tag the first 16 bytes of an HMAC-SHA256 of the
parent execution id and the nonce, keyed by a key derived from the server's token. So a token whose tag is wrong
(forged, or made for another execution) is refused before the store is read: how long the 401 takes says nothing
about which execution ids exist. The store check that follows is unchanged (the SHA-256 of the whole token must be
one the execution keeps), so a tag alone resumes nothing.

Tokens without a tag (handed out before tags existed, or by a server without a token) can only be judged by the
store; they are still accepted (``legacy_callback_tokens=True``, the default) — and for them the read, and its
timing, still come before the 401. ``legacy_callback_tokens=False`` refuses them unread. A server without a token
has no key and judges every token by the store: its executions are no secret (``GET /v1/executions`` lists them);
``legacy_callback_tokens=False`` without a token is refused (``CallbackTokens.of``).
Servers sharing a store and a public URL must share the token: another key refuses the tags of the first (so does
a changed token, for the waits made before the change: ``Contract.sync_remote`` resumes those).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SEPARATOR = "."  # not in token_urlsafe's alphabet: a token holds at most one, before its tag
_KEY_LABEL = b"igniter_nb callback token key v1"
_TAG_BYTES = 16


def _tag(key: bytes, execution_id: str, nonce: str) -> bytes:
    message = execution_id.encode("utf-8", "surrogatepass") + b"\0" + nonce.encode("utf-8", "surrogatepass")
    mac = hmac.new(key, message, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(mac).rstrip(b"=")


@dataclass(frozen=True, slots=True)
class CallbackTokens:
    """How one server makes and first checks callback tokens: ``key`` (None: a server without a token, whose tokens
    carry no tag) and whether untagged tokens are still judged by the store (``legacy``)."""

    key: bytes | None = None
    legacy: bool = True

    @classmethod
    def of(cls, server_token: str | None, legacy: bool = True) -> CallbackTokens:
        """The tokens of a server whose own token is ``server_token`` (the key: an HMAC of a fixed label by it, so
        the server's token never signs anything itself). ``legacy=False`` without a token is a ``SettingsError``: such
        a server's tokens carry no tag, so it could refuse none unread (and would refuse its own)."""
        if not legacy and not server_token:
            from igniter_nb.errors import SettingsError
            from igniter_nb.settings import LEGACY_CALLBACK_TOKENS, SERVER_TOKEN

            raise SettingsError(f"legacy_callback_tokens=False needs a server token (token= / {SERVER_TOKEN}): "
                                "without one, callback tokens carry no tag and the store judges every one; set a "
                                f"token, or leave {LEGACY_CALLBACK_TOKENS} unset", variable=LEGACY_CALLBACK_TOKENS)
        key = hmac.new(server_token.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest() if server_token else None
        return cls(key, legacy)

    def make(self, execution_id: str) -> str:
        """A new token for a remote call of ``execution_id`` (the execution the callback URL names)."""
        nonce = secrets.token_urlsafe(32)
        if self.key is None:
            return nonce
        return f"{nonce}{SEPARATOR}{_tag(self.key, execution_id, nonce).decode('ascii')}"

    def may_be_from(self, execution_id: str, token: str) -> bool:
        """False when ``token`` is certainly not one ``execution_id`` handed out, judged without the store: a wrong
        tag, or no tag while untagged tokens are refused. True leaves the verdict to the store check."""
        if self.key is None:
            return True
        nonce, separator, tag = token.rpartition(SEPARATOR)
        if not separator:
            return self.legacy
        return hmac.compare_digest(tag.encode("utf-8", "surrogatepass"), _tag(self.key, execution_id, nonce))


__all__ = ["SEPARATOR", "CallbackTokens"]
