"""What the threads runner's in-flight nodes look like from outside (``running``, ``contract.states``, the plan)
and the window between a node being claimed by a run and handed to its worker: a nested read of such a node waits
for it unless it really waits for the reader. Real threads runner; every wait has a timeout and every read runs
in a daemon thread joined with a timeout, so a regression fails instead of hanging."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from bounded_threads import BOUND, InFlightHooks, read_in_thread, reading_contract, wait_until

import igniter_nb as ig


def test_nodes_computed_on_threads_workers_are_running_in_states_and_plan() -> None:
    both_in = threading.Barrier(3, timeout=BOUND)  # a, b and the test
    release = threading.Event()

    @ig.contract
    def Pair(c):
        c.input("x", type="integer")
        c.compute("a", call=lambda x: (both_in.wait(), release.wait(BOUND), x + 1)[2])
        c.compute("b", call=lambda x: (both_in.wait(), release.wait(BOUND), x + 2)[2])
        c.compute("ab", call=lambda a, b: a + b)
        c.output("ab")

    contract = Pair(x=1, runner="threads", max_workers=2)
    out: dict[str, Any] = {}
    reader = threading.Thread(target=lambda: out.update(read_in_thread(lambda: contract.result.ab)), daemon=True)
    reader.start()
    try:
        both_in.wait()  # a and b are in their callables, on two workers
        running = contract.execution.resolver.running
        states = contract.states
        plan = contract.plan()
    finally:
        release.set()
    reader.join(BOUND * 2)
    assert out.get("value") == 5
    assert running == {"a", "b"}  # was: set() (only the inline resolver's stacks were read)
    assert states["a"]["status"] == states["b"]["status"] == "running"
    assert "ab" not in states  # not started: its dependencies are still running
    assert {e.name: e.status for e in plan.entries if e.name in ("a", "b")} == {"a": "running", "b": "running"}
    assert contract.execution.resolver.running == set()  # and nothing after the run


def test_a_callable_sees_itself_and_its_sibling_running() -> None:
    both_in = threading.Barrier(2, timeout=BOUND)
    seen: dict[str, Any] = {}

    class Pair(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="look")
            c.compute("b", call=lambda x: (both_in.wait(), x + 2)[1])
            c.compute("ab", call=lambda a, b: (a, b))
            c.output("ab")

        def look(self, x):
            both_in.wait()
            seen.update({name: st["status"] for name, st in self.states.items() if name in ("a", "b")})
            return x + 1

    contract = Pair(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.ab, timeout=BOUND * 2)
    assert out.get("value") == (2, 3)
    assert seen.get("a") == "running"
    assert seen.get("b") in ("running", "succeeded")  # b may have recorded already once past the barrier


def test_a_read_of_a_node_claimed_and_not_handed_over_yet_waits_for_it() -> None:
    """a's callable reads ``bc`` (needs b, which the outer run computes, and c): a's nested run waits for b, then
    claims c and emits its node_started, whose subscriber (on a's thread) holds c there until b's callable is
    waiting for c. c waits for that subscriber, not for b: b's read must wait for it. It used to be refused
    ("Node 'c' was asked for while it is being resolved"): a not-handed-over node counted as waiting for
    everything its owner's run would wait for later (b), a cycle that did not exist."""
    calls: Counter[str] = Counter()
    c_starting = threading.Event()
    b_read_done = threading.Event()

    class Crossing(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="read_bc")
            c.compute("b", call="read_c")
            c.compute("c", call=lambda x: calls.update(["c"]) or x * 10)
            c.compute("bc", call=lambda b, c: b + c)
            c.compute("top", call=lambda a, b: (a, b))
            c.output("top")  # what the outer run computes: a, b (on two workers), top
            c.output("bc")
            c.output("c")

        def read_bc(self, x):
            calls["a"] += 1
            return self.result.bc + 1

        def read_c(self, x):
            calls["b"] += 1
            assert c_starting.wait(BOUND), "c never started"
            try:
                return self.result.c + 2
            finally:
                b_read_done.set()

    contract = Crossing(x=1, runner="threads", max_workers=4)

    def hold_c(e: Any) -> None:
        if e.type == "node_started" and e.node == "c":
            c_starting.set()
            in_flight = contract.execution.resolver.in_flight
            # until b's read of c waits for it (or was refused)
            wait_until(lambda: "c" in in_flight.waits.get("b", ()) or b_read_done.is_set(), "b reads c")

    contract.subscribe(hold_c)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    errors = {name: str(st.error) for name, st in contract.execution.states.items() if st.error is not None}
    assert errors == {}
    assert out.get("value") == (23, 12)  # a = b + c + 1, b = c + 2
    assert calls == Counter(a=1, b=1, c=1)
    assert contract.reaction_errors == []


def test_a_node_recorded_between_a_reads_look_and_its_claim_is_not_computed_again(monkeypatch: Any) -> None:
    """a's callable reads n while n is computed on the other worker: a's nested run looks at n's state (none yet),
    then claims n. If n is recorded and released by its run in between (forced here by holding that claim until it
    is), the claim used to succeed and n was computed a second time (version 2, its events twice)."""
    calls: Counter[str] = Counter()
    n_entered = threading.Event()
    n_release = threading.Event()

    def held(in_flight: Any) -> None:  # a's read, past its look at n's state
        n_release.set()
        wait_until(lambda: "n" not in in_flight.started, "n recorded and released by the outer run")

    InFlightHooks(monkeypatch).before_claim["n", "a"] = held

    def slow_n(contract: Any, x: int) -> Any:
        calls["n"] += 1
        n_entered.set()
        assert n_release.wait(BOUND)
        return x + 1

    def read_n(contract: Any, x: int) -> Any:
        assert n_entered.wait(BOUND)
        return contract.result.n * 10

    contract = reading_contract("Late", {"n": slow_n, "a": read_n}, ["a", "n"], ["n"])(x=1, runner="threads",
                                                                                      max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out.get("value") == (20, 2)
    assert calls == Counter(n=1)
    assert contract.execution.states["n"].version == 1
    assert [e.node for e in contract.events if e.type == "node_succeeded"].count("n") == 1


def test_a_subscribers_refused_read_does_not_take_away_the_wait_of_the_run_it_interrupts() -> None:
    """a's nested run (reading ``bs``) waits for b; when its s is recorded, it hands s's event to a subscriber on a's
    thread, whose read of ``ba`` waits for b too, in the same name (a's), then is refused on a. Ending that read
    used to remove a's wait for b altogether: b's read of a then found no cycle and waited for a, which waited
    for b, for ever. It must be refused, naming the cycle."""
    sub_done = threading.Event()
    b_on_worker = threading.Event()  # b started by a worker before a reads: never taken over onto a's thread,
    seen: list[Any] = []             # where its wait for the subscriber (which a's thread runs) could not end

    class Tangle(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="read_bs")
            c.compute("b", call="read_a")
            c.compute("s", call=lambda x: x)
            c.compute("bs", call=lambda b, s: (b, s))
            c.compute("ba", call=lambda b, a: (b, a))
            c.compute("top", call=lambda a, b: (a, b))
            c.output("top")
            c.output("bs")
            c.output("ba")
            c.output("a")

        def read_bs(self, x):
            assert b_on_worker.wait(BOUND), "b never started"
            return self.result.bs

        def read_a(self, x):
            b_on_worker.set()
            assert sub_done.wait(BOUND), "the subscriber never ran"
            return self.result.a

    contract = Tangle(x=1, runner="threads", max_workers=4)

    def on_s(e: Any) -> None:
        if e.type == "node_succeeded" and e.node == "s" and not sub_done.is_set():
            try:
                seen.append(contract.result.ba)
            except ig.ResolutionError as exc:
                seen.append(exc)
            finally:
                sub_done.set()

    contract.subscribe(on_s)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND)
    assert out["finished"], "the read hung"
    [refused] = seen
    assert isinstance(refused, ig.ResolutionError) and refused.context["node"] == "a"
    b_error = contract.execution.states["b"].error
    assert b_error is not None and b_error.context["cycle"] == ["b", "a", "b"], b_error
    assert str(contract.execution.states["a"].status) == "failed"


def test_a_real_cycle_through_a_node_started_subscriber_is_refused_not_hung() -> None:
    """c's node_started subscriber (on the run's thread, before c is handed to a worker) reads d, whose callable,
    on a worker, reads c: c waits for that subscriber, which waits for d, which waits for c. Whichever read comes
    second is refused (the subscriber's reads wait in c's name now, so the cycle is still seen); nothing hangs and
    c runs once. (Which read is second is up to the threads: both outcomes are accepted.)"""
    calls: Counter[str] = Counter()
    c_starting = threading.Event()

    def read_c(contract: Any, x: int) -> Any:
        calls["d"] += 1
        assert c_starting.wait(BOUND), "c never started"
        return contract.result.c + 1

    loop = {"d": read_c, "c": lambda contract, x: calls.update(["c"]) or x * 10}
    contract = reading_contract("Loop", loop, ["d", "c"], ["c", "d"])(x=1, runner="threads", max_workers=2)

    def on_c_started(e: Any) -> None:
        if e.type == "node_started" and e.node == "c" and not c_starting.is_set():
            c_starting.set()
            contract.result.d  # noqa: B018 (the read is the point)

    contract.subscribe(on_c_started)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    refusals = [e.error for e in contract.reaction_errors]
    d_error = contract.execution.states["d"].error
    if d_error is not None:
        refusals.append(d_error)
    # the refused read, and where d failed by it also the subscriber's read of d (d's located error)
    assert refusals and all("asked for while it is being resolved" in str(err) for err in refusals), refusals
    assert calls["c"] == 1
    assert str(contract.execution.states["c"].status) == "succeeded"
