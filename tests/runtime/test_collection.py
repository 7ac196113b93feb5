"""Collection nodes and ``CollectionResult``."""

from __future__ import annotations

import time

import pytest

import igniter_nb as ig
from igniter_nb.runtime.collection import CollectionItem, CollectionResult

RUNS: list[object] = []


class Technician(ig.Contract):
    def define(c):
        c.input("technician_id")
        c.input("name", type=str)
        c.input("active", type=bool, default=True)

        @c.compute
        def summary(technician_id, name):
            RUNS.append(technician_id)
            return {"id": technician_id, "name": name}

        c.guard("available", depends_on="active", eq=True, message="Technician inactive")

        @c.compute
        def label(summary, available):
            return f"{summary['id']}:{summary['name']}"

        c.output("summary")
        c.output("label")


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


def roster(mode="collect", **options):
    @ig.contract
    def Roster(c):
        c.input("technician_inputs")
        c.collection("technicians", source="technician_inputs", each=Technician, key="technician_id", mode=mode,
                     **options)
        c.output("technicians")

    return Roster


ANNA = {"technician_id": 1, "name": "Anna"}
MIKE = {"technician_id": 2, "name": "Mike"}
IDLE = {"technician_id": 3, "name": "Olga", "active": False}


def test_items_keys_and_results():
    r = roster()(technician_inputs=[ANNA, MIKE]).result.technicians
    assert isinstance(r, CollectionResult)
    assert r.keys == [1, 2]
    assert list(r.items) == [1, 2] and all(isinstance(i, CollectionItem) for i in r)
    assert r[1].result.summary == {"id": 1, "name": "Anna"}
    assert r[2].succeeded and not r[2].failed and not r[2].pending
    assert r[2].result.label == "2:Mike"
    assert 2 in r and 5 not in r and len(r) == 2
    with pytest.raises(KeyError, match="no item with key 5"):
        r[5]


def test_string_keyed_items_work_L09():
    r = roster()(technician_inputs=[{"technician_id": "a-1", "name": "Anna"}]).result.technicians
    assert r.keys == ["a-1"]
    assert r["a-1"].succeeded


def test_partial_failure_summaries():
    r = roster()(technician_inputs=[ANNA, IDLE, MIKE]).result.technicians
    assert r.summary == {"mode": "collect", "total": 3, "succeeded": 2, "failed": 1, "pending": 0,
                         "status": "partial_failure"}
    assert list(r.successes) == [1, 2] and list(r.failures) == [3]
    assert r.items_summary[1] == {"status": "succeeded"}
    assert r.items_summary[3]["status"] == "failed"
    assert r.items_summary[3]["error"].startswith("Technician inactive [graph=Technician, node=available")
    failed = r.failed_items[3]
    assert failed["type"] == "ResolutionError" and failed["message"] == "Technician inactive"
    assert failed["context"]["node"] == "available"
    assert r[3].result is not None and r[3].child_execution_id == r[3].result.execution_id


def test_all_items_failing_is_status_failed_but_the_node_succeeds():
    p = roster()(technician_inputs=[IDLE])
    assert p.status == "succeeded"  # collect mode: item failures are data
    assert p.result.technicians.summary["status"] == "failed"


def test_empty_source_succeeds():
    r = roster()(technician_inputs=[]).result.technicians
    assert r.summary == {"mode": "collect", "total": 0, "succeeded": 0, "failed": 0, "pending": 0,
                         "status": "succeeded"}


def test_child_construction_error_is_failed_item_L31():
    items = [ANNA, {"technician_id": 2, "name": 42}, {"technician_id": 3, "name": "X", "shoe_size": 44}, MIKE | {"technician_id": 4}]
    p = roster()(technician_inputs=items)
    r = p.result.technicians
    assert p.status == "succeeded"
    assert [i.status for i in r] == ["succeeded", "failed", "failed", "succeeded"]
    assert r.failed_items[2]["type"] == "InputError" and "must be of type" in r.failed_items[2]["message"]
    assert r.failed_items[3]["type"] == "InputError" and "shoe_size" in r.failed_items[3]["message"]
    assert r[2].result is None and r[2].child_execution_id is None


def test_fail_fast_fails_the_node_and_skips_later_items():
    p = roster("fail_fast")(technician_inputs=[ANNA, IDLE, MIKE])
    assert p.status == "failed"
    err = p.first_error()
    assert isinstance(err, ig.ResolutionError)
    assert "item 3 failed: Technician inactive" in str(err)
    assert err.context["node"] == "technicians" and err.context["item_key"] == 3
    assert RUNS == [1, 3]  # Mike never ran
    with pytest.raises(ig.ResolutionError):
        _ = p.result.technicians


def test_duplicate_keys_are_a_collection_key_error():
    p = roster()(technician_inputs=[ANNA, MIKE, ANNA, MIKE])
    assert p.status == "failed"
    err = p.first_error()
    assert isinstance(err, ig.CollectionKeyError)
    assert "Collection 'technicians' has duplicate keys: 1, 2" in str(err)
    assert err.context["duplicate_keys"] == [1, 2]
    assert RUNS == []


def test_missing_key_is_a_collection_key_error():
    err = roster()(technician_inputs=[ANNA, {"name": "nobody"}]).resolve_all().first_error()
    assert isinstance(err, ig.CollectionKeyError)
    assert "index 1 are missing key 'technician_id'" in str(err) and err.context["node"] == "technicians"


@pytest.mark.parametrize("source, type_name", [({"technician_id": 1}, "dict"), ("abc", "str"), (7, "int")])
def test_non_list_source_is_a_collection_input_error(source, type_name):
    err = roster()(technician_inputs=source).resolve_all().first_error()
    assert isinstance(err, ig.CollectionInputError)
    assert f"Collection 'technicians' expects a list of item dicts from 'technician_inputs', got {type_name}" in str(err)
    assert err.context["graph"] == "Roster"


def test_non_dict_item_is_a_collection_input_error():
    err = roster()(technician_inputs=[ANNA, 5]).resolve_all().first_error()
    assert isinstance(err, ig.CollectionInputError) and "got int at index 1" in str(err)


def test_map_inputs_turns_a_dict_source_into_key_value_pairs_with_context():
    seen = []

    def to_inputs(item, prefix):
        seen.append(item)
        key, name = item
        return {"technician_id": key, "name": f"{prefix}{name}"}

    @ig.contract
    def Mapped(c):
        c.input("people", type=dict)
        c.input("prefix", default="Dr. ")
        c.collection("technicians", source="people", each=Technician, key="technician_id", map_inputs=to_inputs,
                     depends_on="prefix")
        c.output("technicians")

    r = Mapped(people={"t1": "Anna", "t2": "Mike"}).result.technicians
    assert seen == [("t1", "Anna"), ("t2", "Mike")]
    assert r["t2"].result.summary == {"id": "t2", "name": "Dr. Mike"}


def test_map_inputs_method_name_with_string_keyed_webhook_items():
    class Webhook(ig.Contract):
        def define(c):
            c.input("body")
            c.collection("technicians", source="body", each=Technician, key="technician_id", map_inputs="item_inputs")
            c.output("technicians")

        def item_inputs(self, item):
            return {"technician_id": item["id"], "name": item["displayName"]}

    r = Webhook(body=[{"id": "x", "displayName": "Xena"}]).result.technicians
    assert r["x"].result.label == "x:Xena"


def test_item_events():
    p = roster()(technician_inputs=[ANNA, IDLE])
    p.resolve_all()
    items = [(e.type, e.payload.get("item_key")) for e in p.events if e.type.startswith("collection_item")]
    assert items == [("collection_item_started", 1), ("collection_item_succeeded", 1),
                     ("collection_item_started", 3), ("collection_item_failed", 3)]
    started = next(e for e in p.events if e.type == "collection_item_started")
    assert started.payload["item_inputs"] == ANNA and started.node == "technicians"
    failed = next(e for e in p.events if e.type == "collection_item_failed")
    assert failed.payload["error_type"] == "ResolutionError"
    assert failed.payload["child_execution_id"] == p.result.technicians[3].child_execution_id
    assert failed.payload["error"].startswith("Technician inactive")
    done = next(e for e in p.events if e.type == "node_succeeded" and e.node == "technicians")
    assert done.payload["summary"]["failed"] == 1


def test_to_dict_and_item_to_dict():
    p = roster()(technician_inputs=[ANNA, IDLE])
    r = p.result.technicians
    assert r[1].to_dict() == {"key": 1, "status": "succeeded", "result": {"summary": {"id": 1, "name": "Anna"},
                                                                            "label": "1:Anna"}}
    failed = r[3].to_dict()
    assert set(failed) == {"key", "status", "error"} and failed["error"]["message"] == "Technician inactive"
    data = p.result.to_dict()["technicians"]
    assert data["summary"]["status"] == "partial_failure" and list(data["items"]) == [1, 3]


def test_to_frame_has_one_row_per_item():
    import pandas as pd

    r = roster()(technician_inputs=[ANNA, IDLE, MIKE]).result.technicians
    frame = r.to_frame()
    assert list(frame.columns) == ["key", "status", "error_type", "error", "child_execution_id", "summary", "label"]
    assert frame["key"].tolist() == [1, 3, 2]
    assert frame["status"].tolist() == ["succeeded", "failed", "succeeded"]
    assert frame.loc[1, "error_type"] == "ResolutionError" and pd.isna(frame.loc[1, "label"])
    assert frame.loc[2, "label"] == "2:Mike"


def test_states_show_the_summary():
    p = roster()(technician_inputs=[ANNA, IDLE])
    p.resolve_all()
    value = p.states["technicians"]["value"]
    assert value["type"] == "collection" and value["status"] == "partial_failure" and value["total"] == 2


def test_reresolution_reuses_unchanged_items_and_reruns_changed_and_failed_ones():
    p = roster()(technician_inputs=[ANNA, MIKE, IDLE])
    before = p.result.technicians
    assert RUNS == [1, 2, 3]
    RUNS.clear()
    p.update_inputs(technician_inputs=[ANNA, MIKE | {"name": "Michael"}, IDLE])
    after = p.result.technicians
    assert RUNS == [2, 3]  # Anna unchanged and done: reused; Mike changed; Olga failed: tried again
    assert after[1].child_execution_id == before[1].child_execution_id
    assert after[2].child_execution_id != before[2].child_execution_id
    assert after[2].result.summary["name"] == "Michael"
    p.update_inputs(technician_inputs=[MIKE])
    assert p.result.technicians.keys == [2]


# ---------------------------------------------------------------------------------------------- progress
class Slow(ig.Contract):
    def define(c):
        c.input("id")

        @c.compute
        def done(id):
            time.sleep(0.1)
            return id

        c.output("done")


def slow_roster(**options):
    @ig.contract
    def SlowRoster(c):
        c.input("ids")
        c.collection("slow", source="ids", each=Slow, **options)
        c.output("slow")

    return SlowRoster


def test_progress_bar_for_long_collections(capsys, monkeypatch):
    monkeypatch.delenv("IGNITER_NB_PROGRESS", raising=False)
    slow_roster()(ids=[{"id": i} for i in range(14)]).resolve_all()
    err = capsys.readouterr().err
    assert "SlowRoster.slow" in err and "/14" in err


def test_progress_false_turns_the_bar_off(capsys, monkeypatch):
    monkeypatch.delenv("IGNITER_NB_PROGRESS", raising=False)
    slow_roster(progress=False)(ids=[{"id": i} for i in range(14)]).resolve_all()
    assert "SlowRoster.slow" not in capsys.readouterr().err


def test_no_bar_for_a_handful_of_items_or_when_switched_off_in_run_with(capsys, monkeypatch):
    from igniter_nb.runtime.progress import progress_setting

    monkeypatch.delenv("IGNITER_NB_PROGRESS", raising=False)
    slow_roster()(ids=[{"id": i} for i in range(10)]).resolve_all()  # 1 s, but only 10 items
    assert capsys.readouterr().err == ""

    @ig.contract
    def Quiet(c):
        c.run_with("inline", progress=False)
        c.input("ids")
        c.collection("slow", source="ids", each=Slow)
        c.output("slow")

    q = Quiet(ids=[])
    assert progress_setting(q.execution, q.execution.graph.node("slow")) is False
    monkeypatch.setenv("IGNITER_NB_PROGRESS", "0")
    s = slow_roster()(ids=[])
    assert progress_setting(s.execution, s.execution.graph.node("slow")) is False


# ---------------------------------------------------------------------------------------------- compile checks
def test_collection_key_must_be_a_child_input():
    with pytest.raises(ig.ValidationError, match="key 'uuid' must be an input of Technician"):
        @ig.contract
        def BadKey(c):
            c.input("xs")
            c.collection("t", source="xs", each=Technician, key="uuid")
            c.output("t")


def test_collection_mode_is_checked():
    with pytest.raises(ig.ValidationError, match="mode must be 'collect' or 'fail_fast'"):
        roster("sometimes")


@pytest.mark.parametrize("key", [float("nan"), -float("nan")])
def test_a_nan_float_key_is_a_collection_key_error(key):
    # was: a NaN key was accepted and its item could never be found again (nan != nan: result[nan] is a KeyError,
    # two NaN keys were no duplicates, and a re-resolution never reused the item)
    p = roster()(technician_inputs=[ANNA, {"technician_id": key, "name": "Nan"}])
    assert p.status == "failed"
    err = p.first_error()
    assert isinstance(err, ig.CollectionKeyError)
    assert (f"Collection 'technicians': item at index 1 has key 'technician_id' = {key!r}, which is NaN, "
            "which never equals itself") in str(err)
    assert err.context["node"] == "technicians" and err.context["item_index"] == 1
    assert err.context["source_location"].startswith(__file__)
    assert RUNS == []


def test_a_numpy_or_decimal_nan_key_is_refused_too_and_finite_float_keys_still_work():
    import decimal

    import numpy as np

    for key in (np.float64("nan"), decimal.Decimal("NaN"), (1, float("nan"))):
        err = roster()(technician_inputs=[{"technician_id": key, "name": "Nan"}]).resolve_all().first_error()
        assert isinstance(err, ig.CollectionKeyError) and "item at index 0" in str(err)
    p = roster()(technician_inputs=[{"technician_id": 1.5, "name": "Half"}, {"technician_id": 0.0, "name": "Zero"}])
    assert p.result.technicians[1.5].result.label == "1.5:Half"
    assert p.result.technicians[0.0].status == "succeeded"
    p = roster()(technician_inputs=[{"technician_id": float("inf"), "name": "Up"},  # infinity equals itself: a key
                                    {"technician_id": -float("inf"), "name": "Down"}])
    assert p.result.technicians[float("inf")].result.label == "inf:Up"
    assert p.result.technicians[-float("inf")].status == "succeeded"
