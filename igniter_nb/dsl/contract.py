"""``ig.Contract``: subclass it and write ``define(c)``; the class compiles when it is created."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, overload

from igniter_nb._source import callable_location, user_location
from igniter_nb.compiler.compile import compile_graph
from igniter_nb.compiler.graph import CompiledGraph
from igniter_nb.compiler.registry import register_contract
from igniter_nb.dsl.builder import ContractBuilder
from igniter_nb.errors import CompileError, InputError
from igniter_nb.events.event import Event
from igniter_nb.extensions.audit import AuditTimeline
from igniter_nb.extensions.reactive import ReactionError, ReactiveEngine
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.execution import Execution
from igniter_nb.runtime.first_touch import BuiltOnFirstTouch, execution_id_of
from igniter_nb.runtime.result import Result
from igniter_nb.runtime.status import Status, StatusFlags


class _NotGiven:
    """The default of a runtime option keyword: tells "not given" apart from an explicit ``None``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN: Any = _NotGiven()


@functools.cache
def _workflow_engine() -> Any:
    """``igniter_nb.workflow.engine`` (a layer above this one), imported on first use: an import statement in
    ``deliver_event`` would cost a microsecond on every delivery."""
    from igniter_nb.workflow import engine

    return engine


def _given(value: Any) -> Any:
    return None if value is _NOT_GIVEN else value


def _refuse_ambiguous_options(cls: type[Contract], call: str, options: Mapping[str, Any],
                              inputs: Mapping[str, Any] | None) -> None:
    """Runtime options are keywords, and an input may share an option's name (``store``, ``now``...): such a
    keyword is ambiguous unless the inputs mapping sets the input, so it is refused rather than read as the
    option. igniter_nb's own calls (restore, children, workflows, the server) make instances with
    ``Contract._create``, which takes the whole inputs mapping and options that cannot be mistaken."""
    nodes = cls.compiled_graph().nodes_by_name
    clashes = [name for name, value in options.items() if value is not _NOT_GIVEN and name in nodes
               and nodes[name].kind == "input" and not (inputs and name in inputs)]
    if not clashes:
        return
    name = clashes[0]
    node = nodes[name]
    graph = cls.compiled_graph().name
    raise InputError(
        f"'{name}' is both an input of {graph} and a runtime option of {call}(...), so `{name}=` is ambiguous; "
        f"pass the input in the inputs mapping — {call}({{'{name}': ...}}) — and the option, if you need it, "
        f"as the keyword: {call}({{'{name}': ...}}, {name}=...)",
        graph=graph, node=name, path=node.path, source_location=user_location(), option=name,
    )


def _define_function(obj: Any, graph: str) -> Callable[[ContractBuilder], Any]:
    if isinstance(obj, classmethod):
        raise CompileError("define must be a plain function `def define(c):` called with the builder only, not a "
                           "classmethod (drop @classmethod and the cls parameter)", graph=graph,
                           source_location=callable_location(obj.__func__) or user_location())
    fn: Any = obj.__func__ if isinstance(obj, staticmethod) else obj
    if not callable(fn):
        raise CompileError(f"define must be a function taking the builder, got {obj!r}", graph=graph,
                           source_location=user_location())
    return fn  # type: ignore[no-any-return]


def build_graph(name: str, define: Callable[[ContractBuilder], Any], contract_class: Any = None,
                inherited: Any = None, *, name_origin: str | None = None) -> CompiledGraph:
    """Compile ``define`` into a graph named ``name``; ``name_origin`` says where the name came from (for the error
    that refuses a name no store keeps), by default the class name of ``contract_class``."""
    builder = ContractBuilder(name, contract_class, inherited=inherited)
    builder._location = callable_location(define)
    define(builder)
    return compile_graph(builder.build(), name_origin=name_origin)


class Contract(StatusFlags):
    """A business contract: inputs, computed nodes and outputs, validated when the class is defined.

    >>> class Price(ig.Contract):
    ...     def define(c):
    ...         c.input("total", type="numeric")
    ...         c.compute("gross", depends_on=["total"], call=lambda total: total * 1.2)
    ...         c.output("gross")
    >>> Price(total=100).result.gross
    120.0
    """

    __igniter_contract__: ClassVar[bool] = True
    _igniter_graph: ClassVar[CompiledGraph | None] = None
    graph: ClassVar[CompiledGraph]
    if TYPE_CHECKING:
        execution: Execution
        reaction_errors: list[ReactionError]
        _reactive: ReactiveEngine | None
    else:  # What _setup sets. An instance a quiet delivery returns holds none of them until one is first read:
        # then all three are restored at once (runtime/first_touch.py). Set, they are found first: no cost here.
        execution = BuiltOnFirstTouch()
        reaction_errors = BuiltOnFirstTouch()
        _reactive = BuiltOnFirstTouch()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_contract(cls)
        define = cls.__dict__.get("define")
        if define is None:
            return  # uses the parent's graph, reactions, correlation keys and run options (L-35)
        parent = next((getattr(b, "_igniter_graph", None) for b in cls.__mro__[1:]
                       if getattr(b, "_igniter_graph", None)), None)
        graph = build_graph(cls.__name__, _define_function(define, cls.__name__), cls, parent,
                            name_origin="the class name (of a class statement, type(...) or ig.contract(name=))")
        cls._igniter_graph = graph
        cls.graph = graph

    @classmethod
    def compiled_graph(cls) -> CompiledGraph:
        """The contract's validated graph (also ``Contract.graph``); ``CompileError`` for a class without ``define``."""
        graph = cls._igniter_graph
        if graph is None:
            raise CompileError(f"{cls.__name__} has no compiled graph: give it a `define(c)` function")
        return graph

    @classmethod
    def correlation_keys(cls) -> tuple[str, ...]:
        """The names given to ``c.correlate_by(...)``, in order; empty for a contract that is not a workflow."""
        return cls.compiled_graph().correlation_keys

    # ------------------------------------------------------------------ instances
    def __init__(
        self,
        inputs: Mapping[str, Any] | None = None,
        /,
        *,
        runner: str | None = _NOT_GIVEN,
        max_workers: int | None = _NOT_GIVEN,
        store: Any = _NOT_GIVEN,
        executor: Any = _NOT_GIVEN,
        execution_id: str | None = _NOT_GIVEN,
        **keyword_inputs: Any,
    ) -> None:
        """``Cls({"input": value, ...}, **more_inputs, runner=..., store=..., execution_id=...)``: values in the
        mapping are always inputs; an input named like a runtime option goes in the mapping."""
        cls = type(self)
        _refuse_ambiguous_options(cls, cls.__name__, {"runner": runner, "max_workers": max_workers, "store": store,
                                                    "executor": executor, "execution_id": execution_id}, inputs)
        self._setup({**(dict(inputs) if inputs else {}), **keyword_inputs}, runner=_given(runner),
                    max_workers=_given(max_workers), store=_given(store), executor=_given(executor),
                    execution_id=_given(execution_id))

    @classmethod
    def _create(cls, inputs: Mapping[str, Any], /, *, runner: str | None = None, max_workers: int | None = None,
                store: Any = None, executor: Any = None, execution_id: str | None = None) -> Contract:
        """igniter_nb's own way to make an instance (restore, child runs, workflow start, the server): ``inputs``
        is the whole inputs mapping and every option is a keyword that cannot be mistaken for an input, so no
        name is checked for ambiguity (an input called ``store`` that was left to its default is no clash here)."""
        contract = cls.__new__(cls)
        contract._setup(dict(inputs), runner=runner, max_workers=max_workers, store=store, executor=executor,
                        execution_id=execution_id)
        return contract

    def _setup(self, given: dict[str, Any], *, runner: str | None, max_workers: int | None, store: Any,
               executor: Any, execution_id: str | None) -> None:
        self.execution, self.reaction_errors, self._reactive = self._attributes(
            given, runner=runner, max_workers=max_workers, store=store, executor=executor, execution_id=execution_id)

    def _attributes(self, given: dict[str, Any], *, runner: str | None, max_workers: int | None, store: Any,
                    executor: Any, execution_id: str | None) -> tuple[Execution, list[ReactionError],
                                                                       ReactiveEngine | None]:
        """What ``_setup`` sets (in ``runtime/first_touch.ATTRIBUTES`` order), made without setting any: a restore on first
        touch (``runtime/first_touch.py``) sets them once its execution is complete."""
        graph = type(self).compiled_graph()
        opts = graph.run_options
        execution = Execution(
            graph,
            self,
            given,
            runner=runner or opts.get("runner"),
            max_workers=max_workers if max_workers is not None else opts.get("max_workers"),
            store=store,
            executor=executor if executor is not None else opts.get("executor"),
            execution_id=execution_id,
        )
        errors: list[ReactionError] = []  # (a closure over the list, not a bound method: no cycle through the bus)
        execution.bus.on_subscriber_error = lambda event, subscriber, error: errors.append(
            ReactionError(event, subscriber, error))
        reactive: ReactiveEngine | None = None
        if graph.reactions:
            reactive = ReactiveEngine(self, graph.reactions)
            reactive.errors = errors
            execution.bus.subscribe(reactive)
        return execution, errors, reactive

    @property
    def result(self) -> Result:
        """The outputs, read by attribute (``contract.result.total``); a view, made on each access."""
        return Result(self.execution, self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.execution_id} {self.execution.status_of()}>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        # (pickle, copy.copy and copy.deepcopy all come here) A shallow copy would share this execution and a
        # deep one would fail on its event log: neither is a copy of the run. Snapshots are the way to move it.
        name = type(self).__name__
        raise TypeError(f"a {name} contract is a live execution and cannot be pickled or copied: take "
                        f"contract.snapshot() (JSON data) and continue it with {name}.restore(snapshot) — in this "
                        "process or another")

    # ------------------------------------------------------------------ basics
    @property
    def execution_id(self) -> str:
        """This execution's id: the key it is saved under in a store."""
        execution = self.__dict__.get("execution")
        if execution is None:  # (a contract restored on first touch and not read yet: its snapshot says, no restore)
            return execution_id_of(self)
        return execution.execution_id  # type: ignore[no-any-return]

    @property
    def inputs(self) -> dict[str, Any]:
        """A copy of the inputs given (defaults are not filled in), by name."""
        return dict(self.execution.inputs)

    def resolve_all(self) -> Contract:
        """Resolve every output. Never raises for node failures: check ``status`` or ``raise_for_status()``."""
        self.execution.resolve_all()
        return self

    resolve = resolve_all

    def raise_for_status(self) -> Contract:
        """Raise the first failed node's error, if any (after resolving every output)."""
        if self.status is Status.FAILED:
            raise self.execution.first_error()
        return self

    @property
    def status(self) -> Status:
        """``succeeded``, ``failed``, ``pending`` or ``waiting`` after resolving every output. Never raises."""
        return self.execution.status

    def first_error(self) -> Any:
        """The error of the first failed node (after resolving every output); ``LookupError`` if none failed."""
        self.execution.resolve_all()
        return self.execution.first_error()

    def first_deferred(self) -> DeferredResult:
        """The wait of the first pending/waiting node (after resolving); ``LookupError`` if none."""
        self.execution.resolve_all()
        return self.execution.first_deferred()

    def update_inputs(self, inputs: Mapping[str, Any] | None = None, /, **values: Any) -> Contract:
        """Change inputs; only nodes downstream of a changed value recompute on the next read."""
        self.execution.update_inputs({**(dict(inputs) if inputs else {}), **values})
        return self

    def retry(self, node: str | None = None) -> Contract:
        """Resolve failed nodes again (all, or ``node`` and failures downstream of it)."""
        self.execution.retry(node)
        self.execution.resolve_all()
        return self

    def resume(self, node: str, value: Any = None) -> Contract:
        """Give a pending node its value (e.g. the answer a deferring executor waited for)."""
        self.execution.resume(node, value)
        return self

    def resume_by_token(self, token: str, value: Any = None) -> Contract:
        """Resume the node that deferred ``token``."""
        self.execution.resume_by_token(token, value)
        return self

    # ------------------------------------------------------------------ snapshots and stores
    def snapshot(self) -> dict[str, Any]:
        """The execution as JSON-safe data (format ``igniter_nb.snapshot/1``), after resolving every output."""
        from igniter_nb.runtime.snapshot import snapshot_execution

        self.execution.resolve_all()
        return snapshot_execution(self.execution)

    @classmethod
    def restore(cls, snapshot: Mapping[str, Any], store: Any = None, *, executor: Any = None) -> Contract:
        """A new instance continuing the execution in ``snapshot`` (same id, states and events).
        ``executor`` re-attaches a ``concurrent.futures.Executor`` for an ``executor``-runner execution."""
        from igniter_nb.runtime.restore import restore_contract

        contract: Contract = restore_contract(cls, snapshot, store=store, executor=executor)
        return contract

    @classmethod
    def restore_from_store(cls, execution_id: str, store: Any = None) -> Contract:
        """Fetch ``execution_id`` from ``store`` (default: the configured store) and restore it.
        The instance keeps that store for later saves (L-06)."""
        from igniter_nb.config import default_store
        from igniter_nb.runtime.restore import restore_record

        store = store if store is not None else default_store()
        contract: Contract = restore_record(cls, store.record(execution_id), store=store)
        return contract

    @classmethod
    def resume_from_store(cls, execution_id: str, token: str, value: Any = None, store: Any = None) -> Contract:
        """Worker entry point: restore ``execution_id``, resume the node pending on ``token``, save it back."""
        from igniter_nb.config import default_store
        from igniter_nb.runtime.store_runner import persist
        from igniter_nb.workflow.rollout import restore_keeping_payloads

        store = store if store is not None else default_store()
        # a workflow holding a payload this graph would drop (a rename it was not migrated for) is refused
        contract = restore_keeping_payloads(cls, store.record(execution_id), store,
                                            f"its node pending on token {token!r:.200} is not resumed")
        workflow = contract.execution.workflow
        if workflow is not None and workflow.get("status") not in ("running", "waiting"):
            from igniter_nb.runtime.children import holds_token

            if holds_token(contract, token):  # (a token no longer pending raises as for any execution, below)
                from igniter_nb.errors import WorkflowError

                raise WorkflowError(f"{cls.compiled_graph().name} workflow {execution_id} is {workflow.get('status')}: "
                                    f"its node pending on token {token!r:.200} cannot be resumed",
                                    graph=cls.compiled_graph().name, execution_id=execution_id, token=token[:200])
        from igniter_nb.workflow.payloads import private_copy

        contract.execution.resume_by_token(token, private_copy(value))  # (its own copy, as a delivered payload)
        if contract.execution.runner.name != "store":
            contract.execution.resolve_all()
            persist(contract.execution, contract.execution.store)
        return contract

    # ------------------------------------------------------------------ workflows
    @classmethod
    def start(cls, inputs: Mapping[str, Any] | None = None, /, *, store: Any = _NOT_GIVEN, now: Any = _NOT_GIVEN,
              **keyword_inputs: Any) -> Contract:
        """Start a durable workflow (see ``docs/workflows.md``); returns the saved instance. As for the
        constructor, an input named ``store`` or ``now`` goes in the ``inputs`` mapping."""
        from igniter_nb.workflow.engine import start

        _refuse_ambiguous_options(cls, f"{cls.__name__}.start", {"store": store, "now": now}, inputs)
        contract: Contract = start(cls, {**(dict(inputs) if inputs else {}), **keyword_inputs}, store=_given(store),
                                   now=_given(now))
        return contract

    @classmethod
    def deliver_event(cls, event: str, *, correlation: Mapping[str, Any], payload: Any = None, store: Any = None,
                      idempotency_key: str | None = None, now: Any = None) -> Contract:
        """Deliver an external event to the active workflow with ``correlation``."""
        contract: Contract = _workflow_engine().deliver_event(cls, event, correlation=correlation, payload=payload, store=store,
                                           idempotency_key=idempotency_key, now=now)
        return contract

    @classmethod
    def cancel(cls, *, correlation: Mapping[str, Any], store: Any = None, reason: str | None = None,
               now: Any = None) -> Contract:
        """Cancel the active workflow with ``correlation``."""
        from igniter_nb.workflow.control import cancel

        contract: Contract = cancel(cls, correlation=correlation, store=store, reason=reason, now=now)
        return contract

    @classmethod
    def expire_due(cls, store: Any = None, now: Any = None) -> list[Contract]:
        """Time out active workflows whose await deadlines passed (``now`` injectable); returns them."""
        from igniter_nb.workflow.control import expire_due

        return expire_due(cls, store, now)

    @classmethod
    def sync_remote(cls, store: Any = None, now: Any = None) -> list[dict[str, Any]]:
        """Resume stored executions of this contract whose remote nodes wait for remote executions that have
        finished (asks each remote server; compare-and-set saves); one entry per wait looked at (see
        ``docs/server.md``, "Remote nodes"). Needs the ``server`` extra."""
        try:
            from igniter_nb.server.remote_sync import sync_remote
        except ImportError as exc:
            raise ImportError(f"sync_remote needs the igniter_nb[server] extra: pip install 'igniter_nb[server]' "
                              f"({exc})") from exc
        return sync_remote(cls, store, now)

    @classmethod
    def retry_workflow(cls, *, correlation: Mapping[str, Any], store: Any = None, node: str | None = None,
                       now: Any = None) -> Contract:
        """Re-run the failed nodes of the failed workflow with ``correlation`` and save it (compare-and-set)."""
        from igniter_nb.workflow.control import retry_workflow

        contract: Contract = retry_workflow(cls, correlation=correlation, store=store, node=node, now=now)
        return contract

    @classmethod
    def migrate(cls, store: Any = None, *, rename: Mapping[str, str] | None = None, dry_run: bool = False,
                include_finished: bool = False, now: Any = None, inputs: Any = None,
                drop: Any = None) -> Any:
        """Move stored executions of this graph onto its current definition (renamed nodes keep their state and
        signals; ``inputs`` gives inputs they lack, such as a new correlation key; ``drop`` names removed awaits
        whose delivered payloads may be dropped though the graph awaits their event under another name); returns
        a ``MigrationReport``.
        See ``docs/workflows.md`` (Changing a deployed workflow)."""
        from igniter_nb.workflow.migration import migrate

        return migrate(cls, store, rename=rename, dry_run=dry_run, include_finished=include_finished, now=now,
                       inputs=inputs, drop=drop)

    @property
    def workflow_status(self) -> str | None:
        """``running``/``waiting``/``succeeded``/``failed``/``cancelled``/``timed_out`` (None if not a workflow)."""
        wf = self.execution.workflow
        return wf.get("status") if wf else None

    @property
    def signals(self) -> list[dict[str, Any]]:
        """The delivered-signal log, oldest first."""
        wf = self.execution.workflow
        return list(wf.get("signals", ())) if wf else []

    # ------------------------------------------------------------------ events and inspection
    @property
    def events(self) -> list[Event]:
        """Every event of this execution so far, oldest first (see docs/events.md for the catalogue)."""
        return self.execution.bus.events

    def subscribe(self, subscriber: Callable[[Event], Any]) -> Contract:
        """Call ``subscriber(event)`` for every later event. A subscriber that raises is recorded in
        ``reaction_errors`` and never breaks the run."""
        self.execution.bus.subscribe(subscriber)
        return self

    @property
    def audit(self) -> AuditTimeline:
        """The audit timeline of this execution: its ``events``, a ``snapshot()``, ``to_frame()`` for a DataFrame."""
        return AuditTimeline(self.execution)

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        """Node name → its state as plain data (status, version, value, error, what it waits for, ...), in resolution
        order; never resolves anything and never raises."""
        from igniter_nb.diagnostics.states import states_view

        return states_view(self.execution)

    def plan(self, outputs: Iterable[str] | None = None) -> Any:
        """What resolving ``outputs`` (default: all) would do, without doing it."""
        from igniter_nb.runtime.planner import build_plan

        return build_plan(self.execution, outputs)

    def explain_plan(self, outputs: Iterable[str] | None = None) -> str:
        """``plan(outputs)`` as text: the targets, which nodes are ready, which are blocked and on what."""
        return str(self.plan(outputs).to_text())

    @property
    def diagnostics(self) -> Any:
        """A report of this execution (status, outputs, node counts by status, errors, events, what it waits for)
        with ``to_text()``, ``to_markdown()``, ``to_dict()`` and a notebook view."""
        from igniter_nb.diagnostics.report import Report

        return Report(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import contract_mimebundle
        except ImportError:
            return {"text/plain": repr(self)}
        return contract_mimebundle(self)


@overload
def contract(fn: Callable[[ContractBuilder], Any], *, name: str | None = None) -> type[Contract]: ...
@overload
def contract(fn: None = None, *, name: str | None = None) -> Callable[[Callable[[ContractBuilder], Any]], type[Contract]]: ...


def contract(fn: Callable[[ContractBuilder], Any] | None = None, *, name: str | None = None) -> Any:
    """Turn ``def Name(c): ...`` into a contract class (handy in notebook cells)."""

    def make(f: Callable[[ContractBuilder], Any]) -> type[Contract]:
        cls_name = name or f.__name__
        return type(cls_name, (Contract,), {"define": f, "__module__": f.__module__, "__qualname__": cls_name,
                                             "__doc__": f.__doc__})

    return make(fn) if fn is not None else make


def compile(fn: Callable[[ContractBuilder], Any], *, name: str | None = None) -> CompiledGraph:
    """Compile a define function into a ``CompiledGraph`` without making a class."""
    origin = "ig.compile(name=)" if name else "the define function's name (ig.compile without name=)"
    return build_graph(str(name or getattr(fn, "__name__", "AnonymousContract")), fn, name_origin=origin)
