"""Rebuild the PNGs of docs/gallery.md: every notebook repr, exported once and looked at.

    .venv/bin/python docs/gallery/build_gallery.py

SVGs come from the reprs themselves (``dot`` and the pure-Python layout); HTML reprs are screenshotted with
headless Chromium (``/usr/bin/chromium``). Needs tests/notebook on sys.path for the example contracts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import datetime as dt

import pydantic

HERE = Path(__file__).resolve().parent
# Every store here saves at this fixed time (MemoryStore(clock=...)), so a rebuild with nothing changed gives
# byte-identical PNGs: the store and follow views show when each execution was saved.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
# The runtime stamps each event with ``time.time()`` (a reference it takes at import, no clock parameter), and
# the follow and stepper views show those times: this build's own process runs at that same fixed time, frozen
# before igniter_nb is imported. (Only wall-clock time: timeouts use monotonic clocks, Chromium its own process.)
time.time = NOW.timestamp
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "notebook"))

import igniter_nb as ig  # noqa: E402
from contracts import (  # noqa: E402
    AllKinds,
    ApprovalContract,
    FailingContract,
    Item,
    LabelledPrice,
    PriceContract,
    layered_graph,
)
from igniter_nb.notebook import reprs  # noqa: E402
from igniter_nb.stores import MemoryStore  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WORK = Path(tempfile.mkdtemp(prefix="gallery-"))


def shoot(html: str, out: Path, width: int, height: int) -> None:
    page = WORK / (out.stem + ".html")
    page.write_text(f'<html><body style="margin:8px;background:#fff">{html}</body></html>', encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={out}", f"--window-size={width},{height}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)


def svg_png(svg: str, out: Path, scale: float = 1.0) -> None:
    m = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg)
    w, h = (float(m.group(1)), float(m.group(2))) if m else (1200.0, 800.0)
    if 'width="' in svg and "pt" in svg.split(">", 1)[0]:
        w, h = w * 4 / 3, h * 4 / 3  # pt → px
    shoot(svg, out, int(w * scale) + 20, int(h * scale) + 20)


def html_png(html: str, out: Path, width: int = 1000) -> None:
    rows = html.count("<tr") + html.count("<div") + 2
    # each picture's height: dot gives it in px now (clean_dot_svg), in pt before
    pictures = sum(float(h) * (4 / 3 if unit == "pt" else 1)
                   for h, unit in re.findall(r'<svg[^>]*?height="([\d.]+)(pt)?"', html))
    shoot(html, out, width, int(min(60 + rows * 26 + pictures, 3000)))


class CrmPayload(pydantic.BaseModel):
    name: str
    tier: Literal["smb", "enterprise"]

class BillingPayload(pydantic.BaseModel):
    plan: Literal["starter", "pro", "enterprise"]
    mrr: int
    seats: int = 1

class LeadWorkflow(ig.Contract):
    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id")
        c.input("company_id")
        c.await_event("crm_data", event="crm_webhook_received", schema=CrmPayload, timeout=3600)
        c.await_event("billing_data", event="billing_data_fetched", schema=BillingPayload)

        @c.compute
        def account(crm_data):
            return f"{crm_data.name} ({crm_data.tier})"

        @c.aggregate
        def report(account, billing_data):
            return {"account": account, "plan": billing_data.plan, "mrr": billing_data.mrr}

        c.output("report")


def simulator_and_follow() -> tuple[Any, Any]:
    """Notebook 04's lead workflow: three workflows waiting in a store, the simulator on req-1 with its billing
    payload prefilled, and a ``Follow`` of req-1 after its CRM event (the same views over a server's Client)."""
    now = NOW
    store = MemoryStore(clock=lambda: NOW)
    for request_id, company_id in [("req-1", "co-42"), ("req-2", "co-42"), ("req-3", "co-7")]:
        LeadWorkflow.start(request_id=request_id, company_id=company_id, store=store, now=now)
    req1 = {"request_id": "req-1", "company_id": "co-42"}
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=req1, payload={"name": "Acme Corp", "tier": "smb"},
                               store=store, now=now)
    sim = ig.nb.EventSimulator(LeadWorkflow, store, now=now, engine="dot")
    sim.select(correlation=req1)
    sim.dry_run()  # made from Python: the static view (like the widget) does not show it
    follow = ig.nb.Follow(store.find_by_correlation("LeadWorkflow", req1), store, graph=LeadWorkflow, latest=5,
                          engine="dot", start=False)
    return sim, follow


def main() -> None:
    if CHROMIUM is None:
        raise SystemExit("chromium is needed to take the screenshots")
    approval = ApprovalContract(order_id="o-1", order_total=10)
    approval.resolve_all()
    failing = FailingContract(x=1).resolve_all()
    price = PriceContract(order_total=100, country="UA")
    price.resolve_all()

    svgs = {
        "graph_all_kinds_dot": reprs.graph_mimebundle(AllKinds.graph, engine="dot"),
        "graph_all_kinds_python": reprs.graph_mimebundle(AllKinds.graph, engine="python"),
        "instance_waiting_dot": reprs.contract_mimebundle(approval, engine="dot"),
        "instance_waiting_python": reprs.contract_mimebundle(approval, engine="python"),
        "instance_failed_dot": reprs.contract_mimebundle(failing, engine="dot"),
        "graph_collapsed_dot": reprs.graph_mimebundle(layered_graph(400, scope_size=50), engine="dot"),
        "graph_collapsed_python": reprs.graph_mimebundle(layered_graph(400, scope_size=50), engine="python"),
        "graph_50_python": reprs.graph_mimebundle(layered_graph(50, scope_size=10), engine="python"),
        "graph_labels_dot": reprs.graph_mimebundle(LabelledPrice.graph, engine="dot"),
        "graph_labels_python": reprs.graph_mimebundle(LabelledPrice.graph, engine="python"),
    }
    for name, bundle in svgs.items():
        svg_png(bundle["image/svg+xml"], HERE / f"{name}.png")

    def collection_define(c):
        c.input("items", type=list)
        c.collection("lines", source="items", each=Item, key="id")
        c.output("lines")

    lines = ig.contract(collection_define, name="OrderLines")(items=[{"id": "a", "qty": 2}, {"id": "b", "qty": "x"}])
    store = MemoryStore(clock=lambda: NOW)
    store.save({"execution_id": "wf-1", "states": {}}, graph="LeadWorkflow",
               correlation={"request_id": "r-1", "company_id": "co-42"}, status="waiting")
    store.save({"execution_id": "wf-2", "states": {}}, graph="LeadWorkflow",
               correlation={"request_id": "r-2", "company_id": "co-7"}, status="succeeded")
    playground = ig.nb.InputPlayground(PriceContract(order_total=100, country="UA"), engine="dot")
    playground.set(order_total=150)
    approval.resume("approval", {"ok": True})
    approval.resolve_all()
    stepper = ig.nb.SnapshotStepper(approval.audit.to_frame(), engine="dot")
    stepper.goto(next(i for i in stepper.steps if stepper.goto(i).type == "node_waiting"))

    sim, follow = simulator_and_follow()
    htmls = {
        "result": reprs.result_mimebundle(price.result)["text/html"],
        "plan": reprs.plan_mimebundle(PriceContract(order_total=1, country="UA").plan())["text/html"],
        "report": reprs.report_mimebundle(ApprovalContract(order_id="o-2", order_total=3).diagnostics)["text/html"],
        "timeline": reprs.timeline_mimebundle(price.audit)["text/html"],
        "collection": reprs.collection_mimebundle(lines.result.lines)["text/html"],
        "store": reprs.store_mimebundle(store)["text/html"],
        "playground": playground.to_html(),
        "stepper": stepper.to_html(),
        "simulator": sim.to_html(),  # the static view, as the widget opens: no dry run in it
        "follow": follow.to_html(),
    }
    for name, html in htmls.items():
        wide = name in ("playground", "stepper", "simulator", "follow")
        html_png(html, HERE / f"{name}.png", width=1300 if wide else 1000)
    print("\n".join(sorted(p.name for p in HERE.glob("*.png"))))


if __name__ == "__main__":
    main()
