"""Sending collection items to other processes: a child contract travels as its import path
(``module:QualName``) and its inputs as JSON-safe data (the snapshot codec); what comes back is plain data.

Worker processes (a ``ProcessPoolExecutor``, dask workers, other machines) import the child contract
themselves, so it must live in an importable module: a contract defined in ``__main__`` (a script run
directly, a notebook cell) or inside a function cannot be shipped. What comes back per item: status, outputs,
the error's type, message and context, the child's execution id and graph name. The child's event log and node
states stay in the worker.
"""

from __future__ import annotations

import importlib
from typing import Any

from igniter_nb import errors as _errors
from igniter_nb.compiler.registry import contract_name
from igniter_nb.errors import IgniterError, ResolutionError
from igniter_nb.runtime.codec import decode, encode
from igniter_nb.runtime.status import FAILED, SUCCEEDED, Status

_FIX = ("Move the contract class to a module (e.g. `my_contracts.py`) at top level, import it from there, "
        "and make that module importable by the workers (installed, or on their PYTHONPATH); or run the "
        "collection with runner='threads'.")


class ShippingError(ResolutionError):
    """A child contract or its inputs cannot be sent to executor workers."""


def import_path(cls: Any) -> str:
    """``module:QualName`` by which workers import ``cls``; ``ShippingError`` saying why not and how to fix it."""
    name = contract_name(cls)
    module = getattr(cls, "__module__", None) or ""
    qualname = getattr(cls, "__qualname__", None) or name
    why = None
    if module in ("__main__", "__mp_main__", "builtins") or module.startswith("__"):
        why = (f"it is defined in `{module}` (a script run directly, a notebook cell or an interactive session), "
               "which worker processes cannot import")
    elif "<locals>" in qualname or "<lambda>" in qualname:
        why = "it is defined inside a function, so it has no import path"
    else:
        try:
            obj: Any = importlib.import_module(module)
        except Exception as exc:
            why = f"its module `{module}` cannot be imported ({type(exc).__name__}: {exc})"
        else:
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            if obj is None:
                why = (f"`{module}` has no top-level `{qualname}` (was it defined inside a function, or created "
                       "dynamically?)")
            elif obj is not cls:
                why = (f"`{module}:{qualname}` names a different object (was the class redefined, or created "
                       "dynamically, e.g. by @ig.contract in a notebook cell?)")
    if why is not None:
        raise ShippingError(f"Cannot ship contract {name} to executor workers: {why}. {_FIX}",
                            contract=name, module=module)
    return f"{module}:{qualname}"


def _json_context(context: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in context.items():
        try:
            out[k] = encode(v)
        except Exception:
            out[k] = repr(v)
    return out


def error_data(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, IgniterError):
        return {"type": type(exc).__name__, "message": exc.message, "context": _json_context(exc.context)}
    return {"type": type(exc).__name__, "message": str(exc), "context": {}}


def rebuild_error(data: dict[str, Any]) -> IgniterError:
    """An igniter error from ``error_data`` (its own class when it is an igniter error, else ``ResolutionError``
    with the original type name in ``context["cause_type"]``)."""
    cls = getattr(_errors, str(data.get("type")), None)
    context: dict[str, Any] = {}
    for k, v in (data.get("context") or {}).items():
        try:
            context[k] = decode(v)
        except Exception:
            context[k] = v
    if not (isinstance(cls, type) and issubclass(cls, IgniterError)):
        cls = ResolutionError
        context.setdefault("cause_type", data.get("type"))
    return cls(str(data.get("message", "")), context=context)


def run_shipped(path: str, inputs: Any) -> dict[str, Any]:
    """Worker side: import the contract at ``path``, run it with the decoded inputs, answer plain data.

    ``{"status", "execution_id", "graph", "outputs", "error"}``; a contract that ends pending or waiting
    answers only its status (the parent runs it again locally, where it can be resumed).
    """
    from igniter_nb.compiler.registry import lookup_contract

    try:
        cls = lookup_contract(path, import_modules=True)
        if cls is None:
            raise ResolutionError(f"{path} is not an igniter_nb contract class")
        child = cls._create(decode(inputs))
    except Exception as exc:
        return {"status": "failed", "execution_id": None, "graph": path, "outputs": None, "error": error_data(exc)}
    child.resolve_all()
    ex = child.execution
    status = ex.status_of()
    answer: dict[str, Any] = {"status": str(status), "execution_id": child.execution_id, "graph": ex.graph.name,
                              "outputs": None, "error": None}
    if status is SUCCEEDED:
        try:
            answer["outputs"] = encode(child.result.to_dict(), path="outputs")
        except Exception as exc:
            answer["status"] = "failed"
            answer["error"] = error_data(exc)
    elif status is FAILED:
        answer["error"] = error_data(ex.first_error())
    return answer


def run_shipped_batch(path: str, payloads: list[Any]) -> list[dict[str, Any]]:
    """Worker side: ``run_shipped`` for several items of the same contract (one task, less overhead)."""
    return [run_shipped(path, inputs) for inputs in payloads]


class ShippedResult:
    """The outputs of a child contract that ran in another process (read-only, plain data).

    Reads like a ``Result`` (``r.total``, ``r["total"]``, ``to_dict()``, ``status``, ``execution_id``,
    ``graph``); ``contract`` is ``None``: the child's events and states stayed in the worker.
    """

    __slots__ = ("_outputs", "execution_id", "graph", "status")
    contract = None

    def __init__(self, graph: str, execution_id: str | None, status: Status, outputs: dict[str, Any]) -> None:
        self.graph = graph
        self.execution_id = execution_id
        self.status = status
        self._outputs = outputs

    @property
    def outputs(self) -> list[str]:
        return list(self._outputs)

    @property
    def succeeded(self) -> bool:
        return self.status is SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status is FAILED

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._outputs[name]
        except KeyError:
            raise AttributeError(f"{self.graph} has no output {name!r} (outputs: {', '.join(self._outputs)})") from None

    def __getitem__(self, name: str) -> Any:
        return self._outputs[name]

    def read(self, name: str) -> Any:
        return self._outputs[name]

    def to_dict(self) -> dict[str, Any]:
        return dict(self._outputs)

    def __repr__(self) -> str:
        return f"<ShippedResult {self.graph} {self.status} outputs={self.outputs}>"


def shipped_result(answer: dict[str, Any]) -> ShippedResult:
    outputs = decode(answer["outputs"]) if answer.get("outputs") is not None else {}
    return ShippedResult(str(answer.get("graph")), answer.get("execution_id"), Status(answer["status"]), outputs)
