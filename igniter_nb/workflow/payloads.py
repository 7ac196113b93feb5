"""Validating delivered event payloads against an await's ``schema`` (a pydantic model or a type hint)."""

from __future__ import annotations

import copy
import functools
from typing import Any

from igniter_nb.errors import PayloadValidationError
from igniter_nb.model import AwaitNode
from igniter_nb.runtime import codec


@functools.lru_cache(maxsize=512)
def _cached_adapter(schema: Any) -> Any:
    import pydantic

    return pydantic.TypeAdapter(schema)


@functools.cache
def _pydantic() -> Any:
    """The pydantic module, imported on first use (an import statement costs a microsecond on every delivery)."""
    import pydantic

    return pydantic


def _adapter(schema: Any) -> Any:
    """One ``pydantic.TypeAdapter`` per type hint: building one costs ~0.4 ms, about a quarter of a delivery."""
    try:
        return _cached_adapter(schema)
    except TypeError:  # an unhashable hint (rare): build it each time
        import pydantic

        return pydantic.TypeAdapter(schema)


def private_copy(value: Any) -> Any:
    """A copy of ``value`` that shares no container with it: the engine keeps and returns what a caller gave
    (a payload, an input), and the caller may change its object afterwards. Plain JSON data (the usual payload) is
    copied by ``codec.plain_copy``; anything else by ``copy.deepcopy``; a value that cannot be copied is kept as it
    is (the codec cannot store it either: its node fails when the workflow is saved)."""
    found = codec.plain_copy(value)
    if found is not None or value is None:
        return found
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def validate_payload(graph_name: str, node: AwaitNode, payload: Any) -> Any:
    """The payload as the await node will hold it (a model instance for pydantic schemas), a private copy: it
    shares no container with ``payload``, so a caller changing its object after the delivery changes neither the
    contract returned nor what is stored (the one copy is made here, where validation walks the payload anyway:
    validation builds its result from the copy).

    Raises ``PayloadValidationError`` listing each problem (field path and message).
    """
    schema = node.schema
    if schema is None:
        return private_copy(payload)
    pydantic = _pydantic()
    try:
        if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
            if isinstance(payload, schema):  # (an instance is not validated again: copied, nested values too)
                return payload.model_copy(deep=True)  # type: ignore[attr-defined]  # (a pydantic model)
            return schema.model_validate(private_copy(payload))  # type: ignore[attr-defined]  # (a pydantic model class)
        return _adapter(schema).validate_python(private_copy(payload), strict=True)
    except pydantic.ValidationError as exc:
        problems = [
            {"loc": ".".join(str(p) for p in err["loc"]) or "(payload)", "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        text = "; ".join(f"{p['loc']}: {p['msg']}" for p in problems)
        raise PayloadValidationError(
            f"payload of event '{node.event}' does not match {getattr(schema, '__name__', schema)!s}: {text}",
            graph=graph_name, node=node.name, path=node.path, source_location=node.source_location,
            event=node.event, problems=problems,
        ) from None
