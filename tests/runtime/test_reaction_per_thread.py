""""Inside a reaction" (update_inputs/retry/resume allowed mid-lifecycle) belongs to the thread running the reaction
callback, not to the whole execution: under the threads runner a node callable on another worker, while a reaction
runs, is still refused (runtime/execution.py ``_changed_while_resolving``). Real threads runner; the two workers
meet through events with a generous bound, no timing assertion."""

from __future__ import annotations

import threading
from typing import Any

import igniter_nb as ig

BOUND = 30.0  # seconds: only a broken run gets near it


def _sneaky_contract(operation: str) -> tuple[Any, dict[str, Any]]:
    seen: dict[str, Any] = {"reaction_started": threading.Event(), "sneaky_done": threading.Event()}

    class TwoWorkers(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.await_event("gate", event="opened")
            c.compute("slow", call=lambda x: x)
            c.compute("sneaky", call="change_mid_run")
            c.compute("b", call=lambda slow, sneaky: (slow, sneaky))
            c.output("b")

            @c.effect("slow")
            def hold(value, contract):  # a reaction on one worker, held until the other worker has tried
                seen["reaction_started"].set()
                seen["sneaky_done"].wait(BOUND)

        def change_mid_run(self, x):
            try:
                assert seen["reaction_started"].wait(BOUND), "the reaction never started"
                if operation == "update_inputs":
                    self.update_inputs(x=x + 1)
                elif operation == "retry":
                    self.retry()
                else:
                    self.resume("gate", "opened-by-a-node")
                return x
            finally:
                seen["sneaky_done"].set()

    return TwoWorkers, seen


def test_a_node_callable_on_another_worker_is_refused_while_a_reaction_runs() -> None:
    for operation in ("update_inputs", "retry", "resume"):
        cls, _seen = _sneaky_contract(operation)
        contract = cls(x=1, runner="threads", max_workers=4)
        contract.resolve_all()
        # was: allowed — the execution-wide reaction counter was 1 because the other worker ran a reaction
        err = contract.result.errors.get("sneaky")
        assert err is not None and f"{operation}() was called on TwoWorkers while it is resolving" in str(err), (
            operation, contract.status, err)
        assert contract.inputs == {"x": 1}
        assert not [e for e in contract.events if e.type == "node_resumed"]  # the await was not filled in
        assert contract.execution.lifecycle_depth == 0


def test_a_reaction_on_a_threads_runner_may_still_change_inputs() -> None:
    @ig.contract
    def ReactsOnWorker(c):
        c.input("x", type="integer")
        c.await_event("gate", event="opened")
        c.compute("a", call=lambda x: x)
        c.compute("c", call=lambda x: -x)
        c.compute("b", call=lambda a, c, gate: (a, c, gate))
        c.output("b")

        @c.effect("a")
        def open_gate(value, contract):
            contract.resume("gate", value * 10)

    contract = ReactsOnWorker(x=2, runner="threads", max_workers=4)
    assert contract.result.b == (2, -2, 20)
    assert contract.reaction_errors == []
