"""The compiler pipeline: validate a ``GraphModel`` and index it into a ``CompiledGraph``."""

from __future__ import annotations

from igniter_nb.compiler import validators as v
from igniter_nb.compiler.graph import CompiledGraph
from igniter_nb.model import GraphModel


def compile_graph(model: GraphModel) -> CompiledGraph:
    """Run every validator (stopping at the first error) and return the compiled graph."""
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
