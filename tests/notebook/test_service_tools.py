"""The notebook tools pointed at a running service (issue 10 point 6): `store_frame`, `tokens_frame`,
`SnapshotStepper` and `EventSimulator` given an `ig.server.Client` instead of a store — against a real
`igniter-nb serve` process on 127.0.0.1 whose SQLite store this test also opens, to check that what the tools show
over HTTP is what the store holds and that dry runs write nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

import igniter_nb as ig
from igniter_nb.server.service_store import ServiceStore
from tests.notebook.service_contracts import SvcLead, SvcPricing

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
pytestmark = pytest.mark.timeout(120)


def _seed(client: Any) -> dict[str, str]:
    ids = {r: client.execute("lead", inputs={"request_id": r})["execution_id"] for r in ("r-1", "r-2")}
    client.deliver_event("lead", event="crm_received", correlation={"request_id": "r-2"}, payload={"name": "Acme"})
    ids["pricing"] = client.execute("pricing", inputs={"total": 5})["execution_id"]
    return ids


def _footprint(store: Any) -> dict[str, Any]:
    return {r.execution_id: (len(store.history(r.execution_id)), r.version, r.status) for r in store.list()}


def test_frames_over_a_client_are_the_frames_of_its_store(service: Any) -> None:
    _, store, client = service
    _seed(client)
    pd.testing.assert_frame_equal(ig.nb.store_frame(client, now=NOW), ig.nb.store_frame(store, now=NOW),
                                  check_exact=True)
    pd.testing.assert_frame_equal(ig.nb.tokens_frame(client), ig.nb.tokens_frame(store), check_exact=True)
    pd.testing.assert_frame_equal(ig.nb.store_frame(client, graph=SvcLead, now=NOW),
                                  ig.nb.store_frame(store, graph=SvcLead, now=NOW), check_exact=True)
    tokens = ig.nb.tokens_frame(client)
    assert set(tokens["kind"]) == {"event", "token"} and "quote-5" in set(tokens["token"])
    assert tokens["deadline"].notna().sum() == 1  # the crm await of r-1 has a timeout


def test_stepper_over_a_client_steps_through_the_stored_versions(service: Any) -> None:
    _, store, client = service
    ids = _seed(client)
    client.deliver_event("lead", event="billing_ready", correlation={"request_id": "r-2"}, payload=7)
    remote = ig.nb.SnapshotStepper(client, execution_id=ids["r-2"], engine="python")
    local = ig.nb.SnapshotStepper(store, execution_id=ids["r-2"], engine="python")
    assert len(remote) == len(local) == 3 and remote.graph is not None
    for i in remote.steps:
        assert remote.describe(i) == local.describe(i)
        assert remote.changes(i) == local.changes(i)
        assert remote.svg(i) == local.svg(i)
    assert remote.status_at(-1) == "succeeded"
    with pytest.raises(ig.SnapshotNotFoundError):
        ig.nb.SnapshotStepper(client, execution_id="no-such-execution")


def test_simulator_over_a_client_dry_runs_on_the_server_and_writes_nothing(service: Any) -> None:
    _, store, client = service
    ids = _seed(client)
    remote = ig.nb.EventSimulator(SvcLead, client, engine="python")
    local = ig.nb.EventSimulator(SvcLead, store, engine="python")
    assert [r.execution_id for r in remote.workflows()] == [r.execution_id for r in local.workflows()]
    before = _footprint(store)
    for sim in (remote, local):
        sim.select(correlation={"request_id": "r-1"}, payload={"name": "Acme"})
    assert remote.dry_run().to_dict() == local.dry_run().to_dict()
    assert remote.last_preview is not None and remote.last_preview.execution_id == ids["r-1"]
    simulated = remote.dry_run(simulate=True)  # played here, on a throw-away copy of the record read over HTTP
    assert simulated.status_after == "waiting" and simulated.changes["crm"] == ("waiting", "succeeded")
    for sim in (remote, local):
        sim.select(correlation={"request_id": "r-9"}, payload='{"name": ')  # unknown workflow, payload not JSON
    assert remote.dry_run().to_dict() == local.dry_run().to_dict()
    assert [(e["check"], e["type"]) for e in remote.last_preview.errors] == [
        ("payload", "PayloadValidationError"), ("workflow", "WorkflowNotFoundError")]
    assert _footprint(store) == before
    assert remote.svg() == local.svg()


def test_simulator_over_a_client_delivers_through_the_server(service: Any) -> None:
    _, store, client = service
    ids = _seed(client)
    sim = ig.nb.EventSimulator(SvcLead, client, engine="python")
    sim.select(correlation={"request_id": "r-1"}, payload={"name": "Acme", "tier": "enterprise"})
    contract = sim.deliver()
    assert contract.execution_id == ids["r-1"] and store.record(ids["r-1"]).version == 2
    assert sim.last_delivery is not None and sim.last_delivery.to_text() == (
        "delivered crm_received to SvcLead request_id=r-1: still waiting (received by crm; recomputed: account; "
        "still waits for billing_ready)")
    assert sim.event == "billing_ready"  # the next awaited event, as after a delivery in-process
    sim.select(event="crm_received", payload={"name": "Again"})
    with pytest.raises(ig.server.RemoteError) as err:
        sim.deliver()
    assert err.value.status_code == 409
    assert sim.last_error is not None and sim.last_error["type"] == "DuplicateSignalError"  # the server's own type
    assert store.record(ids["r-1"]).version == 2
    sim.select(event="billing_ready", payload=[1, 2])
    assert sim.deliver().workflow_status == "succeeded" and sim.deliver_blocked is not None


def test_simulator_widget_buttons_go_over_http(service: Any) -> None:
    _, store, client = service
    ids = _seed(client)
    sim = ig.nb.EventSimulator(SvcLead, client, engine="python")
    sim.select(correlation={"request_id": "r-1"})
    view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
    view.payload.value = '{"name": "Widget Co"}'
    view.dry_run.click()
    assert "would deliver" in view.message.value and store.record(ids["r-1"]).version == 1
    view.deliver.click()
    assert view.message.value.startswith('<div') and "✓ delivered crm_received" in view.message.value
    assert store.record(ids["r-1"]).version == 2 and 'data-status="succeeded"' in view.graph.value
    view.deliver.click()  # billing with the prefilled payload (null): accepted — the await has no schema
    assert "succeeded" in view.status.value


def test_simulator_refuses_what_a_client_cannot_do(service: Any) -> None:
    _, _, client = service

    class NotServed(ig.Contract):
        def define(c):
            c.correlate_by("k")
            c.input("k")
            c.await_event("e", event="e")
            c.output("e")

    with pytest.raises(ValueError, match="now= cannot travel to a server"):
        ig.nb.EventSimulator(SvcLead, client, now=NOW)
    with pytest.raises(ig.server.UnknownContractError, match="serves no contract of graph 'NotServed'"):
        ig.nb.EventSimulator(NotServed, client)
    with pytest.raises(ValueError, match="awaits no events"):
        ig.nb.EventSimulator(SvcPricing, client)
    asynchronous = ig.server.AsyncClient(client.base_url)
    with pytest.raises(TypeError, match="AsyncClient"):
        ig.nb.store_frame(asynchronous)


def test_the_same_client_reuses_its_service_store(service: Any) -> None:
    from igniter_nb.notebook.sources import as_store

    _, store, client = service
    assert as_store(client) is as_store(client) and isinstance(as_store(client), ServiceStore)
    assert as_store(store) is store
