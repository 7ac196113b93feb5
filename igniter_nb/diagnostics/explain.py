"""``explain_output``: how an output got its value, as a dependency tree read from the current states.

Resolves nothing (``result.explain`` resolves first). Shared dependencies appear once per place they are
used, as in the graph; the subtree is built once and reused, so wide diamonds stay cheap to build. The tree is
``MAX_DEPTH`` levels deep at most: a 5,000-node chain gave a 5,000-level nested dict, which ``json.dumps`` and
``repr`` cannot even print (Python's recursion limit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._error_text import shown_text
from igniter_nb.diagnostics.graph_format import safe_repr
from igniter_nb.diagnostics.states import display_value
from igniter_nb.model import AwaitNode, Node, OutputNode

#: Levels of ``dependencies`` ``explain_output`` shows by default (the source node is level 1). A node at the
#: last level whose dependencies are left out has ``dependencies: []`` and ``cut_levels``: how many levels below.
MAX_DEPTH = 50

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.states import NodeState


def _state_fields(state: NodeState | None) -> dict[str, Any]:
    if state is None:
        return {"status": None, "invalidated_by": None, "value": None, "error": None, "waiting_for": []}
    return {
        "status": str(state.status),
        "invalidated_by": state.invalidated_by,
        "value": display_value(state.value),
        "error": shown_text(state.error) if state.error is not None else None,
        "waiting_for": list(state.waiting_for),
    }


def _child_output_state(execution: Execution, out: OutputNode) -> NodeState | None:
    """The state behind a nested output ``node.child_output``, read without resolving anything."""
    root = execution.states.get(out.source_root)
    if root is None or out.child_output is None or str(root.status) != "succeeded":
        return root
    child = getattr(root.value, "contract", None)
    if child is None:
        return root
    child_ex = child.execution
    child_out = child_ex.graph.output(out.child_output)
    if child_out.child_output is not None:
        return _child_output_state(child_ex, child_out)
    state: NodeState | None = child_ex.states.get(child_out.source_root)
    return state


def _tree_entry(node: Node, state: NodeState | None, dependencies: list[dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": node.id, "name": node.name, "path": node.path, "kind": node.kind,
                             "source_location": node.source_location, **_state_fields(state)}
    if isinstance(node, AwaitNode):
        entry["event"] = node.event
    entry["dependencies"] = dependencies
    return entry


def _trees(execution: Execution, root: str, heights: dict[int, int]) -> dict[str, dict[str, Any]]:
    """The tree of every node ``root`` needs (itself included), built dependencies first without recursion;
    ``heights`` gets each entry's levels below it (by ``id``)."""
    graph = execution.graph
    needed = {root, *graph.upstream_of(root)}
    trees: dict[str, dict[str, Any]] = {}
    for name in graph.resolution_order:
        if name not in needed:
            continue
        node = graph.node(name)
        deps: list[dict[str, Any]] = []
        for dep, dep_root, _ in graph.dep_plan[name]:
            if dep == dep_root:
                deps.append(trees[dep_root])
            else:  # read through an output: show the output, with its source below it
                out = graph.output(dep)
                deps.append(_tree_entry(out, _child_output_state(execution, out), [trees[dep_root]]))
                heights[id(deps[-1])] = heights[id(trees[dep_root])] + 1
        trees[name] = _tree_entry(node, execution.states.get(name), deps)
        heights[id(trees[name])] = 1 + max((heights[id(d)] for d in deps), default=-1)
        selection = execution.children.selection(name) if node.kind == "branch" else None
        if selection is not None:  # which case a branch matched, and the contract it ran
            trees[name]["selection"] = dict(selection)
    return trees


def _bounded(top: dict[str, Any], room: int, heights: dict[int, int]) -> dict[str, Any]:
    """``top`` with at most ``room`` levels below it: deeper entries are copied with ``dependencies: []`` and
    ``cut_levels``; a subtree that fits is shared as it is. Without recursion (``room`` may be large)."""
    done: dict[tuple[int, int], dict[str, Any]] = {}
    stack: list[tuple[dict[str, Any], int, bool]] = [(top, room, False)]
    while stack:
        entry, left, ready = stack.pop()
        key = (id(entry), left)
        if key in done:
            continue
        height = heights[id(entry)]
        if height <= left:
            done[key] = entry
        elif left == 0:
            done[key] = {**entry, "dependencies": [], "cut_levels": height}
        elif not ready:
            stack.append((entry, left, True))
            stack.extend((dep, left - 1, False) for dep in entry["dependencies"])
        else:
            done[key] = {**entry, "dependencies": [done[(id(dep), left - 1)] for dep in entry["dependencies"]]}
    return done[(id(top), room)]


def explain_output(execution: Execution, output: str, *, max_depth: int | None = MAX_DEPTH) -> dict[str, Any]:
    """``{output_id, output, path, source_id, source, source_path, status, value, error, dependencies}``;
    ``dependencies`` is the tree of the source node (each tree node: ``id, name, path, kind,
    source_location, status, invalidated_by, value, error, waiting_for, dependencies``). Nested outputs
    add ``child_output`` and ``child_output_path``. Unknown outputs raise ``KeyError``.

    ``max_depth`` (default ``MAX_DEPTH``, 50; ``None``: no limit) bounds the tree's levels, the source node being
    level 1: a node on the last level whose dependencies go deeper gets ``dependencies: []`` and
    ``cut_levels`` (how many levels were left out below it), and the result gets ``max_depth``."""
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1):
        raise ValueError(f"max_depth must be an int >= 1 or None, got {max_depth!r}")
    graph = execution.graph
    out = graph.output(output)
    source = graph.node(out.source_root)
    state = _child_output_state(execution, out)
    data: dict[str, Any] = {
        "output_id": out.id,
        "output": out.name,
        "path": out.path,
        "source_id": source.id,
        "source": source.name,
        "source_path": source.path,
        "status": str(state.status) if state is not None else None,
        "value": display_value(state.value) if state is not None else None,
        "error": shown_text(state.error) if state is not None and state.error is not None else None,
    }
    if out.child_output is not None:
        data["child_output"] = out.child_output
        data["child_output_path"] = out.source
    heights: dict[int, int] = {}
    tree = _trees(execution, source.name, heights)[source.name]
    if max_depth is not None and heights[id(tree)] > max_depth - 1:
        tree = _bounded(tree, max_depth - 1, heights)
        data["max_depth"] = max_depth
    data["dependencies"] = tree
    return data


def explain_text(explanation: dict[str, Any]) -> str:
    """The explanation as an indented tree, one node a line: ``<kind> <path> <status>[ = <value>]``."""
    lines = [f"Output {explanation['output']} <- {explanation.get('child_output_path') or explanation['source']}"
             f" ({explanation['status'] or 'unresolved'})"]
    stack: list[tuple[dict[str, Any], int]] = [(explanation["dependencies"], 1)]
    while stack:
        node, depth = stack.pop()
        status = node["status"] or "unresolved"
        detail = ""
        if status == "succeeded":
            detail = f" = {safe_repr(node['value'])}"
        elif status == "failed":
            detail = f": {node['error']}"
        elif node.get("event"):
            detail = f" event={node['event']}"
        lines.append(f"{'  ' * depth}- {node['kind']} {node['path']} {status}{detail}")
        if node.get("cut_levels"):
            lines.append(f"{'  ' * (depth + 1)}- … {node['cut_levels']} more levels (explain_output(..., "
                         f"max_depth=None) shows them)")
        stack.extend((child, depth + 1) for child in reversed(node["dependencies"]))
    return "\n".join(lines)
