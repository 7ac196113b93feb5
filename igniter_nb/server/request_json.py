"""A request body as the server accepts it: strict JSON in UTF-8, or an error naming the value that has no JSON
form and where it is (``inputs.order.lines[2].price``), raised before anything is sent."""

from __future__ import annotations

import json
from typing import Any

from igniter_nb.model.correlation_values import non_finite


def json_content(body: Any) -> dict[str, Any]:
    """``content=`` and ``headers=`` for httpx: ``body`` as strict JSON in UTF-8, what the server accepts. A value
    that has no JSON form (``NaN``/``inf``, text with an unpaired surrogate, a ``datetime`` or another object)
    raises ``ValueError``/``TypeError`` naming where it is (``inputs.order.lines[2].price``) before anything is
    sent — httpx itself would raise a bare ``UnicodeEncodeError`` or ``ValueError`` without saying where."""
    if body is None:
        return {}
    try:
        data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        _raise_unsendable(body, exc)
        raise  # (not reached: _raise_unsendable raises)
    return {"content": data, "headers": {"content-type": "application/json"}}


_LEAVE = object()  # on _raise_unsendable's stack: the container below it is done (no longer on the path)


def _raise_unsendable(body: Any, cause: BaseException) -> None:
    """Raise the error of the first value in ``body`` that has no JSON form, with its path."""
    stack: list[tuple[Any, Any]] = [(body, "(body)")]  # (value, its path) or (_LEAVE, a container's id)
    if isinstance(body, dict):
        stack = [(v, str(k)) for k, v in reversed(list(body.items()))]
    on_path: set[int] = set()  # the containers the value being looked at is inside: met again, a cycle
    while stack:
        value, path = stack.pop()
        if value is _LEAVE:
            on_path.discard(path)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"cannot send {path} as JSON: its text holds an unpaired surrogate "
                                 f"({value!r:.60}); encode it as valid UTF-8 text first") from None
        elif non_finite(value):
            raise ValueError(f"cannot send {path} as JSON: {value!r} (JSON has no NaN or Infinity)")
        elif isinstance(value, dict | list | tuple):
            if id(value) in on_path:
                raise ValueError(f"cannot send {path} as JSON: it contains itself (a cycle)")
            on_path.add(id(value))
            stack.append((_LEAVE, id(value)))
            if isinstance(value, dict):
                for key, item in reversed(list(value.items())):
                    if not (key is None or isinstance(key, str | int | float | bool)):
                        raise TypeError(f"cannot send {path} as JSON: its key {key!r:.60} is a "
                                        f"{type(key).__name__} (JSON object keys are text)")
                    stack.append((item, f"{path}.{key}"))
                    stack.append((key, f"{path} (a key)"))
            else:
                stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
        elif not (value is None or isinstance(value, bool | int | float)):
            raise TypeError(f"cannot send {path} as JSON: a {type(value).__name__} ({value!r:.60}) has no JSON "
                            "form; send text, numbers, booleans, null, lists and objects (e.g. a date as "
                            "date.isoformat())")
    if isinstance(cause, RecursionError):
        raise ValueError("cannot send this request as JSON: it is nested too deeply") from None
    raise ValueError(f"cannot send this request as JSON: {cause}") from cause


__all__ = ["json_content"]
