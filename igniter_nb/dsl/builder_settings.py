"""The contract builder's contract-level keywords: scopes, correlation keys, the runner, reactions
(``react_to``, ``effect``, ``on_success``/``on_failure``/``on_exit``) and presenters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar, overload

from igniter_nb._source import user_location
from igniter_nb.dsl.builder_base import _BuilderBase
from igniter_nb.errors import CompileError, ValidationError
from igniter_nb.extensions.reactive import callback_problem, event_type_problem
from igniter_nb.model import Reaction
from igniter_nb.runtime.runners import runner_problem

# Reaction and presenter decorators return the function unchanged: typed so, a type checker keeps its type.
_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


class _ContractSettings(_BuilderBase):
    """Keywords that declare no node: they shape paths, runs and what happens around them."""

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

    def react_to(self, event_type: str, path: str | None = None, once_per_execution: bool = False) -> Callable[[_F], _F]:
        """``@c.react_to("node_failed", path="total")``: call the function for matching events."""
        loc = user_location(2)
        self._check_event_type("react_to", event_type, loc)
        self._check_path("react_to", path, loc)
        if not isinstance(once_per_execution, bool):  # (strict, as `required=`: "no" or 0 is no answer)
            raise self._error(f"react_to: `once_per_execution=` must be True or False, got {once_per_execution!r}",
                              None, loc)

        def decorator(fn: _F) -> _F:
            return self._reaction("react_to", fn, loc, event_type=event_type, path=path,
                                  once_per_execution=once_per_execution)

        return decorator

    def effect(self, path: str, event_type: str = "node_succeeded") -> Callable[[_F], _F]:
        """``@c.effect("total")``: call the function when the node at ``path`` succeeds."""
        loc = user_location(2)
        self._check_event_type("effect", event_type, loc)
        self._check_path("effect", path, loc)

        def decorator(fn: _F) -> _F:
            return self._reaction("effect", fn, loc, event_type=event_type, path=path, kind="effect")

        return decorator

    def on_success(self, target: str) -> Callable[[_F], _F]:
        """Call the function once the execution really succeeds (also after a resume); ``value`` = output ``target``."""
        loc = user_location(2)

        def decorator(fn: _F) -> _F:
            return self._reaction("on_success", fn, loc, event_type="execution_finished", path=None,
                                  kind="on_success", once_per_execution=True, target=target)

        return decorator

    @overload
    def on_failure(self, fn: _F) -> _F: ...
    @overload
    def on_failure(self, fn: None = None) -> Callable[[_F], _F]: ...

    def on_failure(self, fn: Callable[..., Any] | None = None) -> Any:
        """Call the function once when the execution fails (``error``, ``errors``, ``status`` keywords)."""
        return self._lifecycle_reaction("on_failure", fn, user_location(2))

    @overload
    def on_exit(self, fn: _F) -> _F: ...
    @overload
    def on_exit(self, fn: None = None) -> Callable[[_F], _F]: ...

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

    @overload
    def present(self, output: str, call: None = None) -> Callable[[_F], _F]: ...
    @overload
    def present(self, output: str, call: _T) -> _T: ...

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
