"""The contract builder: the ``c`` in ``def define(c): ...``.

Each keyword appends a node record. Nothing is validated across nodes here (the compiler does that);
what can be checked locally — argument combinations, callable shapes, type names — is checked at once,
with the user's source line.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import FunctionType
from typing import Any

from igniter_nb._source import user_location
from igniter_nb.compiler.signatures import analyse, callable_name
from igniter_nb.compiler.types import UnknownTypeError, resolve_type
from igniter_nb.errors import CompileError, ValidationError
from igniter_nb.extensions.reactive import callback_problem, event_type_problem
from igniter_nb.model import (
    AWAIT,
    BRANCH,
    COLLECTION,
    COMPOSITION,
    COMPUTE,
    INPUT,
    MISSING,
    OUTPUT,
    REMOTE,
    AwaitNode,
    BranchCase,
    BranchNode,
    CollectionNode,
    CompositionNode,
    ComputeNode,
    GraphModel,
    InputNode,
    Node,
    OutputNode,
    Reaction,
    RemoteNode,
    new_compute_node,
)
from igniter_nb.runtime.executor import Executor, executor_registry
from igniter_nb.runtime.inputs import is_immutable
from igniter_nb.runtime.runners import runner_problem


def _copy_if_mutable(value: Any) -> Callable[[], Any]:
    """A factory returning ``value`` — a fresh deep copy each time when it is mutable (L-17)."""
    if is_immutable(value):
        return lambda: value
    return lambda: copy.deepcopy(value)


def _copy_problem(value: Any) -> str | None:
    """Why a default/const ``value`` cannot be deep-copied per execution (L-17), or None when it can."""
    if is_immutable(value):
        return None
    try:
        copy.deepcopy(value)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class _NotNames(TypeError):
    """A ``depends_on=``/``source=`` value that is not a node name or names; the builder says where."""


_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _asynchronous(fn: Any, kind: str, contract_class: Any) -> str | None:
    """``"an async def function"``/``"an async generator function"`` when the compute's callable is one (it would
    return a coroutine nobody awaits), else ``None``."""
    if kind == "executor":
        target = fn.call
    elif kind == "method":
        target = getattr(contract_class, fn, None)
    else:
        target = fn
    if type(target) is FunctionType:  # the usual case: one flag test
        flags = target.__code__.co_flags
    elif inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
        flags = inspect.CO_COROUTINE if inspect.iscoroutinefunction(target) else inspect.CO_ASYNC_GENERATOR
    else:
        call = getattr(type(target), "__call__", None)  # noqa: B004 (a callable object's own method)
        flags = call.__code__.co_flags if type(call) is FunctionType else 0
    if not flags & _ASYNC_FLAGS:
        return None
    return "an async def function" if flags & inspect.CO_COROUTINE else "an async generator function"


def _callable_label(fn: Any, kind: str) -> str:
    if kind == "method":
        return f"method {fn}"
    if kind == "executor":
        return f"{fn.__name__}.call"
    return callable_name(fn)


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise _NotNames(f"a node name or a list of names, got {type(value).__name__} {value!r}") from None
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise _NotNames(f"node names (text), got {type(bad[0]).__name__} {bad[0]!r} in {value!r}")
    return names


def _positive_seconds(timeout: Any) -> bool:
    """A finite number of seconds above zero (NaN compares false with 0, and an int past a float's range or an
    infinity makes no deadline)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        return False
    try:
        seconds = float(timeout)
    except OverflowError:
        return False
    return math.isfinite(seconds) and seconds > 0


class ContractBuilder:
    """Collects declarations for one contract; ``build()`` returns the uncompiled ``GraphModel``."""

    def __init__(self, name: str, contract_class: Any = None, *, inherited: GraphModel | None = None) -> None:
        self.name = name
        self.contract_class = contract_class
        self._nodes: list[Node] = []
        self._outputs: list[OutputNode] = []
        self._counter = 0
        self._scopes: list[str] = []
        self._correlation: tuple[str, ...] = inherited.correlation_keys if inherited else ()
        self._correlation_location: str | None = None
        self._unapplied: dict[int, tuple[str, Any, str | None]] = {}  # decorators returned but never applied
        self._run_options: dict[str, Any] = dict(inherited.run_options) if inherited else {}
        self._reactions: list[Reaction] = list(inherited.reactions) if inherited else []
        self._presenters: dict[str, Any] = dict(inherited.presenters) if inherited else {}
        self._presenter_locations: dict[str, str | None] = {}  # where each presenter declared here was
        self._inherited = inherited  # the parent's graph, whose reactions/correlation/presenters are kept (L-35)
        self._location = user_location(2)

    # ------------------------------------------------------------------ plumbing
    def _next_id(self) -> str:
        self._counter += 1
        return f"{self.name}:{self._counter}"

    def _path(self, name: str, *, output: bool = False) -> str:
        if not self._scopes:
            return f"output.{name}" if output else name
        parts = [*self._scopes, "output", name] if output else [*self._scopes, name]
        return ".".join(parts)

    def _error(self, message: str, name: str | None = None, location: str | None = None,
               cls: type[CompileError] = CompileError) -> CompileError:
        return cls(
            message,
            graph=self.name,
            node=name,
            path=self._path(name) if name else None,
            source_location=location or user_location(3),
        )

    def _add(self, node: Node) -> Node:
        if isinstance(node, OutputNode):
            self._outputs.append(node)
        else:
            self._nodes.append(node)
        return node

    def _base(self, name: str, kind: str, meta: Mapping[str, Any], loc: str | None,
              dependencies: Iterable[str] = (), *, output: bool = False) -> dict[str, Any]:
        """The fields every node has, for a node declared here now."""
        return {
            "id": self._next_id(),
            "kind": kind,
            "name": name,
            "path": self._path(name, output=output),
            "dependencies": tuple(dependencies),
            "metadata": self._meta(meta),
            "source_location": loc,
        }

    def _check_name(self, name: Any, keyword: str) -> str:
        if type(name) is str and name.isidentifier():
            return name
        if not isinstance(name, str) or not name.strip():
            raise self._error(f"{keyword} needs a non-empty string name, got {name!r}")
        if not name.isidentifier():
            raise self._error(
                f"{keyword} name {name!r} must be a Python identifier (letters of any script, digits, underscores; "
                "not starting with a digit)", None, None, ValidationError
            )
        return name

    def _names(self, value: Any, what: str, keyword: str, name: Any, loc: str | None) -> tuple[str, ...]:
        try:
            return _names(value)
        except _NotNames as exc:
            raise self._error(f"{keyword} '{name}': `{what}=` takes {exc}", name if isinstance(name, str) else None,
                              loc) from None

    def _meta(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in meta.items() if v is not None} if meta else {}

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

    # ------------------------------------------------------------------ computes
    def compute(
        self,
        name: Any = None,
        depends_on: str | Sequence[str] | None = None,
        call: Any = None,
        executor: str | None = None,
        **meta: Any,
    ) -> Any:
        """Declare a computed node: ``@c.compute``, ``@c.compute(depends_on=[...])`` or ``c.compute(name, call=f)``."""
        return self._compute_keyword("compute", name, depends_on, call, executor, meta, user_location(2))

    def lookup(self, name: Any = None, depends_on: Any = None, call: Any = None, executor: Any = None, **meta: Any) -> Any:
        """A compute node with ``category="lookup"``."""
        meta.setdefault("category", "lookup")
        return self._compute_keyword("lookup", name, depends_on, call, executor, meta, user_location(2))

    def aggregate(
        self, name: Any = None, depends_on: Any = None, call: Any = None, executor: Any = None, **meta: Any
    ) -> Any:
        """A compute node with ``category="aggregate"``."""
        meta.setdefault("category", "aggregate")
        return self._compute_keyword("aggregate", name, depends_on, call, executor, meta, user_location(2))

    def _compute_keyword(
        self,
        keyword: str,
        name: Any,
        depends_on: Any,
        call: Any,
        executor: Any,
        meta: dict[str, Any],
        loc: str | None,
    ) -> Any:
        if callable(name) and not isinstance(name, str) and call is None and executor is None:
            # bare decorator: @c.compute
            fn = name
            self._declare_compute(keyword, fn.__name__, depends_on, fn, None, meta, loc)
            return fn
        if call is None and executor is None:
            # decorator with arguments: @c.compute(...) / @c.compute("name", ...)
            return self._awaiting(keyword, name, loc, lambda fn: self._declare_compute(
                keyword, name or getattr(fn, "__name__", None), depends_on, fn, None, meta, loc))
        return self._declare_compute(keyword, name, depends_on, call, executor, meta, loc)

    def _classify(self, name: str, fn: Any, loc: str | None) -> tuple[str, Any, Any]:
        """(callable_kind, callable, signature) for a user-given ``call``."""
        if type(fn) is FunctionType:  # the usual case, first
            return "function", fn, analyse(fn)
        if isinstance(fn, str):
            method = getattr(self.contract_class, fn, None) if self.contract_class is not None else None
            if method is None or not callable(method):
                owner = self.contract_class.__name__ if self.contract_class is not None else self.name
                raise self._error(f"Compute '{name}' names method '{fn}', which {owner} does not define", name, loc)
            return "method", fn, analyse(method, drop_first=True)
        if isinstance(fn, type) and issubclass(fn, Executor):
            return "executor", fn, analyse(fn.call, drop_first=True)
        if isinstance(fn, type):
            raise self._error(
                f"Compute '{name}' got class {fn.__name__}; use an ig.Executor subclass or a function", name, loc
            )
        if not callable(fn):
            raise self._error(f"Compute '{name}' needs a callable, got {type(fn).__name__} {fn!r}", name, loc)
        kind = "function" if hasattr(fn, "__code__") else "object"
        return kind, fn, analyse(fn)

    def _declare_compute(
        self,
        keyword: str,
        name: Any,
        depends_on: Any,
        call: Any,
        executor: Any,
        meta: dict[str, Any],
        loc: str | None,
        *,
        role: str = "compute",
        guard_message: str | None = None,
        generated: Callable[..., Any] | None = None,
    ) -> ComputeNode:
        if call is not None and executor is not None:
            raise self._error(f"{keyword} '{name}' cannot take both `call=` and `executor=`", name, loc)
        name = self._check_name(name, keyword)
        meta = dict(meta) if meta else {}
        executor_key = None
        if executor is not None:
            definition = executor_registry.fetch(executor) if executor_registry.registered(executor) else None
            if definition is None:
                raise self._error(f"{keyword} '{name}': unknown executor registry key '{executor}'", name, loc)
            call = definition.executor_class
            executor_key = definition.key
            meta = {**{k: v for k, v in definition.metadata.items() if k != "key"}, **meta}
        fn: Any
        if generated is not None:
            kind, fn, sig = "function", generated, analyse(generated)
        elif call is None:
            raise self._error(f"{keyword} '{name}' requires a callable (`call=`, `executor=` or a decorated function)", name, loc)
        else:
            kind, fn, sig = self._classify(name, call, loc)
        asynchronous = _asynchronous(fn, kind, self.contract_class)
        if asynchronous is not None:
            raise self._error(
                f"{keyword} '{name}': {_callable_label(fn, kind)} is {asynchronous}; computes are "
                "called synchronously and never awaited (its node would hold an unawaited coroutine). Define it with "
                "`def` (call async code inside it with asyncio.run(...)), or make the node an ig.Executor that "
                "defers and resume it when the awaited work is done",
                name, loc, ValidationError,
            )
        if sig is not None:
            # A ValidationError like every other rule a graph breaks (docs/contracts.md promises that type).
            if sig.positional_only:
                raise self._error(
                    f"{keyword} '{name}': dependencies are passed by keyword, but parameter(s) "
                    f"{', '.join(sig.positional_only)} of {callable_name(fn)} are positional-only",
                    name, loc, ValidationError,
                )
            if sig.var_positional:
                raise self._error(
                    f"{keyword} '{name}': dependencies are passed by keyword; remove *{sig.var_positional} "
                    f"from {callable_name(fn)}",
                    name, loc, ValidationError,
                )
        if depends_on is not None:
            deps = self._names(depends_on, "depends_on", keyword, name, loc)
        elif kind == "executor" and fn.inputs:
            deps = tuple(n for n, cfg in fn.declared_inputs().items() if cfg.get("required", True))
        elif sig is not None:
            deps = sig.required
        else:
            deps = ()
        if kind == "executor":
            for key, value in fn.metadata().items():
                meta.setdefault(key, value)
        category = meta.get("category") if meta else None
        self._counter += 1
        node = new_compute_node(
            f"{self.name}:{self._counter}",
            COMPUTE,
            name,
            self._path(name) if self._scopes else name,
            tuple(deps),
            self._meta(meta),
            loc,
            fn,
            kind,
            role if role in ("const", "guard") else (keyword if generated is not None else callable_name(fn)),
            role,
            str(category) if category is not None else None,
            executor_key or (meta.get("executor_key") if meta else None),
            bool(sig and sig.accepts_any),
            sig,
            guard_message,
            meta.get("type") if meta else None,
        )
        self._nodes.append(node)
        return node

    def const(self, name: str, value: Any = MISSING, *, factory: Callable[[], Any] | None = None, **meta: Any) -> ComputeNode:
        """A node with a fixed value (copied per execution when mutable) or built by ``factory()``."""
        loc = user_location(2)
        if (value is MISSING) == (factory is None):
            raise self._error(f"const '{name}' needs exactly one of a value or `factory=`", name, loc)
        if factory is not None and not callable(factory):
            raise self._error(f"const '{name}': `factory=` must be callable, got {factory!r}", name, loc)
        if factory is None:
            problem = _copy_problem(value)
            if problem is not None:
                raise self._error(f"const '{name}': the value is copied for each execution (so no run sees another's "
                                  f"changes), but it cannot be copied ({problem}); give `factory=` a function "
                                  "returning it instead", name, loc)
        fn = factory if factory is not None else _copy_if_mutable(value)
        meta.setdefault("kind", "const")
        return self._declare_compute("const", name, (), None, None, meta, loc, role="const", generated=fn)

    def map(self, name: str, source: str | Sequence[str] | None = None, call: Any = None, executor: Any = None, **meta: Any) -> Any:
        """Compute from ``source`` (one name or several): the callable gets them by keyword."""
        loc = user_location(2)
        if source is None:
            raise self._error(f"map '{name}' requires `source=`", name, loc)
        meta.setdefault("category", "map")
        sources = self._names(source, "source", "map", name, loc)
        if call is None and executor is None:

            return self._awaiting("map", name, loc, lambda fn: self._declare_compute(
                "map", name, sources, fn, None, meta, loc))
        return self._declare_compute("map", name, sources, call, executor, meta, loc)

    def project(
        self,
        name: str,
        source: str | None = None,
        key: Any = MISSING,
        dig: Any = MISSING,
        default: Any = MISSING,
        **meta: Any,
    ) -> ComputeNode:
        """Pick a part of ``source``'s value: ``key=`` one step, ``dig=[...]`` a path (dict keys, list indices, attributes)."""
        loc = user_location(2)
        if not source:
            raise self._error(f"project '{name}' requires `source=`", name, loc)
        if key is not MISSING and dig is not MISSING:
            raise self._error(f"project '{name}' cannot use both `key=` and `dig=`", name, loc)
        if key is MISSING and dig is MISSING:
            raise self._error(f"project '{name}' requires either `key=` or `dig=`", name, loc)
        steps = (key,) if key is not MISSING else (tuple(dig) if isinstance(dig, (list, tuple)) else (dig,))
        src = source

        def project(**deps: Any) -> Any:
            from igniter_nb.runtime.project import extract_path

            return extract_path(name, deps[src], steps, default)

        meta.setdefault("category", "project")
        meta["project"] = {"source": src, "steps": list(steps), **({"default": default} if default is not MISSING else {})}
        return self._declare_compute("project", name, (src,), None, None, meta, loc, generated=project)

    def guard(
        self,
        name: Any = None,
        depends_on: str | Sequence[str] | None = None,
        call: Any = None,
        executor: Any = None,
        message: str | None = None,
        eq: Any = MISSING,
        one_of: Any = MISSING,
        matches: Any = MISSING,
        **meta: Any,
    ) -> Any:
        """A check: the node's value is ``True`` when it passes; it fails with ``message`` otherwise.

        Matchers (``eq=``, ``one_of=``, ``matches=``) test the single dependency. A callable guard passes when
        it returns a truthy value (Python truthiness: ``0``, ``""`` and ``[]`` fail).
        """
        loc = user_location(2)
        matchers = {k: v for k, v in (("eq", eq), ("one_of", one_of), ("matches", matches)) if v is not MISSING}
        if callable(name) and not isinstance(name, str) and not matchers and call is None:
            fn = name
            self._declare_compute("guard", fn.__name__, depends_on, fn, None, meta, loc, role="guard",
                                  guard_message=message or f"Guard '{fn.__name__}' failed")
            return fn
        if len(matchers) > 1:
            raise self._error(f"guard '{name}' takes only one of `eq=`, `one_of=`, `matches=`", name, loc)
        if matchers:
            if call is not None or executor is not None:
                raise self._error(f"guard '{name}' cannot combine a matcher with `call=`/`executor=`", name, loc)
            deps = self._names(depends_on, "depends_on", "guard", name, loc)
            if len(deps) != 1:
                raise self._error(f"guard '{name}' with a matcher needs exactly one dependency, got {list(deps)}", name, loc)
            (kind, expected), dep = next(iter(matchers.items())), deps[0]
            test = self._matcher(name, kind, expected, loc)

            def guard_matcher(**values: Any) -> bool:
                return test(values[dep])

            meta["guard"] = {kind: expected if kind != "matches" else test.pattern}  # type: ignore[attr-defined]
            return self._declare_compute("guard", name, deps, None, None, meta, loc, role="guard",
                                         guard_message=message or f"Guard '{name}' failed", generated=guard_matcher)
        if call is None and executor is None:

            return self._awaiting("guard", name, loc, lambda fn: self._declare_compute(
                "guard", name or fn.__name__, depends_on, fn, None, meta, loc, role="guard",
                guard_message=message or f"Guard '{name or fn.__name__}' failed"))
        return self._declare_compute("guard", name, depends_on, call, executor, meta, loc, role="guard",
                                     guard_message=message or f"Guard '{name}' failed")

    def _matcher(self, name: str, kind: str, expected: Any, loc: str | None) -> Any:
        if kind == "eq":
            def test(v: Any) -> bool:
                return bool(v == expected)
        elif kind == "one_of":
            allowed = list(expected) if isinstance(expected, (list, tuple, set, frozenset)) else [expected]

            def test(v: Any) -> bool:
                return v in allowed
        else:
            if isinstance(expected, str):
                try:
                    expected = re.compile(expected)
                except re.error as exc:
                    raise self._error(f"guard '{name}': `matches=` is not a valid regular expression: {exc}", name, loc) from None
            if not isinstance(expected, re.Pattern):
                raise self._error(f"guard '{name}': `matches=` expects a regular expression, got {expected!r}", name, loc)
            pattern = expected

            def test(v: Any) -> bool:
                return v is not None and pattern.search(str(v)) is not None

            test.pattern = pattern.pattern  # type: ignore[attr-defined]
        return test

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
        rnode = RemoteNode(
            **self._base(name, REMOTE, meta, loc, tuple(dict.fromkeys(str(v) for v in inputs.values()))),
            contract=contract,
            url=node,
            inputs={str(k): str(v) for k, v in inputs.items()},
            timeout=float(timeout),
        )
        return self._add(rnode)  # type: ignore[return-value]

    # ------------------------------------------------------------------ structure
    def scope(self, name: str) -> AbstractContextManager[None]:
        """Prefix the paths of the nodes declared inside (names and dependencies are unchanged).

        A scope name is one segment of a path: any non-blank text without a ``.`` (the separator; ``"a.b"`` would
        give the same paths as scope ``a`` holding scope ``b``). It need not be an identifier: scopes only label
        paths and pictures, and nothing reads them back as Python names."""
        loc = user_location(2)
        if not isinstance(name, str) or not name.strip():
            raise self._error(f"scope needs a non-empty text name, got {name!r}", None, loc)
        if "." in name:
            parts = name.split(".")
            alike = "" if "" in parts else f", as in scope {' holding scope '.join(repr(p) for p in parts)}"
            raise self._error(f"scope name {name!r} contains '.', the separator of node paths: a node 'x' in it "
                              f"would get the path '{name}.x'{alike}. Nest `with c.scope(...)` blocks for nested "
                              "scopes, or name the scope without a '.'", None, loc, ValidationError)
        return self._scoped(name)

    @contextmanager
    def _scoped(self, name: str) -> Iterator[None]:
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    namespace = scope

    # ------------------------------------------------------------------ contract-level settings
    def correlate_by(self, *keys: str) -> None:
        """Workflow correlation keys (each must be an input)."""
        if not keys:
            raise self._error("correlate_by needs at least one key")
        self._correlation = tuple(str(k) for k in keys)
        self._correlation_location = user_location(2)

    def run_with(self, runner: str = "inline", max_workers: int | None = None, **options: Any) -> None:
        """Default runner for instances: ``inline``, ``threads``, ``store`` or ``executor`` (with ``executor=``).
        A name no runner is registered under is refused here, when the class is defined."""
        problem = runner_problem(runner)
        if problem is not None:
            raise self._error(f"run_with: {problem}", None, user_location(2))
        self._run_options = {"runner": runner, "max_workers": max_workers, **options}

    def react_to(self, event_type: str, path: str | None = None, once_per_execution: bool = False) -> Callable[[Any], Any]:
        """``@c.react_to("node_failed", path="total")``: call the function for matching events."""
        loc = user_location(2)
        self._check_event_type("react_to", event_type, loc)
        self._check_path("react_to", path, loc)
        if not isinstance(once_per_execution, bool):  # (strict, as `required=`: "no" or 0 is no answer)
            raise self._error(f"react_to: `once_per_execution=` must be True or False, got {once_per_execution!r}",
                              None, loc)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return self._reaction("react_to", fn, loc, event_type=event_type, path=path,
                                  once_per_execution=once_per_execution)

        return decorator

    def effect(self, path: str, event_type: str = "node_succeeded") -> Callable[[Any], Any]:
        """``@c.effect("total")``: call the function when the node at ``path`` succeeds."""
        loc = user_location(2)
        self._check_event_type("effect", event_type, loc)
        self._check_path("effect", path, loc)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return self._reaction("effect", fn, loc, event_type=event_type, path=path, kind="effect")

        return decorator

    def on_success(self, target: str) -> Callable[[Any], Any]:
        """Call the function once the execution really succeeds (also after a resume); ``value`` = output ``target``."""
        loc = user_location(2)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return self._reaction("on_success", fn, loc, event_type="execution_finished", path=None,
                                  kind="on_success", once_per_execution=True, target=target)

        return decorator

    def on_failure(self, fn: Callable[..., Any] | None = None) -> Any:
        """Call the function once when the execution fails (``error``, ``errors``, ``status`` keywords)."""
        return self._lifecycle_reaction("on_failure", fn, user_location(2))

    def on_exit(self, fn: Callable[..., Any] | None = None) -> Any:
        """Call the function when a run ends, whatever the status (``status`` says which)."""
        return self._lifecycle_reaction("on_exit", fn, user_location(2))

    def _lifecycle_reaction(self, kind: str, fn: Callable[..., Any] | None, loc: str | None) -> Any:
        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            return self._reaction(kind, f, loc, event_type="execution_finished", path=None, kind=kind,
                                  once_per_execution=False)

        return decorator(fn) if fn is not None else decorator

    def _check_path(self, keyword: str, path: Any, loc: str | None) -> None:
        if path is not None and not isinstance(path, str):
            raise self._error(f"{keyword}: `path=` must be a node path (text, e.g. 'pricing.total') or None, got "
                              f"{path!r}", None, loc)

    def _check_event_type(self, keyword: str, event_type: Any, loc: str | None) -> None:
        problem = event_type_problem(event_type)
        if problem is not None:
            cls = CompileError if not isinstance(event_type, str) else ValidationError
            raise self._error(f"{keyword}: {problem}", None, loc, cls)

    def _reaction(self, keyword: str, fn: Any, loc: str | None, **fields: Any) -> Any:
        """Add a reaction calling ``fn``, once ``fn`` is known to be callable with the keywords it declares."""
        problem = callback_problem(keyword, fn)
        if problem is not None:
            raise self._error(f"{keyword}: {problem}", None, loc, CompileError if not callable(fn) else ValidationError)
        self._reactions.append(Reaction(action=fn, source_location=loc, **fields))
        return fn

    def present(self, output: str, call: Any = None) -> Any:
        """Format output ``output`` in diagnostics text/markdown: ``@c.present("total")``."""
        loc = user_location(2)
        if call is not None:
            if not callable(call) and not isinstance(call, str):
                raise self._error(f"present('{output}'): `call=` must be a function or a method name, got {call!r}",
                                  None, loc)
            self._presenters[output] = call
            self._presenter_locations[output] = loc
            return call

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(fn):
                raise self._error(f"present('{output}'): the presenter must be callable, got {fn!r}", None, loc)
            self._presenters[output] = fn
            self._presenter_locations[output] = loc
            return fn

        return decorator

    def schema(self, schema: Mapping[str, Any]) -> None:
        """Declare nodes from a data schema (the form ``CompiledGraph.to_schema()`` emits)."""
        from igniter_nb.dsl.schema import apply_schema

        apply_schema(self, schema)

    # ------------------------------------------------------------------ result
    def _awaiting(self, keyword: str, name: Any, loc: str | None,
                  apply: Callable[[Callable[..., Any]], Any]) -> Callable[[Callable[..., Any]], Any]:
        """A decorator that must be applied; ``build()`` reports it if it never was (a call form with no callable)."""

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._unapplied.pop(id(decorator), None)
            apply(fn)
            return fn

        self._unapplied[id(decorator)] = (keyword, name, loc)
        return decorator

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
