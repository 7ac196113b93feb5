"""The contract builder: the ``c`` in ``def define(c): ...``.

Each keyword appends a node record. Nothing is validated across nodes here (the compiler does that);
what can be checked locally — argument combinations, callable shapes, type names — is checked at once,
with the user's source line.

This module holds ``ContractBuilder`` itself and its node keywords for inputs, outputs and child contracts; the
rest is split by question: ``builder_base`` (state and plumbing), ``builder_checks`` (checks of one argument),
``builder_computes`` (compute keywords), ``builder_settings`` (scopes, settings, reactions, presenters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from igniter_nb._source import user_location
from igniter_nb.compiler.types import UnknownTypeError, resolve_type
from igniter_nb.dsl.builder_base import _BuilderBase as _BuilderBase
from igniter_nb.dsl.builder_checks import _ASYNC_FLAGS as _ASYNC_FLAGS
from igniter_nb.dsl.builder_checks import _asynchronous as _asynchronous
from igniter_nb.dsl.builder_checks import _callable_label as _callable_label
from igniter_nb.dsl.builder_checks import _copy_if_mutable as _copy_if_mutable
from igniter_nb.dsl.builder_checks import _copy_problem as _copy_problem
from igniter_nb.dsl.builder_checks import _names as _names
from igniter_nb.dsl.builder_checks import _NotNames as _NotNames
from igniter_nb.dsl.builder_checks import _positive_seconds as _positive_seconds
from igniter_nb.dsl.builder_computes import _ComputeKeywords
from igniter_nb.dsl.builder_settings import _ContractSettings
from igniter_nb.errors import ValidationError
from igniter_nb.model import (
    AWAIT,
    BRANCH,
    COLLECTION,
    COMPOSITION,
    INPUT,
    MISSING,
    OUTPUT,
    REMOTE,
    AwaitNode,
    BranchCase,
    BranchNode,
    CollectionNode,
    CompositionNode,
    GraphModel,
    InputNode,
    OutputNode,
    RemoteNode,
)


class ContractBuilder(_ComputeKeywords, _ContractSettings):
    """The ``c`` in ``define(c)``: its keywords (``c.input``, ``c.compute``, ``c.output``, ...) declare the
    contract's nodes. Annotate with it for a type checker: ``@staticmethod def define(c: ig.ContractBuilder) ->
    None:`` (docs/contracts.md, "Type checking your contracts")."""

    # The keywords are split by kind: computes in builder_computes.py, contract-level settings and reactions in
    # builder_settings.py, the shared state and plumbing in builder_base.py; inputs, outputs and child contracts
    # are here.

    # ------------------------------------------------------------------ inputs
    def input(
        self,
        name: str,
        type: Any = None,
        required: bool | None = None,
        default: Any = MISSING,
        **meta: Any,
    ) -> InputNode:
        """Declare an input. Required unless it has a default (or ``required=False``)."""
        loc = user_location(2)
        self._check_name(name, "input")
        if required is not None and not isinstance(required, bool):
            raise self._error(f"Input '{name}': `required=` must be True, False or None, got {required!r}", name, loc)
        try:
            check = resolve_type(type)
        except UnknownTypeError as exc:
            raise self._error(f"Input '{name}' has an unusable type: {exc}", name, loc) from None
        if default is not MISSING:
            problem = _copy_problem(default)
            if problem is not None:
                raise self._error(f"Input '{name}': the default is copied for each execution (so no run sees "
                                  f"another's changes), but it cannot be copied ({problem}); use an immutable "
                                  "default, or leave it out and pass the shared object as the input", name, loc)
        node = InputNode(
            **self._base(name, INPUT, meta, loc),
            type_spec=type,
            type_name=check.name if check else None,
            required=bool(required) if required is not None else default is MISSING,
            default=default,
        )
        return self._add(node)  # type: ignore[return-value]

    # ------------------------------------------------------------------ outputs
    def output(self, name: str, source: str | None = None, **meta: Any) -> OutputNode:
        """Expose a node (or ``"child_node.child_output"``) as an output named ``name``."""
        return self._output(name, source, meta, user_location(2))

    def _output(self, name: str, source: str | None, meta: Mapping[str, Any], loc: str | None) -> OutputNode:
        self._check_name(name, "output")
        if source is not None and not isinstance(source, str):
            raise self._error(f"output '{name}': `source=` must be a node name (text), got {source!r}", name, loc)
        src = name if source is None else source
        if "" in src.split("."):  # "a." / ".a" / "a..b" / "": was read as the text around the empty part
            raise self._error(f"output '{name}': `source=` {src!r} has an empty part; write a node name, or "
                              "'node.child_output' to read an output of a composed, branch or collection node",
                              name, loc, ValidationError)
        root, _, child = src.partition(".")
        node = OutputNode(
            **self._base(name, OUTPUT, meta, loc, (root,), output=True),
            source=src,
            source_root=root,
            child_output=child or None,
        )
        return self._add(node)  # type: ignore[return-value]

    def export(self, *names: str, source: str, **meta: Any) -> list[OutputNode]:
        """Re-export outputs of a composed/branch node: ``c.export("total", source="pricing")``."""
        loc = user_location(2)
        if not names:
            raise self._error("export needs at least one output name", None, loc)
        return [self._output(n, f"{source}.{n}", meta, loc) for n in names]

    def expose(self, *sources: str, name: str | None = None, **meta: Any) -> list[OutputNode]:
        """Outputs for existing nodes (or nested sources); ``name=`` renames a single source."""
        loc = user_location(2)
        if name is not None and len(sources) != 1:
            raise self._error(f"expose(name={name!r}) needs exactly one source, got {len(sources)}", name, loc)
        if not sources:
            raise self._error("expose needs at least one source", None, loc)
        return [self._output(name or s.replace(".", "_"), s, meta, loc) for s in sources]

    # ------------------------------------------------------------------ child contracts
    def compose(self, name: str, contract: Any = None, inputs: Mapping[str, str] | None = None, **meta: Any) -> CompositionNode:
        """Run ``contract`` as a node; ``inputs`` maps child input → parent node name."""
        loc = user_location(2)
        self._check_name(name, "compose")
        if inputs is None:
            inputs = {}
        if not isinstance(inputs, Mapping):
            raise self._error(f"compose '{name}' requires an `inputs=` dict (child input -> parent node)", name, loc)
        node = CompositionNode(
            **self._base(name, COMPOSITION, meta, loc, tuple(dict.fromkeys(str(v) for v in inputs.values()))),
            contract=contract,
            inputs={str(k): str(v) for k, v in inputs.items()},
        )
        return self._add(node)  # type: ignore[return-value]

    def branch(
        self,
        name: str,
        selector: str | None = None,
        cases: Any = None,
        default: Any = None,
        inputs: Mapping[str, str] | None = None,
        map_inputs: Any = None,
        depends_on: str | Sequence[str] | None = None,
        **meta: Any,
    ) -> BranchNode:
        """Run one of several contracts, chosen by the value of ``selector``."""
        loc = user_location(2)
        self._check_name(name, "branch")
        if not selector:
            raise self._error(f"branch '{name}' requires `selector=`", name, loc)
        parsed: list[BranchCase] = []
        items: Iterable[Any]
        if isinstance(cases, Mapping):
            items = cases.items()
        elif isinstance(cases, (list, tuple)):
            items = cases
        else:
            raise self._error(f"branch '{name}': `cases=` must be a dict or a list of (match, Contract) pairs", name, loc)
        for item in items:
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise self._error(f"branch '{name}': each case must be a (match, Contract) pair, got {item!r}", name, loc)
            match, contract = item
            parsed.append(BranchCase(match=match, contract=contract, is_predicate=callable(match) and not isinstance(match, type)))
        if inputs is not None and map_inputs is not None:
            raise self._error(f"branch '{name}' takes either `inputs=` or `map_inputs=`, not both", name, loc)
        if inputs is None and map_inputs is None:
            raise self._error(f"branch '{name}' requires `inputs=` or `map_inputs=`", name, loc)
        if inputs is not None and not isinstance(inputs, Mapping):
            raise self._error(f"branch '{name}': `inputs=` must be a dict (child input -> parent node)", name, loc)
        context = self._names(depends_on, "depends_on", "branch", name, loc)
        mapped = tuple(str(v) for v in (inputs or {}).values())
        node = BranchNode(
            **self._base(name, BRANCH, meta, loc, tuple(dict.fromkeys((selector, *mapped, *context)))),
            selector=selector,
            cases=tuple(parsed),
            default=default,
            inputs={str(k): str(v) for k, v in inputs.items()} if inputs is not None else None,
            map_inputs=map_inputs,
            context=context,
        )
        return self._add(node)  # type: ignore[return-value]

    def collection(
        self,
        name: str,
        source: str | None = None,
        each: Any = None,
        key: str = "id",
        mode: str = "collect",
        depends_on: str | Sequence[str] | None = None,
        map_inputs: Any = None,
        **meta: Any,
    ) -> CollectionNode:
        """Run ``each`` once per item of ``source`` (a list of input dicts, or anything ``map_inputs`` turns into them)."""
        loc = user_location(2)
        self._check_name(name, "collection")
        if not source:
            raise self._error(f"collection '{name}' requires `source=`", name, loc)
        context = self._names(depends_on, "depends_on", "collection", name, loc)
        node = CollectionNode(
            **self._base(name, COLLECTION, meta, loc, tuple(dict.fromkeys((source, *context)))),
            source=source,
            contract=each,
            key=str(key),
            mode=str(mode),
            map_inputs=map_inputs,
            context=context,
        )
        return self._add(node)  # type: ignore[return-value]

    def await_event(self, name: str, event: str | None = None, schema: Any = None, timeout: float | None = None, **meta: Any) -> AwaitNode:
        """A node that waits for the external event ``event``; its value is the delivered payload."""
        loc = user_location(2)
        self._check_name(name, "await_event")
        if not event or not isinstance(event, str):
            raise self._error(f"await_event '{name}' requires `event=` (the event name)", name, loc)
        if timeout is not None and not _positive_seconds(timeout):
            raise self._error(f"await_event '{name}': `timeout=` must be a positive number of seconds (finite; None for "
                              f"no timeout), got {timeout!r}", name, loc)
        node = AwaitNode(
            **self._base(name, AWAIT, meta, loc),
            event=event,
            schema=schema,
            timeout=float(timeout) if timeout is not None else None,
        )
        return self._add(node)  # type: ignore[return-value]

    def remote(self, name: str, contract: str | None = None, node: str | None = None, inputs: Mapping[str, str] | None = None,
               timeout: float = 30, **meta: Any) -> RemoteNode:
        """A node computed by contract ``contract`` on the igniter_nb server at ``node`` (base URL)."""
        loc = user_location(2)
        self._check_name(name, "remote")
        if not contract or not isinstance(contract, str):
            raise self._error(f"remote '{name}' requires `contract=` (the remote contract's name)", name, loc)
        if not node or not isinstance(node, str):
            raise self._error(f"remote '{name}' requires `node=` (the server's base URL)", name, loc)
        if not isinstance(inputs, Mapping):
            raise self._error(f"remote '{name}' requires an `inputs=` dict (remote input -> local node)", name, loc)
        if not _positive_seconds(timeout):
            raise self._error(f"remote '{name}': `timeout=` must be a positive number of seconds (finite), got {timeout!r}",
                              name, loc)
        total = meta.get("total_timeout")
        if total is not None and not _positive_seconds(total):
            raise self._error(f"remote '{name}': `total_timeout=` must be a positive number of seconds (finite; None: "
                              f"3 × timeout), got {total!r:.80}", name, loc)
        token_env = meta.get("token_env")
        if token_env is not None and (not isinstance(token_env, str) or not token_env):
            raise self._error(f"remote '{name}': `token_env=` must be the name of an environment variable (a non-empty "
                              f"str), got {token_env!r:.80}", name, loc)
        limit = meta.get("max_answer_bytes")
        if limit is not None and (type(limit) is not int or limit < 1):
            raise self._error(f"remote '{name}': `max_answer_bytes=` must be an int >= 1 (None: 10000000), got "
                              f"{limit!r:.80}", name, loc)
        rnode = RemoteNode(
            **self._base(name, REMOTE, meta, loc, tuple(dict.fromkeys(str(v) for v in inputs.values()))),
            contract=contract,
            url=node,
            inputs={str(k): str(v) for k, v in inputs.items()},
            timeout=float(timeout),
        )
        return self._add(rnode)  # type: ignore[return-value]

    def schema(self, schema: Mapping[str, Any]) -> None:
        """Declare nodes from a data schema (the form ``CompiledGraph.to_schema()`` emits)."""
        from igniter_nb.dsl.schema import apply_schema

        apply_schema(self, schema)

    # ------------------------------------------------------------------ result
    def _check_inherited(self, outputs: set[str]) -> None:
        """What the parent's reactions, correlation keys and presenters name must exist in this graph too: say
        so here, naming the parent, rather than as if this define had declared them."""
        parent = self._inherited.name  # type: ignore[union-attr]
        inputs = {n.name for n in self._nodes if n.kind == INPUT}
        if self._correlation_location is None and self._correlation:
            missing = [k for k in self._correlation if k not in inputs]
            if missing:
                raise self._error(
                    f"correlation keys {missing} inherited from {parent} are not inputs of {self.name}: declare "
                    f"them (c.input(...)) or call c.correlate_by(...) in {self.name}'s define",
                    None, self._location, ValidationError)
        paths = {n.path for n in (*self._nodes, *self._outputs)}
        for r in self._inherited.reactions:  # type: ignore[union-attr]
            if r.kind == "on_success" and r.target not in outputs and r.target not in paths:
                what = f"on_success target '{r.target}'"
            elif r.path is not None and r.kind in ("effect", "react_to") and r.path not in paths:
                what = f"{r.kind} path '{r.path}'"
            else:
                continue
            raise self._error(f"{what} (declared at {r.source_location}, inherited from {parent}) is not a node "
                              f"path of {self.name}", None, self._location, ValidationError)
        for output in self._presenters:
            if output not in self._presenter_locations and output not in outputs:
                raise self._error(f"present('{output}') inherited from {parent}: {self.name} has no such output "
                                  f"(declare c.output('{output}'))", None, self._location, ValidationError)

    def build(self) -> GraphModel:
        """The declared graph, not yet compiled (igniter_nb calls it after ``define``; you need not)."""
        for keyword, name, loc in self._unapplied.values():
            label = f" '{name}'" if name else ""
            raise self._error(f"{keyword}{label} requires a callable: pass `call=` or `executor=`, or use it as a "
                              "decorator on a function", name if isinstance(name, str) else None, loc)
        outputs = {o.name for o in self._outputs}
        if self._inherited is not None:
            self._check_inherited(outputs)
        for output, loc in self._presenter_locations.items():
            if output not in outputs:
                raise self._error(f"present('{output}'): {self.name} has no such output", None, loc, ValidationError)
        return GraphModel(
            name=self.name,
            nodes=tuple(self._nodes),
            outputs=tuple(self._outputs),
            correlation_keys=self._correlation,
            correlation_location=self._correlation_location,
            run_options=dict(self._run_options),
            reactions=tuple(self._reactions),
            presenters=dict(self._presenters),
            source_location=self._location,
            contract_class=self.contract_class,
        )
