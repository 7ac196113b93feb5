"""Branch nodes: pick one contract by the selector's value, then run only that one.

Cases are tried in declaration order. A value case matches when it equals the selector *within the same type
family* (``1 == 1.0`` matches, ``True`` never matches ``1``, ``"1"`` never matches ``1``; numpy's ``np.True_`` is
a boolean); a predicate case
(any callable) matches when it returns a truthy value for the selector. No match → the ``default`` contract,
or ``BranchSelectionError`` when there is none.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.registry import contract_name
from igniter_nb.compiler.signatures import callable_name
from igniter_nb.errors import BranchSelectionError, IgniterError, ResolutionError
from igniter_nb.model import BranchCase, BranchNode
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.steps import exception_text

if TYPE_CHECKING:
    from igniter_nb.runtime.children import ChildRuns
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.resolver import Resolver

DEFAULT_CASE = "default"


def _family(value: Any) -> str | None:
    if isinstance(value, bool) or _is_numpy_bool(value):  # numpy's booleans (a data frame's) are booleans too
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    return None


def _is_numpy_bool(value: Any) -> bool:
    tp = type(value)
    return tp.__module__ == "numpy" and tp.__name__ in ("bool", "bool_")  # (numpy is not imported for this)


def value_matches(expected: Any, value: Any) -> bool:
    """``expected == value`` when both are of the same type family (bool, number, text, bytes, or other)."""
    fa, fb = _family(expected), _family(value)
    if fa != fb and (fa is not None or fb is not None):
        return False
    try:
        return bool(expected == value)
    except Exception:  # e.g. arrays whose == is elementwise: not a match
        return False


def case_label(case: BranchCase) -> Any:
    """How a case shows in events and states: its value, or ``"<predicate name>"``."""
    return f"<predicate {callable_name(case.match)}>" if case.is_predicate else case.match


def select_case(node: BranchNode, value: Any, execution: Execution) -> tuple[Any, Any, int | None]:
    """``(contract class, matched case label, case index or None for the default)`` for selector ``value``."""
    for index, case in enumerate(node.cases):
        if case.is_predicate:
            try:
                hit = bool(case.match(value))
            except Exception as exc:
                err = ResolutionError(
                    f"branch '{node.name}': case predicate {callable_name(case.match)} raised "
                    f"{type(exc).__name__}: {exception_text(exc)} (selector '{node.selector}' = {value!r})",
                    graph=execution.graph.name, node=node.name, path=node.path,
                    execution_id=execution.execution_id, source_location=node.source_location,
                    cause_type=type(exc).__qualname__,
                )
                raise err from exc
        else:
            hit = value_matches(case.match, value)
        if hit:
            return case.contract, case_label(case), index
    if node.default is not None:
        return node.default, DEFAULT_CASE, None
    cases = ", ".join(f"{case_label(c)!r} -> {contract_name(c.contract)}" for c in node.cases)
    raise BranchSelectionError(
        f"branch '{node.name}': no case matches selector '{node.selector}' = {value!r} and there is no default "
        f"(cases: {cases}); add the case or `default=`",
        graph=execution.graph.name, node=node.name, path=node.path, execution_id=execution.execution_id,
        source_location=node.source_location, selector=node.selector, selector_value=repr(value),
    )


def resolve_branch(runs: ChildRuns, node: BranchNode, resolver: Resolver) -> NodeState:
    from igniter_nb.runtime.children import call_mapper

    values, blocked = resolver.dependency_values(node)
    if blocked is not None:
        return blocked
    assert values is not None
    ex = runs.execution
    selector_value = values[node.selector]
    try:
        cls, matched, index = select_case(node, selector_value, ex)
    except IgniterError as exc:
        return resolver.failed(node, exc)
    selection = {
        "selector": node.selector,
        "selector_value": selector_value,
        "matched_case": matched,
        "case_index": index,
        "selected_contract": contract_name(cls),
    }
    runs.selections[node.name] = selection
    ex.bus.emit("branch_selected", node.name, node.path, "succeeded", selection)
    try:
        if node.map_inputs is not None:
            context = {name: values[name] for name in node.context}
            inputs = dict(call_mapper(ex, node, node.map_inputs, {"selector": selector_value, **context}))
        else:
            inputs = {child: values[parent] for child, parent in (node.inputs or {}).items()}
        return runs.run_child(node, cls, inputs, resolver)
    except IgniterError as exc:
        return resolver.failed(node, exc)
