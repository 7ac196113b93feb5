"""The graph names igniter_nb keeps for its own records.

Graphs whose name starts with :data:`INTERNAL_GRAPH_PREFIX` (``"igniter_nb."``) are the library's bookkeeping —
the LLM layer's resume leases (``igniter_nb.llm_resume``) and cached replies (``igniter_nb.llm_cache``) — saved in
the user's execution store beside the executions. Every store leaves them out of ``list()``, ``list_page()`` and
``count()`` unless the graph is asked for by name, and no contract may be compiled under such a name (its
executions would vanish from those listings). Defined here, in the model layer, so the compiler and the stores
share it without either importing the other (or ``llm/``).
"""

from __future__ import annotations

INTERNAL_GRAPH_PREFIX = "igniter_nb."
"""Graph names starting with this (exactly: case-sensitive) are internal records, not executions of a contract."""


def is_internal_graph(graph: object) -> bool:
    """Whether ``graph`` names an internal record's graph (``"igniter_nb.llm_cache"``: True; None, ``"Order"``: no)."""
    return type(graph) is str and graph.startswith(INTERNAL_GRAPH_PREFIX)


__all__ = ["INTERNAL_GRAPH_PREFIX", "is_internal_graph"]
