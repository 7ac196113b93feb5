"""Any value as plain JSON data, by one fixed rule (the server's answers, ``contract.audit.snapshot()``).

Outputs, error contexts and event payloads hold whatever user code produced: datetimes, decimals, pydantic
models, child results, sets, non-finite floats, objects of the user's own classes. ``json_safe`` turns each into
plain JSON data with a fixed, documented rule (``docs/server.md``), so the result can always be encoded.
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

#: Nesting below this in a value is cut off (shown as the string "...") rather than recursed into.
MAX_RESPONSE_DEPTH = 200


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
