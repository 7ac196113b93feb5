"""Lazy resolution: only the nodes an output needs run, each once; results are cached with versions."""

from __future__ import annotations

from collections import Counter

import igniter_nb as ig


def counting_contract():
    calls: Counter[str] = Counter()

    @ig.contract
    def Lazy(c):
        c.input("a", type="integer")
        c.input("b", type="integer")

        @c.compute
        def left(a):
            calls["left"] += 1
            return a + 1

        @c.compute
        def right(b):
            calls["right"] += 1
            return b + 1

        @c.compute
        def shared(left):
            calls["shared"] += 1
            return left * 10

        @c.compute
        def total(shared, left):
            calls["total"] += 1
            return shared + left

        c.output("total")
        c.output("right")

    return Lazy, calls


def test_construction_runs_nothing():
    Lazy, calls = counting_contract()
    contract = Lazy(a=1, b=2)
    assert calls == Counter()
    assert contract.execution.states == {}
    assert contract.events == []


def test_reading_one_output_runs_only_what_it_needs():
    Lazy, calls = counting_contract()
    contract = Lazy(a=1, b=2)
    assert contract.result.total == 22
    assert calls == Counter(left=1, shared=1, total=1)  # `right` never ran
    assert "right" not in contract.execution.states
    assert "b" not in contract.execution.states


def test_results_are_cached():
    Lazy, calls = counting_contract()
    contract = Lazy(a=1, b=2)
    for _ in range(3):
        assert contract.result.total == 22
    assert calls == Counter(left=1, shared=1, total=1)
    assert contract.result.right == 3
    assert calls == Counter(left=1, shared=1, total=1, right=1)


def test_cached_read_emits_no_events():
    Lazy, _ = counting_contract()
    contract = Lazy(a=1, b=2)
    _ = contract.result.total
    count = len(contract.events)
    _ = contract.result.total
    assert len(contract.events) == count


def test_resolve_all_resolves_every_output_and_returns_contract():
    Lazy, calls = counting_contract()
    contract = Lazy(a=1, b=2)
    assert contract.resolve_all() is contract
    assert calls == Counter(left=1, shared=1, total=1, right=1)


def test_first_versions_are_one():
    Lazy, _ = counting_contract()
    contract = Lazy(a=1, b=2).resolve_all()
    assert {n: st.version for n, st in contract.execution.states.items()} == dict.fromkeys(
        ["a", "left", "shared", "total", "b", "right"], 1
    )
    st = contract.execution.states["total"]
    assert isinstance(st, ig.NodeState)
    assert st.status == ig.Status.SUCCEEDED
    assert st.value == 22
    assert st.resolved_at is not None


def test_result_to_dict_and_item_access():
    Lazy, _ = counting_contract()
    r = Lazy(a=1, b=2).result
    assert r.to_dict() == {"total": 22, "right": 3}
    assert r["right"] == 3
    assert "total" in r
    assert r.outputs == ["total", "right"]


def test_deep_chain_does_not_recurse():
    def chain(c):
        c.input("n0")
        for i in range(1, 3000):
            c.compute(f"n{i}", depends_on=[f"n{i - 1}"], call=lambda **kw: next(iter(kw.values())) + 1)
        c.output("n2999")

    @ig.contract
    def Deep(c):
        chain(c)

    assert Deep(n0=0).result.n2999 == 2999


def test_execution_ids_are_unique_and_given_one_is_kept():
    Lazy, _ = counting_contract()
    assert Lazy(a=1, b=1).execution_id != Lazy(a=1, b=1).execution_id
    assert Lazy(a=1, b=1, execution_id="fixed").execution_id == "fixed"
