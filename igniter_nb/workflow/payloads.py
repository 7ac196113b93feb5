"""Validating delivered event payloads against an await's ``schema`` (a pydantic model or a type hint)."""

from __future__ import annotations

import functools
from typing import Any

from igniter_nb.errors import PayloadValidationError
from igniter_nb.model import AwaitNode


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


def validate_payload(graph_name: str, node: AwaitNode, payload: Any) -> Any:
    """The payload as the await node will hold it (a model instance for pydantic schemas).

    Raises ``PayloadValidationError`` listing each problem (field path and message).
    """
    schema = node.schema
    if schema is None:
        return payload
    pydantic = _pydantic()
    try:
        if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
            if isinstance(payload, schema):
                return payload
            return schema.model_validate(payload)  # type: ignore[attr-defined]  # (a pydantic model class)
        return _adapter(schema).validate_python(payload, strict=True)
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
