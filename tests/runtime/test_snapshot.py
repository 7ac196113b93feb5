"""Snapshots are JSON-safe data, restore is identity, and restored executions keep their store (issue 4)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import igniter_nb as ig
from igniter_nb.runtime.snapshot import FORMAT
from igniter_nb.stores import FileStore, MemoryStore
from tests.runtime.snapshot_contracts import Checkout, Failing, Pricing, StoredPricing


def roundtrip(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_snapshot_is_json_safe_and_versioned() -> None:
    c = Pricing(order_total=decimal.Decimal("100"))
    snap = c.snapshot()
    assert snap["format"] == FORMAT
    assert snap["graph"] == "Pricing"
    assert snap["execution_id"] == c.execution_id
    assert set(snap) >= {"format", "graph", "execution_id", "runner", "inputs", "states", "events", "workflow"}
    assert roundtrip(snap) == snap


def test_restore_continues_the_same_execution() -> None:
    c = Pricing(order_total=decimal.Decimal("100"), when=dt.date(2026, 5, 1))
    assert c.status == "pending"
    restored = Pricing.restore(roundtrip(c.snapshot()))
    assert restored.execution_id == c.execution_id
    assert restored.inputs == {"order_total": decimal.Decimal("100"), "when": dt.date(2026, 5, 1)}
    assert restored.states["quote"]["status"] == "pending"
    assert [e.seq for e in restored.events] == [e.seq for e in c.events]
    restored.resume_by_token("quote-100", value=decimal.Decimal("150"))
    assert restored.result.gross_total == decimal.Decimal("180.0")
    assert restored.events[-1].seq > c.events[-1].seq  # the log continues


def test_restore_through_composition_resumes_the_child_L08() -> None:
    parent = Checkout(total=100)
    assert parent.status == "pending"
    restored = Checkout.restore(roundtrip(parent.snapshot()))
    assert restored.status == "pending"
    restored.resume_by_token("quote-100", value=10)
    assert restored.status == "succeeded"
    assert restored.result.gross_total == 12.0


def test_restored_errors_keep_class_message_and_context_once_L12() -> None:
    c = Failing(x=1, store=MemoryStore())
    err = c.first_error()
    restored = Failing.restore(roundtrip(c.snapshot()))
    again = restored.first_error()
    assert type(again) is type(err) is ig.ResolutionError
    assert str(again) == str(err)
    assert str(again).count("[graph=") == 1
    assert again.context["cause_type"] == "ValueError"


def test_restore_rejects_a_snapshot_of_another_graph() -> None:
    with pytest.raises(ig.SnapshotEncodingError, match="Pricing"):
        Checkout.restore(Pricing(order_total=1).snapshot())
    with pytest.raises(ig.SnapshotEncodingError, match="format"):
        Pricing.restore({"graph": "Pricing"})


def test_unencodable_value_names_the_node() -> None:
    @ig.contract
    def Opaque(c):
        c.input("x")

        @c.compute
        def handle(x):
            return object()

        c.output("handle")

    with pytest.raises(ig.SnapshotEncodingError) as info:
        Opaque(x=1).snapshot()
    assert info.value.context["node"] == "handle"
    assert "object" in str(info.value)


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False)
values = st.recursive(
    json_scalars | st.dates() | st.datetimes(timezones=st.just(dt.UTC)) | st.decimals(allow_nan=False)
    | st.uuids() | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3) | st.frozensets(st.integers(), max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(value=values, width=st.integers(min_value=1, max_value=6))
def test_snapshot_restore_is_identity_for_generated_values_and_graphs(value: object, width: int) -> None:
    """R4: snapshot → JSON → restore gives the same inputs, states and outputs."""

    def define(c):  # a random-width fan over one input of any supported value
        c.input("x", required=False)
        for i in range(width):
            c.compute(f"n{i}", depends_on=["x"], call=lambda x: x)
        c.compute("pair", depends_on=["n0"], call=lambda n0: (n0, n0))
        c.output("pair")

    cls = ig.contract(define, name=f"Gen{width}")
    c = cls(x=value)
    c.resolve_all()
    restored = cls.restore(roundtrip(c.snapshot()))
    assert restored.inputs == c.inputs
    assert {k: (v["status"], v["version"]) for k, v in restored.states.items()} == \
        {k: (v["status"], v["version"]) for k, v in c.states.items()}
    assert restored.result.pair == c.result.pair


def test_store_runner_saves_every_lifecycle_including_failures_L10(tmp_path) -> None:
    store = FileStore(tmp_path)
    c = Failing(x=2, store=store)
    assert c.status == "failed"
    record = store.record(c.execution_id)
    assert record.status == "failed"
    assert record.snapshot["states"]["boom"]["status"] == "failed"


def test_resume_from_store_keeps_the_store_L06(tmp_path) -> None:
    store = FileStore(tmp_path)
    other_default = MemoryStore()
    ig.configure(store=other_default)
    try:
        c = StoredPricing(order_total=100, store=store)
        assert c.status == "pending"
        assert store.record(c.execution_id).status == "pending"
        worker = StoredPricing.resume_from_store(c.execution_id, token="quote-100", value=150, store=store)
        assert worker.result.gross_total == 180.0
        assert store.record(c.execution_id).status == "succeeded"
        assert [h["status"] for h in store.history(c.execution_id)] == ["pending", "succeeded"]
        assert not other_default.exists(c.execution_id)  # never fell back to the global store
    finally:
        ig.configure(None)


def test_stale_writer_gets_concurrency_error(tmp_path) -> None:
    store = FileStore(tmp_path)
    c = StoredPricing(order_total=100, store=store)
    c.status  # noqa: B018 - saved
    a = StoredPricing.restore_from_store(c.execution_id, store=store)
    b = StoredPricing.restore_from_store(c.execution_id, store=store)
    a.resume_by_token("quote-100", 1)
    with pytest.raises(ig.ConcurrencyError):
        b.resume_by_token("quote-100", 2)
    assert StoredPricing.restore_from_store(c.execution_id, store=store).result.gross_total == 1.2


def test_execution_id_uuid_and_snapshot_unique() -> None:
    a, b = Pricing(order_total=1), Pricing(order_total=1)
    assert uuid.UUID(a.execution_id) != uuid.UUID(b.execution_id)


def test_resume_from_store_saves_computed_outputs_not_stale_ones(tmp_path) -> None:
    store = FileStore(tmp_path)
    c = StoredPricing(order_total=100, store=store)
    assert c.status == "pending"
    StoredPricing.resume_from_store(c.execution_id, token="quote-100", value=150, store=store)
    saved = store.record(c.execution_id)
    assert saved.status == "succeeded"
    assert saved.snapshot["states"]["gross_total"]["status"] == "succeeded"
    assert all(s["status"] != "stale" for s in saved.snapshot["states"].values())


def test_saving_twice_without_changes_writes_one_version(tmp_path) -> None:
    store = FileStore(tmp_path)
    c = StoredPricing(order_total=100, store=store)
    c.resolve_all()
    before = len(store.history(c.execution_id))
    c.resolve_all()  # nothing to do: no lifecycle, no save
    from igniter_nb.runtime.store_runner import persist

    assert persist(c.execution, store) is None
    assert len(store.history(c.execution_id)) == before
