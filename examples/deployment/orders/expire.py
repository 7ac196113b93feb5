"""`python -m orders.expire`: time out the orders whose shipment is overdue. Run it every minute (a systemd timer,
cron, or the Procfile's `clock`); any number of hosts may run it at once (every change is a compare-and-set)."""

from __future__ import annotations

from orders.contracts import OrderWorkflow

if __name__ == "__main__":
    expired = OrderWorkflow.expire_due()
    print(f"timed out {len(expired)} order workflow(s)")
