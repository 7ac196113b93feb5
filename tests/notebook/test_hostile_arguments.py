"""Hostile-user trial: the notebook tools given something that is not what they read (None, a number, a store
URL as text) say what they need and what they got — a TypeError, never an AttributeError from deep inside."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore

NOT_STORES = [5, "memory://", object(), [1, 2]]


@pytest.mark.parametrize("store", [None, *NOT_STORES])
@pytest.mark.parametrize("tool", ["store_frame", "tokens_frame"])
def test_a_frame_of_something_that_is_not_a_store_is_a_type_error(tool: str, store: Any) -> None:
    with pytest.raises(TypeError, match=rf"{tool} needs a store .*got {type(store).__name__}"):
        getattr(ig.nb, tool)(store)


@pytest.mark.parametrize("store", NOT_STORES)
def test_follow_and_the_simulator_refuse_something_that_is_not_a_store(store: Any) -> None:
    from contracts import ApprovalContract

    with pytest.raises(TypeError, match=rf"Follow needs a store .*got {type(store).__name__}"):
        ig.nb.Follow("e-1", store, start=False)
    with pytest.raises(TypeError, match=rf"EventSimulator needs a store .*got {type(store).__name__}"):
        ig.nb.EventSimulator(ApprovalContract, store)


def test_a_store_url_given_as_text_is_told_to_use_from_url() -> None:
    with pytest.raises(TypeError, match=r"from_url"):
        ig.nb.store_frame("sqlite:///igniter.db")


@pytest.mark.parametrize("source", [None, 5, object(), {"a": 1}])
def test_a_stepper_over_something_that_is_not_a_log_is_a_type_error(source: Any) -> None:
    with pytest.raises(TypeError, match=rf"SnapshotStepper reads .*got {type(source).__name__}"):
        ig.nb.SnapshotStepper(source)


@pytest.mark.parametrize("value", [None, 5, "PriceContract"])
def test_pictures_and_frames_of_something_that_is_not_a_graph_or_contract_are_type_errors(value: Any) -> None:
    for call, name in ((ig.nb.show, "show"), (ig.nb.render_graph, "render_graph"),
                       (ig.nb.audit_frame, "audit_frame"), (ig.nb.states_frame, "states_frame"),
                       (ig.nb.InputPlayground, "InputPlayground")):
        with pytest.raises(TypeError, match=rf"{name} .*got {type(value).__name__}"):
            call(value)


def test_an_empty_store_still_gives_frames_with_their_columns() -> None:
    store = MemoryStore()
    assert len(ig.nb.store_frame(store)) == 0 and "execution_id" in ig.nb.store_frame(store).columns
    assert len(ig.nb.tokens_frame(store)) == 0 and "event" in ig.nb.tokens_frame(store).columns
    assert "0 rows" in ig.nb.store_frame(store)._repr_html_()


@pytest.mark.parametrize("columns", [{"a": [1]}, {}, {"seq": [1], "type": ["x"]}])
def test_a_frame_that_is_neither_an_audit_frame_nor_a_snapshot_log_names_what_it_lacks(columns: dict) -> None:
    import pandas as pd

    frame = pd.DataFrame(columns)
    for call in (lambda: ig.nb.SnapshotStepper(frame), lambda: list(ig.nb.replay(frame)),
                 lambda: ig.nb.SnapshotStepper(frame, "e-1")):
        with pytest.raises(ValueError, match=r"not an audit frame .*no .*status column"):
            call()


def test_to_parquet_of_something_that_is_not_a_frame_is_a_type_error(tmp_path) -> None:
    with pytest.raises(TypeError, match=r"to_parquet writes a DataFrame.*NoneType"):
        ig.nb.to_parquet(None, tmp_path / "x.parquet")  # type: ignore[arg-type]
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("now", ["2026-01-02", 5, __import__("datetime").datetime(2026, 1, 2)])
def test_a_simulator_clock_that_is_not_an_aware_time_is_refused_when_it_is_made(now: Any) -> None:
    """It was kept and refused only by the first delivery (a dry run went through without it)."""
    from igniter_nb.errors import WorkflowArgumentError
    from tests.notebook.test_simulator_reads import NOW, ReadLead

    store = MemoryStore()
    ReadLead.start(request_id="r-1", store=store, now=NOW)
    with pytest.raises(WorkflowArgumentError, match="now= must be"):
        ig.nb.EventSimulator(ReadLead, store, now=now)
    assert ig.nb.EventSimulator(ReadLead, store, now=lambda: NOW).now() == NOW  # a callable is read at use


def test_render_graph_draws_a_contract_class_as_its_message_says_it_does() -> None:
    """Its TypeError lists "a contract class" among what it draws; a class was refused with that very message."""
    from contracts import PriceContract

    svg = ig.nb.render_graph(PriceContract)
    assert svg == ig.nb.render_graph(PriceContract.compiled_graph())
    assert svg.lstrip().startswith(("<svg", "<?xml")) and "PriceContract" in svg
