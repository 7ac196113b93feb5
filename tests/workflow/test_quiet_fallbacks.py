"""Quiet deliveries (``workflow/quiet.py``) where the general path must decide: deploys that rename, add or retype
awaits while workflows wait, reactions that watch events live, a class that changes how instances are made, and
payloads the codec cannot store — the same answers and stored versions as with ``quiet.GENERAL_ONLY``, and the
quiet path not taken where it must not be."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import applied_save, quiet
from igniter_nb.workflow.engine import start
from tests.workflow._fast_paths import (
    NOW,
    SCRIPTS,
    VERSIONS,
    Pair,
    Watched,
    answer,
    assert_same,
    both,
    define_ab,
    history,
    raised,
    run_script,
)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("script", range(len(SCRIPTS)))
def test_deliveries_across_deploys_answer_and_store_the_same_on_both_paths(
        script: int, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(*both(lambda store: run_script(SCRIPTS[script], store), kind, tmp_path, monkeypatch))


def test_a_renamed_await_is_refused_and_never_applied_quietly(count_quiet: list[int]) -> None:
    store = MemoryStore()
    VERSIONS["v1"].start(key="k", store=store)
    with pytest.raises(ig.GraphChangedError, match="migrate"):
        VERSIONS["v2"].deliver_event("c_arrived", correlation={"key": "k"}, payload={}, store=store)
    VERSIONS["v2"].deliver_event("a_arrived", correlation={"key": "k"}, payload={}, store=store)  # stored awaits differ
    assert count_quiet[0] == 0


class MadeDifferently(ig.Contract):
    """A class whose ``_setup`` subscribes to its own events: the general path."""

    seen: list[str] = []

    define = staticmethod(define_ab)

    def _setup(self, *args: Any, **kwargs: Any) -> None:
        super()._setup(*args, **kwargs)
        self.execution.bus.subscribe(lambda event: MadeDifferently.seen.append(event.type))


def test_live_watchers_see_the_events_of_every_delivery(count_quiet: list[int]) -> None:
    store = MemoryStore()
    Watched.start(key="k", store=store)
    Watched.seen.clear()
    Watched.deliver_event("a_arrived", correlation={"key": "k"}, payload={}, store=store)
    assert Watched.seen == ["ab"]  # the join waits again, live
    MadeDifferently.start(key="k", store=store)
    MadeDifferently.seen.clear()
    MadeDifferently.deliver_event("a_arrived", correlation={"key": "k"}, payload={}, store=store)
    assert "await_satisfied" in MadeDifferently.seen and "node_waiting" in MadeDifferently.seen
    assert count_quiet[0] == 0


class Loose(ig.Contract):
    """No payload schema: any value is accepted, even one the codec cannot store."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        define_ab(c, schema=None)


@pytest.mark.parametrize("payload", [object(), {"when": dt.date(2030, 1, 2)}, {"n": 1.5}, [1, (2, 3)], {3: "x"}])
def test_payloads_of_every_kind_answer_and_store_the_same(payload: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def run(store: Any) -> Any:
        eid = "00000000-0000-4000-8000-00000000000b"
        start(Loose, {"key": "k"}, store=store, now=NOW, execution_id=eid)
        answers = []
        for event in ("a_arrived", "b_arrived"):
            try:
                answers.append(answer(Loose.deliver_event(event, correlation={"key": "k"}, payload=payload,
                                                          store=store, now=NOW)))
            except ig.IgniterError as exc:
                answers.append(raised(exc))
        return answers, history(store, eid)

    assert_same(*both(run, "memory", tmp_path, monkeypatch))


def test_a_quiet_delivery_encodes_no_node_state_and_costs_the_same_beside_60_resolved_nodes() -> None:
    from tests.workflow.test_delivery_untouched import _delivery_counts, _wide

    (small_left, small_right), (large_left, large_right) = _delivery_counts(_wide(3)), _delivery_counts(_wide(60))
    assert small_left["_encode_state"] == large_left["_encode_state"] == 0  # the record's states, as stored
    # the completing delivery (workflow/completing.py) encodes the await's and the join's values, not their states
    assert small_right["_encode_state"] == large_right["_encode_state"] == 0
    assert small_left["_encode_event"] == large_left["_encode_event"] == 0  # new events go to the store as rows


def _corrupt(snapshot: dict[str, Any], how: str) -> None:
    states = snapshot["states"]
    if how == "waiting_for text":
        states["joined"]["waiting_for"] = "right"
    elif how == "version text":
        states["right"]["version"] = "1"
    elif how == "state a list":
        states["right"] = ["waiting"]
    elif how == "unknown status":
        states["right"]["status"] = "napping"
    elif how == "signals text":
        snapshot["workflow"]["signals"] = "none"
    elif how == "deferred without token":
        del states["right"]["value"]["value"]["token"]
    elif how == "input retyped":
        snapshot["inputs"]["key"] = 12
    elif how == "unknown node":
        states["ghost"] = dict(states["right"])


CORRUPTIONS = ["waiting_for text", "version text", "state a list", "unknown status", "signals text",
               "deferred without token", "input retyped", "unknown node"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_malformed_record_answers_as_the_general_path_does(how: str, kind: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def run(store: Any) -> Any:
        eid = "00000000-0000-4000-8000-00000000000c"
        start(Pair, {"key": "k"}, store=store, now=NOW, execution_id=eid)
        snapshot = store.fetch(eid)
        _corrupt(snapshot, how)
        store.save(snapshot, graph="Pair", correlation={"key": "k"}, status="waiting", expected_version=1)
        try:
            found: Any = answer(Pair.deliver_event("left_arrived", correlation={"key": "k"}, payload={"n": 1},
                                                   store=store, now=NOW))
        except (ig.IgniterError, TypeError, ValueError) as exc:
            found = raised(exc)
        return [found], history(store, eid)

    assert_same(*both(run, kind, tmp_path, monkeypatch))


def test_the_quiet_path_runs_no_import_statement_per_delivery() -> None:
    import dis

    for fn in (quiet.deliver_quietly, quiet._apply, quiet._waits, quiet._well_formed, quiet._deferred, quiet._orphaned,
               quiet.plan_for, applied_save._saved_at, applied_save.restores, applied_save.saved_contract):
        assert [i.argval for i in dis.get_instructions(fn) if i.opname == "IMPORT_NAME"] == [], fn.__qualname__
