"""Restoring stored data that is not what it should be (issue 11 points 2, 8 and 17): a record holding another
execution's snapshot is refused on every restore path, nothing named in stored data is ever imported, and
tampered or absurdly deep snapshots raise an ``IgniterError`` naming what is wrong — never a raw Python error."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import FileStore, MemoryStore, SQLStore
from tests.runtime.snapshot_contracts import Checkout, Pricing
from tests.workflow.wf_contracts import LeadWorkflow, TimedWorkflow

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
CORR_A = {"request_id": "req-A", "company_id": "co-1"}
CORR_B = {"request_id": "req-B", "company_id": "co-1"}


# ---------------------------------------------------------------------------- point 2: a record of another execution
def _swap_sqlite(path: Path, target: str, source: str) -> None:
    """Make the current row of ``target`` hold ``source``'s snapshot (as a hand edit of the database would)."""
    with sqlite3.connect(path) as db:
        text = db.execute("SELECT snapshot FROM igniter_executions WHERE execution_id = ?", (source,)).fetchone()[0]
        db.execute("UPDATE igniter_executions SET snapshot = ? WHERE execution_id = ?", (text, target))


def _swap_file(root: Path, target: str, source: str) -> None:
    current = root / "executions" / target / "current.json"
    envelope = json.loads(current.read_text())
    envelope["snapshot"] = json.loads((root / "executions" / source / "current.json").read_text())["snapshot"]
    current.write_text(json.dumps(envelope))


@pytest.fixture(params=["sqlite", "file"])
def swapped(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A store where workflow A's record holds workflow B's snapshot; yields (store, a_id, b_id)."""
    if request.param == "sqlite":
        store: Any = SQLStore(f"sqlite:///{tmp_path / 'w.db'}")
    else:
        store = FileStore(tmp_path / "files")
    a = TimedWorkflow.start({"case_id": "case-A"}, store=store, now=T0)
    b = TimedWorkflow.start({"case_id": "case-B"}, store=store, now=T0)
    if request.param == "sqlite":
        _swap_sqlite(tmp_path / "w.db", a.execution_id, b.execution_id)
    else:
        _swap_file(tmp_path / "files", a.execution_id, b.execution_id)
    yield store, a.execution_id, b.execution_id
    store.close()


def test_a_record_holding_another_executions_snapshot_is_refused_on_every_path(swapped):
    store, a, b = swapped
    before = {eid: store.history(eid) for eid in (a, b)}
    refused = "stored record .* holds a snapshot of execution .*refusing to restore it"
    attempts = [
        lambda: TimedWorkflow.restore_from_store(a, store=store),
        lambda: TimedWorkflow.resume_from_store(a, token=f"{a}:reply", value={"ok": True}, store=store),
        lambda: TimedWorkflow.deliver_event("customer_replied", correlation={"case_id": "case-A"}, payload={"ok": 1},
                                            store=store, now=T0),
        lambda: TimedWorkflow.cancel(correlation={"case_id": "case-A"}, store=store, now=T0),
        lambda: TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(days=1)),
    ]
    for attempt in attempts:
        with pytest.raises(ig.SnapshotEncodingError, match=refused) as info:
            attempt()
        assert info.value.context["execution_id"] == a and info.value.context["snapshot_execution_id"] == b
    assert {eid: store.history(eid) for eid in (a, b)} == before  # nothing overwritten, nothing added


def test_retry_workflow_refuses_a_record_of_another_execution(tmp_path):
    from tests.workflow.wf_contracts import FragileWorkflow

    store = SQLStore(f"sqlite:///{tmp_path / 'w.db'}")
    a = FragileWorkflow.start(job_id="j-A", explode_at_start=True, store=store)
    b = FragileWorkflow.start(job_id="j-B", explode_at_start=True, store=store)
    _swap_sqlite(tmp_path / "w.db", a.execution_id, b.execution_id)
    with pytest.raises(ig.SnapshotEncodingError, match="holds a snapshot of execution"):
        FragileWorkflow.retry_workflow(correlation={"job_id": "j-A"}, store=store)
    assert store.record(b.execution_id).version == 1
    store.close()


def test_a_record_whose_snapshot_names_another_graph_is_refused():
    store = MemoryStore()
    wf = LeadWorkflow.start(CORR_A, store=store)
    record = store.record(wf.execution_id)
    store.save(record.snapshot, graph="SomethingElse", expected_version=record.version)
    with pytest.raises(ig.SnapshotEncodingError, match="of graph 'SomethingElse' holds a snapshot of graph 'LeadWorkflow'"):
        LeadWorkflow.restore_from_store(wf.execution_id, store=store)


# ---------------------------------------------------------------------------- point 8: no import of stored names
_SIDE_EFFECTS = '''
import pathlib, dataclasses, enum
pathlib.Path({marker!r}).write_text("imported")

@dataclasses.dataclass
class Evil:
    x: int = 0

class EvilEnum(enum.Enum):
    A = 1
'''


@pytest.fixture
def side_effect_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """An importable module whose import writes a marker file; yields (module name, marker path)."""
    name = f"igniter_side_effects_{random.randrange(10**9)}"
    marker = tmp_path / "imported.marker"
    (tmp_path / f"{name}.py").write_text(_SIDE_EFFECTS.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, marker


def _child_named(contract_ref: str) -> dict[str, Any]:
    snap = Checkout(total=10).snapshot()
    child = snap["children"]["pricing"]
    child["graph"] = "NotPricing"  # not the composition's own contract: the registry is asked
    child["contract"] = contract_ref
    return snap


@pytest.mark.parametrize("ref", ["antigravity:X", "this:Y", "{module}:Evil"])
def test_restore_never_imports_a_child_contract_named_in_stored_data(ref, side_effect_module):
    module, marker = side_effect_module
    ref = ref.format(module=module)
    already = set(sys.modules)
    with pytest.raises(ig.SnapshotEncodingError, match=f"contract '{ref}' is not a contract defined in this process.*"
                                                       "import the module that defines it first") as info:
        Checkout.restore(_child_named(ref))
    assert info.value.context["node"] == "pricing" and info.value.context["contract"] == ref
    assert not marker.exists()
    assert set(sys.modules) - already == set()  # nothing imported: not antigravity, not this, not the module


def test_a_child_contract_defined_in_this_process_is_found_by_name():
    snap = _child_named("tests.runtime.snapshot_contracts:Pricing")
    snap["children"]["pricing"]["graph"] = "Pricing"
    restored = Checkout.restore(snap)
    assert type(restored.execution.children.instances["pricing"]) is Pricing


@pytest.mark.parametrize("tag", ["dataclass", "enum", "pydantic"])
def test_restore_never_imports_a_value_class_named_in_stored_data(tag, side_effect_module):
    module, marker = side_effect_module
    contract = Checkout(total=10)
    snap = contract.snapshot()
    value = {"dataclass": {"__ig__": "dataclass", "class": f"{module}:Evil", "fields": {"x": 1}},
             "enum": {"__ig__": "enum", "class": f"{module}:EvilEnum", "value": 1},
             "pydantic": {"__ig__": "pydantic", "class": f"{module}:Evil", "data": {}}}[tag]
    snap["states"]["total"]["value"] = value
    with pytest.raises(ig.SnapshotEncodingError, match=f"module '{module}' is not imported; igniter_nb never imports"):
        Checkout.restore(snap)
    assert not marker.exists() and module not in sys.modules


def test_an_imported_value_class_still_restores(side_effect_module):
    from igniter_nb.runtime import codec

    module, _ = side_effect_module
    loaded = __import__(module)
    snap = Checkout(total=10).snapshot()
    snap["states"]["total"]["value"] = codec.encode(loaded.Evil(3))
    assert Checkout.restore(snap).execution.states["total"].value == loaded.Evil(3)


# ---------------------------------------------------------------------------- point 17: tampered snapshots
_JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x" * 300, [], [1, "a"], {}, {"a": 1}, {"__ig__": "nope"},
                    {"__ig__": "dataclass", "class": "os:system", "fields": {}}, [[[[[]]]]]]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            found.extend(_paths(v, (*prefix, i)))
    return found


def _set(snapshot: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        snapshot = snapshot[part]
    snapshot[path[-1]] = value


def _delete(snapshot: Any, path: tuple[Any, ...]) -> None:
    for part in path[:-1]:
        snapshot = snapshot[part]
    del snapshot[path[-1]]


def test_fuzzed_stored_snapshots_raise_only_igniter_errors():
    """Every field of a stored workflow snapshot (a composition child inside, signals, events, states), replaced
    by junk of every JSON kind or deleted: restoring and delivering raise an IgniterError or work — never a raw
    ValueError, TypeError, KeyError, AttributeError or ModuleNotFoundError."""
    rng = random.Random(11)
    store = MemoryStore()
    wf = LeadWorkflow.start(CORR_A, store=store, now=T0)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR_A, payload={"name": "Acme"}, store=store, now=T0)
    good = store.fetch(wf.execution_id)
    plain = Checkout(total=10).snapshot()
    cases = 0
    for base, cls in ((good, LeadWorkflow), (plain, Checkout)):
        for path in _paths(base):
            for junk in [*rng.sample(_JUNK, 4), "delete"]:
                snap = copy.deepcopy(base)
                if junk == "delete":
                    _delete(snap, path)
                else:
                    _set(snap, path, copy.deepcopy(junk))
                cases += 1
                with contextlib.suppress(ig.IgniterError):  # anything else fails the test
                    cls.restore(snap)
    assert cases > 500


def test_tampered_state_names_the_field():
    snap = Checkout(total=10).snapshot()
    snap["states"]["total"]["status"] = "exploded"
    with pytest.raises(ig.SnapshotEncodingError, match=r"states\.total is malformed \(ValueError: 'exploded' is not a "
                                                       r"valid Status\)") as info:
        Checkout.restore(snap)
    assert info.value.context["path"] == "states.total" and info.value.context["cause_type"] == "ValueError"
    assert isinstance(info.value.__cause__, ValueError)


def test_deeply_nested_stored_value_is_a_clear_error():
    snap = Checkout(total=10).snapshot()
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    snap["states"]["total"]["value"] = deep
    with pytest.raises(ig.SnapshotEncodingError, match="nested too deeply"):
        Checkout.restore(snap)
