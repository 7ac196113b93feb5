"""``migrate(inputs=...)``: values for inputs a stored execution lacks, and the correlation a workflow takes from
its inputs when a deploy changed the graph's correlation keys.

A deploy that adds a correlation key (``c.correlate_by("lead", "tenant")`` with a new input ``tenant``) leaves the
workflows started before it with a correlation of the old keys and no ``tenant``: ``deliver_event`` and ``cancel``
need exactly the graph's keys, so nothing could address them. ``migrate(store, inputs={"tenant": "acme"})`` gives
each stored execution the inputs it has no value for — a mapping, or a callable that takes the execution's stored
inputs and returns one (a value per workflow) — never changing an input an execution already has; a workflow whose
correlation keys are not the graph's takes its correlation from its inputs again (a removed key is dropped), and
the store indexes it under the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from igniter_nb.errors import IgniterError, WorkflowArgumentError
from igniter_nb.runtime.status import Status
from igniter_nb.workflow.correlation import correlation_from_inputs


def check_inputs(graph: Any, inputs: Any) -> Mapping[str, Any] | Callable[[dict[str, Any]], Any] | None:
    """``inputs=`` as given when it is None, a callable, or a mapping naming input nodes of ``graph``."""
    if inputs is None or callable(inputs):
        return inputs
    if not isinstance(inputs, Mapping) or not all(isinstance(k, str) for k in inputs):
        raise WorkflowArgumentError(f"inputs= must map input names to values (or be a callable returning such a "
                                    f"mapping), got {type(inputs).__name__} {inputs!r:.120}", graph=graph.name,
                                    argument="inputs")
    _check_names(graph, inputs)
    return inputs


def _check_names(graph: Any, inputs: Mapping[str, Any]) -> None:
    for name in inputs:
        if not isinstance(name, str) or not graph.has_node(name) or graph.node(name).kind != "input":
            raise WorkflowArgumentError(f"inputs= names {name!r:.80}, which is not an input of {graph.name} (its "
                                        f"inputs: {', '.join(n.name for n in graph.input_nodes) or 'none'})",
                                        graph=graph.name, argument="inputs", node=str(name)[:80])


def _has_value(execution: Any, name: str) -> bool:
    if name in execution.inputs:
        return True
    state = execution.states.get(name)
    return state is not None and state.status is Status.SUCCEEDED


def _value(execution: Any, name: str) -> Any:
    return execution.inputs[name] if name in execution.inputs else execution.states[name].value


def missing_inputs(graph: Any, execution: Any, inputs: Any) -> dict[str, Any]:
    """The values of ``inputs`` for the inputs ``execution`` has no value for, checked as ``update_inputs`` checks
    them (``InputError``); a callable's mapping is checked here (``WorkflowArgumentError``)."""
    if inputs is None:
        return {}
    if callable(inputs):
        stored = {name: _value(execution, name) for name in (n.name for n in graph.input_nodes)
                  if _has_value(execution, name)}
        try:
            inputs = inputs(stored)
        except Exception as exc:  # the caller's function: its failure is this execution's, reported with it
            raise WorkflowArgumentError(f"inputs= raised {type(exc).__name__}: {exc}"[:500], graph=graph.name,
                                        argument="inputs", execution_id=execution.execution_id) from exc
        if not isinstance(inputs, Mapping):
            raise WorkflowArgumentError(f"inputs= returned {type(inputs).__name__}, not a mapping of input names to "
                                        "values", graph=graph.name, argument="inputs",
                                        execution_id=execution.execution_id)
        _check_names(graph, inputs)
    given = {name: value for name, value in inputs.items() if not _has_value(execution, name)}
    if given:
        execution.input_validator.updates(given, execution.execution_id)
    return given


def correlation_now(graph: Any, execution: Any, given: Mapping[str, Any], contract: str) -> dict[str, Any] | None:
    """The correlation a workflow takes from its inputs (with ``given``) when its stored correlation keys are not
    the graph's; None when they are (or for a plain execution). A key without a value is a
    ``WorkflowArgumentError`` saying how to give it one."""
    workflow = execution.workflow
    if workflow is None:
        return None
    stored = workflow.get("correlation")
    keys = graph.correlation_keys
    if isinstance(stored, Mapping) and set(stored) == set(keys):
        return None
    values = {}
    for key in keys:
        if key in given:
            values[key] = given[key]
        elif _has_value(execution, key):
            values[key] = _value(execution, key)
        else:
            raise WorkflowArgumentError(
                f"correlation key {key!r} of {graph.name} has no value in execution {execution.execution_id}, "
                f"started before a deploy added the key (its correlation: {stored}): give old workflows a value with "
                f"{contract}.migrate(store, inputs={{{key!r}: ...}}) — a value, or a function of the stored inputs",
                graph=graph.name, node=key, execution_id=execution.execution_id, argument="inputs")
    try:
        return correlation_from_inputs(graph, values, refuse_control=False)  # (stored values may predate the rule)
    except IgniterError as exc:
        raise exc.with_context(execution_id=execution.execution_id) from None


def carried_inputs(graph: Any, execution: Any, given: Mapping[str, Any], contract: str) -> dict[str, Any]:
    """The inputs of ``graph`` a stored execution holds a value for only as a node state — a compute a deploy made an
    input (same name, or renamed by ``migrate``): the value it computed, checked as ``update_inputs`` checks
    inputs, to be written into the stored inputs. A required input with neither such a value, a stored input, a
    default nor a value in ``given`` is a ``WorkflowArgumentError`` naming the execution and the node: resolving
    it would fail the workflow."""
    carried: dict[str, Any] = {}
    for node in graph.input_nodes:
        name = node.name
        if name in execution.inputs or name in given:
            continue
        state = execution.states.get(name)
        if state is not None and state.status is Status.SUCCEEDED:
            try:
                execution.input_validator.updates({name: state.value}, execution.execution_id)
            except IgniterError as exc:
                raise WorkflowArgumentError(
                    f"input {name!r} of {graph.name} holds, in execution {execution.execution_id}, the value a "
                    f"compute gave it before a deploy made it an input, and that value is not a valid input: "
                    f"{exc.message}"[:600], graph=graph.name, node=name, execution_id=execution.execution_id,
                    argument="inputs") from None
            carried[name] = state.value
        elif node.required and not node.has_default:
            raise WorkflowArgumentError(
                f"input {name!r} of {graph.name} has no value in execution {execution.execution_id} (a node the graph "
                f"it was saved under computed or lacked, with no value yet): resolving it would fail the workflow; "
                f"give it one with {contract}.migrate(store, inputs={{{name!r}: ...}}) — a value, or a function of "
                f"the stored inputs", graph=graph.name, node=name, execution_id=execution.execution_id,
                argument="inputs")
    return carried
