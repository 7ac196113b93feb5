"""The data form of a contract: ``CompiledGraph.to_schema()`` and ``c.schema(...)`` / ``ig.compile_schema``.

A schema is plain JSON-able data. Callables, executors, child contracts and pydantic schemas are named, not
embedded: functions and classes by import path (``"package.module:name"``), executors by registry key,
contracts by registered name, methods of the contract by name. Everything ``to_schema()`` emits compiles
back (L-51) as long as the named things are importable; a lambda has no name and is reported as such.

Schemas are configuration written by developers: compiling one may import the modules it names.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc
import datetime
import decimal
import importlib
import typing
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb._source import user_location
from igniter_nb.compiler.registry import contract_name, lookup_contract
from igniter_nb.compiler.signatures import callable_name
from igniter_nb.dsl.schema_keys import SchemaChecker
from igniter_nb.errors import CompileError
from igniter_nb.model import (
    MISSING,
    AwaitNode,
    BranchNode,
    CollectionNode,
    CompositionNode,
    ComputeNode,
    InputNode,
    RemoteNode,
)

if TYPE_CHECKING:
    from igniter_nb.compiler.graph import CompiledGraph
    from igniter_nb.dsl.builder import ContractBuilder

SCHEMA_FORMAT = "igniter_nb.schema/1"

# Names a type hint string may use (parsed with ``ast``, never evaluated).
_HINT_NAMES: dict[str, Any] = {
    **{n: getattr(builtins, n) for n in ("int", "float", "str", "bool", "bytes", "list", "dict", "set", "tuple",
                                         "frozenset", "object")},
    "None": type(None),
    **{n: getattr(typing, n) for n in ("Any", "Optional", "Union", "Literal", "List", "Dict", "Set", "Tuple")},
    "datetime": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "timedelta": datetime.timedelta,
    "Decimal": decimal.Decimal,
    "UUID": uuid.UUID,
    "Mapping": collections.abc.Mapping,
    "Sequence": collections.abc.Sequence,
}


# ---------------------------------------------------------------------------- references
def ref(obj: Any) -> str:
    """``module:qualname`` of a function or class."""
    return f"{obj.__module__}:{obj.__qualname__}"


def resolve_ref(text: str, what: str) -> Any:
    module, sep, qualname = text.partition(":")
    if not sep or not module or not qualname:
        raise CompileError(f"schema {what} {text!r} must be an import path 'package.module:name'")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise CompileError(f"schema {what} {text!r} cannot be imported: {exc}") from None
    except Exception as exc:  # a malformed path ("..:f": TypeError) or a module failing as it is imported
        raise CompileError(f"schema {what} {text!r} cannot be imported: {type(exc).__name__}: {exc}") from exc
    return obj


def type_to_data(spec: Any) -> Any:
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, type) and spec.__module__ == "builtins":
        return {"hint": spec.__name__}
    if isinstance(spec, type) and "<locals>" not in spec.__qualname__:
        return {"class": ref(spec)}
    text = repr(spec).replace("typing.", "").replace("datetime.", "").replace("decimal.", "").replace("uuid.", "")
    return {"hint": text}


def type_from_data(data: Any) -> Any:
    if data is None or isinstance(data, str):
        return data
    if isinstance(data, Mapping) and "class" in data:
        return resolve_ref(str(data["class"]), "type")
    if isinstance(data, Mapping) and "hint" in data:
        return parse_hint(str(data["hint"]))
    raise CompileError(f"schema type {data!r} must be a type name, {{'class': 'module:Name'}} or {{'hint': 'list[int]'}}")


def parse_hint(text: str) -> Any:
    """A typing hint from its text, using only the names in ``_HINT_NAMES`` (no eval)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise CompileError(f"schema type hint {text!r} is not valid: {exc.msg}") from None

    def build(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in _HINT_NAMES:
                raise CompileError(f"schema type hint {text!r} uses unknown name {node.id!r}")
            return _HINT_NAMES[node.id]
        if isinstance(node, ast.Constant):
            return None if node.value is None else node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return build(node.left) | build(node.right)
        if isinstance(node, ast.Subscript):
            base = build(node.value)
            inner = node.slice
            args = tuple(build(e) for e in inner.elts) if isinstance(inner, ast.Tuple) else (build(inner),)
            return base[args if len(args) > 1 else args[0]]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return build(ast.Name(id=node.attr))
        raise CompileError(f"schema type hint {text!r} has an unsupported part: {ast.dump(node)}")

    try:
        return build(tree)
    except (TypeError, ValueError) as exc:  # names that exist, put together wrongly: int[str], None | 3
        raise CompileError(f"schema type hint {text!r} is not a valid type: {exc}") from None


def _contract_ref(cls: Any) -> str:
    """``module:QualName`` when the class can be imported back, else its registered name."""
    if cls.__module__ != "__main__" and "<locals>" not in cls.__qualname__:
        return f"{cls.__module__}:{cls.__qualname__}"
    return str(contract_name(cls))


def _resolve_contract(name: str) -> Any:
    found = lookup_contract(name, import_modules=True)
    if found is None:
        raise CompileError(f"schema names contract {name!r}, which is not defined (import its module first)")
    return found


def _callable_to_data(node: ComputeNode) -> dict[str, Any]:
    if node.executor_key:
        return {"executor": node.executor_key}
    fn = node.callable
    if node.callable_kind == "method":
        return {"call": {"method": fn}}
    name = getattr(fn, "__qualname__", "")
    if "<lambda>" in name or "<locals>" in name or not hasattr(fn, "__module__"):
        return {"call": {"unnamed": callable_name(fn)}}
    return {"call": ref(fn)}


# ---------------------------------------------------------------------------- to_schema
def graph_to_schema(graph: CompiledGraph) -> dict[str, Any]:
    """The graph as JSON-able data that ``compile_schema`` turns back into the same graph."""
    nodes: list[dict[str, Any]] = []
    for n in graph.nodes:
        meta = {k: v for k, v in n.metadata.items() if k not in ("kind", "project", "guard", "category", "type")}
        entry: dict[str, Any] = {"kind": n.kind, "name": n.name, "path": n.path}
        if isinstance(n, InputNode):
            entry["type"] = type_to_data(n.type_spec)
            entry["required"] = n.required
            if n.default is not MISSING:
                entry["default"] = n.default
        elif isinstance(n, ComputeNode):
            entry["role"] = n.role
            entry["depends_on"] = list(n.dependencies)
            if n.type_spec is not None:
                entry["type"] = type_to_data(n.type_spec)
            if n.category:
                entry["category"] = n.category
            if "project" in n.metadata:
                entry["project"] = dict(n.metadata["project"])
            elif n.role == "guard" and "guard" in n.metadata:
                entry["guard"] = dict(n.metadata["guard"])
                entry["message"] = n.guard_message
            elif n.role == "const":
                entry["const"] = {"factory": ref(n.callable)} if "<" not in n.callable.__qualname__ else {"value": n.callable()}
            else:
                entry.update(_callable_to_data(n))
                if n.role == "guard":
                    entry["message"] = n.guard_message
        elif isinstance(n, CompositionNode):
            entry["contract"] = _contract_ref(n.contract)
            entry["inputs"] = dict(n.inputs)
        elif isinstance(n, BranchNode):
            entry["selector"] = n.selector
            entry["cases"] = [{"on": c.match if not c.is_predicate else {"predicate": ref(c.match)},
                               "contract": _contract_ref(c.contract)} for c in n.cases]
            entry["default"] = _contract_ref(n.default) if n.default is not None else None
            entry["inputs"] = dict(n.inputs) if n.inputs is not None else None
            entry["map_inputs"] = _mapper(n.map_inputs)
            entry["depends_on"] = list(n.context)
        elif isinstance(n, CollectionNode):
            entry.update(source=n.source, each=_contract_ref(n.contract), key=n.key, mode=n.mode,
                         map_inputs=_mapper(n.map_inputs), depends_on=list(n.context))
        elif isinstance(n, AwaitNode):
            entry.update(event=n.event, schema=type_to_data(n.schema), timeout=n.timeout)
        elif isinstance(n, RemoteNode):
            entry.update(contract=n.contract, node=n.url, inputs=dict(n.inputs), timeout=n.timeout)
        if meta:
            entry["metadata"] = meta
        nodes.append(entry)
    return {
        "format": SCHEMA_FORMAT,
        "name": graph.name,
        "correlation_keys": list(graph.correlation_keys),
        "run_with": {k: v for k, v in graph.run_options.items() if isinstance(v, str | int | float | bool | None)},
        "nodes": nodes,
        "outputs": [{"name": o.name, "source": o.source, "path": o.path} for o in graph.outputs],
    }


def _mapper(fn: Any) -> Any:
    if fn is None:
        return None
    if isinstance(fn, str):
        return {"method": fn}
    return ref(fn)


def _mapper_from(data: Any) -> Any:
    if data is None:
        return None
    if isinstance(data, Mapping) and "method" in data:
        return str(data["method"])
    return resolve_ref(str(data), "map_inputs")


# ---------------------------------------------------------------------------- apply
def apply_schema(c: ContractBuilder, schema: Mapping[str, Any]) -> None:
    """Declare every node of ``schema`` on builder ``c`` (scopes are restored from paths)."""
    if not isinstance(schema, Mapping):
        raise CompileError(f"a schema must be a dict, got {type(schema).__name__}")
    fmt = schema.get("format", SCHEMA_FORMAT)
    if fmt != SCHEMA_FORMAT:
        raise CompileError(f"unknown schema format {fmt!r} (expected {SCHEMA_FORMAT!r})")
    # Every key is checked before anything is declared: a schema in another layout is an error, not a
    # smaller graph that fails later with a misleading message.
    check = SchemaChecker(c.name, user_location())
    check.top(schema)
    nodes = check.sequence(schema.get("nodes"), "nodes")
    outputs = check.sequence(schema.get("outputs"), "outputs")
    for i, entry in enumerate(nodes):
        check.node(entry, f"nodes[{i}]")
    for i, out in enumerate(outputs):
        check.output(out, f"outputs[{i}]")
    if schema.get("correlation_keys"):
        c.correlate_by(*check.sequence(schema["correlation_keys"], "correlation_keys"))
    run_with = schema.get("run_with") or {}
    if run_with:
        c.run_with(**run_with)
    for entry in nodes:
        path = str(entry.get("path") or entry["name"])
        scopes = path.split(".")[:-1]
        _declare_scoped(c, scopes, entry)
    for out in outputs:
        path = str(out.get("path") or f"output.{out['name']}")
        scopes = path.split(".")[:-2]
        _with_scopes(c, scopes, lambda o=out: c.output(o["name"], source=o.get("source")))


def _with_scopes(c: ContractBuilder, scopes: list[str], declare: Any) -> None:
    if not scopes:
        declare()
        return
    with c.scope(scopes[0]):
        _with_scopes(c, scopes[1:], declare)


def _declare_scoped(c: ContractBuilder, scopes: list[str], entry: Mapping[str, Any]) -> None:
    _with_scopes(c, scopes, lambda: _declare(c, entry))


def _declare(c: ContractBuilder, e: Mapping[str, Any]) -> None:
    kind = e.get("kind")
    name = e["name"]
    meta = dict(e.get("metadata") or {})
    if kind == "input":
        kwargs: dict[str, Any] = {"type": type_from_data(e.get("type")), "required": e.get("required")}
        if "default" in e:
            kwargs["default"] = e["default"]
        c.input(name, **kwargs, **meta)
    elif kind == "compute":
        role = e.get("role", "compute")
        deps = list(e.get("depends_on") or [])
        if e.get("type") is not None:
            meta["type"] = type_from_data(e["type"])
        if e.get("category"):
            meta["category"] = e["category"]
        if "project" in e:
            p = e["project"]
            steps = p.get("steps", [])
            kw: dict[str, Any] = {"dig": steps} if len(steps) != 1 else {"key": steps[0]}
            if "default" in p:
                kw["default"] = p["default"]
            c.project(name, source=p["source"], **kw, **meta)
        elif role == "const":
            spec = e.get("const") or {}
            if "factory" in spec:
                c.const(name, factory=resolve_ref(spec["factory"], "const factory"), **meta)
            else:
                c.const(name, spec.get("value"), **meta)
        elif role == "guard" and "guard" in e:
            c.guard(name, depends_on=deps, message=e.get("message"), **dict(e["guard"]), **meta)
        else:
            call = e.get("call")
            fn: Any = None
            if isinstance(call, Mapping) and "method" in call:
                fn = str(call["method"])
            elif isinstance(call, Mapping) and "unnamed" in call:
                raise CompileError(f"schema compute '{name}' uses an unnamed callable ({call['unnamed']}): "
                                   "define it as a module-level function so the schema can name it")
            elif call is not None:
                fn = resolve_ref(str(call), "callable")
                if not callable(fn):
                    raise CompileError(f"schema compute '{name}': {call!r} names a {type(fn).__name__}, which is "
                                       "not callable")
            if role == "guard":
                c.guard(name, depends_on=deps, call=fn, executor=e.get("executor"), message=e.get("message"), **meta)
            else:
                c.compute(name, depends_on=deps, call=fn, executor=e.get("executor"), **meta)
    elif kind == "composition":
        c.compose(name, contract=_resolve_contract(e["contract"]), inputs=dict(e.get("inputs") or {}), **meta)
    elif kind == "branch":
        cases = []
        for case in e.get("cases", ()):
            match = case["on"]
            if isinstance(match, Mapping) and "predicate" in match:
                match = resolve_ref(match["predicate"], "branch predicate")
            cases.append((match, _resolve_contract(case["contract"])))
        default = _resolve_contract(e["default"]) if e.get("default") else None
        c.branch(name, selector=e["selector"], cases=cases, default=default, inputs=e.get("inputs"),
                 map_inputs=_mapper_from(e.get("map_inputs")), depends_on=e.get("depends_on") or None, **meta)
    elif kind == "collection":
        c.collection(name, source=e["source"], each=_resolve_contract(e["each"]), key=e.get("key", "id"),
                     mode=e.get("mode", "collect"), depends_on=e.get("depends_on") or None,
                     map_inputs=_mapper_from(e.get("map_inputs")), **meta)
    elif kind == "await":
        c.await_event(name, event=e["event"], schema=type_from_data(e.get("schema")), timeout=e.get("timeout"), **meta)
    elif kind == "remote":
        c.remote(name, contract=e["contract"], node=e["node"], inputs=dict(e.get("inputs") or {}),
                 timeout=e.get("timeout", 30), **meta)
    else:
        raise CompileError(f"schema node {name!r} has unknown kind {kind!r}")


def compile_schema(schema: Mapping[str, Any], *, name: str | None = None) -> CompiledGraph:
    """Compile a schema (as emitted by ``to_schema``) into a graph named ``name`` or ``schema["name"]``."""
    from igniter_nb.dsl.contract import build_graph

    if not isinstance(schema, Mapping):
        raise CompileError(f"a schema must be a dict, got {type(schema).__name__}")
    graph_name = name or str(schema.get("name") or "AnonymousContract")
    origin = "compile_schema(name=)" if name else 'the schema\'s "name"'
    return build_graph(graph_name, lambda c: apply_schema(c, schema), name_origin=origin)
