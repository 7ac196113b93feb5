"""Draw the picture of README.md and docs/index.md: a workflow waiting for its second webhook.

    .venv/bin/python scripts/build_readme_picture.py

Writes docs/images/waiting_workflow.svg (our pure-Python renderer, so the picture is the same on every machine)
and docs/images/waiting_workflow.png (that SVG screenshotted by headless Chromium, for places that show no SVG).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import igniter_nb as ig
from igniter_nb.notebook import reprs
from igniter_nb.stores import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class LeadWorkflow(ig.Contract):
    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id")
        c.input("company_id")
        c.await_event("crm_data", event="crm_webhook_received")
        c.await_event("billing_data", event="billing_data_fetched")

        @c.compute
        def account(crm_data):
            return f"{crm_data['name']} ({crm_data['tier']})"

        @c.aggregate
        def report(account, billing_data):
            return {"account": account, "plan": billing_data["plan"]}

        c.output("report")


def main() -> None:
    store = MemoryStore()
    correlation = {"request_id": "req-1", "company_id": "co-42"}
    LeadWorkflow.start(**correlation, store=store, now=NOW)
    waiting = LeadWorkflow.deliver_event("crm_webhook_received", correlation=correlation,
                                         payload={"name": "Acme", "tier": "enterprise"}, store=store, now=NOW)
    svg = reprs.contract_mimebundle(waiting, engine="python")["image/svg+xml"]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "waiting_workflow.svg").write_text(svg, encoding="utf-8")

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is needed for the PNG")
    m = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg)
    width, height = (float(m.group(1)), float(m.group(2))) if m else (900.0, 500.0)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "picture.html"
        page.write_text(f'<html><body style="margin:0;background:#fff">{svg}</body></html>', encoding="utf-8")
        # twice the pixels, so the PNG stays sharp on high-density screens
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=2", f"--screenshot={OUT / 'waiting_workflow.png'}",
                        f"--window-size={int(width) + 1},{int(height) + 1}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(OUT / "waiting_workflow.svg", OUT / "waiting_workflow.png", sep="\n")


if __name__ == "__main__":
    main()
