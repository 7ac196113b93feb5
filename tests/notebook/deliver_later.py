"""Another process delivering the SvcLead events, for the live-view tests: into a store directly, or through a server.

    python -m tests.notebook.deliver_later --store sqlite:////tmp/x.db --request r-1 crm billing
    python -m tests.notebook.deliver_later --server http://127.0.0.1:8000 --token T --request r-1 crm

``--delay`` seconds pass before each delivery (so the watcher is already waiting). Prints one line per delivery;
exits non-zero on the first error.
"""

from __future__ import annotations

import argparse
import time

EVENTS = {"crm": ("crm_received", {"name": "Acme", "tier": "enterprise"}), "billing": ("billing_ready", {"plan": "pro"})}


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--store")
    where.add_argument("--server")
    parser.add_argument("--token")
    parser.add_argument("--request", required=True)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("events", nargs="*", choices=sorted(EVENTS))
    args = parser.parse_args()
    import igniter_nb as ig
    from tests.notebook.service_contracts import SvcLead

    correlation = {"request_id": args.request}
    if args.store:
        from igniter_nb.stores.url import from_url

        with from_url(args.store) as store:
            for name in args.events:
                time.sleep(args.delay)
                event, payload = EVENTS[name]
                wf = SvcLead.deliver_event(event, correlation=correlation, payload=payload, store=store)
                print(event, wf.workflow_status, flush=True)
        return
    with ig.server.Client(args.server, token=args.token, timeout=10) as client:
        for name in args.events:
            time.sleep(args.delay)
            event, payload = EVENTS[name]
            print(event, client.deliver_event("lead", event=event, correlation=correlation, payload=payload)["status"],
                  flush=True)


if __name__ == "__main__":
    main()
