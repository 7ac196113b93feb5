"""``Result``: the outputs of an execution, read lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._shown_text import TABLE_LIMIT, more_rows, shown_name
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.nested_values import KEEP, convert
from igniter_nb.runtime.states import named_states_now
from igniter_nb.runtime.status import FAILED, Status, StatusFlags
from igniter_nb.settings import without_url_passwords

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def plain(value: Any) -> Any:
    """A value with child results, collections and deferreds turned into dicts (for ``to_dict``). Never raises for
    a value that contains itself or nests deeply (see ``nested_values.convert``)."""
    return convert(value, _plain_leaf)


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, Result):
        return descend(value.to_dict)  # a child's outputs may hold its own child's result, and so on
    if isinstance(value, DeferredResult):  # shown: a remote node's URL without its password (the state keeps it)
        return without_url_passwords(value.to_dict())
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None and type(value).__module__.startswith("igniter_nb."):
        return descend(to_dict)
    return KEEP


class Result(StatusFlags):
    """Outputs by attribute (``result.total``) or item (``result["total"]``); each read resolves what it needs.

    Reading a failed output raises its error; a pending/waiting one returns its ``DeferredResult``. The
    methods below never raise for failures. An output whose name collides with a method is read with ``[]``.
    """

    __slots__ = ("contract", "execution")

    def __init__(self, execution: Execution, contract: Any = None) -> None:
        self.execution = execution
        self.contract = contract

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        ex = object.__getattribute__(self, "execution")
        if not ex.graph.has_output(name):
            known = ", ".join(o.name for o in ex.graph.outputs)
            raise AttributeError(f"{ex.graph.name} has no output {name!r} (outputs: {known})")
        return ex.output_value(name)

    def __getitem__(self, name: str) -> Any:
        ex = self.execution
        if not ex.graph.has_output(name):
            raise KeyError(name)
        return ex.output_value(name)

    def read(self, name: str) -> Any:
        """The value of output ``name``, like ``result[name]`` (for outputs named like a method of ``Result``)."""
        return self[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.execution.graph.has_output(name)

    def __dir__(self) -> list[str]:
        return sorted({*object.__dir__(self), *(o.name for o in self.execution.graph.outputs)})

    def __repr__(self) -> str:
        """``<Result Name status outputs=['a', 'b']>``: the name cut and the outputs listed as the notebook's tables
        list rows (``TABLE_LIMIT``, then how many more), so a huge graph or name makes no huge line."""
        outputs = self.outputs
        listed = ", ".join(repr(shown_name(o)) for o in outputs[:TABLE_LIMIT])
        if len(outputs) > TABLE_LIMIT:
            listed += f", {more_rows(len(outputs) - TABLE_LIMIT, 'outputs')}"
        return f"<Result {shown_name(self.execution.graph.name)} {self.status} outputs=[{listed}]>"

    @property
    def outputs(self) -> list[str]:
        """The output names, in declaration order."""
        return [o.name for o in self.execution.graph.outputs]

    @property
    def graph(self) -> str:
        """The contract's graph name."""
        return self.execution.graph.name

    @property
    def execution_id(self) -> str:
        """The execution these outputs belong to."""
        return self.execution.execution_id

    @property
    def status(self) -> Status:
        """The execution's status after resolving every output; never raises."""
        return self.execution.status

    @property
    def errors(self) -> dict[str, BaseException]:
        """Failed nodes and their errors (after resolving every output)."""
        self.execution.resolve_all()
        states = named_states_now(self.execution.states)  # (a nested threads run may still record nodes)
        return {n: st.error for n, st in states.items() if st.status is FAILED and st.error is not None}

    def to_dict(self) -> dict[str, Any]:
        """Output values by name; a failed output becomes ``{"status": "failed", "error": {...}}``."""
        ex = self.execution
        ex.resolve_all()
        data: dict[str, Any] = {}
        for out in ex.graph.outputs:
            st = ex.output_state(out.name)
            if st.status is FAILED:
                err = st.error
                to_dict = getattr(err, "to_dict", None)
                data[out.name] = {"status": "failed", "error": to_dict() if to_dict is not None
                                  else {"type": type(err).__name__, "message": str(err)}}
            else:
                data[out.name] = plain(st.value)
        return data

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        """Node name → state as plain data (like ``Contract.states``), after resolving every output."""
        from igniter_nb.diagnostics.states import states_view

        self.execution.resolve_all()
        return states_view(self.execution)

    def explain(self, output: str) -> dict[str, Any]:
        """How ``output`` got its value: the dependency tree with statuses and values."""
        from igniter_nb.diagnostics.explain import explain_output

        self.execution.output_state(output)
        return explain_output(self.execution, output)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import result_mimebundle
        except ImportError:
            return {"text/plain": repr(self)}
        return result_mimebundle(self)
