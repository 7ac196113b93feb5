"""Compile-time checks. Each raises ``ValidationError`` located at the offending node's source line."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from igniter_nb.compiler.order import resolution_order as resolution_order  # (compile.py: v.resolution_order)
from igniter_nb.compiler.registry import contract_name, is_contract_class, lookup_contract
from igniter_nb.compiler.signatures import analyse
from igniter_nb.compiler.types import UnknownTypeError, compatible, model_compatible, resolve_type
from igniter_nb.errors import CycleError, ValidationError
from igniter_nb.model import (
    AwaitNode,
    BranchNode,
    CollectionNode,
    CompositionNode,
    ComputeNode,
    GraphModel,
    InputNode,
    Node,
    OutputNode,
    RemoteNode,
)
from igniter_nb.settings import redact_url


def fail(graph: GraphModel, node: Node | None, message: str, **extra: Any) -> ValidationError:
    return ValidationError(
        message,
        graph=graph.name,
        node=node.name if node else None,
        path=node.path if node else None,
        source_location=node.source_location if node else graph.source_location,
        **extra,
    )


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _child_graph(cls: Any) -> Any:
    return cls.__dict__.get("_igniter_graph") or getattr(cls, "_igniter_graph", None)


# ---------------------------------------------------------------------------- uniqueness
def check_uniqueness(graph: GraphModel) -> None:
    names: dict[str, Node] = {}
    for n in graph.nodes:
        if n.name in names:
            raise fail(graph, n, f"Duplicate node name: {n.name} (first declared at {names[n.name].source_location})")
        names[n.name] = n
    outs: dict[str, Node] = {}
    for o in graph.outputs:
        if o.name in outs:
            raise fail(graph, o, f"Duplicate output name: {o.name}")
        outs[o.name] = o
    paths: dict[str, Node] = {}
    for n in (*graph.nodes, *graph.outputs):
        if n.path in paths:
            raise fail(graph, n, f"Duplicate node path: {n.path}")
        paths[n.path] = n


# ---------------------------------------------------------------------------- child contracts
def resolve_child(graph: GraphModel, node: Node, value: Any, what: str) -> Any:
    """A child contract given as a class or a registered name → the compiled class."""
    cls = value
    if isinstance(value, str):
        cls = lookup_contract(value, import_modules=True)
        if cls is None:
            raise fail(graph, node, f"{what} '{node.name}' references unknown contract '{value}' (not defined or not imported)")
    if cls is not None and cls is graph.contract_class and graph.contract_class is not None:
        raise CycleError(
            f"Composition cycle: '{node.name}' runs {graph.name}, the contract being defined",
            cycle=[graph.name, graph.name],
            graph=graph.name,
            node=node.name,
            path=node.path,
            source_location=node.source_location,
        )
    if not is_contract_class(cls):
        raise fail(graph, node, f"{what} '{node.name}' must reference an ig.Contract subclass, got {cls!r}")
    if _child_graph(cls) is None:
        raise fail(graph, node, f"{what} '{node.name}' references {contract_name(cls)}, which has no compiled graph")
    return cls


_CHILD_KINDS = frozenset({"composition", "branch", "collection"})


def resolve_children(graph: GraphModel) -> GraphModel:
    """Replace contract names by classes on composition/branch/collection nodes."""
    if all(n.kind not in _CHILD_KINDS for n in graph.nodes):
        return graph
    nodes: list[Node] = []
    for n in graph.nodes:
        if isinstance(n, CompositionNode):
            n = dataclasses.replace(n, contract=resolve_child(graph, n, n.contract, "compose"))
        elif isinstance(n, BranchNode):
            if not n.cases:
                raise fail(graph, n, f"branch '{n.name}' must define at least one case")
            cases = tuple(dataclasses.replace(c, contract=resolve_child(graph, n, c.contract, "branch")) for c in n.cases)
            default = resolve_child(graph, n, n.default, "branch") if n.default is not None else None
            n = dataclasses.replace(n, cases=cases, default=default)
        elif isinstance(n, CollectionNode):
            n = dataclasses.replace(n, contract=resolve_child(graph, n, n.contract, "collection"))
        nodes.append(n)
    return dataclasses.replace(graph, nodes=tuple(nodes))


def check_composition_cycles(graph: GraphModel) -> None:
    """A contract may not run itself through any chain of compositions, branches or collections (by class)."""
    me = graph.contract_class
    if me is None:
        return

    def children(g: Any) -> list[tuple[str, Any]]:
        found = []
        for n in g.nodes:
            if isinstance(n, CompositionNode | CollectionNode):
                found.append((n.name, n.contract))
            elif isinstance(n, BranchNode):
                found.extend((n.name, c) for c in n.possible_contracts)
        return found

    for n in graph.nodes:
        if not isinstance(n, CompositionNode | BranchNode | CollectionNode):
            continue
        start = list(n.possible_contracts) if isinstance(n, BranchNode) else [n.contract]
        # Each entry links to the entry it was reached from; the trail is spelled out only for a cycle, so a
        # chain of nested contracts costs its length, not its length squared.
        stack: list[tuple[Any, Any]] = [(c, None) for c in start]
        seen: set[int] = set()
        while stack:
            entry = stack.pop()
            cls = entry[0]
            if cls is me:
                trail = []
                link: Any = entry
                while link is not None:
                    trail.append(contract_name(link[0]))
                    link = link[1]
                trail = [graph.name, *reversed(trail)]
                raise CycleError(
                    f"Composition cycle: '{n.name}' runs {' -> '.join(trail)}",
                    cycle=trail,
                    graph=graph.name,
                    node=n.name,
                    path=n.path,
                    source_location=n.source_location,
                )
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            g = _child_graph(cls)
            if g is not None:
                stack.extend((c, entry) for _, c in children(g))


# ---------------------------------------------------------------------------- outputs
def check_outputs(graph: GraphModel) -> None:
    if not graph.outputs:
        raise fail(graph, None, f"Graph {graph.name} must define at least one output (c.output(...))")
    nodes = {n.name: n for n in graph.nodes}
    for o in graph.outputs:
        root = nodes.get(o.source_root)
        if root is None:
            raise fail(graph, o, f"Unknown output source '{o.source}' for output '{o.name}'{_suggest(o.source_root, nodes)}")
        same = nodes.get(o.name)
        if same is not None and o.source != o.name:
            raise fail(
                graph, o,
                f"Output '{o.name}' reads '{o.source}' but a node named '{o.name}' exists; "
                "an output and a node sharing a name must be the same value (rename one)",
            )
        if o.child_output is None:
            continue
        if isinstance(root, CompositionNode):
            contracts = [root.contract]
        elif isinstance(root, BranchNode):
            contracts = list(root.possible_contracts)
        else:
            raise fail(graph, o, f"Output '{o.name}' references nested source '{o.source}', but '{root.name}' is a "
                                 f"{root.kind} node (only compose and branch nodes have child outputs)")
        for cls in contracts:
            child = _child_graph(cls)
            if not child.has_output(o.child_output):
                known = ", ".join(x.name for x in child.outputs)
                raise fail(graph, o, f"Output '{o.name}' references unknown child output '{o.child_output}' of "
                                     f"{contract_name(cls)} on nested source '{root.name}' (its outputs: {known})")


# ---------------------------------------------------------------------------- dependencies
def _check_child_inputs(graph: GraphModel, node: Node, cls: Any, mapping: dict[str, str]) -> None:
    child = _child_graph(cls)
    inputs = {n.name: n for n in child.nodes if isinstance(n, InputNode)}
    unknown = sorted(set(mapping) - set(inputs))
    if unknown:
        raise fail(graph, node, f"{node.kind} '{node.name}' maps unknown child inputs of {contract_name(cls)}: "
                                f"{', '.join(unknown)} (its inputs: {', '.join(inputs) or 'none'})")
    missing = sorted(n for n, i in inputs.items() if i.required and not i.has_default and n not in mapping)
    if missing:
        raise fail(graph, node, f"{node.kind} '{node.name}' is missing mappings for required child inputs of "
                                f"{contract_name(cls)}: {', '.join(missing)}")


def _same_case(a: Any, b: Any) -> bool:
    """Whether two branch case values would match the same selector (numbers compare across int/float)."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return bool(a == b)
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def check_dependencies(graph: GraphModel) -> None:
    names = {n.name for n in graph.nodes}
    outputs = {o.name for o in graph.outputs}
    for n in graph.nodes:
        if isinstance(n, CompositionNode):
            _check_child_inputs(graph, n, n.contract, dict(n.inputs))
        elif isinstance(n, BranchNode):
            seen: list[Any] = []
            for case in n.cases:
                if case.is_predicate:
                    continue
                if any(_same_case(case.match, s) for s in seen):
                    raise fail(graph, n, f"branch '{n.name}' has duplicate case values: {case.match!r}")
                seen.append(case.match)
            if n.inputs is not None:
                for cls in n.possible_contracts:
                    _check_child_inputs(graph, n, cls, dict(n.inputs))
        elif isinstance(n, CollectionNode):
            if n.mode not in ("collect", "fail_fast"):
                raise fail(graph, n, f"collection '{n.name}' mode must be 'collect' or 'fail_fast', got {n.mode!r}")
            child = _child_graph(n.contract)
            if not child.has_node(n.key) or child.node(n.key).kind != "input":
                raise fail(graph, n, f"collection '{n.name}' key '{n.key}' must be an input of {contract_name(n.contract)}")
        for dep in n.dependencies:
            if dep not in names and dep not in outputs:
                raise fail(graph, n, f"Unknown dependency '{dep}' for node '{n.name}'{_suggest(dep, names | outputs)}")
        if isinstance(n, InputNode) and n.type_spec is not None and n.has_default and n.default is not None:
            check = resolve_type(n.type_spec)
            if check is not None and not check(n.default):
                raise fail(graph, n, f"Input '{n.name}' default {n.default!r} is not of type {check.name}")


# ---------------------------------------------------------------------------- types
def _source_type(nodes: dict[str, Node], outs: dict[str, OutputNode], name: str) -> str | None:
    node = nodes.get(name)
    if node is None and name in outs:
        out = outs[name]
        if out.metadata.get("type"):
            return _ref(out.metadata["type"])
        node = nodes.get(out.source_root)
    if isinstance(node, InputNode):
        return _ref(node.type_spec)
    if isinstance(node, ComputeNode):
        return _ref(node.type_spec)
    if isinstance(node, CompositionNode | BranchNode):
        return "result"
    if isinstance(node, CollectionNode):
        return "array"
    return None


def _ref(spec: Any) -> str | None:
    try:
        check = resolve_type(spec)
    except UnknownTypeError:
        return None
    return check.reference if check else None


def _declared_spec(nodes: dict[str, Node], name: str) -> Any:
    node = nodes.get(name)
    return node.type_spec if isinstance(node, InputNode | ComputeNode) else None


def check_types(graph: GraphModel) -> None:
    index: tuple[dict[str, Node], dict[str, OutputNode]] | None = None  # built on the first typed edge
    for n in graph.nodes:
        kind = n.kind
        if kind != "composition" and not (kind == "compute" and n.callable_kind == "executor"):  # type: ignore[attr-defined]
            continue
        edges: list[tuple[str, str, Any]] = []
        if isinstance(n, ComputeNode):
            for name, cfg in n.callable.declared_inputs().items():
                if name in n.dependencies and cfg.get("type") is not None:
                    edges.append((f"executor input '{name}'", name, cfg["type"]))
        elif isinstance(n, CompositionNode):
            child = _child_graph(n.contract)
            for child_input, parent in n.inputs.items():
                cnode = child.node(child_input)
                if isinstance(cnode, InputNode) and cnode.type_spec is not None:
                    edges.append((f"composition input '{child_input}'", parent, cnode.type_spec))
        for label, dep, target_spec in edges:
            try:
                target = resolve_type(target_spec)
            except UnknownTypeError as exc:
                raise fail(graph, n, f"Unsupported target type for {label}: {exc}") from None
            if index is None:
                index = ({x.name: x for x in graph.nodes}, {o.name: o for o in graph.outputs})
            source = _source_type(*index, dep)
            if target is not None and not compatible(source, target.reference):
                raise fail(graph, n, f"Type mismatch for {label}: dependency '{dep}' is {source}, expected {target.name}")
            source_spec = _declared_spec(index[0], dep)
            if target is not None and not model_compatible(source_spec, target_spec):
                source_name = getattr(source_spec, "__name__", source_spec)
                raise fail(graph, n, f"Type mismatch for {label}: dependency '{dep}' is {source_name}, "
                                     f"expected {target.name}")


# ---------------------------------------------------------------------------- callables
def check_callables(graph: GraphModel) -> None:
    for n in graph.nodes:
        if n.kind != "compute" or n.role == "const":  # type: ignore[attr-defined]
            continue
        assert isinstance(n, ComputeNode)
        fn = n.callable
        sig = n.signature  # read by the builder; read again only for nodes built another way
        if n.callable_kind == "executor":
            required = [k for k, cfg in fn.declared_inputs().items() if cfg.get("required", True)]
            missing = sorted(set(required) - set(n.dependencies))
            if missing:
                raise fail(graph, n, f"Compute '{n.name}' executor {fn.__name__} requires undeclared dependencies: "
                                     f"{', '.join(missing)}")
            if sig is None:
                sig = analyse(fn.call, drop_first=True)
            label = f"executor {fn.__name__}.call"
        elif n.callable_kind == "method":
            if sig is None:
                method = getattr(graph.contract_class, fn, None)
                sig = analyse(method, drop_first=True) if method is not None else None
            label = f"method {fn}"
        else:
            if sig is None:
                sig = analyse(fn)
            label = f"callable {n.callable_name}"
        if sig is None:
            continue
        deps = n.dependencies
        if sig.required == deps or (sig.accepts_any and not sig.required):
            continue  # the usual cases: the parameters are the dependencies, or ``**kwargs`` takes them all
        missing = sorted(set(sig.required) - set(deps))
        if missing:
            raise fail(graph, n, f"Compute '{n.name}' {label} requires undeclared dependencies: {', '.join(missing)} "
                                 f"(declared: {', '.join(n.dependencies) or 'none'})")
        if not sig.accepts_any:
            extra = sorted(set(n.dependencies) - set(sig.accepted))
            if extra:
                raise fail(graph, n, f"Compute '{n.name}' declares dependencies its {label} does not accept: "
                                     f"{', '.join(extra)} (add parameters or **kwargs)")


# ---------------------------------------------------------------------------- workflows
def check_workflow(graph: GraphModel) -> None:
    inputs = {n.name for n in graph.nodes if isinstance(n, InputNode)}
    if graph.correlation_keys:
        missing = [k for k in graph.correlation_keys if k not in inputs]
        if missing:
            raise ValidationError(
                f"Correlation keys {missing} must be declared as inputs (c.input(...))",
                graph=graph.name, node=missing[0], path=missing[0],
                source_location=graph.correlation_location or graph.source_location,
            )
    events: dict[str, AwaitNode] = {}
    for n in graph.nodes:
        if not isinstance(n, AwaitNode):
            continue
        if n.event in events:
            raise fail(graph, n, f"Duplicate await event name '{n.event}' (also awaited by '{events[n.event].name}')")
        events[n.event] = n
        if n.schema is not None:
            try:
                resolve_type(n.schema)
            except UnknownTypeError as exc:
                raise fail(graph, n, f"await_event '{n.name}' schema is not a pydantic model or type hint: {exc}") from None


def check_remotes(graph: GraphModel) -> None:
    for n in graph.nodes:
        if not isinstance(n, RemoteNode):
            continue
        shown = redact_url(n.url)  # (a password in it never shows in the error)
        try:
            parsed = urlparse(n.url)
        except ValueError as exc:  # "Invalid IPv6 URL": a bracket left open
            raise fail(graph, n, f"remote '{n.name}' has invalid node URL '{shown}': {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname:  # (`http://:80/` has a netloc, no host)
            raise fail(graph, n, f"remote '{n.name}' has invalid node URL '{shown}': must be http:// or https:// with a host")
        try:
            parsed.port  # noqa: B018  (reading it checks it: "Port out of range 0-65535")
        except ValueError as exc:
            raise fail(graph, n, f"remote '{n.name}' has invalid node URL '{shown}': bad port ({exc})") from None


def check_reactions(graph: GraphModel) -> None:
    paths = {n.path for n in (*graph.nodes, *graph.outputs)}
    outputs = {o.name for o in graph.outputs}
    for r in graph.reactions:
        # Located at the reaction's declaration; no node is named (the path does not lead to one).
        where = r.source_location or graph.source_location
        if r.kind == "on_success" and r.target not in outputs and r.target not in paths:
            raise ValidationError(f"on_success target '{r.target}' is not an output or node path of {graph.name}"
                                  f"{_suggest(str(r.target), outputs | paths)}", graph=graph.name, source_location=where)
        if r.path is not None and r.kind in ("effect", "react_to") and r.path not in paths:
            raise ValidationError(f"{r.kind} path '{r.path}' is not a node path of {graph.name}"
                                  f"{_suggest(r.path, paths)}", graph=graph.name, source_location=where)
    for name in graph.presenters:
        if name not in outputs:
            raise fail(graph, None, f"present('{name}'): {graph.name} has no such output")
