"""Starting ``{"lead": "L-1\\u200b"}`` while ``{"lead": "L-1"}`` is active (or an NFD spelling while the NFC one
is) made a second workflow without a word. Matching stays exact (two values, two workflows), but the start warns:
``LookalikeCorrelationWarning`` with the active twin's execution id and where the values differ, found by one
lookup of the plain spelling, made only when a value has invisible or non-NFC characters."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.workflow.test_invisible_only_correlation import T0, lead_workflow


class CountingStore(MemoryStore):
    """A real memory store that counts its correlation lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[dict[str, Any]] = []

    def find_by_correlation(self, graph: str, correlation: Any) -> str | None:
        self.lookups.append(dict(correlation))
        return super().find_by_correlation(graph, correlation)


def test_a_start_with_a_zero_width_space_beside_an_active_twin_warns_and_still_starts(store: Any) -> None:
    wf = lead_workflow()
    plain = wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    with pytest.warns(ig.LookalikeCorrelationWarning) as caught:
        second = wf.start({"region": "eu", "lead": "L-1\u200b"}, store=store, now=T0)
    [warning] = [w.message for w in caught]
    assert isinstance(warning, ig.LookalikeCorrelationWarning)
    assert warning.existing_execution_id == plain.execution_id
    assert warning.existing_correlation == {"region": "eu", "lead": "L-1"}
    assert warning.differs_in == {"lead": "the same text but for invisible characters: the given value has U+200B "
                                          "(ZERO WIDTH SPACE) at index 3"}
    text = str(warning)
    assert plain.execution_id in text and "U+200B (ZERO WIDTH SPACE) at index 3" in text, text
    assert second.execution_id != plain.execution_id  # matching unchanged: two workflows
    assert {r.execution_id for r in store.list(graph="Lead")} == {plain.execution_id, second.execution_id}


def test_an_nfd_start_beside_the_nfc_twin_warns() -> None:
    store, wf = MemoryStore(), lead_workflow()
    nfc = wf.start({"region": "eu", "lead": "caf\u00e9"}, store=store, now=T0)
    with pytest.warns(ig.LookalikeCorrelationWarning, match=r"Unicode normalisation \(NFC\)") as caught:
        wf.start({"region": "eu", "lead": "cafe\u0301"}, store=store, now=T0)
    assert caught[0].message.existing_execution_id == nfc.execution_id  # type: ignore[union-attr]


def test_twins_in_two_keys_are_found_by_one_lookup() -> None:
    store, wf = CountingStore(), lead_workflow()
    plain = wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    store.lookups.clear()
    with pytest.warns(ig.LookalikeCorrelationWarning) as caught:
        wf.start({"region": "\ufeffeu", "lead": "L-1\u2060"}, store=store, now=T0)
    assert caught[0].message.existing_execution_id == plain.execution_id  # type: ignore[union-attr]
    assert sorted(caught[0].message.differs_in) == ["lead", "region"]  # type: ignore[union-attr]
    assert store.lookups == [{"region": "\ufeffeu", "lead": "L-1\u2060"}, {"region": "eu", "lead": "L-1"}]


@pytest.mark.parametrize("correlation", [{"region": "eu", "lead": "L-1"}, {"region": "eu", "lead": "x" * 100_000},
                                         {"region": "eu", "lead": "<script>alert(1)</script>"}])
def test_a_plain_ascii_start_costs_no_extra_lookup(correlation: dict[str, str]) -> None:
    store, wf = CountingStore(), lead_workflow()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wf.start(correlation, store=store, now=T0)
    assert store.lookups == [correlation]  # the duplicate check only


def test_a_non_ascii_value_already_plain_costs_no_extra_lookup() -> None:
    store, wf = CountingStore(), lead_workflow()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wf.start({"region": "eu", "lead": "caf\u00e9 \u6771\u4eac"}, store=store, now=T0)
    assert len(store.lookups) == 1


def test_no_warning_without_an_active_twin() -> None:
    store, wf = CountingStore(), lead_workflow()
    finished = wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    wf.cancel(correlation={"region": "eu", "lead": "L-1"}, store=store, now=T0)  # a finished twin: no warning
    store.lookups.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        started = wf.start({"region": "eu", "lead": "L-1\u200b"}, store=store, now=T0)
    assert len(store.lookups) == 2  # the duplicate check, then the one lookup of the plain spelling
    assert started.execution_id != finished.execution_id


def test_warnings_as_errors_refuse_the_start_and_write_nothing() -> None:
    """Under ``simplefilter("error")`` the warning is raised before anything is saved: a way to refuse them."""
    store, wf = MemoryStore(), lead_workflow()
    wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ig.LookalikeCorrelationWarning)
        with pytest.raises(ig.LookalikeCorrelationWarning):
            wf.start({"region": "eu", "lead": "\u200bL-1"}, store=store, now=T0)
    assert len(store.list(graph="Lead")) == 1


def test_the_warning_points_at_the_caller() -> None:
    store, wf = MemoryStore(), lead_workflow()
    wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    with pytest.warns(ig.LookalikeCorrelationWarning) as caught:
        wf.start({"region": "eu", "lead": "L-1\u00ad"}, store=store, now=T0)
    assert caught[0].filename == __file__


def test_the_reverse_a_plain_start_beside_an_invisible_twin_is_not_detected_and_costs_nothing() -> None:
    """Pinned as documented (docs/workflows.md, "The reverse is not detected"): a plain value has endless invisible
    spellings, so no exact lookup finds ``'L-1\\u200b'`` from ``'L-1'``; the ASCII start stays one lookup, makes a
    second workflow, and each spelling reaches its own workflow only."""
    store, wf = CountingStore(), lead_workflow()
    hidden = wf.start({"region": "eu", "lead": "L-1\u200b"}, store=store, now=T0)
    store.lookups.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shown = wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    assert store.lookups == [{"region": "eu", "lead": "L-1"}]  # the duplicate check only: the free path stays free
    assert shown.execution_id != hidden.execution_id
    wf.deliver_event("ea", correlation={"region": "eu", "lead": "L-1"}, payload=1, store=store, now=T0)
    statuses = {r.execution_id: r.status for r in store.list(graph="Lead")}
    assert statuses == {shown.execution_id: "succeeded", hidden.execution_id: "waiting"}
