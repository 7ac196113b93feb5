"""DataFrames: audit, states, store, tokens; replay; exact parquet round trips; the 100,000-event bar."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from contracts import ApprovalContract, FailingContract, PriceContract
from pandas.testing import assert_frame_equal

import igniter_nb as ig
from igniter_nb.notebook import frames


def _roundtrip(frame, tmp_path, name="f.parquet"):
    path = tmp_path / name
    ig.nb.to_parquet(frame, path)
    back = ig.nb.read_parquet(path)
    assert_frame_equal(frame, back, check_exact=True)
    return back


def test_audit_frame_columns_and_values(tmp_path):
    c = PriceContract(order_total=100, country="UA")
    c.resolve_all()
    c.update_inputs(order_total=150)
    c.resolve_all()
    frame = c.audit.to_frame()
    assert tuple(frame.columns) == frames.AUDIT_COLUMNS
    assert len(frame) == len(c.events)
    assert frame["seq"].dtype == "int64" and frame["seq"].tolist() == [e.seq for e in c.events]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["timestamp"].dtype == "datetime64[ms, UTC]"  # milliseconds: the precision of the event clock
    assert frame["timestamp"].iloc[0].timestamp() == pytest.approx(c.events[0].timestamp, abs=5e-4)
    assert set(frame["graph"]) == {"PriceContract"} and set(frame["execution_id"]) == {c.execution_id}
    update = frame[frame["type"] == "input_updated"].iloc[0]
    assert update["node"] == "order_total" and json.loads(update["payload"]) == {"value": 150}
    started = frame[frame["type"] == "execution_started"].iloc[0]
    assert pd.isna(started["node"]) and json.loads(started["payload"])["graph"] == "PriceContract"
    _roundtrip(frame, tmp_path)


def test_audit_frame_of_an_empty_execution(tmp_path):
    frame = PriceContract(order_total=1, country="UA").audit.to_frame()
    assert len(frame) == 0 and tuple(frame.columns) == frames.AUDIT_COLUMNS
    _roundtrip(frame, tmp_path)


def test_states_frame(tmp_path):
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    frame = ig.nb.states_frame(c)
    assert tuple(frame.columns) == frames.STATES_COLUMNS
    assert frame["node"].tolist() == [n.name for n in c.graph.nodes]
    rows = frame.set_index("node")
    assert rows.loc["positive", "status"] == "unresolved" and rows.loc["positive", "version"] == 0
    assert rows.loc["approval", "status"] == "waiting" and rows.loc["approval", "event"] == "manager_approved"
    assert json.loads(rows.loc["summary", "waiting_for"]) == ["approval"]
    assert json.loads(rows.loc["currency", "value"]) == "EUR"
    failed = ig.nb.states_frame(FailingContract(x=1).resolve_all()).set_index("node")
    assert failed.loc["boom", "error_type"] == "ResolutionError" and "no good" in failed.loc["boom", "error"]
    _roundtrip(frame, tmp_path)


def test_replay_rebuilds_the_final_states_and_every_step():
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    c.resume("approval", {"ok": True})
    c.resolve_all()
    frame = c.audit.to_frame()
    steps = list(ig.nb.replay(frame))
    assert len(steps) == len(frame)
    assert [s.seq for s in steps] == frame["seq"].tolist()
    final = steps[-1].statuses
    assert final == {name: str(st.status) for name, st in c.execution.states.items()}
    waiting = next(s for s in steps if s.type == "node_waiting" and s.node == "approval")
    assert waiting.states["approval"].status == "waiting"
    assert waiting.states["approval"].event == "manager_approved"
    # a shuffled frame (e.g. read back from a partitioned dataset) replays in seq order
    shuffled = frame.sample(frac=1, random_state=3)
    assert [s.statuses for s in ig.nb.replay(shuffled)] == [s.statuses for s in steps]


def test_replay_log_jumps_match_sequential_replay():
    c = PriceContract(order_total=1, country="UA")
    c.resolve_all()
    for i in range(80):
        c.update_inputs(order_total=2 + i)
        c.resolve_all()
    frame = c.audit.to_frame()
    steps = list(ig.nb.replay(frame))
    log = frames.ReplayLog(frame)
    assert len(steps) > 520
    for i in [0, 1, 255, 256, 257, 511, 512, len(steps) - 1, 3, 300]:
        assert log.states_at(i) == steps[i].states
    assert frames.replay_diff(steps[0].states, steps[-1].states)["gross_total"] == ("unresolved", "succeeded")


def test_audit_frame_of_100000_events_has_a_row_per_event():
    """The frame of a big log, row for row (its time is B7's, measured by bench/notebook.py: no timing here)."""
    c = PriceContract(order_total=1, country="UA")
    emit = c.execution.bus.emit
    before = len(c.audit)
    for i in range(100_000):
        emit("node_succeeded", f"n{i % 50}", f"p.n{i % 50}", "succeeded", {"i": i} if i % 10 == 0 else {})
    frame = c.audit.to_frame()
    assert len(frame) == before + 100_000
    tail = frame.iloc[before:]
    assert list(tail["node"].iloc[:3]) == ["n0", "n1", "n2"] and tail["node"].iloc[-1] == "n49"
    assert (tail["type"] == "node_succeeded").all()


# ----------------------------------------------------------------------------------------------- stores


def _snapshot(execution_id, states):
    return {"format": "igniter_nb.snapshot/1", "graph": "Lead", "execution_id": execution_id, "inputs": {},
            "states": states, "events": [], "workflow": None}


@pytest.fixture
def store():
    from igniter_nb.stores import MemoryStore

    s = MemoryStore()
    s.save(_snapshot("wf-1", {
        "crm": {"status": "waiting", "value": {"token": "wf-1:crm", "event": "crm_received", "source_node": "crm"}},
        "report": {"status": "waiting", "value": {"token": "wf-1:crm", "event": "crm_received", "source_node": "crm"},
                   "waiting_for": ["crm"]},
        "quote": {"status": "pending", "value": {"token": "abc123", "source_node": "quote"}},
    }), graph="Lead", correlation={"request_id": "r-1", "company_id": 42}, status="waiting")
    s.save(_snapshot("wf-2", {"crm": {"status": "succeeded", "value": {"plan": "pro"}}}), graph="Lead",
           correlation={"request_id": "r-2", "company_id": 7}, status="succeeded")
    s.save(_snapshot("other-1", {}), graph="Other", status="failed")
    return s


def test_store_frame_of_hand_made_snapshots(store, tmp_path):
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    frame = ig.nb.store_frame(store, now=now)
    assert tuple(frame.columns) == (*frames.STORE_COLUMNS, "corr_company_id", "corr_request_id")
    assert frame["execution_id"].tolist() == ["wf-1", "wf-2", "other-1"]
    row = frame.iloc[0]
    assert row["status"] == "waiting" and row["version"] == 1
    assert row["corr_request_id"] == "r-1" and row["corr_company_id"] == "42"
    assert json.loads(row["waiting_on"]) == [{"event": "crm_received", "node": "crm"}]
    assert json.loads(frame.iloc[1]["waiting_on"]) == []
    assert pd.Timedelta(seconds=25) < row["age"] < pd.Timedelta(seconds=60)
    assert pd.isna(frame.iloc[2]["corr_request_id"])
    only = ig.nb.store_frame(store, graph="Other", now=now)
    assert only["execution_id"].tolist() == ["other-1"] and "corr_request_id" not in only
    _roundtrip(frame, tmp_path)


def test_tokens_frame_of_hand_made_snapshots(store, tmp_path):
    frame = ig.nb.tokens_frame(store)
    assert tuple(frame.columns) == (*frames.TOKENS_COLUMNS, "corr_company_id", "corr_request_id")
    # only active workflows, only the nodes that originate a wait (not `report`, which waits through crm)
    rows = frame[["execution_id", "node", "kind", "event", "token"]].astype(object)
    assert rows.where(rows.notna(), None).values.tolist() == [
        ["wf-1", "crm", "event", "crm_received", "wf-1:crm"],
        ["wf-1", "quote", "token", None, "abc123"],
    ]
    _roundtrip(frame, tmp_path)


# ----------------------------------------------------------------------------------------------- real stores
#
# Snapshots written by Workflow.start / deliver_event, the store runner and resume_from_store, on every local
# store kind (the hand-made ones above only pin the plain-record fallback).


def _real_store(kind, tmp_path):
    from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, SQLStore

    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SQLStore(f"sqlite:///{tmp_path / 'executions.db'}")
    if kind == "file":
        return FileStore(tmp_path / "files")
    return ParquetStore(tmp_path / "log")


STORE_KINDS = ["memory", "sqlite", "file", "parquet"]


def _plain(frame, columns):
    rows = frame[columns].astype(object)
    return rows.where(rows.notna(), None).values.tolist()


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_store_frame_of_real_snapshots(kind, tmp_path):
    from nb_store_contracts import NOW, fill

    store = _real_store(kind, tmp_path)
    ids = fill(store)
    now = NOW + dt.timedelta(hours=1)
    frame = ig.nb.store_frame(store, now=now)
    assert tuple(frame.columns) == (*frames.STORE_COLUMNS, "corr_company_id", "corr_request_id")
    assert frame["version"].dtype == "int64" and str(frame["updated_at"].dt.tz) == "UTC"
    rows = frame.set_index("execution_id")
    # oldest first: the two workflows started at NOW (by correlation), then the plain executions as they ran
    assert frame["execution_id"].tolist() == [ids["waiting"], ids["done"], "pricing-1", "checkout-1", "broken-1"]
    assert frame["started_at"].is_monotonic_increasing
    waiting, done = rows.loc[ids["waiting"]], rows.loc[ids["done"]]
    # a workflow: its correlation, one column per key, the events it waits on, its age from started_at
    assert waiting["status"] == "waiting" and waiting["version"] == 1
    assert json.loads(waiting["correlation"]) == {"company_id": 42, "request_id": "r-1"}
    assert waiting["corr_company_id"] == "42" and waiting["corr_request_id"] == "r-1"
    assert json.loads(waiting["waiting_on"]) == [{"event": "billing_ready", "node": "billing"},
                                                 {"event": "crm_received", "node": "crm"}]
    assert waiting["started_at"] == pd.Timestamp(NOW) and waiting["age"] == pd.Timedelta(hours=1)
    assert done["status"] == "succeeded" and done["version"] == 3 and json.loads(done["waiting_on"]) == []
    # plain executions: no correlation, pending on tokens (not events), failed
    pricing = rows.loc["pricing-1"]
    assert pricing["status"] == "pending" and pd.isna(pricing["correlation"]) and pd.isna(pricing["corr_request_id"])
    assert json.loads(pricing["waiting_on"]) == []
    assert pricing["started_at"] <= pricing["updated_at"]
    assert rows.loc["broken-1", "status"] == "failed"
    only = ig.nb.store_frame(store, graph="NbLeadWorkflow", now=now)
    assert set(only["execution_id"]) == {ids["waiting"], ids["done"]}
    _roundtrip(frame, tmp_path)


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_tokens_frame_of_real_snapshots(kind, tmp_path):
    from nb_store_contracts import NOW, fill

    store = _real_store(kind, tmp_path)
    ids = fill(store)
    frame = ig.nb.tokens_frame(store)
    assert tuple(frame.columns) == (*frames.TOKENS_COLUMNS, "corr_company_id", "corr_request_id")
    wf = ids["waiting"]
    # one row per originating wait: the deferring executor, the composition and each collection item whose child
    # deferred, each await node; never a dependent (gross_total, total, report) nor a finished execution
    # longest waiting first (the workflow's awaits were reached first, crm before billing), then by node and item
    assert _plain(frame, ["execution_id", "node", "kind", "event", "token", "item", "corr_request_id"]) == [
        [wf, "crm", "event", "crm_received", f"{wf}:crm", None, "r-1"],
        [wf, "billing", "event", "billing_ready", f"{wf}:billing", None, "r-1"],
        ["pricing-1", "quote_total", "token", None, "quote-100", None, None],
        ["checkout-1", "quote", "token", None, "sku-a", None, None],
        ["checkout-1", "quotes", "token", None, "sku-x", "x", None],
        ["checkout-1", "quotes", "token", None, "sku-y", "y", None],
    ]
    assert frame["since"].is_monotonic_increasing
    rows = frame.set_index(["execution_id", "node"]).sort_index()
    assert json.loads(rows.loc[("pricing-1", "quote_total"), "payload"]) == {"order_total": 100}
    crm = rows.loc[(wf, "crm")]
    assert crm["deadline"] == pd.Timestamp(NOW + dt.timedelta(hours=1))
    assert pd.isna(rows.loc[(wf, "billing"), "deadline"])
    assert json.loads(crm["correlation"]) == {"company_id": 42, "request_id": "r-1"}
    assert str(frame["since"].dt.tz) == "UTC" and frame["since"].notna().all()
    # every token in the frame resumes its execution from the store
    from nb_store_contracts import NbAsyncPricing, NbCheckout

    NbAsyncPricing.resume_from_store("pricing-1", token="quote-100", value=10, store=store)
    for token in ("sku-a", "sku-x", "sku-y"):
        NbCheckout.resume_from_store("checkout-1", token=token, value=5, store=store)
    after = ig.nb.tokens_frame(store)
    assert set(after["execution_id"]) == {wf}
    assert store.record("checkout-1").status == "succeeded"
    _roundtrip(frame, tmp_path)
    _roundtrip(after, tmp_path, "after.parquet")


def test_frames_of_an_exported_parquet_log_equal_the_source_store(tmp_path):
    from nb_store_contracts import NOW, fill

    from igniter_nb.stores import ParquetStore, SQLStore, export_parquet

    source = SQLStore(f"sqlite:///{tmp_path / 'src.db'}")
    fill(source)
    export_parquet(source, tmp_path / "export")
    copy = ParquetStore(tmp_path / "export")
    now = NOW + dt.timedelta(days=1)
    assert_frame_equal(ig.nb.store_frame(copy, now=now), ig.nb.store_frame(source, now=now), check_exact=True)
    assert_frame_equal(ig.nb.tokens_frame(copy), ig.nb.tokens_frame(source), check_exact=True)


def test_store_frame_refuses_a_naive_now():
    from igniter_nb.stores import MemoryStore

    with pytest.raises(ValueError, match="timezone-aware"):
        ig.nb.store_frame(MemoryStore(), now=dt.datetime(2026, 1, 1))


def test_frames_of_an_empty_store(tmp_path):
    from igniter_nb.stores import MemoryStore

    store_rows = ig.nb.store_frame(MemoryStore())
    tokens = ig.nb.tokens_frame(MemoryStore())
    assert tuple(store_rows.columns) == frames.STORE_COLUMNS and len(store_rows) == 0
    assert tuple(tokens.columns) == frames.TOKENS_COLUMNS and len(tokens) == 0
    _roundtrip(store_rows, tmp_path)
    _roundtrip(tokens, tmp_path, "t.parquet")


# ----------------------------------------------------------------------------------------------- dtypes and order


def _assert_notebook_dtypes(frame, text_columns, time_columns):
    assert isinstance(frame, ig.nb.IgniterFrame)
    assert isinstance(frame["status"].dtype, pd.CategoricalDtype)
    assert tuple(frame["status"].cat.categories)[: len(frames.STATUS_CATEGORIES)] == frames.STATUS_CATEGORIES
    for name in text_columns:
        assert frame[name].dtype == pd.StringDtype(), name  # missing values are <NA>, never NaN
        assert not any(isinstance(v, float) for v in frame[name].tolist()), name
    for name in time_columns:
        assert frame[name].dtype == "datetime64[ms, UTC]", name


def test_every_frame_has_the_documented_dtypes(tmp_path):
    from nb_store_contracts import NOW, fill

    from igniter_nb.stores import MemoryStore

    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    audit = c.audit.to_frame()
    _assert_notebook_dtypes(audit, ["type", "execution_id", "graph", "node", "path", "payload"], ["timestamp"])
    assert audit["node"].isna().any() and "<NA>" in audit.to_string()
    states = ig.nb.states_frame(c)
    _assert_notebook_dtypes(states, ["node", "path", "kind", "value", "error_type", "error", "event"], ["resolved_at"])
    assert states["version"].dtype == "int64"
    store = MemoryStore()
    fill(store)
    rows = ig.nb.store_frame(store, now=NOW + dt.timedelta(hours=1))
    _assert_notebook_dtypes(rows, ["execution_id", "graph", "correlation", "waiting_on", "corr_request_id"],
                            ["started_at", "updated_at"])
    assert rows["age"].dtype == "timedelta64[ms]"
    tokens = ig.nb.tokens_frame(store)
    _assert_notebook_dtypes(tokens, ["execution_id", "node", "kind", "event", "token", "item", "payload"],
                            ["since", "deadline", "updated_at"])
    for frame in (audit, states, rows, tokens):
        back = _roundtrip(frame, tmp_path, f"{frame.attrs['igniter_nb']}.parquet")
        assert isinstance(back, ig.nb.IgniterFrame) and back.attrs == frame.attrs


def test_status_sorts_in_lifecycle_order_and_keeps_unknown_statuses(tmp_path):
    from igniter_nb.stores import MemoryStore

    store = MemoryStore()
    for eid, status in [("a", "succeeded"), ("b", "waiting"), ("c", "running")]:
        store.save({"execution_id": eid, "states": {}}, graph="G", status=status)
    rows = ig.nb.store_frame(store)
    assert rows.sort_values("status")["status"].tolist() == ["running", "waiting", "succeeded"]
    odd = frames._status(["succeeded", "paused", None])
    assert list(odd.categories[-1:]) == ["paused"] and pd.isna(odd[2])


def test_store_frame_with_a_contract_has_its_correlation_columns_even_when_empty():
    from nb_store_contracts import NbLeadWorkflow

    from igniter_nb.stores import MemoryStore

    empty = ig.nb.store_frame(MemoryStore(), graph=NbLeadWorkflow)
    assert tuple(empty.columns) == (*frames.STORE_COLUMNS, "corr_request_id", "corr_company_id")
    by_name = ig.nb.tokens_frame(MemoryStore(), graph="NbLeadWorkflow")  # a registered name: the same keys
    assert tuple(by_name.columns)[-2:] == ("corr_request_id", "corr_company_id")
    with pytest.raises(TypeError, match="graph="):
        ig.nb.store_frame(MemoryStore(), graph=42)


def test_plain_pandas_reads_the_same_data(tmp_path):
    c = PriceContract(order_total=1, country="UA")
    c.resolve_all()
    frame = c.audit.to_frame()
    path = ig.nb.to_parquet(frame, tmp_path / "a.parquet")
    plain = pd.read_parquet(path)
    assert type(plain) is pd.DataFrame
    assert_frame_equal(plain, frame, check_frame_type=False, check_exact=True)
