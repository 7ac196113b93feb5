"""``CompiledGraph``: a validated, indexed, immutable contract graph."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.types import resolve_type
from igniter_nb.model import AwaitNode, ComputeNode, InputNode, Node, OutputNode, Reaction

# In a one-dependency fast-plan entry, where its dependency's entry would be when that dependency is declared after
# it (the resolver then looks the dependency up in ``fast_plan``).
LATER: Any = object()

if TYPE_CHECKING:
    import graphviz


class CompiledGraph:
    """The graph a contract class runs. Read-only; build one with ``ig.compile`` or a ``Contract`` subclass.

    ``nodes`` are the runtime nodes in declaration order, ``outputs`` the output nodes. ``dependents`` maps a
    node name to the names of the nodes that read it (what an update invalidates).
    """

    __slots__ = (
        "_await_nodes",
        "_by_id",
        "_by_name",
        "_by_path",
        "_correlation_checks",
        "_outputs_by_name",
        "_walks",
        "contract_class",
        "correlation_keys",
        "dep_plan",
        "dep_roots",
        "dependents",
        "fast_computes",
        "fast_plan",
        "name",
        "nodes",
        "output_roots",
        "outputs",
        "presenters",
        "reactions",
        "resolution_order",
        "run_options",
        "runtime_cache",
        "simple_deps",
        "source_location",
    )

    name: str
    nodes: tuple[Node, ...]
    outputs: tuple[OutputNode, ...]
    correlation_keys: tuple[str, ...]
    run_options: Mapping[str, Any]
    reactions: tuple[Reaction, ...]
    presenters: Mapping[str, Any]
    resolution_order: tuple[str, ...]
    dependents: Mapping[str, tuple[str, ...]]
    dep_plan: Mapping[str, tuple[tuple[str, str, OutputNode | None], ...]]
    dep_roots: Mapping[str, tuple[str, ...]]
    simple_deps: Mapping[str, bool]
    fast_computes: frozenset[str]
    fast_plan: Mapping[str, tuple[Any, ...]]
    output_roots: Mapping[str, tuple[OutputNode, ...]]
    contract_class: Any
    source_location: str | None
    _by_name: dict[str, Node]
    _outputs_by_name: dict[str, OutputNode]
    _by_path: dict[str, Node]
    _by_id: dict[str, Node]
    _correlation_checks: tuple[tuple[str, Any, str | None], ...] | None
    _walks: dict[str, tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]]
    _await_nodes: tuple[AwaitNode, ...]  # (set on first use of await_nodes)
    # What the runtime derives once per graph (its input validator, its output targets), kept here rather than in
    # module-level dicts so that it is freed with the graph and a contract class nobody uses any more is freed.
    runtime_cache: dict[str, Any]

    def __init__(
        self,
        *,
        name: str,
        nodes: tuple[Node, ...],
        outputs: tuple[OutputNode, ...],
        correlation_keys: tuple[str, ...],
        run_options: Mapping[str, Any],
        reactions: tuple[Reaction, ...],
        presenters: Mapping[str, Any],
        resolution_order: tuple[str, ...],
        dependents: Mapping[str, tuple[str, ...]],
        contract_class: Any = None,
        source_location: str | None = None,
    ) -> None:
        s = object.__setattr__
        s(self, "name", name)
        s(self, "nodes", nodes)
        s(self, "outputs", outputs)
        s(self, "correlation_keys", correlation_keys)
        s(self, "run_options", MappingProxyType(dict(run_options)))
        s(self, "reactions", reactions)
        s(self, "presenters", MappingProxyType(dict(presenters)))
        s(self, "resolution_order", resolution_order)
        s(self, "dependents", MappingProxyType(dict(dependents)))
        s(self, "contract_class", contract_class)
        s(self, "source_location", source_location)
        # One pass over the nodes builds every per-node index (compile time is linear and lean: 100k nodes).
        outs = {o.name: o for o in outputs}
        by_name: dict[str, Node] = {}
        by_id: dict[str, Node] = {}
        by_path: dict[str, Node] = {}
        # For each runtime node: (dependency name, runtime node it comes from, output read through or None).
        plan: dict[str, tuple[tuple[str, str, OutputNode | None], ...]] = {}
        dep_roots: dict[str, tuple[str, ...]] = {}
        simple: dict[str, bool] = {}
        fast: dict[str, tuple[Any, ...]] = {}
        direct = {n.name for n in nodes}
        several: list[tuple[list[Any], tuple[str, ...]]] = []  # (the entries held, dependencies), see below
        for n in nodes:
            name = n.name
            by_name[name] = n
            by_id[n.id] = n
            by_path[n.path] = n
            deps = n.dependencies
            if all(d in direct for d in deps) if len(deps) > 1 else (not deps or deps[0] in direct):
                # Every dependency is a runtime node read directly (the usual case).
                plan[name] = tuple([(d, d, None) for d in deps])
                dep_roots[name] = deps
                is_simple = True
            else:
                entries: list[tuple[str, str, OutputNode | None]] = []
                for dep in deps:
                    if dep in direct:
                        entries.append((dep, dep, None))
                    else:
                        out = outs[dep]
                        entries.append((dep, out.source_root,
                                        out if (out.is_nested or out.source_root != dep) else None))
                plan[name] = tuple(entries)
                dep_roots[name] = tuple([root for _, root, _ in entries])
                is_simple = all(out is None and dep == root for dep, root, out in entries)
            simple[name] = is_simple
            if (is_simple and isinstance(n, ComputeNode) and n.callable_kind in ("function", "object")
                    and n.role != "guard"):
                sig = n.signature
                # Dependencies that are exactly the parameters of a plain function, in order, are passed by
                # position: 1 for one dependency, 2 for more, 0 by keyword.
                by_position = sig is not None and sig.by_position and deps == sig.required
                if by_position and len(deps) == 1:
                    # its one dependency's name too, so no tuple is read for it, and that dependency's own entry
                    # (None for one without) when it is declared before (the usual case: a chain), so the resolver
                    # does not look it up by name; else ``LATER``
                    dep = deps[0]
                    fast[name] = (n.callable, name, deps, 1, dep, fast.get(dep) if dep in by_name else LATER)
                else:  # the dependencies' entries, by position: filled below, once every entry is made
                    held: list[Any] = []
                    fast[name] = (n.callable, name, deps, 2 if by_position else 0, held)
                    several.append((held, deps))
        # A fast compute whose dependencies the resolver reads in order (several, or by keyword) also holds their
        # entries, by position (``None`` for one with none), so that reading needs no lookup by name in
        # ``fast_plan`` for each (at 100,000 nodes such a lookup misses the CPU caches).
        get = fast.get
        for held, deps in several:
            held.extend([get(d) for d in deps])
        for o in outputs:
            by_id[o.id] = o
            by_path[o.path] = o
        s(self, "_by_name", by_name)
        s(self, "_outputs_by_name", outs)
        s(self, "_by_id", by_id)
        s(self, "_walks", {})
        s(self, "runtime_cache", {})
        s(self, "_correlation_checks", None)
        s(self, "_by_path", by_path)
        s(self, "dep_plan", MappingProxyType(plan))
        # Runtime fast paths: the runtime nodes each node reads, and whether it reads them directly (no outputs).
        s(self, "dep_roots", dep_roots)
        s(self, "simple_deps", simple)
        # Plain function computes reading runtime nodes directly: (callable, name, dependencies, how the callable
        # takes them: 1 its one dependency by position, 2 all by position, 0 by keyword; see
        # ``CallableSignature.by_position``), then, with 1, that dependency's name and its entry (None for one
        # without, ``LATER`` when it is declared after); else the dependencies' entries by position (a list,
        # filled once every entry is made). For the resolver (which marks a started node on its stack with its
        # entry: the entry names it).
        s(self, "fast_plan", fast)
        s(self, "fast_computes", frozenset(fast))
        roots: dict[str, list[OutputNode]] = {}
        for o in outputs:
            roots.setdefault(o.source_root, []).append(o)
        s(self, "output_roots", MappingProxyType({k: tuple(v) for k, v in roots.items()}))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("CompiledGraph is read-only")

    def __repr__(self) -> str:
        return f"<CompiledGraph {self.name}: {len(self.nodes)} nodes, {len(self.outputs)} outputs>"

    # ------------------------------------------------------------------ lookups
    def fetch(self, key: str) -> Node:
        """A node (runtime or output) by name, path or id; ``KeyError`` naming the graph if unknown."""
        node = self._by_name.get(key) or self._outputs_by_name.get(key) or self._by_path.get(key) or self._by_id.get(key)
        if node is None:
            raise KeyError(f"graph {self.name} has no node {key!r}")
        return node

    def has_node(self, name: str) -> bool:
        """True when the graph has a runtime node called ``name``."""
        return name in self._by_name

    def node(self, name: str) -> Node:
        """The runtime node called ``name``; ``KeyError`` when there is none (``fetch`` also takes paths and ids)."""
        return self._by_name[name]

    def output(self, name: str) -> OutputNode:
        """The output node called ``name``; a ``KeyError`` that lists the graph's outputs when there is none."""
        try:
            return self._outputs_by_name[name]
        except KeyError:
            known = ", ".join(self._outputs_by_name) or "none"
            raise KeyError(f"graph {self.name} has no output {name!r} (outputs: {known})") from None

    def has_output(self, name: str) -> bool:
        """True when the graph declares an output called ``name``."""
        return name in self._outputs_by_name

    def correlation_checks(self) -> tuple[tuple[str, Any, str | None], ...]:
        """Per correlation key ``(key, its input's type check or None, that type's name or None)``, read on first
        use and kept with the graph (a delivered correlation value must be of its key's input type:
        ``workflow/correlation.py``)."""
        found = self._correlation_checks
        if found is None:
            checks = []
            for key in self.correlation_keys:
                node = self._by_name.get(key)
                check = resolve_type(node.type_spec) if isinstance(node, InputNode) else None
                checks.append((key, check.check, check.name) if check is not None else (key, None, None))
            found = tuple(checks)
            object.__setattr__(self, "_correlation_checks", found)
        return found

    @property
    def nodes_by_name(self) -> Mapping[str, Node]:
        """Runtime nodes by name (read-only view)."""
        return self._by_name

    @property
    def input_nodes(self) -> tuple[Node, ...]:
        """The input nodes, in declaration order."""
        return tuple(n for n in self.nodes if n.kind == "input")

    @property
    def await_nodes(self) -> tuple[AwaitNode, ...]:
        """The nodes that wait for an external event (``c.await_event``), in declaration order."""
        try:  # (found once, on first use: every delivery asks, and a graph never changes)
            return self._await_nodes
        except AttributeError:
            found = tuple(n for n in self.nodes if isinstance(n, AwaitNode))
            object.__setattr__(self, "_await_nodes", found)
            return found

    def upstream_of(self, name: str) -> list[str]:
        """Every node ``name`` depends on, directly or not, nearest first."""
        start = self.fetch(name)
        seen: dict[str, None] = {}
        queue = deque(self._root_deps(start))
        while queue:
            dep = queue.popleft()
            if dep in seen:
                continue
            seen[dep] = None
            queue.extend(self._root_deps(self._by_name[dep]))
        return list(seen)

    def downstream_of(self, name: str) -> list[str]:
        """Every node that depends on ``name``, directly or not, nearest first."""
        node = self.fetch(name)
        root = node.source_root if isinstance(node, OutputNode) else node.name
        seen: dict[str, None] = {}
        queue = deque(self.dependents.get(root, ()))
        while queue:
            dep = queue.popleft()
            if dep in seen:
                continue
            seen[dep] = None
            queue.extend(self.dependents.get(dep, ()))
        return list(seen)

    def invalidation_walk(self, source: str) -> tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]:
        """What an update of ``source`` invalidates, breadth-first: ``(name, path, ((output, output path), ...))``
        per downstream node. Computed once per source and kept (the graph never changes)."""
        walk = self._walks.get(source)
        if walk is None:
            found = []
            for name in self.downstream_of(source):
                outs = tuple((o.name, o.path) for o in self.output_roots.get(name, ()))
                found.append((name, self._by_name[name].path, outs))
            walk = tuple(found)
            if len(self._walks) > 4096:
                self._walks.clear()
            self._walks[source] = walk
        return walk

    def _root_deps(self, node: Node) -> list[str]:
        if isinstance(node, OutputNode):
            return [node.source_root]
        return [root for _, root, _ in self.dep_plan[node.name]]

    # ------------------------------------------------------------------ views
    def to_dict(self) -> dict[str, Any]:
        """The graph as plain data (name, correlation keys, nodes, outputs, resolution order), the same on every run."""
        from igniter_nb.diagnostics.graph_format import graph_to_dict

        return graph_to_dict(self)

    def to_schema(self) -> dict[str, Any]:
        """The graph as a JSON-safe schema that ``ig.compile_schema()`` compiles back (docs/schema.md)."""
        from igniter_nb.dsl.schema import graph_to_schema

        return graph_to_schema(self)

    def to_text(self) -> str:
        """The graph as text: one line per node (kind, path, dependencies) and one per output."""
        from igniter_nb.diagnostics.graph_format import graph_to_text

        return graph_to_text(self)

    def to_mermaid(self) -> str:
        """The graph as a Mermaid diagram (``graph TD``, ASCII node ids, labels escaped), for Markdown pages."""
        from igniter_nb.diagnostics.graph_format import graph_to_mermaid

        return graph_to_mermaid(self)

    def to_dot(self) -> graphviz.Digraph:
        """The graph as a ``graphviz.Digraph`` (needs the ``graphviz`` package; render it with ``.pipe()``)."""
        from igniter_nb.diagnostics.dot import graph_to_dot

        return graph_to_dot(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import graph_mimebundle
        except ImportError:
            return {"text/plain": self.to_text()}
        return graph_mimebundle(self)
