"""Validation, cycle detection and the compiled graph."""

from igniter_nb.compiler.compile import compile_graph
from igniter_nb.compiler.graph import CompiledGraph

__all__ = ["CompiledGraph", "compile_graph"]
