"""Runners decide how the nodes a read needs get resolved: one by one, or concurrently."""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import CompileError
from igniter_nb.runtime.status import STALE

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


class Runner:
    """Base runner: resolves targets inline. Subclasses change how, or add work after a lifecycle."""

    name = "inline"
    max_workers: int | None = None

    def resolve(self, execution: Execution, targets: tuple[str, ...]) -> None:
        resolve = execution.resolver.resolve
        for target in targets:
            resolve(target)

    def after_lifecycle(self, execution: Execution) -> None:
        """Called after every lifecycle (also when it failed)."""

    def after_resume(self, execution: Execution) -> None:
        """Called after a node was resumed."""

    def to_dict(self) -> dict[str, Any]:
        return {"runner": self.name, "max_workers": self.max_workers}


class InlineRunner(Runner):
    name = "inline"


def needed_nodes(execution: Execution, targets: tuple[str, ...]) -> list[str]:
    """Nodes that must be (re)computed for ``targets``, dependencies first."""
    states = execution.states
    roots = execution.resolver.roots
    order: list[str] = []
    seen: set[str] = set()
    for target in targets:
        stack: list[tuple[str, bool]] = [(target, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                order.append(name)
                continue
            if name in seen:
                continue
            st = states.get(name)
            if st is not None and st.status is not STALE:
                continue
            seen.add(name)
            stack.append((name, True))
            stack.extend((d, False) for d in reversed(roots[name]))
    return order


class ThreadsRunner(Runner):
    """Resolves independent nodes at the same time on a thread pool (not only output targets: L-34).

    Collections run their items on the same number of threads.
    """

    name = "threads"

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
            raise CompileError(f"max_workers must be a positive integer, got {max_workers!r}")
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)

    def resolve(self, execution: Execution, targets: tuple[str, ...]) -> None:
        order = needed_nodes(execution, targets)
        if len(order) <= 1:
            return super().resolve(execution, targets)
        resolver = execution.resolver
        roots = resolver.roots
        needed = set(order)
        waiting_on = {n: sum(1 for d in set(roots[n]) if d in needed) for n in order}
        dependents: dict[str, list[str]] = {}
        for n in order:
            for d in set(roots[n]):
                if d in needed:
                    dependents.setdefault(d, []).append(n)
        emit = execution.bus.emit
        nodes = resolver.nodes
        pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix=f"igniter-{execution.graph.name}")
        futures: dict[Future[None], str] = {}

        def submit(name: str) -> None:
            emit("node_started", name, nodes[name].path, "running")
            futures[pool.submit(resolver.finish, name)] = name

        try:
            for n in order:
                if waiting_on[n] == 0:
                    submit(n)
            while futures:
                done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for fut in done:
                    name = futures.pop(fut)
                    fut.result()  # finish() records user errors itself; anything raised here is a real bug
                    for dep in dependents.get(name, ()):
                        waiting_on[dep] -= 1
                        if waiting_on[dep] == 0:
                            submit(dep)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


_RUNNERS: dict[str, Any] = {"inline": InlineRunner, "threads": ThreadsRunner, "thread_pool": ThreadsRunner}


def register_runner(name: str, factory: Any) -> None:
    """Make ``run_with(runner=name)`` available (the store and executor runners register themselves)."""
    _RUNNERS[name] = factory


def make_runner(runner: Any, *, max_workers: int | None = None, store: Any = None, executor: Any = None) -> Runner:
    if isinstance(runner, Runner):
        return runner
    name = runner or "inline"
    factory = _RUNNERS.get(name)
    if factory is None:
        raise CompileError(f"Unknown execution runner strategy: {name!r} (use one of: {', '.join(sorted(_RUNNERS))})")
    if name in ("threads", "thread_pool"):
        return factory(max_workers)  # type: ignore[no-any-return]
    if name == "inline":
        return factory()  # type: ignore[no-any-return]
    return factory(max_workers=max_workers, store=store, executor=executor)  # type: ignore[no-any-return]
