"""The workflow examples print the expected lines: E-9 (``distributed_workflow.py``) and the stage-oriented
``lead_lifecycle.py``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120,
                          cwd=EXAMPLES.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_distributed_workflow_E9():
    assert run_example("distributed_workflow.py") == textwrap.dedent("""\
        ==> Starting execution...
        waiting? True

        ==> Delivering CRM event...
        still waiting? True

        ==> Delivering billing event...

        ==> Final result:
        succeeded? True
        report: {'crm': {'name': 'Acme Corp', 'tier': 'enterprise'}, 'billing': {'plan': 'pro', 'mrr': 500}}
        """)


def test_lead_lifecycle():
    assert run_example("lead_lifecycle.py") == textwrap.dedent("""\
        == stage 1: inbound
        lead: {'lead_id': 'lead-ann-at-acme-io', 'email': 'ann@acme.io', 'company_domain': 'acme.io'}
        == stage 2: attribution
        started: waiting, waiting on ad_click_matched, crm_account_synced
        crm_account_synced -> waiting
        crm_account_synced again, same key -> waiting (unchanged, 1 signal)
        crm_account_synced again, new key -> DuplicateSignalError
        ad_click_matched for a mistyped lead -> no active LeadAttribution workflow has correlation \
{'lead_id': 'lead-ann-at-acme-com'}; nearest active: {'lead_id': 'lead-ann-at-acme-io'} (differs in lead_id)
        ad_click_matched -> succeeded
        attribution: {'lead_id': 'lead-ann-at-acme-io', 'domain': 'acme.io', 'channel': 'paid_search', \
'campaign': 'search-crm', 'acquisition_cost': 18.5, 'account_id': 'acc-77', 'seats': 12}
        signals: 1:crm_account_synced key=crm-77, 2:ad_click_matched key=ads-1
        stored: status=succeeded, versions=3
        == stage 3: billing
        invoice: {'account_id': 'acc-77', 'seats': 12, 'discount': 48.0, 'monthly_total': 432.0}
        """)


def test_demo_writes_store_graphs_and_audit(tmp_path):
    import pandas as pd

    from igniter_nb.stores import SQLStore

    done = subprocess.run([sys.executable, str(EXAMPLES / "demo.py"), "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=600, cwd=EXAMPLES.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "status: waiting, waiting on crm_webhook_received (crm_data), billing_data_fetched (billing_data)" in lines
    assert "answered idempotently: 1 signal recorded, 2 versions stored" in lines
    assert ("WorkflowNotFoundError: no active LeadWorkflow workflow has correlation {'request_id': 'req-1', "
            "'company_id': 'co-24'}; nearest active: {'request_id': 'req-1', 'company_id': 'co-42'} "
            "(differs in company_id)") in lines
    assert "report: {'crm': {'name': 'Acme Corp', 'tier': 'enterprise'}, 'billing': {'plan': 'pro', 'mrr': 500}, " \
           "'segment': 'growth'}" in lines
    assert f"wrote {tmp_path / 'demo.db'} (SQLite store: status=succeeded, 3 versions)" in lines
    for name in ("workflow_waiting.svg", "workflow_done.svg"):
        assert (tmp_path / name).read_text().lstrip().startswith("<svg")
    audit = pd.read_parquet(tmp_path / "audit.parquet")
    assert list(audit["type"]).count("external_event_received") == 2
    assert audit["type"].iloc[-1] == "workflow_succeeded"
    store = SQLStore(f"sqlite:///{tmp_path / 'demo.db'}")
    [record] = store.list(graph="LeadWorkflow")
    assert record.status == "succeeded" and record.version == 3
    store.close()
    assert len(pd.read_parquet(tmp_path / "history")) == 3
