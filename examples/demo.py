"""The main demo (``make demo``): a distributed workflow end to end on the embedded SQLite store.

A lead workflow waits for two webhooks matched by business correlation keys. The events arrive out of order,
one of them twice (answered idempotently), a mistyped correlation is rejected with the nearest match, and the
workflow finishes. Then the demo writes, into ``artifacts/`` (or ``--out DIR``):

- ``demo.db``               the SQLite store holding every saved version of the workflow;
- ``workflow_waiting.svg``  the graph while it waited (nodes coloured by state, awaited events shown);
- ``workflow_done.svg``     the graph once it succeeded;
- ``audit.parquet``         the audit trail, one row per event (``contract.audit.to_frame()``);
- ``history/``              the store's snapshot history as a parquet dataset (``ig.stores.export_parquet``);
- a rendered notebook, when ``notebooks/04_*.ipynb`` exists (executed with nbconvert, ``.ipynb`` and ``.html``).

Run from the repository root: ``python examples/demo.py [--out DIR] [--notebook PATH]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
from pathlib import Path

import pydantic

import igniter_nb as ig
from igniter_nb.errors import WorkflowNotFoundError
from igniter_nb.stores import SQLStore

ROOT = Path(__file__).resolve().parent.parent


class BillingPayload(pydantic.BaseModel):
    plan: str
    mrr: int


class LeadWorkflow(ig.Contract):
    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id", type=str)
        c.input("company_id", type=str)
        c.await_event("crm_data", event="crm_webhook_received")
        c.await_event("billing_data", event="billing_data_fetched", schema=BillingPayload, timeout=3600)

        @c.compute
        def segment(billing_data):
            return "enterprise" if billing_data.mrr >= 1000 else "growth"

        @c.aggregate
        def report(crm_data, billing_data, segment):
            return {"crm": crm_data, "billing": billing_data.model_dump(), "segment": segment}

        c.output("report")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_svg(contract: ig.Contract, path: Path) -> bool:
    """The contract's graph coloured by node state; igniter_nb's renderer if present, else graphviz ``dot``."""
    if importlib.util.find_spec("igniter_nb.notebook.render") is not None:
        from igniter_nb.notebook.render import render_graph

        path.write_text(render_graph(contract), encoding="utf-8")
        return True
    if shutil.which("dot") is None:
        print(f"note: skipped {_shown(path)}: Graphviz `dot` is not installed")
        return False
    path.write_bytes(type(contract).compiled_graph().to_dot().pipe(format="svg"))
    return True


def write_audit(contract: ig.Contract, path: Path) -> int:
    if importlib.util.find_spec("igniter_nb.notebook.frames") is not None:
        frame = contract.audit.to_frame()
    else:
        import pandas as pd

        frame = pd.DataFrame([e._asdict() for e in contract.events])
    frame.to_parquet(path)
    return len(frame)


def render_notebook(notebook: Path | None, out: Path) -> None:
    candidates = [notebook] if notebook else sorted((ROOT / "notebooks").glob("04_*.ipynb"))
    if not candidates:
        print("note: no notebooks/04_*.ipynb yet: no rendered notebook written")
        return
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    source = candidates[0]
    nb = nbformat.read(source, as_version=4)
    ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(source.parent)}})
    executed = out / source.name
    nbformat.write(nb, executed)
    html, _ = HTMLExporter().from_notebook_node(nb)
    page = executed.with_suffix(".html")
    page.write_text(html, encoding="utf-8")
    print(f"wrote {_shown(executed)} and {_shown(page)} (executed {_shown(source)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts", help="where to write (default: artifacts/)")
    parser.add_argument("--notebook", type=Path, default=None, help="notebook to execute (default: notebooks/04_*)")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.db"
    for stale in (db, out / "demo.db-wal", out / "demo.db-shm"):
        stale.unlink(missing_ok=True)
    store = SQLStore(f"sqlite:///{db}")
    correlation = {"request_id": "req-1", "company_id": "co-42"}

    print("==> Starting the workflow...")
    wf = LeadWorkflow.start(correlation, store=store)
    print(f"status: {wf.workflow_status}, waiting on "
          + ", ".join(f"{w['event']} ({w['node']})" for w in wf.diagnostics["waiting_on"]))

    print("==> Delivering the billing event first (events may arrive in any order)...")
    wf = LeadWorkflow.deliver_event("billing_data_fetched", correlation=correlation, payload={"plan": "pro", "mrr": 500},
                                    store=store, idempotency_key="billing-evt-9")
    print(f"status: {wf.workflow_status}")
    write_svg(wf, out / "workflow_waiting.svg")

    print("==> The billing webhook retries with the same idempotency key...")
    wf = LeadWorkflow.deliver_event("billing_data_fetched", correlation=correlation, payload={"plan": "pro", "mrr": 500},
                                    store=store, idempotency_key="billing-evt-9")
    print(f"answered idempotently: {len(wf.signals)} signal recorded, {len(store.history(wf.execution_id))} versions stored")

    print("==> A CRM webhook with a mistyped company id...")
    try:
        LeadWorkflow.deliver_event("crm_webhook_received", correlation={"request_id": "req-1", "company_id": "co-24"},
                                   payload={"name": "Acme Corp"}, store=store)
    except WorkflowNotFoundError as err:
        print(f"WorkflowNotFoundError: {err.message}")

    print("==> Delivering the CRM event...")
    wf = LeadWorkflow.deliver_event("crm_webhook_received", correlation=correlation,
                                    payload={"name": "Acme Corp", "tier": "enterprise"}, store=store,
                                    idempotency_key="crm-evt-3")
    print(f"status: {wf.workflow_status}")
    print(f"report: {wf.result.report}")
    print("signals: " + ", ".join(f"#{s['order']} {s['event']} (key {s['idempotency_key']})" for s in wf.signals))
    print()
    print(wf.diagnostics.to_text())
    print()

    record = store.record(wf.execution_id)
    print(f"wrote {_shown(db)} (SQLite store: status={record.status}, {record.version} versions)")
    for name, contract in (("workflow_waiting.svg", None), ("workflow_done.svg", wf)):
        path = out / name
        if contract is not None and not write_svg(contract, path):
            continue
        if path.exists():
            print(f"wrote {_shown(path)} ({path.stat().st_size:,} bytes)")
    rows = write_audit(wf, out / "audit.parquet")
    print(f"wrote {_shown(out / 'audit.parquet')} ({rows} audit events)")
    history = out / "history"
    shutil.rmtree(history, ignore_errors=True)
    versions = ig.stores.export_parquet(store, history)
    print(f"wrote {_shown(history)}/ ({versions} stored versions as a parquet dataset)")
    render_notebook(args.notebook, out)
    store.close()


if __name__ == "__main__":
    main()
