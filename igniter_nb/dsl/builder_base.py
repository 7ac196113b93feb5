"""The contract builder's state and plumbing: what every keyword of ``c`` shares.

Node ids and paths, errors carrying the user's source line, the fields every node has, name checks, and the
decorators that must still be applied. The keywords themselves live in ``builder.py`` (inputs, outputs, child
contracts), ``builder_computes.py`` and ``builder_settings.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from igniter_nb._source import user_location
from igniter_nb.dsl.builder_checks import _names, _NotNames
from igniter_nb.errors import CompileError, ValidationError
from igniter_nb.model import GraphModel, Node, OutputNode, Reaction


class _BuilderBase:
    """The state one ``ContractBuilder`` collects, and the helpers its keywords share."""

    def __init__(self, name: str, contract_class: Any = None, *, inherited: GraphModel | None = None) -> None:
        self.name = name
        self.contract_class = contract_class
        self._nodes: list[Node] = []
        self._outputs: list[OutputNode] = []
        self._counter = 0
        self._scopes: list[str] = []
        self._correlation: tuple[str, ...] = inherited.correlation_keys if inherited else ()
        self._correlation_location: str | None = None
        self._unapplied: dict[int, tuple[str, Any, str | None]] = {}  # decorators returned but never applied
        self._run_options: dict[str, Any] = dict(inherited.run_options) if inherited else {}
        self._reactions: list[Reaction] = list(inherited.reactions) if inherited else []
        self._presenters: dict[str, Any] = dict(inherited.presenters) if inherited else {}
        self._presenter_locations: dict[str, str | None] = {}  # where each presenter declared here was
        self._inherited = inherited  # the parent's graph, whose reactions/correlation/presenters are kept (L-35)
        self._location = user_location(2)

    # ------------------------------------------------------------------ plumbing
    def _next_id(self) -> str:
        self._counter += 1
        return f"{self.name}:{self._counter}"

    def _path(self, name: str, *, output: bool = False) -> str:
        if not self._scopes:
            return f"output.{name}" if output else name
        parts = [*self._scopes, "output", name] if output else [*self._scopes, name]
        return ".".join(parts)

    def _error(self, message: str, name: str | None = None, location: str | None = None,
               cls: type[CompileError] = CompileError) -> CompileError:
        return cls(
            message,
            graph=self.name,
            node=name,
            path=self._path(name) if name else None,
            source_location=location or user_location(3),
        )

    def _add(self, node: Node) -> Node:
        if isinstance(node, OutputNode):
            self._outputs.append(node)
        else:
            self._nodes.append(node)
        return node

    def _base(self, name: str, kind: str, meta: Mapping[str, Any], loc: str | None,
              dependencies: Iterable[str] = (), *, output: bool = False) -> dict[str, Any]:
        """The fields every node has, for a node declared here now."""
        return {
            "id": self._next_id(),
            "kind": kind,
            "name": name,
            "path": self._path(name, output=output),
            "dependencies": tuple(dependencies),
            "metadata": self._meta(meta),
            "source_location": loc,
        }

    def _check_name(self, name: Any, keyword: str) -> str:
        if type(name) is str and name.isidentifier():
            return name
        if not isinstance(name, str) or not name.strip():
            raise self._error(f"{keyword} needs a non-empty string name, got {name!r}")
        if not name.isidentifier():
            raise self._error(
                f"{keyword} name {name!r} must be a Python identifier (letters of any script, digits, underscores; "
                "not starting with a digit)", None, None, ValidationError
            )
        return name

    def _names(self, value: Any, what: str, keyword: str, name: Any, loc: str | None) -> tuple[str, ...]:
        try:
            return _names(value)
        except _NotNames as exc:
            raise self._error(f"{keyword} '{name}': `{what}=` takes {exc}", name if isinstance(name, str) else None,
                              loc) from None

    def _meta(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in meta.items() if v is not None} if meta else {}

    # ------------------------------------------------------------------ decorators still to apply
    def _awaiting(self, keyword: str, name: Any, loc: str | None,
                  apply: Callable[[Callable[..., Any]], Any]) -> Callable[[Callable[..., Any]], Any]:
        """A decorator that must be applied; ``build()`` reports it if it never was (a call form with no callable)."""

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._unapplied.pop(id(decorator), None)
            apply(fn)
            return fn

        self._unapplied[id(decorator)] = (keyword, name, loc)
        return decorator
