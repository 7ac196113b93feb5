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

import json
from typing import Any

from igniter_nb.diagnostics.json_safe import MAX_RESPONSE_DEPTH, json_safe
from igniter_nb.runtime.repeated_keys import RepeatedKeyError, repeated_key_at
from igniter_nb.runtime.strict_json import NotJSONNumber, loads_strict
from igniter_nb.runtime.surrogates import escaped_lone_surrogate_at

#: Deepest nesting of arrays and objects a request body may have; deeper bodies are refused (400).
MAX_DEPTH = 64


class BadJSON(ValueError):
    """A request body that is not acceptable JSON; the message says why."""


# ----------------------------------------------------------------------------------------------- reading


def parse_json(body: bytes) -> Any:
    """The JSON value in ``body``; ``BadJSON`` saying what is wrong (encoding, syntax, numbers, nesting)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJSON(f"request body is not UTF-8 text (byte {exc.start} is invalid)") from None
    try:
        value = loads_strict(text)
    except NotJSONNumber as exc:
        raise BadJSON(str(exc)) from None
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


__all__ = ["MAX_DEPTH", "MAX_RESPONSE_DEPTH", "BadJSON", "json_bytes", "json_safe", "nesting_depth", "parse_json"]
