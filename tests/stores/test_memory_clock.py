"""MemoryStore(clock=...): a fixed clock makes saved times (and so every view of them) reproducible."""

from __future__ import annotations

import datetime as dt

import pytest

from igniter_nb.stores import MemoryStore

FIXED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_a_fixed_clock_dates_every_save() -> None:
    store = MemoryStore(clock=lambda: FIXED)
    store.save({"execution_id": "wf-1", "states": {}}, graph="G", status="waiting")
    store.save({"execution_id": "wf-1", "states": {}}, graph="G", status="succeeded")
    assert store.record("wf-1").updated_at == FIXED
    assert [r.updated_at for r in store.history_records("wf-1")] == [FIXED, FIXED]


def test_the_default_clock_is_the_real_one() -> None:
    before = dt.datetime.now(dt.UTC)
    store = MemoryStore()
    store.save({"execution_id": "wf-1", "states": {}})
    assert before <= store.record("wf-1").updated_at <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("clock", ["2026-03-02", 5, FIXED])
def test_a_clock_that_is_not_callable_is_refused(clock: object) -> None:
    with pytest.raises(TypeError, match="clock="):
        MemoryStore(clock=clock)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [dt.datetime(2026, 3, 2, 9, 0), "2026-03-02", None])
def test_a_clock_giving_a_naive_time_or_no_time_fails_the_save_and_stores_nothing(value: object) -> None:
    store = MemoryStore(clock=lambda: value)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="clock"):
        store.save({"execution_id": "wf-1", "states": {}})
    assert store.list() == []
