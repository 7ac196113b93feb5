"""The signal log's idempotency rules: which delivery repeats a recorded signal, and which conflicts with one.

Each applied delivery is recorded in ``workflow["signals"]`` with a digest of its payload: SHA-256 of the
canonical JSON of the payload *as the await holds it* (validated, then encoded by the codec), so two payloads
that validate to the same value have the same digest whatever their key order. An ``idempotency_key`` names one
delivery of one workflow, as in Stripe and Temporal:

* the same key, the same event and the same payload: a retry — the workflow is returned unchanged;
* the same key with a different payload, or reused for another event of the workflow:
  ``IdempotencyConflictError`` (a ``DuplicateSignalError``), nothing written;
* an event already delivered, without the recorded key: ``DuplicateSignalError``.

Signals recorded before digests existed have no ``payload_digest`` field: a repeat of their key is answered as
a retry without comparing payloads (there is nothing to compare with).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from igniter_nb.errors import (
    DuplicateSignalError,
    IdempotencyConflictError,
    SnapshotEncodingError,
    WorkflowArgumentError,
)
from igniter_nb.runtime import codec
from igniter_nb.workflow.lookalikes import lookalike, only_invisible

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# What ``_CANONICAL.encode`` builds on every call, built once: its C encoder, without the circular-reference markers
# (a value digested is acyclic — plain data ``is_plain`` walked to its end, or the codec's fresh encoding — and a
# markers dict shared between threads could report a cycle that is not there). The same text, ~1 µs less a delivery.
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)  # (None where the C accelerator is missing)
_CANONICAL_C = (None if _C_MAKE_ENCODER is None else
                _C_MAKE_ENCODER(None, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, False))


def payload_digest(value: Any) -> str | None:
    """``"sha256:<hex>"`` of the canonical JSON of the encoded ``value``; None when the codec cannot encode it
    (the await then fails when the workflow is saved: see ``runtime/unstorable.py``)."""
    try:  # (plain data encodes as an equal copy of itself: its text is read from it directly, without the copy)
        encoded = value if codec.is_plain(value) else codec.encode(value)
        text = _CANONICAL.encode(encoded) if _CANONICAL_C is None else "".join(_CANONICAL_C(encoded, 0))
    except (SnapshotEncodingError, ValueError):
        return None
    # surrogatepass: text with an unpaired surrogate (a file name os.fsdecode made) still has one digest; every
    # other text encodes exactly as before
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _shown_key(key: str) -> str:
    """``key`` as error messages show it: cut past 60 characters, with its length (the context keeps it whole)."""
    return repr(key) if len(key) <= 60 else f"{key[:60]!r}... ({len(key)} characters)"


def check_idempotency_key(key: Any) -> str | None:
    """``key`` when it is None or a non-blank string, else ``WorkflowArgumentError``. Blank as a correlation value
    is (``workflow/correlation.py``): empty, whitespace, or invisible characters and whitespace only (``"\u200b"``,
    ``"\ufeff"``: ``lookalikes.only_invisible``), which ``str.strip()`` keeps; the message names their code points."""
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip():
        raise WorkflowArgumentError(f"idempotency_key must be a non-empty string, got {type(key).__name__} {key!r:.80}",
                                    argument="idempotency_key")
    invisible = only_invisible(key)
    if invisible is not None:
        raise WorkflowArgumentError(f"idempotency_key must be a non-empty string, got str {key!r:.80}: it holds only "
                                    f"invisible characters ({invisible})", argument="idempotency_key")
    return key


def live_signals(workflow: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The recorded signals still in force (a signal whose await ``retry_workflow`` reopened is retracted)."""
    signals = (workflow or {}).get("signals") or ()
    return [s for s in signals if (type(s) is dict or isinstance(s, Mapping)) and not s.get("retracted")]


def repeated_signal(
    signals: Sequence[Mapping[str, Any]], node: str, event: str, key: str | None, digest: str | None, *,
    graph: str, execution_id: str, path: str | None = None,
) -> Mapping[str, Any] | None:
    """The recorded signal this delivery repeats (answer it with the workflow unchanged), or None when the
    delivery is new. Raises ``IdempotencyConflictError`` or ``DuplicateSignalError`` (module docstring)."""
    where: dict[str, Any] = {"graph": graph, "node": node, "path": path, "execution_id": execution_id, "event": event}
    if key is not None:
        same_key = next((s for s in signals if s.get("idempotency_key") == key), None)
        if same_key is not None:
            order, recorded_event = same_key.get("order"), same_key.get("event")
            if same_key.get("node") != node:
                raise IdempotencyConflictError(
                    f"idempotency key {_shown_key(key)} was already used for event '{recorded_event}' of {graph} {execution_id} "
                    f"(signal #{order}); it cannot be reused for event '{event}'",
                    idempotency_key=key, signal=order, recorded_event=recorded_event, **where)
            if "payload_digest" in same_key and same_key["payload_digest"] != digest:
                raise IdempotencyConflictError(
                    f"idempotency key {_shown_key(key)} was recorded for event '{event}' of {graph} {execution_id} with a "
                    f"different payload (signal #{order} at {same_key.get('received_at')}); a retry must send the "
                    "same payload", idempotency_key=key, signal=order, **where)
            return same_key
    prior = next((s for s in signals if s.get("node") == node), None)
    if prior is not None:
        recorded_key = prior.get("idempotency_key")
        shown = _shown_key(recorded_key) if isinstance(recorded_key, str) else repr(recorded_key)
        recorded = f"signal #{prior.get('order')} at {prior.get('received_at')}, idempotency key {shown}"
        why = lookalike(key, recorded_key)  # prints as the recorded key: matching stays exact
        if why:
            recorded += f"; the idempotency key given, {_shown_key(str(key))}, is not the recorded one: {why}"
        if prior.get("event") not in (event, None):  # the await awaited another event when it was satisfied
            raise DuplicateSignalError(
                f"await '{node}' of {graph} {execution_id} was already satisfied by event '{prior.get('event')}' "
                f"({recorded}), which it awaited before a deploy changed it to '{event}'", **where)
        raise DuplicateSignalError(f"event '{event}' was already delivered to {graph} {execution_id} ({recorded})",
                                   **where)
    return None
