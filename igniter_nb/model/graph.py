"""The uncompiled graph: what the builder hands to the compiler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.model.nodes import Node, OutputNode, Reaction


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphModel:
    """Nodes in declaration order plus the contract-level settings declared next to them."""

    name: str
    nodes: tuple[Node, ...]
    outputs: tuple[OutputNode, ...]
    correlation_keys: tuple[str, ...] = ()
    correlation_location: str | None = None
    run_options: Mapping[str, Any] = field(default_factory=dict)
    reactions: tuple[Reaction, ...] = ()
    presenters: Mapping[str, Any] = field(default_factory=dict)
    source_location: str | None = None
    contract_class: Any = None
