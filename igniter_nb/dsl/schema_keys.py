"""Which keys a contract schema may use, at every level.

A schema written in another layout (``{"inputs": [...], "computes": [...]}``) or with a typo
(``"dependson"``) must not compile quietly into a smaller graph: every key the schema form does not know is
a ``ValidationError`` naming the key, where it is (``nodes[2].project``) and the closest known key.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from igniter_nb.errors import ValidationError

TOP_LEVEL = ("format", "name", "correlation_keys", "run_with", "nodes", "outputs")
RUN_WITH = ("runner", "max_workers", "executor", "progress")
NODE_COMMON = ("kind", "name", "path", "metadata")
NODE_KEYS: dict[str, tuple[str, ...]] = {
    "input": ("type", "required", "default"),
    "compute": ("role", "depends_on", "category", "project", "guard", "message", "const", "call", "executor", "type"),
    "composition": ("contract", "inputs"),
    "branch": ("selector", "cases", "default", "inputs", "map_inputs", "depends_on"),
    "collection": ("source", "each", "key", "mode", "map_inputs", "depends_on"),
    "await": ("event", "schema", "timeout"),
    "remote": ("contract", "node", "inputs", "timeout"),
}
NODE_REQUIRED: dict[str, tuple[str, ...]] = {
    "composition": ("contract",),
    "branch": ("selector",),
    "collection": ("source", "each"),
    "await": ("event",),
    "remote": ("contract", "node"),
}
#: The builder keyword's own parameters for each kind: a metadata key with one of these names would reach the
#: keyword twice (``c.input("a", type=..., **{"type": ...})``).
META_RESERVED: dict[str, frozenset[str]] = {
    "input": frozenset({"name", "type", "required", "default"}),
    "compute": frozenset({"name", "depends_on", "call", "executor", "message", "eq", "one_of", "matches", "value",
                          "factory", "source", "key", "dig", "default"}),
    "composition": frozenset({"name", "contract", "inputs"}),
    "branch": frozenset({"name", "selector", "cases", "default", "inputs", "map_inputs", "depends_on"}),
    "collection": frozenset({"name", "source", "each", "key", "mode", "depends_on", "map_inputs"}),
    "await": frozenset({"name", "event", "schema", "timeout"}),
    "remote": frozenset({"name", "contract", "node", "inputs", "timeout"}),
}
COMPUTE_ROLES = ("compute", "guard", "const")
OUTPUT = ("name", "source", "path")
PROJECT = ("source", "steps", "default")
CONST = ("value", "factory")
GUARD = ("eq", "one_of", "matches")
CASE = ("on", "contract")
CALL = ("method", "unnamed")
TYPE = ("class", "hint")
MAPPER = ("method",)


class SchemaChecker:
    """Checks one schema's keys; errors carry the graph name and the path inside the schema."""

    def __init__(self, graph: str, location: str | None = None) -> None:
        self.graph = graph
        self.location = location  # the user's line that compiles the schema (c.schema(...), compile_schema(...))

    def error(self, message: str, where: str, node: Any = None, **extra: Any) -> ValidationError:
        return ValidationError(f"schema {where}: {message}", graph=self.graph,
                               node=node if isinstance(node, str) else None, schema_path=where,
                               source_location=self.location, **extra)

    def mapping(self, data: Any, where: str, allowed: Sequence[str], required: Sequence[str] = (),
                node: Any = None) -> Mapping[str, Any]:
        """``data`` itself, once it is a dict with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(data, Mapping):
            raise self.error(f"must be a dict, got {type(data).__name__}", where, node)
        unknown = [k for k in data if k not in allowed]
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.8)  # (not inputs -> outputs)
                if close:
                    hints.append(f"'{key}' -> did you mean '{close[0]}'?")
            label = "key" if len(unknown) == 1 else "keys"
            raise self.error(
                f"unknown {label} {', '.join(repr(k) for k in unknown)}"
                + (f"; {'; '.join(hints)}" if hints else "")
                + f" (allowed here: {', '.join(allowed)})",
                where, node, unknown=[str(k) for k in unknown],
            )
        missing = [k for k in required if k not in data]
        if missing:
            raise self.error(f"missing {', '.join(repr(k) for k in missing)}", where, node, missing=missing)
        return data

    def sequence(self, data: Any, where: str) -> Sequence[Any]:
        if data is None:
            return ()
        if isinstance(data, str | bytes) or not isinstance(data, Sequence):
            raise self.error(f"must be a list, got {type(data).__name__}", where)
        return data

    def top(self, schema: Any) -> None:
        self.mapping(schema, "(top level)", TOP_LEVEL)
        if schema.get("run_with") is not None:
            self.mapping(schema["run_with"], "run_with", RUN_WITH)

    def node(self, entry: Any, where: str) -> None:
        """One item of ``nodes``, with the dicts nested in it."""
        if not isinstance(entry, Mapping):
            raise self.error(f"must be a dict, got {type(entry).__name__}", where)
        name = entry.get("name")
        if "name" in entry:
            where = f"{where} ({name!r})"
        kind = entry.get("kind")
        if kind not in NODE_KEYS:
            raise self.error(f"unknown kind {kind!r} (kinds: {', '.join(NODE_KEYS)})", where, name)
        self.mapping(entry, where, NODE_COMMON + NODE_KEYS[kind], ("kind", "name", *NODE_REQUIRED.get(kind, ())), name)
        meta = entry.get("metadata")
        if meta is not None:
            if not isinstance(meta, Mapping):
                raise self.error(f"'metadata' must be a dict, got {type(meta).__name__}", where, name)
            clash = [k for k in meta if not isinstance(k, str) or k in META_RESERVED[kind]]
            if clash:
                raise self.error(f"'metadata' keys {', '.join(repr(k) for k in clash)} cannot be used: metadata keys "
                                 f"are text other than the node's own settings ({', '.join(sorted(META_RESERVED[kind]))})",
                                 f"{where}.metadata", name)
        if entry.get("required") is not None and not isinstance(entry["required"], bool):
            raise self.error(f"'required' must be true, false or null, got {entry['required']!r}", where, name)
        if entry.get("depends_on") is not None:
            deps = self.sequence(entry["depends_on"], f"{where}.depends_on")
            bad = [d for d in deps if not isinstance(d, str)]
            if bad:
                raise self.error(f"node names must be text, got {bad[0]!r}", f"{where}.depends_on", name)
        if entry.get("inputs") is not None:
            inputs = entry["inputs"]
            if not isinstance(inputs, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                          for k, v in inputs.items()):
                raise self.error(f"must be a dict of child input name -> node name (text), got {inputs!r}",
                                 f"{where}.inputs", name)
        self._typed(entry, "type", where, name)
        self._typed(entry, "schema", where, name)
        if kind == "compute":
            self._compute(entry, where, name)
        if isinstance(entry.get("map_inputs"), Mapping):
            self.mapping(entry["map_inputs"], f"{where}.map_inputs", MAPPER, MAPPER, name)
        if kind == "branch":
            for i, case in enumerate(self.sequence(entry.get("cases"), f"{where}.cases")):
                self.mapping(case, f"{where}.cases[{i}]", CASE, CASE, name)

    def _typed(self, entry: Mapping[str, Any], key: str, where: str, name: Any) -> None:
        value = entry.get(key)
        if isinstance(value, Mapping):
            self.mapping(value, f"{where}.{key}", TYPE, node=name)
            if len(value) != 1:
                raise self.error(f"'{key}' needs exactly one of 'class' or 'hint'", f"{where}.{key}", name)

    def _compute(self, entry: Mapping[str, Any], where: str, name: Any) -> None:
        role = entry.get("role", "compute")
        if role not in COMPUTE_ROLES:
            raise self.error(f"unknown role {role!r} (roles: {', '.join(COMPUTE_ROLES)})", where, name)
        if "project" in entry:
            self.mapping(entry["project"], f"{where}.project", PROJECT, ("source",), name)
        if "const" in entry:
            self.mapping(entry["const"], f"{where}.const", CONST, node=name)
        if "guard" in entry:
            self.mapping(entry["guard"], f"{where}.guard", GUARD, node=name)
        if isinstance(entry.get("call"), Mapping):
            self.mapping(entry["call"], f"{where}.call", CALL, node=name)

    def output(self, entry: Any, where: str) -> None:
        self.mapping(entry, where, OUTPUT, ("name",), entry.get("name") if isinstance(entry, Mapping) else None)
