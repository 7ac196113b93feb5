"""Records only a restore refuses: the quiet path builds no contract before it saves (``runtime/first_touch.py``),
so its own check (``applied_save.restores``) must refuse what the restore would — inputs the graph's checks reject, a
tagged value that does not decode in a node state or in the workflow record — before anything is written; the
general path then raises what it always raised. Corrupted in a record the runtime saved (on the memory store
with its event chunks, so the quiet path is reached), answered and stored the same as with ``GENERAL_ONLY``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores.base import save_runtime_snapshot
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.workflow._fast_paths import NOW, Docs, answer, assert_same, history, make_store, raised


def _corrupt(snapshot: dict[str, Any], how: str) -> None:
    states, workflow = snapshot["states"], snapshot["workflow"]
    if how == "input retyped":
        snapshot["inputs"]["key"] = 12
    elif how == "unknown tag in a delivered value":
        states["d0"]["value"] = {"x": [{"__ig__": "no_such_tag", "value": 1}]}
    elif how == "unknown tag in another await's wait":
        states["d4"]["value"]["value"]["payload"] = {"__ig__": "no_such_tag"}
    elif how == "unknown tag as a wait's node name":  # (d2's wait is the one the join's new wait copies)
        states["d2"]["value"]["value"]["source_node"] = {"__ig__": "no_such_tag"}
    elif how == "unknown tag in a signal":
        workflow["signals"][0]["correlation"] = {"__ig__": "no_such_tag"}
    elif how == "malformed date in the workflow record":
        workflow["started_at"] = {"__ig__": "date", "value": "not a date"}


CORRUPTIONS = ["input retyped", "unknown tag in a delivered value", "unknown tag in another await's wait",
               "unknown tag as a wait's node name", "unknown tag in a signal", "malformed date in the workflow record"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_record_only_the_restore_refuses_is_never_saved_quietly(how: str, kind: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  count_quiet: list[int]) -> None:
    def run(store: Any, applied: list[int]) -> Any:
        eid = "00000000-0000-4000-8000-00000000000e"
        start(Docs, {"key": "k"}, store=store, now=NOW, execution_id=eid)
        Docs.deliver_event("d0_arrived", correlation={"key": "k"}, payload={"n": 0}, store=store, now=NOW)
        record = store.record(eid, event_chunks=True) if kind == "memory" else store.record(eid)
        _corrupt(record.snapshot, how)
        save_runtime_snapshot(store, record.snapshot, graph="Docs", correlation={"key": "k"}, status="waiting",
                              expected_version=record.version)
        before = applied[0]
        try:
            found: Any = answer(Docs.deliver_event("d1_arrived", correlation={"key": "k"}, payload={"n": 1},
                                                   store=store, now=NOW))
        except (ig.IgniterError, TypeError, ValueError) as exc:
            found = raised(exc)
        assert applied[0] == before  # (refused before the save: the general path decided)
        return [found], history(store, eid)

    applied = count_quiet
    (tmp_path / "q").mkdir()
    (tmp_path / "g").mkdir()
    quick = run(make_store(kind, tmp_path / "q"), applied)
    assert applied[0] == 1  # (the first delivery was quiet: the quiet path is reached on this store)
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)
    general = run(make_store(kind, tmp_path / "g"), applied)
    assert general[0][0][0] == "raised"
    assert_same(quick, general)
