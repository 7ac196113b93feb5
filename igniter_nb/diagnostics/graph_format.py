"""A compiled graph as data (``to_dict``), as text (``to_text``) and as a Mermaid flowchart (``to_mermaid``).

Every format is deterministic: callables print their Python name, classes their name, and nothing ever
prints a memory address, so the same graph renders byte-identical across runs and processes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.signatures import callable_name
from igniter_nb.diagnostics.view import writable
from igniter_nb.model import (
    AwaitNode,
    BranchNode,
    CollectionNode,
    CompositionNode,
    ComputeNode,
    InputNode,
    Node,
    RemoteNode,
)
from igniter_nb.settings import redact_url

if TYPE_CHECKING:
    from igniter_nb.compiler.graph import CompiledGraph

_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+")


# --------------------------------------------------------------------------- naming helpers
def contract_name(contract: Any) -> str | None:
    """A child contract's display name: the class name, or the registered name when given as a string."""
    if contract is None:
        return None
    if isinstance(contract, str):
        return contract
    return str(getattr(contract, "__name__", None) or type(contract).__name__)


def function_name(fn: Any) -> str | None:
    """A mapper, predicate or presenter as its Python name (a string names a contract method)."""
    if fn is None:
        return None
    return callable_name(fn)


def safe_repr(value: Any) -> str:
    """``repr`` without memory addresses (``<Foo object at 0x7f..>`` → ``<Foo object>``); never raises."""
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} (repr failed)>"
    return _ADDRESS.sub("", text)


def jsonable(value: Any) -> Any:
    """``value`` as JSON-safe data: classes and callables by name, sets sorted, other objects by ``repr``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, re.Pattern):
        return value.pattern
    if callable(value):
        return callable_name(value)
    return safe_repr(value)


def match_text(case_match: Any, is_predicate: bool) -> str:
    return callable_name(case_match) if is_predicate else safe_repr(case_match)


def _pairs(mapping: Mapping[str, str]) -> str:
    return ",".join(f"{k}:{v}" for k, v in mapping.items())


# --------------------------------------------------------------------------- to_dict
def node_to_dict(node: Node) -> dict[str, Any]:
    """One runtime node: common fields plus the fields of its kind."""
    data: dict[str, Any] = {
        "id": node.id,
        "kind": node.kind,
        "name": node.name,
        "path": node.path,
        "dependencies": list(node.dependencies),
    }
    if isinstance(node, InputNode):
        data["type"] = node.type_name
        data["required"] = node.required
        if node.has_default:
            data["default"] = jsonable(node.default)
    elif isinstance(node, ComputeNode):
        data["callable"] = node.callable_name
        data["callable_kind"] = node.callable_kind
        data["role"] = node.role
        data["category"] = node.category
        data["executor_key"] = node.executor_key
        if node.role == "guard":
            data["guard_message"] = node.guard_message
    elif isinstance(node, CompositionNode):
        data["contract"] = contract_name(node.contract)
        data["inputs"] = dict(node.inputs)
    elif isinstance(node, BranchNode):
        data["selector"] = node.selector
        data["depends_on"] = list(node.context)
        data["cases"] = [{"match": callable_name(c.match) if c.is_predicate else jsonable(c.match),
                          "predicate": c.is_predicate, "contract": contract_name(c.contract)} for c in node.cases]
        data["default_contract"] = contract_name(node.default)
        data["inputs"] = dict(node.inputs) if node.inputs is not None else None
        data["mapper"] = function_name(node.map_inputs)
    elif isinstance(node, CollectionNode):
        data["with"] = node.source
        data["depends_on"] = list(node.context)
        data["each"] = contract_name(node.contract)
        data["key"] = node.key
        data["mode"] = node.mode
        data["mapper"] = function_name(node.map_inputs)
    elif isinstance(node, AwaitNode):
        data["event"] = node.event
        data["schema"] = jsonable(node.schema) if node.schema is not None else None
        data["timeout"] = node.timeout
    elif isinstance(node, RemoteNode):
        data["contract"] = node.contract
        data["url"] = redact_url(node.url)  # (shown: a password in it as ***; the node keeps it)
        data["inputs"] = dict(node.inputs)
        data["timeout"] = node.timeout
    data["metadata"] = jsonable(dict(node.metadata))
    data["source_location"] = node.source_location
    return data


def graph_to_dict(graph: CompiledGraph) -> dict[str, Any]:
    """``{name, correlation_keys, nodes, outputs, resolution_order}``; safe for ``json.dumps``."""
    return {
        "name": graph.name,
        "correlation_keys": list(graph.correlation_keys),
        "nodes": [node_to_dict(n) for n in graph.nodes],
        "outputs": [{"id": o.id, "name": o.name, "path": o.path, "source": o.source, "source_root": o.source_root,
                     "child_output": o.child_output} for o in graph.outputs],
        "resolution_order": list(graph.resolution_order),
        "presenters": {name: function_name(fn) for name, fn in graph.presenters.items()},
    }


# --------------------------------------------------------------------------- to_text
def node_extras(node: Node) -> list[str]:
    """The ``key=value`` words after a node's kind and path in the text format."""
    words: list[str] = []
    if isinstance(node, ComputeNode):
        words.append(f"callable={node.callable_name}")
        if node.role == "guard":
            words.append("guard=true")
        if node.role == "const":
            words.append("const=true")
        meta = node.metadata
        if node.executor_key:
            words.append(f"executor_key={node.executor_key}")
        if meta.get("label"):
            words.append(f"label={meta['label']}")
        if node.category:
            words.append(f"category={node.category}")
        tags = meta.get("tags")
        if tags:
            words.append("tags=" + (str(tags) if isinstance(tags, str) else ",".join(str(t) for t in tags)))
        if meta.get("summary"):
            words.append(f"summary={meta['summary']}")
    elif isinstance(node, CompositionNode):
        words.append(f"contract={contract_name(node.contract) or 'AnonymousContract'}")
    elif isinstance(node, BranchNode):
        words.append(f"selector={node.selector}")
        if node.context:
            words.append(f"context={','.join(node.context)}")
        cases = "|".join(f"{match_text(c.match, c.is_predicate)}:{contract_name(c.contract)}" for c in node.cases)
        words.append(f"cases={cases}")
        if node.default is not None:
            words.append(f"default={contract_name(node.default)}")
        if node.inputs:
            words.append(f"inputs={_pairs(node.inputs)}")
        if node.map_inputs is not None:
            words.append(f"mapper={function_name(node.map_inputs)}")
    elif isinstance(node, CollectionNode):
        words.append(f"with={node.source}")
        if node.context:
            words.append(f"context={','.join(node.context)}")
        words.append(f"each={contract_name(node.contract)}")
        words.append(f"key={node.key}")
        words.append(f"mode={node.mode}")
        if node.map_inputs is not None:
            words.append(f"mapper={function_name(node.map_inputs)}")
    elif isinstance(node, AwaitNode):
        words.append(f"event={node.event}")
        if node.timeout is not None:
            words.append(f"timeout={node.timeout:g}")
    elif isinstance(node, RemoteNode):
        words.append(f"contract={node.contract}")
        words.append(f"url={redact_url(node.url)}")
    return words


def graph_to_text(graph: CompiledGraph) -> str:
    """``Graph <name>`` / ``Correlation: a, b`` / ``Nodes:`` / ``- <kind> <path> ...`` / ``Outputs:`` / ``- <path> -> <source>``."""
    lines = [f"Graph {graph.name}"]
    if graph.correlation_keys:
        lines.append(f"Correlation: {', '.join(graph.correlation_keys)}")
    lines.append("Nodes:")
    for node in graph.nodes:
        words = [f"- {node.kind} {node.path}"]
        if node.dependencies:
            words.append(f"depends_on={','.join(node.dependencies)}")
        words.extend(node_extras(node))
        lines.append(" ".join(words))
    lines.append("Outputs:")
    for out in graph.outputs:
        lines.append(f"- {out.path} -> {out.source}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- to_mermaid
_MERMAID_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;", "&": "#amp;", "#": "#35;"}


def _label(text: str) -> str:
    # Mermaid labels are double-quoted and may hold HTML or markdown: every character that could open a tag,
    # an entity (an HTML one, or Mermaid's own ``#name;``), a markdown string or close the quote is written as
    # a Mermaid entity; control characters (a newline in a scope or event name) become a space and a lone
    # surrogate U+FFFD, as in every picture (``view.writable``), so the text can be written as UTF-8.
    text = writable(text)
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)


def mermaid_label(node: Node) -> str:
    """The label of a runtime node as it goes between the quotes: each line escaped (:func:`_label`), the lines
    joined by ``<br>``, which Mermaid draws as a line break in every version — the two characters ``\\n`` show as
    typed since Mermaid 11 (mermaid-js/mermaid#6048) and on GitHub. The only tags in a label are these."""
    return "<br>".join(_label(line) for line in _mermaid_lines(node))


def _mermaid_lines(node: Node) -> list[str]:
    head = f"{node.kind}: {node.path}"
    if isinstance(node, ComputeNode):
        return [head, node.callable_name]
    if isinstance(node, AwaitNode):
        return [head, f"event: {node.event}"]
    if isinstance(node, RemoteNode):
        return [head, f"{node.contract} @ {redact_url(node.url)}"]
    if isinstance(node, CompositionNode):
        return [head, f"{contract_name(node.contract)}"]
    if isinstance(node, BranchNode):
        names = [contract_name(c.contract) for c in node.cases]
        if node.default is not None:
            names.append(f"default {contract_name(node.default)}")
        return [head, f"selector: {node.selector}", " | ".join(str(n) for n in names)]
    if isinstance(node, CollectionNode):
        return [head, f"each: {contract_name(node.contract)} key={node.key} mode={node.mode}"]
    return [head]


def mermaid_id(prefix: str, name: str) -> str:
    """A Mermaid node id for ``name``: the name itself when ASCII, else its code points (``nodeu_43a_43b``).

    Names may be any Python identifier (``ключ``); not every Mermaid version parses non-ASCII ids, while
    quoted labels are fine, so the label keeps the name and the id stays ASCII (and distinct).
    """
    if name.isascii():
        return f"{prefix}_{name}"
    return f"{prefix}u_" + "_".join(f"{ord(ch):x}" for ch in name)


def graph_to_mermaid(graph: CompiledGraph) -> str:
    """A ``graph TD`` flowchart: one box per node and output, one arrow per dependency."""
    lines = ["graph TD"]
    if graph.correlation_keys:
        lines.append(f"  %% correlation: {', '.join(graph.correlation_keys)}")
    runtime = {n.name for n in graph.nodes}
    for node in graph.nodes:
        lines.append(f'  {mermaid_id("node", node.name)}["{mermaid_label(node)}"]')
    for out in graph.outputs:
        lines.append(f'  {mermaid_id("output", out.name)}["{_label(f"output: {out.name}")}"]')
        lines.append(f"  {mermaid_id('node', out.source_root)} --> {mermaid_id('output', out.name)}")
    for node in graph.nodes:
        for dep in node.dependencies:
            source = mermaid_id("node", dep) if dep in runtime else mermaid_id("output", dep)
            lines.append(f"  {source} --> {mermaid_id('node', node.name)}")
    return "\n".join(lines)
