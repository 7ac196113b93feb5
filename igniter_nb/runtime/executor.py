"""``ig.Executor``: a class-based compute callable, and the executor registry."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from igniter_nb.errors import CompileError
from igniter_nb.runtime.deferred import DeferredResult, new_token


class Executor:
    """Subclass and implement ``call(self, **dependencies)``.

    Class attributes (all optional): ``inputs`` (``{"name": {"type": "numeric", "required": True}}``; type
    annotations on ``call`` work too), ``executor_key``, ``label``, ``category``, ``tags``, ``summary``.
    Inside ``call``: ``self.contract``, ``self.execution``, and ``self.defer(token=None, payload=None)``.
    Override ``resumed`` to keep working when a deferred node is resumed.
    """

    inputs: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    executor_key: ClassVar[str | None] = None
    label: ClassVar[str | None] = None
    category: ClassVar[str | None] = None
    tags: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str | None] = None

    def __init__(self, contract: Any = None, execution: Any = None, node: Any = None) -> None:
        self.contract = contract
        self.execution = execution
        self.node = node

    def call(self, **dependencies: Any) -> Any:
        """Compute the node's value from its dependencies (keyword arguments by name); return ``self.defer(...)`` to
        make the node pending instead. Subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__}.call(**dependencies) is not implemented")

    def defer(self, token: str | None = None, payload: Mapping[str, Any] | None = None) -> DeferredResult:
        """Return this from ``call`` to make the node pending until resumed with ``token``."""
        name = getattr(self.node, "name", None)
        return DeferredResult(token or new_token(), dict(payload or {}), name)

    def resumed(self, value: Any, deferred: DeferredResult, **dependencies: Any) -> Any:
        """The node's value when it is resumed with ``value`` after returning ``deferred`` (default: ``value``).

        Override it to go on working with the value instead (an LLM executor sends tool results back to the
        model): return the node's value, or ``self.defer(...)`` to wait again. It receives the node's
        dependencies like ``call``. Raising ``ig.PayloadValidationError`` refuses ``value``: the node stays
        pending and nothing is recorded; any other exception fails the node.
        """
        return value

    @classmethod
    def continues_on_resume(cls) -> bool:
        """Whether this class overrides ``resumed`` (the runtime then calls it on resume)."""
        return cls.resumed is not Executor.resumed

    @classmethod
    def declared_inputs(cls) -> dict[str, dict[str, Any]]:
        """Inputs from the ``inputs`` attribute, else from ``call``'s annotated keyword parameters."""
        if cls.inputs:
            return {name: {"required": True, **dict(cfg)} for name, cfg in cls.inputs.items()}
        found: dict[str, dict[str, Any]] = {}
        try:
            hints = inspect.get_annotations(cls.call, eval_str=True)
        except Exception:
            hints = {}
        for p in list(inspect.signature(cls.call).parameters.values())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                cfg: dict[str, Any] = {"required": p.default is p.empty}
                if p.name in hints:
                    cfg["type"] = hints[p.name]
                found[p.name] = cfg
        return found

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        """The class's descriptive settings (``executor_key``, ``label``, ``category``, ``tags``, ``summary``) that are
        set, as a dict."""
        data = {
            "executor_key": cls.executor_key,
            "label": cls.label,
            "category": cls.category,
            "tags": list(cls.tags) if cls.tags else None,
            "summary": cls.summary,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ExecutorDefinition:
    key: str
    executor_class: type[Executor]
    metadata: Mapping[str, Any] = field(default_factory=dict)


class ExecutorRegistry:
    """Executors by key, so contracts (and data schemas) can name them: ``c.compute(..., executor="quote")``."""

    def __init__(self) -> None:
        self._definitions: dict[str, ExecutorDefinition] = {}

    def register(self, key: str, executor_class: type[Executor], **metadata: Any) -> ExecutorDefinition:
        key = str(key).strip()
        if not key:
            raise CompileError("executor registry key cannot be empty")
        if not (isinstance(executor_class, type) and issubclass(executor_class, Executor)):
            raise CompileError(
                f"executor registry key '{key}' must reference an ig.Executor subclass, got {executor_class!r}"
            )
        definition = ExecutorDefinition(key, executor_class, {**executor_class.metadata(), **metadata, "key": key})
        self._definitions[key] = definition
        return definition

    def fetch(self, key: str) -> ExecutorDefinition:
        try:
            return self._definitions[str(key)]
        except KeyError:
            known = ", ".join(sorted(self._definitions)) or "none registered"
            raise CompileError(f"Unknown executor registry key: {key} (known: {known})") from None

    def registered(self, key: str) -> bool:
        return str(key) in self._definitions

    def definitions(self) -> list[ExecutorDefinition]:
        return [self._definitions[k] for k in sorted(self._definitions)]

    def clear(self) -> None:
        self._definitions.clear()


executor_registry = ExecutorRegistry()


def register_executor(key: str, executor_class: type[Executor], **metadata: Any) -> ExecutorDefinition:
    """Register an executor class under ``key`` in the process-wide registry."""
    return executor_registry.register(key, executor_class, **metadata)
