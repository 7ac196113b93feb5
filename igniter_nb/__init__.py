"""igniter_nb: business logic as validated dependency graphs that run lazily, wait durably for external
events, and can be seen, simulated and replayed inside Jupyter.

Importing this package is cheap: pandas, graphviz, ipywidgets, SQLAlchemy, redis, httpx and starlette load
only when a feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb.errors import (
    AwaitedEventMismatchError,
    BranchSelectionError,
    CollectionInputError,
    CollectionKeyError,
    CompileError,
    ConcurrencyError,
    CycleError,
    DuplicateSignalError,
    DuplicateWorkflowError,
    GraphChangedError,
    IdempotencyConflictError,
    IgniterError,
    InputError,
    PayloadValidationError,
    PendingError,
    ResolutionError,
    SettingsError,
    SnapshotEncodingError,
    SnapshotNotFoundError,
    StoreError,
    ValidationError,
    WorkflowArgumentError,
    WorkflowError,
    WorkflowNotFoundError,
)

if TYPE_CHECKING:
    from igniter_nb.compiler.graph import CompiledGraph
    from igniter_nb.dsl.contract import Contract, compile, contract
    from igniter_nb.events.event import Event
    from igniter_nb.model import MISSING
    from igniter_nb.runtime.collection_result import CollectionItem, CollectionResult
    from igniter_nb.runtime.deferred import DeferredResult
    from igniter_nb.runtime.executor import Executor, executor_registry, register_executor
    from igniter_nb.runtime.result import Result
    from igniter_nb.runtime.states import NodeState
    from igniter_nb.runtime.status import Status

# The engine (compiler, DSL, runtime) loads on first use of one of these names (PEP 562), so that
# ``import igniter_nb`` costs a few milliseconds; the first ``ig.Contract`` or ``ig.contract`` pays for it.
_ENGINE_NAMES = {
    "CompiledGraph": "igniter_nb.compiler.graph",
    "Contract": "igniter_nb.dsl.contract",
    "compile": "igniter_nb.dsl.contract",
    "contract": "igniter_nb.dsl.contract",
    "Event": "igniter_nb.events.event",
    "MISSING": "igniter_nb.model",
    "CollectionItem": "igniter_nb.runtime.collection_result",
    "CollectionResult": "igniter_nb.runtime.collection_result",
    "DeferredResult": "igniter_nb.runtime.deferred",
    "Executor": "igniter_nb.runtime.executor",
    "executor_registry": "igniter_nb.runtime.executor",
    "register_executor": "igniter_nb.runtime.executor",
    "Result": "igniter_nb.runtime.result",
    "NodeState": "igniter_nb.runtime.states",
    "Status": "igniter_nb.runtime.status",
}

__version__ = "0.1.0"


def compile_schema(schema: dict[str, Any], *, name: str | None = None) -> CompiledGraph:
    """Compile a data schema (the form ``CompiledGraph.to_schema()`` emits) into a graph."""
    from igniter_nb.dsl.schema import compile_schema as _compile_schema

    return _compile_schema(schema, name=name)


def __getattr__(name: str) -> Any:
    # The engine's names and the feature namespaces load on first use so `import igniter_nb` stays light.
    engine_module = _ENGINE_NAMES.get(name)
    if engine_module is not None:
        import importlib

        value = getattr(importlib.import_module(engine_module), name)
        globals()[name] = value  # later reads find it without coming back here
        return value
    if name in ("nb", "notebook"):
        import igniter_nb.notebook as module

        return module
    if name == "stores":
        import igniter_nb.stores as stores

        return stores
    if name == "configure":
        from igniter_nb.config import configure

        return configure
    if name == "server":
        import igniter_nb.server as server

        return server
    if name == "llm":
        import igniter_nb.llm as llm

        return llm
    if name == "integrations":
        import igniter_nb.integrations as integrations

        return integrations
    raise AttributeError(f"module 'igniter_nb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_ENGINE_NAMES})


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext igniter_nb``: notebook formatters and the ``%%contract`` cell magic."""
    from igniter_nb.notebook.extension import load_ipython_extension as _load

    _load(ipython)


__all__ = [
    "MISSING",
    "AwaitedEventMismatchError",
    "BranchSelectionError",
    "CollectionItem",
    "CollectionResult",
    "CollectionInputError",
    "CollectionKeyError",
    "CompileError",
    "CompiledGraph",
    "ConcurrencyError",
    "Contract",
    "CycleError",
    "DeferredResult",
    "DuplicateSignalError",
    "DuplicateWorkflowError",
    "Event",
    "Executor",
    "GraphChangedError",
    "IdempotencyConflictError",
    "IgniterError",
    "InputError",
    "NodeState",
    "PayloadValidationError",
    "PendingError",
    "ResolutionError",
    "Result",
    "SettingsError",
    "SnapshotEncodingError",
    "SnapshotNotFoundError",
    "Status",
    "StoreError",
    "ValidationError",
    "WorkflowArgumentError",
    "WorkflowError",
    "WorkflowNotFoundError",
    "compile",
    "compile_schema",
    "contract",
    "executor_registry",
    "register_executor",
]
