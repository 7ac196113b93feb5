"""igniter_nb: business logic as validated dependency graphs that run lazily, wait durably for external
events, and can be seen, simulated and replayed inside Jupyter.

Importing this package is cheap: pandas, graphviz, ipywidgets, SQLAlchemy, redis, httpx and starlette load
only when a feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._lazy import lazy_attributes
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
    LookalikeCorrelationWarning,
    NotAContractClassError,
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
    from igniter_nb.dsl.builder import ContractBuilder
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
    "ContractBuilder": "igniter_nb.dsl.builder",
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


# The feature namespaces load on first use too (``ig.nb`` and ``ig.notebook`` are the same package). A type
# checker sees them as imports instead: a module-level ``__getattr__`` would make every misspelt ``ig.name`` Any.
if TYPE_CHECKING:
    from igniter_nb import integrations, llm, notebook, server, stores
    from igniter_nb import notebook as nb
    from igniter_nb.config import configure
else:
    __getattr__, __dir__ = lazy_attributes("igniter_nb", globals(), {**_ENGINE_NAMES, "configure": "igniter_nb.config"},
                                           {"nb": "igniter_nb.notebook", "notebook": "igniter_nb.notebook",
                                            "stores": "igniter_nb.stores", "server": "igniter_nb.server",
                                            "llm": "igniter_nb.llm", "integrations": "igniter_nb.integrations"})


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
    "ContractBuilder",
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
    "LookalikeCorrelationWarning",
    "NotAContractClassError",
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
