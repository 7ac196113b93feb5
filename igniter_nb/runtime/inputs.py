"""Input values: validation at construction and on update, defaults, equality."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from igniter_nb._source import user_location
from igniter_nb.compiler.graph import CompiledGraph
from igniter_nb.compiler.types import TypeCheck, resolve_type
from igniter_nb.errors import InputError
from igniter_nb.model import MISSING, InputNode
from igniter_nb.runtime.resolver import one_shot_kind
from igniter_nb.runtime.steps import one_shot_advice

_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), frozenset, range)


def is_immutable(value: Any) -> bool:
    """Whether ``value`` can be shared between executions as is (scalars, and tuples of them)."""
    return isinstance(value, _IMMUTABLE) or (isinstance(value, tuple) and all(isinstance(v, _IMMUTABLE) for v in value))


def fresh_default(value: Any) -> Any:
    """A default as a new object per execution when it is mutable (defaults are never shared: L-17)."""
    return value if is_immutable(value) else copy.deepcopy(value)


def same_value(old: Any, new: Any) -> bool:
    """Whether setting ``new`` over ``old`` changes nothing (equal value of the same type; a float NaN over a NaN
    changes nothing either, though ``nan != nan``: a source sending "missing" again recomputes nothing)."""
    if old is new:
        return True
    if type(old) is not type(new):
        return False
    try:
        result = old == new
    except Exception:
        return False
    if result is True:
        return True
    return type(old) is float and old != old and new != new  # both NaN


def same_inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two input dicts have the same names and ``same_value`` values (``1`` and ``True`` differ)."""
    return old.keys() == new.keys() and all(same_value(old[k], new[k]) for k in new)


class InputValidator:
    """Checks input values against the graph's input nodes (strict types, no coercion)."""

    def __init__(self, graph: CompiledGraph) -> None:
        self.graph = graph
        self.nodes: dict[str, InputNode] = {n.name: n for n in graph.nodes if isinstance(n, InputNode)}
        self.checks: dict[str, TypeCheck | None] = {name: resolve_type(n.type_spec) for name, n in self.nodes.items()}

    def _error(self, message: str, node: InputNode | None, execution_id: str | None, **extra: Any) -> InputError:
        return InputError(
            message,
            graph=self.graph.name,
            node=node.name if node else None,
            path=node.path if node else None,
            source_location=node.source_location if node else None,
            execution_id=execution_id,
            **extra,
        )

    def unknown(self, names: list[str], execution_id: str | None) -> InputError:
        hints = []
        for n in names:
            close = difflib.get_close_matches(n, list(self.nodes), n=1)
            if close:
                hints.append(f"'{n}' -> did you mean '{close[0]}'?")
        known = ", ".join(self.nodes) or "none"
        hint = f"; {'; '.join(hints)}" if hints else ""
        label = "input" if len(names) == 1 else "inputs"
        first = sorted(names)[0]
        return InputError(
            f"Unknown {label}: {', '.join(sorted(names))} (inputs of {self.graph.name}: {known}){hint}",
            graph=self.graph.name, node=first, path=first, execution_id=execution_id,
            source_location=user_location(), unknown=sorted(names),
        )

    def check(self, name: str, value: Any, execution_id: str | None) -> None:
        node = self.nodes[name]
        if value is None:
            if node.required:
                raise self._error(f"Input '{name}' is required and cannot be None", node, execution_id)
            return
        kind = one_shot_kind(value)
        if kind is not None:  # every reader of the input would share one pass over it (see Resolver._settle)
            raise self._error(f"Input '{name}' is {kind}, {one_shot_advice(kind)}", node, execution_id,
                              got=type(value).__qualname__)
        check = self.checks[name]
        if check is not None and not check(value):
            raise self._error(
                f"Input '{name}' must be of type {check.name}, got {type(value).__name__} {_short(value)}",
                node, execution_id, expected=check.name, got=type(value).__name__,
            )

    def initial(self, given: Mapping[str, Any], execution_id: str | None) -> dict[str, Any]:
        """Validate constructor inputs; returns the given values (defaults are applied lazily)."""
        values: dict[str, Any] = {}
        unknown = [str(k) for k in given if k not in self.nodes]
        if unknown:
            raise self.unknown(unknown, execution_id)
        for name, value in given.items():
            self.check(name, value, execution_id)
            values[name] = value
        return values

    def value_of(self, name: str, inputs: Mapping[str, Any], execution_id: str | None) -> Any:
        """The value an input node resolves to (given, else a fresh default, else an error if required)."""
        if name in inputs:
            return inputs[name]
        node = self.nodes[name]
        if node.default is not MISSING:
            return fresh_default(node.default)
        if not node.required:
            return None
        raise self._error(f"Missing required input: {name}", node, execution_id)

    def updates(self, given: Mapping[str, Any], execution_id: str | None) -> None:
        """Validate every update before any is applied, so a bad one leaves the execution untouched."""
        unknown = [str(k) for k in given if k not in self.nodes]
        if unknown:
            raise self.unknown(unknown, execution_id)
        for name, value in given.items():
            self.check(name, value, execution_id)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
