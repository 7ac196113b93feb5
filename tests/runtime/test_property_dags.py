"""Property tests on random DAGs (R4): lazy resolution equals eager evaluation, and after random input updates
re-resolution equals a fresh contract."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import igniter_nb as ig

N_INPUTS = 3


@st.composite
def dags(draw):
    """A random DAG: inputs i0..i2, computes n0..nk each depending on earlier nodes, some outputs."""
    n_computes = draw(st.integers(min_value=1, max_value=12))
    nodes: list[tuple[str, tuple[str, ...], int]] = []
    names = [f"i{i}" for i in range(N_INPUTS)]
    for k in range(n_computes):
        deps = draw(st.lists(st.sampled_from(names), min_size=0, max_size=3, unique=True))
        weight = draw(st.integers(min_value=-3, max_value=3))
        nodes.append((f"n{k}", tuple(deps), weight))
        names.append(f"n{k}")
    computes = [n for n, _, _ in nodes]
    outputs = draw(st.lists(st.sampled_from(computes), min_size=1, max_size=len(computes), unique=True))
    return nodes, outputs


def node_fn(name: str, weight: int):
    def fn(**deps):
        # Deterministic, order-independent, and sensitive to every dependency.
        return weight + sum((i + 1) * deps[k] for i, k in enumerate(sorted(deps))) % 1009

    fn.__name__ = name
    return fn


def build(nodes, outputs):
    def define(c):
        for i in range(N_INPUTS):
            c.input(f"i{i}", type="integer")
        for name, deps, weight in nodes:
            c.compute(name, depends_on=list(deps), call=node_fn(name, weight))
        for out in outputs:
            c.output(out)

    return ig.contract(define, name="RandomDag")


def eager(nodes, inputs):
    values = dict(inputs)
    for name, deps, weight in nodes:
        values[name] = node_fn(name, weight)(**{d: values[d] for d in deps})
    return values


input_values = st.fixed_dictionaries({f"i{i}": st.integers(min_value=-50, max_value=50) for i in range(N_INPUTS)})
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(dags(), input_values)
def test_lazy_resolution_equals_eager_evaluation(dag, inputs):
    nodes, outputs = dag
    contract = build(nodes, outputs)(**inputs)
    expected = eager(nodes, inputs)
    for out in outputs:
        assert contract.result[out] == expected[out]
    # Only nodes upstream of an output (plus the outputs) were resolved.
    needed = set(outputs)
    for name, deps, _ in reversed(nodes):
        if name in needed:
            needed.update(deps)
    assert set(contract.execution.states) == needed


@FAST
@given(dags(), input_values, st.lists(input_values, min_size=1, max_size=4), st.data())
def test_rereading_after_updates_equals_a_fresh_contract(dag, inputs, updates, data):
    nodes, outputs = dag
    cls = build(nodes, outputs)
    contract = cls(**inputs)
    contract.resolve_all()
    current = dict(inputs)
    for update in updates:
        keys = data.draw(st.lists(st.sampled_from(sorted(update)), min_size=1, unique=True))
        partial = {k: update[k] for k in keys}
        contract.update_inputs(**partial)
        current.update(partial)
        if data.draw(st.booleans()):
            contract.resolve_all()
    fresh = cls(**current)
    assert contract.result.to_dict() == fresh.result.to_dict()
    assert contract.status == "succeeded"
