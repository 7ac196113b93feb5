"""The contract builder's compute keywords: ``compute``, ``lookup``, ``aggregate``, ``const``, ``map``,
``project`` and ``guard`` (all declare a ``ComputeNode`` around a callable)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from types import FunctionType
from typing import Any, TypeVar, overload

from igniter_nb._source import user_location
from igniter_nb.compiler.signatures import analyse, callable_name
from igniter_nb.dsl.builder_base import _BuilderBase
from igniter_nb.dsl.builder_checks import _asynchronous, _callable_label, _copy_if_mutable, _copy_problem
from igniter_nb.errors import ValidationError
from igniter_nb.model import COMPUTE, MISSING, ComputeNode, new_compute_node
from igniter_nb.runtime.executor import Executor, executor_registry

# A decorated function keeps its own type (``@c.compute`` returns it unchanged), so a type checker sees it as
# written; without this, mypy --strict reports "Untyped decorator makes function ... untyped".
_F = TypeVar("_F", bound=Callable[..., Any])
_Names = str | Sequence[str] | None


class _ComputeKeywords(_BuilderBase):
    """``c.compute`` and its kin: nodes computed by a callable."""

    # ------------------------------------------------------------------ computes
    @overload
    def compute(self, name: _F, depends_on: _Names = None, **meta: Any) -> _F: ...
    @overload
    def compute(self, name: str | None = None, depends_on: _Names = None, call: None = None, executor: None = None,
                **meta: Any) -> Callable[[_F], _F]: ...
    @overload
    def compute(self, name: str | None = None, depends_on: _Names = None, call: Any = None,
                executor: str | None = None, **meta: Any) -> Any: ...

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

    @overload
    def lookup(self, name: _F, depends_on: _Names = None, **meta: Any) -> _F: ...
    @overload
    def lookup(self, name: str | None = None, depends_on: _Names = None, call: None = None, executor: None = None,
               **meta: Any) -> Callable[[_F], _F]: ...
    @overload
    def lookup(self, name: str | None = None, depends_on: _Names = None, call: Any = None,
               executor: str | None = None, **meta: Any) -> Any: ...

    def lookup(self, name: Any = None, depends_on: Any = None, call: Any = None, executor: Any = None, **meta: Any) -> Any:
        """A compute node with ``category="lookup"``."""
        meta.setdefault("category", "lookup")
        return self._compute_keyword("lookup", name, depends_on, call, executor, meta, user_location(2))

    @overload
    def aggregate(self, name: _F, depends_on: _Names = None, **meta: Any) -> _F: ...
    @overload
    def aggregate(self, name: str | None = None, depends_on: _Names = None, call: None = None,
                  executor: None = None, **meta: Any) -> Callable[[_F], _F]: ...
    @overload
    def aggregate(self, name: str | None = None, depends_on: _Names = None, call: Any = None,
                  executor: str | None = None, **meta: Any) -> Any: ...

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
