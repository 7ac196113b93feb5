"""What the delivery-margin trims (issue 13 target 4, docs/performance.md "Memory deliveries: a margin over the
bar") must leave exactly as it was: the payload digest written by a C encoder built once, the UTC text of a moment
written without ``isoformat``'s offset, a memory read's correlation taken from its lookup, repeats found by the
applied deliveries' own loop over the signals, and the snapshot of an applied delivery stamped with the delivery's
own reading of the clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime import codec
from igniter_nb.runtime.utc_text import utc_text
from igniter_nb.stores import MemoryStore
from igniter_nb.stores.save_request import Metadata
from igniter_nb.workflow import quiet
from igniter_nb.workflow.signals import payload_digest
from tests.workflow.wf_contracts import PairWorkflow

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _digest_as_before(value: Any) -> str | None:
    """The digest as ``JSONEncoder.encode`` wrote it (with its circular-reference markers)."""
    try:
        text = _CANONICAL.encode(value if codec.is_plain(value) else codec.encode(value))
    except (ig.IgniterError, ValueError):
        return None
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@pytest.mark.parametrize("value", [
    {"n": 1},
    {"b": [1, 2.5, -0.0, 1e300, "é", "\u2028", "\ud800", "\U0001f600"], "a": {"z": None, "y": True, "x": False}},
    "top-level text \x00 \" \\",
    12345678901234567890123,
    2.5,
    None,
    [[], {}, [[[]]]],
    {"k": float("nan")},  # not JSON: no digest, as before
    {"k": float("inf")},
    {"when": dt.date(2026, 1, 2), "pair": (1, 2)},  # not plain: the codec's tagged form
    {1: "an int key"},
])
def test_the_digest_is_the_text_json_encode_writes(value: Any) -> None:
    assert payload_digest(value) == _digest_as_before(value)


def test_the_digest_of_random_nested_data_is_the_text_json_encode_writes() -> None:
    rng = random.Random(13)
    leaves = [0, -1, 2**70, 1.5, -2.25e-10, True, False, None, "", "a", "é\u00e9", "\ud83d\ude00", "\udfff", "\x1f"]

    def make(depth: int) -> Any:
        if depth > 4 or rng.random() < 0.3:
            return rng.choice(leaves)
        if rng.random() < 0.5:
            return [make(depth + 1) for _ in range(rng.randint(0, 4))]
        return {rng.choice(["a", "b", "é", "z", "\ud800", "0"]) + str(i): make(depth + 1) for i in range(rng.randint(0, 4))}

    for _ in range(500):
        value = make(0)
        assert payload_digest(value) == _digest_as_before(value), value


def test_a_payload_that_contains_itself_has_no_digest_as_before() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert payload_digest(loop) is None and payload_digest({"x": loop}) is None


def _iso_as_before(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_utc_text_is_isoformat_with_z() -> None:
    rng = random.Random(5)
    seen = 0
    for _ in range(20_000):
        offset = rng.choice([None, dt.timedelta(0), dt.timedelta(hours=rng.randint(-23, 23), minutes=rng.randint(0, 59),
                                                                    seconds=rng.choice([0, 0, 59]))])
        tz = dt.UTC if offset is None else dt.timezone(offset)
        moment = dt.datetime(rng.choice([1, 2, 999, 1000, 2026, 9999, rng.randint(1, 9999)]), rng.randint(1, 12),
                             rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                             rng.choice([0, 1, 999_999, rng.randint(0, 999_999)]), tzinfo=tz, fold=rng.randint(0, 1))
        try:
            expected = _iso_as_before(moment)
        except OverflowError:
            with pytest.raises(OverflowError):
                utc_text(moment)
            continue
        assert utc_text(moment) == expected, moment
        seen += 1
    assert seen > 19_000


def test_utc_text_of_a_datetime_subclass_is_what_its_own_isoformat_writes() -> None:
    class Nanos(dt.datetime):  # (as pandas' Timestamp: its isoformat may write more than microseconds)
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return super().isoformat(sep, timespec).replace("+00:00", "123+00:00")

        def astimezone(self, tz: Any = None) -> Any:
            found = super().astimezone(tz)
            return Nanos(found.year, found.month, found.day, found.hour, found.minute, found.second,
                         found.microsecond, tzinfo=found.tzinfo)

    moment = Nanos(2026, 12, 5, 13, 0, 1, 5, tzinfo=dt.UTC)
    assert utc_text(moment) == _iso_as_before(moment) == "2026-12-05T13:00:01.000005123Z"


@pytest.mark.parametrize("correlation", [
    {"pair_id": "ascii"},
    {"pair_id": "café"},  # not ASCII: parsed from the text, as before
    {"pair_id": "\ud83d\ude00"},  # a surrogate pair as two code units: JSON reads it back as one character
    {"pair_id": "\x00\x7f"},
    {"order": 42},
    {"order": -(2**80)},
    {"flag": True},  # (a bool is not the one-key fast path)
    {"ratio": 2.5},
    {"b": "x", "a": 1},  # two keys: read back sorted, from the text
])
def test_a_memory_read_by_correlation_gives_the_correlation_the_stored_text_reads_back_to(
        correlation: dict[str, Any]) -> None:
    store = MemoryStore()
    snapshot = {"format": "x", "execution_id": "e-1", "graph": "G"}
    store.save(snapshot, graph="G", correlation=correlation, status="waiting")
    stored_text = store._executions["e-1"][-1].meta.correlation_json
    expected = Metadata("G", stored_text, "waiting").correlation()
    for event_chunks in (False, True):
        found = store.record_by_correlation("G", correlation, event_chunks=event_chunks)
        assert found is not None
        assert found.correlation == expected == store.record("e-1").correlation
        assert [(k, type(v)) for k, v in found.correlation.items()] == [(k, type(v)) for k, v in expected.items()]
        assert found.correlation is not correlation  # (a dict of the record's own)


def test_repeats_and_conflicts_are_left_to_the_general_path_which_answers_as_before() -> None:
    store = MemoryStore()
    PairWorkflow.start(pair_id="p", store=store)
    first = PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store,
                                       idempotency_key="k1")
    version = store.record(first.execution_id).version
    again = PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store,
                                       idempotency_key="k1")  # an idempotent replay: the workflow unchanged
    assert again.execution_id == first.execution_id and store.record(first.execution_id).version == version
    with pytest.raises(ig.IdempotencyConflictError, match="different payload"):
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 2}, store=store,
                                   idempotency_key="k1")
    with pytest.raises(ig.IdempotencyConflictError, match="cannot be reused"):
        PairWorkflow.deliver_event("right_arrived", correlation={"pair_id": "p"}, payload={"n": 2}, store=store,
                                   idempotency_key="k1")
    with pytest.raises(ig.DuplicateSignalError, match="already delivered"):
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store)
    assert store.record(first.execution_id).version == version  # nothing written


def test_record_checks_declines_a_repeat_without_raising() -> None:
    store = MemoryStore()
    PairWorkflow.start(pair_id="p", store=store)
    PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store,
                               idempotency_key="k1")
    graph = PairWorkflow.compiled_graph()
    right = next(n for n in graph.await_nodes if n.name == "right")
    plan = quiet.plan_for(PairWorkflow, graph, right)
    assert plan is not None
    record = store.record_by_correlation(graph.name, {"pair_id": "p"}, event_chunks=True)
    corr = {"pair_id": "p"}
    assert quiet.record_checks(plan, PairWorkflow, record, corr, "right_arrived", "k2", "d") is not None  # new
    assert quiet.record_checks(plan, PairWorkflow, record, corr, "right_arrived", "k1", "d") is None  # key reused
    left = next(n for n in graph.await_nodes if n.name == "left")
    left_plan = quiet.plan_for(PairWorkflow, graph, left)
    assert left_plan is not None
    assert quiet.record_checks(left_plan, PairWorkflow, record, corr, "left_arrived", None, "d") is None  # repeat


def test_an_applied_delivery_is_saved_at_its_own_reading_of_the_clock() -> None:
    store = MemoryStore()
    PairWorkflow.start(pair_id="p", store=store)
    before = dt.datetime.now(dt.UTC)
    done = [PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store),
            PairWorkflow.deliver_event("right_arrived", correlation={"pair_id": "p"}, payload={"n": 2}, store=store)]
    after = dt.datetime.now(dt.UTC)
    for contract, record in zip(done, store.history_records(done[0].execution_id)[1:], strict=True):
        snapshot = record.snapshot
        signal = snapshot["workflow"]["last_external_event"]
        assert snapshot["saved_at"] == signal["received_at"] == snapshot["workflow"]["updated_at"]
        assert before <= dt.datetime.fromisoformat(snapshot["saved_at"]) <= after
        assert contract.execution_id == record.execution_id


def test_a_delivery_at_a_given_moment_is_saved_at_the_real_time() -> None:
    store = MemoryStore()
    given = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    PairWorkflow.start(pair_id="p", store=store, now=given)
    before = dt.datetime.now(dt.UTC)
    done = PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store,
                                      now=given)
    snapshot = store.record(done.execution_id).snapshot
    assert snapshot["workflow"]["last_external_event"]["received_at"] == "2020-01-02T03:04:05Z"
    assert before <= dt.datetime.fromisoformat(snapshot["saved_at"]) <= dt.datetime.now(dt.UTC)
