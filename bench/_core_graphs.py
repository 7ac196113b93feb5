"""Graphs and baselines for ``bench/core.py``.

Every graph has a **distinct function per node**, generated as source code and run with ``exec`` the way users
write contracts: either as module-level ``def``s handed to ``c.compute`` or as ``def``s decorated with
``@c.compute`` inside ``define`` (new function objects at every compile). A shared function would hit
per-callable caches and flatter compile figures.

Baselines measured over the very same functions:

- ``lazy_resolver``: a generic lazy resolver (explicit stack, memo dict, ``fn(**kw)``), the floor B1/B2 compare
  against;
- ``least_loop``: the least any resolver of the graph does, with no stack, no laziness and no checks: call each
  node's function once, in dependency order, and keep its value by name (the fan's sink called with ``**`` over
  its 100,000 keywords); target 1's per-node growth is read against what this loop's own growth leaves;
- ``generic_compile``: read each function's parameters from ``__code__`` and sort the graph topologically with
  ``graphlib`` (the least a compile step must do), the floor B3 figures are printed against;
- Apache Hamilton and pipefunc over the same graph (generated as code with typed parameters, which they need).
"""

from __future__ import annotations

import graphlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Spec = list[tuple[str, Callable[..., Any], tuple[str, ...]]]


@dataclass
class Graph:
    """One bench graph: ``spec`` lists (node, function, dependencies) in dependency order; input ``x``."""

    kind: str
    size: int  # nodes, the input included
    spec: Spec
    output: str
    define: Callable[[Any], None]  # declares the module-level functions of ``spec``


def _chain_defs(n: int, indent: str = "", decorate: bool = False) -> list[str]:
    deco = [f"{indent}@c.compute"] if decorate else []
    lines = [*deco, f"{indent}def n1(x):", f"{indent}    return x + 1"]
    for i in range(2, n):
        lines += [*deco, f"{indent}def n{i}(n{i - 1}):", f"{indent}    return n{i - 1} + 1"]
    return lines


def _fan_defs(n: int, indent: str = "", decorate: bool = False) -> list[str]:
    deco = [f"{indent}@c.compute"] if decorate else []
    lines: list[str] = []
    for i in range(1, n - 1):
        lines += [*deco, f"{indent}def f{i}(x):", f"{indent}    return x + {i}"]
    lines += [f"{indent}def sink(**kw):", f"{indent}    return sum(kw.values())"]
    return lines


def _run(source: str, label: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<bench {label}>", "exec"), namespace)  # bench-only: generated graphs
    return namespace


def module_graph(kind: str, n: int) -> Graph:
    """``n`` nodes (input ``x`` included) as module-level functions: ``chain`` (n1 ← x, n2 ← n1, ...) or
    ``fan`` (f1..f(n-2) ← x, then ``sink(**kw)`` reading all of them)."""
    lines = _chain_defs(n) if kind == "chain" else _fan_defs(n)
    ns = _run("\n".join(lines) + "\n", f"{kind} {n}")
    spec: Spec
    if kind == "chain":
        spec = [("n1", ns["n1"], ("x",))] + [(f"n{i}", ns[f"n{i}"], (f"n{i - 1}",)) for i in range(2, n)]
    else:
        spec = [(f"f{i}", ns[f"f{i}"], ("x",)) for i in range(1, n - 1)]
        spec.append(("sink", ns["sink"], tuple(name for name, _, _ in spec)))
    output = spec[-1][0]
    fan_in = spec[-1][2]

    def define(c: Any) -> None:
        c.input("x")
        compute = c.compute
        if kind == "chain":
            for _, fn, _ in spec:
                compute(fn)
        else:
            for _, fn, _ in spec[:-1]:
                compute(fn)
            compute("sink", depends_on=fan_in, call=spec[-1][1])
        c.output(output)

    return Graph(kind, n, spec, output, define)


def module_statements_define(graph: Graph) -> Callable[[Any], None]:
    """``graph``'s module-level functions declared the way users write them: one ``c.compute(fn)`` statement per
    function, each on its own line (``graph.define`` declares them from one line, in a loop). The fair
    counterpart of ``inner_define``: every declaration is made from a distinct line of ``define``, so both
    sides look up as many source locations."""
    names = [name for name, _, _ in graph.spec]
    if graph.kind == "chain":
        body = [f"    c.compute({name})" for name in names]
    else:
        body = [f"    c.compute({name})" for name in names[:-1]]
        body.append(f"    c.compute('sink', depends_on=[f'f{{i}}' for i in range(1, {graph.size - 1})], call=sink)")
    source = "\n".join(["def define(c):", "    c.input('x')", *body, f"    c.output('{graph.output}')"]) + "\n"
    namespace: dict[str, Any] = {name: fn for name, fn, _ in graph.spec}
    exec(compile(source, f"<bench statements {graph.kind} {graph.size}>", "exec"), namespace)  # bench-only
    return namespace["define"]  # type: ignore[no-any-return]


def inner_define(kind: str, n: int) -> Callable[[Any], None]:
    """The same graph as ``module_graph(kind, n)``, written as ``def``s decorated with ``@c.compute`` inside
    ``define`` (the usual way): every compile makes ``n`` new function objects."""
    body = _chain_defs(n, "    ", decorate=True) if kind == "chain" else _fan_defs(n, "    ", decorate=True)
    out = f"n{n - 1}" if kind == "chain" else "sink"
    tail = [] if kind == "chain" else [f"    c.compute('sink', depends_on=[f'f{{i}}' for i in range(1, {n - 1})], call=sink)"]
    source = "\n".join(["def define(c):", "    c.input('x')", *body, *tail, f"    c.output('{out}')"]) + "\n"
    return _run(source, f"inner {kind} {n}")["define"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- baselines
def lazy_resolver(spec: Spec) -> Callable[[dict[str, Any], str], Any]:
    """A generic lazy resolver over ``spec``: explicit stack, memo dict, ``fn(**kw)``; no events, no states."""
    graph = {name: (fn, deps) for name, fn, deps in spec}

    def resolve(inputs: dict[str, Any], target: str) -> Any:
        memo = dict(inputs)
        stack = [target]
        while stack:
            name = stack[-1]
            if name in memo:
                stack.pop()
                continue
            fn, deps = graph[name]
            todo = [d for d in deps if d not in memo]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            memo[name] = fn(**{d: memo[d] for d in deps})
        return memo[target]

    return resolve


def least_loop(spec: Spec) -> Callable[[dict[str, Any], str], Any]:
    """The least any resolver of ``spec`` does: each function called once in dependency order (``spec``'s own),
    its value kept by name in a dict; a node of several dependencies called with ``**`` of a dictionary filled as
    they were computed (a fan's sink). No stack, no laziness, no states, no events — a floor, not a resolver:
    it computes every node whatever ``target`` is."""
    # a chain: each function takes the one value before it, by position (a fan's sink takes ``**kw``)
    if all(len(deps) == 1 and not fn.__code__.co_flags & inspect.CO_VARKEYWORDS for _, fn, deps in spec):
        steps = [(name, fn) for name, fn, _ in spec]

        def chain(inputs: dict[str, Any], target: str) -> Any:
            memo = dict(inputs)
            value = memo[spec[0][2][0]]
            for name, fn in steps:
                memo[name] = value = fn(value)
            return memo[target]

        return chain
    *leaves, (sink_name, sink, sink_deps) = spec
    assert all(deps == leaves[0][2] for _, _, deps in leaves) and sink_deps == tuple(n for n, _, _ in leaves)
    source = leaves[0][2][0]
    pairs = [(name, fn) for name, fn, _ in leaves]

    def fan(inputs: dict[str, Any], target: str) -> Any:
        memo = dict(inputs)
        x = memo[source]
        kw: dict[str, Any] = {}
        for name, fn in pairs:
            memo[name] = kw[name] = fn(x)
        memo[sink_name] = sink(**kw)
        return memo[target]

    return fan


def generic_compile(spec: Spec) -> tuple[str, ...]:
    """Read every function's parameters from ``__code__`` and sort the graph (``graphlib``): a compile floor."""
    params = {}
    for name, fn, _ in spec:
        code = fn.__code__
        params[name] = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return tuple(graphlib.TopologicalSorter({name: deps for name, _, deps in spec}).static_order())


# ---------------------------------------------------------------------------- peers
def _peer_source(spec: Spec, typed: bool, suffix: str) -> dict[str, Any]:
    """The same functions as ``spec``'s, with every dependency a named (and, for Hamilton, typed) parameter."""
    lines = []
    chain = spec[0][0] == "n1"
    for i, (name, _, deps) in enumerate(spec):
        params = ", ".join(d + (": int" if typed else "") for d in deps)
        if name == "sink":
            body = "sum((" + ", ".join(deps) + ",))"
        else:
            body = f"{deps[0]} + 1" if chain else f"x + {i + 1}"
        lines += [f"def {name}{suffix}({params}){' -> int' if typed else ''}:", f"    return {body}"]
    return _run("\n".join(lines) + "\n", "peer")


def hamilton_run(spec: Spec) -> tuple[Callable[[int], Any], Callable[[], Any]] | None:
    """(execute, build) for Apache Hamilton over the same graph shape, or ``None`` if not installed."""
    try:
        from hamilton import ad_hoc_utils, driver
    except ImportError:
        return None
    ns = _peer_source(spec, typed=True, suffix="")
    funcs = [ns[name] for name, _, _ in spec]
    module = ad_hoc_utils.create_temporary_module(*funcs, module_name=f"bench_graph_{len(spec)}_{id(spec)}")

    def build() -> Any:
        return driver.Builder().with_modules(module).build()

    dr = build()
    last = spec[-1][0]
    return (lambda x: dr.execute([last], inputs={"x": x})[last]), build


def pipefunc_run(spec: Spec) -> tuple[Callable[[int], Any], Callable[[], Any]] | None:
    """(execute, build) for pipefunc over the same graph shape, or ``None`` if not installed."""
    try:
        from pipefunc import PipeFunc, Pipeline
    except ImportError:
        return None
    ns = _peer_source(spec, typed=False, suffix="_fn")

    def build() -> Any:
        return Pipeline([PipeFunc(ns[f"{name}_fn"], output_name=name) for name, _, _ in spec])

    pipeline = build()
    last = spec[-1][0]
    return (lambda x: pipeline.run(last, kwargs={"x": x})), build
