"""Making any value safe to send as JSON, and reading request JSON strictly.

Outputs, error contexts and diagnostics hold whatever user code produced: datetimes, decimals, pydantic models,
child results, sets, non-finite floats, objects of the user's own classes. ``json_safe`` turns each into plain
JSON data with a fixed, documented rule (``docs/server.md``), so a response can always be encoded — an odd value
is never a 500.

``parse_json`` reads a request body as strict JSON: UTF-8 only, no ``NaN``/``Infinity`` literals, no number that
overflows a float or has more digits than Python converts, no nesting deeper than :data:`MAX_DEPTH`, no string
holding an unpaired UTF-16 surrogate (``"\\ud800"``: valid JSON syntax, but no Unicode text — stored, it could
never be sent back as UTF-8), no key repeated within one object. Each refusal names what was wrong, for a 400
answer.

``json_bytes`` encodes a response body; text that holds such a surrogate anyway (put in a store by Python code)
is sent with ``\\u`` escapes instead of failing.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from igniter_nb.runtime.repeated_keys import RepeatedKeyError, repeated_key_at, unique_keys
from igniter_nb.runtime.surrogates import escaped_lone_surrogate_at

#: Deepest nesting of arrays and objects a request body may have; deeper bodies are refused (400).
MAX_DEPTH = 64
#: Nesting below this in a *response* value is cut off (shown as the string "...") rather than recursed into.
MAX_RESPONSE_DEPTH = 200


class BadJSON(ValueError):
    """A request body that is not acceptable JSON; the message says why."""


def json_safe(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON data: dicts with str keys, lists, str, int, finite float, bool, None.

    Non-finite floats become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``; datetimes, dates and times
    ISO-8601 text; ``Decimal`` and ``UUID`` their text; bytes base64 text; enums their value; sets sorted lists;
    pydantic models and dataclasses their fields; child results, collection results and deferred waits their
    ``to_dict()`` form; anything else its ``str()``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if _depth >= MAX_RESPONSE_DEPTH:
        return "..."
    deeper = _depth + 1
    if isinstance(value, Mapping):
        return {_key(k): json_safe(v, deeper) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, deeper) for v in value]
    if isinstance(value, set | frozenset):
        items = [json_safe(v, deeper) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | PurePath):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, enum.Enum):
        return json_safe(value.value, deeper)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model
        try:
            return json_safe(dump(mode="json"), deeper)
        except Exception:
            return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name), deeper) for f in dataclasses.fields(value)}
    from igniter_nb.diagnostics.report import plain_value

    plain = plain_value(value)  # child results, collection results, deferred waits
    if plain is not value:
        return json_safe(plain, deeper)
    try:
        return str(value)
    except Exception:  # a user object whose __str__ raises still gets a readable stand-in
        return f"<{type(value).__name__}>"


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    safe = json_safe(key, MAX_RESPONSE_DEPTH - 1)
    return safe if isinstance(safe, str) else json.dumps(safe)


# ----------------------------------------------------------------------------------------------- reading


def _reject_constant(name: str) -> Any:
    raise BadJSON(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadJSON(f"number {text[:40]} is too large for a float")
    return number


def parse_json(body: bytes) -> Any:
    """The JSON value in ``body``; ``BadJSON`` saying what is wrong (encoding, syntax, numbers, nesting)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJSON(f"request body is not UTF-8 text (byte {exc.start} is invalid)") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                           object_pairs_hook=unique_keys)
    except BadJSON:
        raise
    except RepeatedKeyError as exc:
        # `{"inputs": {...}, "inputs": {...}}`: json keeps the last, a proxy or validator in front may have read the
        # first. Two readers of one body must never see two different requests.
        repeat = repeated_key_at(text, "body")
        place = repeat[0] if repeat is not None else "one object"
        raise BadJSON(f"request body repeats the key {exc.key[:80]!r} in {place}: each key may appear once") from None
    except json.JSONDecodeError as exc:
        raise BadJSON(f"Invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadJSON(f"request body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise BadJSON(f"Invalid JSON: {exc}") from None
    # every level of nesting opens with a bracket outside a string: a body with at most MAX_DEPTH of them (counting
    # those inside strings too, so never fewer) cannot nest deeper and skips the walk (~13 µs for an event body)
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting_depth(value) > MAX_DEPTH:
        raise BadJSON(f"request body nests deeper than {MAX_DEPTH} levels")
    where = escaped_lone_surrogate_at(text, value, "body")
    if where is not None:
        raise BadJSON(f"request body has an unpaired UTF-16 surrogate (\\u{ord(where[1]):04x}) in {where[0]}: "
                      "JSON strings must be Unicode text")
    return value


def json_bytes(content: Any) -> bytes:
    """A response body: compact UTF-8 JSON, or ASCII with ``\\u`` escapes when some text holds an unpaired
    surrogate (UTF-8 cannot carry it; the escaped form is still valid JSON and loses nothing)."""
    try:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def nesting_depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest


__all__ = ["MAX_DEPTH", "BadJSON", "json_bytes", "json_safe", "nesting_depth", "parse_json"]
