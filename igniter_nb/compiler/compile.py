"""The compiler pipeline: validate a ``GraphModel`` and index it into a ``CompiledGraph``."""

from __future__ import annotations

from igniter_nb._error_text import short_path
from igniter_nb.compiler import validators as v
from igniter_nb.compiler.graph import CompiledGraph
from igniter_nb.errors import ValidationError
from igniter_nb.model import GraphModel
from igniter_nb.model.graph_names import graph_name_problem
from igniter_nb.model.reserved import INTERNAL_GRAPH_PREFIX, is_internal_graph


def compile_graph(model: GraphModel, *, name_origin: str | None = None) -> CompiledGraph:
    """Run every validator (stopping at the first error) and return the compiled graph. ``name_origin`` says where
    the graph's name came from (``"ig.compile(name=)"``), for the error that refuses it."""
    _check_name(model, name_origin)
    v.check_uniqueness(model)
    model = v.resolve_children(model)
    v.check_composition_cycles(model)
    v.check_outputs(model)
    v.check_dependencies(model)
    v.check_types(model)
    v.check_callables(model)
    v.check_workflow(model)
    v.check_remotes(model)
    v.check_reactions(model)
    order, dependents = v.resolution_order(model)
    return CompiledGraph(
        name=model.name,
        nodes=model.nodes,
        outputs=model.outputs,
        correlation_keys=model.correlation_keys,
        run_options=model.run_options,
        reactions=model.reactions,
        presenters=model.presenters,
        resolution_order=order,
        dependents=dependents,
        contract_class=model.contract_class,
        source_location=model.source_location,
    )


#: The most characters of a refused graph name its error quotes (cut in the middle, saying how many were left out).
NAME_QUOTED = 80


def _check_name(model: GraphModel, name_origin: str | None = None) -> None:
    """A contract's graph name must be one every store keeps (``model/graph_names.py``: it would compile, run and
    fail only when saved), and may not be a reserved name: the stores leave those graphs' records out of their
    listings (``model/reserved.py``), so its executions would never be listed."""
    problem = graph_name_problem(model.name)
    if problem is not None:
        origin = name_origin or ("the class name" if model.contract_class is not None else "the graph's name")
        raise ValidationError(
            f"graph name {short_path(model.name, NAME_QUOTED, escape=False)!r} {problem}: it comes from {origin}; "
            "every store refuses such a name, so the contract could run but never be saved: rename it",
            graph=model.name, source_location=model.source_location)
    if is_internal_graph(model.name):
        raise ValidationError(
            f"graph name {model.name!r} starts with {INTERNAL_GRAPH_PREFIX!r}, which igniter_nb reserves for its own "
            "records (the stores leave them out of list() and count()): name the contract otherwise",
            graph=model.name, source_location=model.source_location)
