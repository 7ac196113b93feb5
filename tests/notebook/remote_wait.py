"""A contract whose node waits as a remote node does when the other server answers "pending", its URL holding a
password: shared by the notebook's password tests (no server runs)."""

from __future__ import annotations

import igniter_nb as ig

SECRET = "secret"
URL = f"http://user:{SECRET}@127.0.0.1:9/"
SHOWN = "http://user:***@127.0.0.1:9/"


class RemoteCallStandIn(ig.Executor):
    """Defers as a remote node does when the other server answers "pending": the same token and payload."""

    def call(self, text):  # type: ignore[no-untyped-def]
        return self.defer(token="remote:r-1", payload={
            "remote_url": URL, "remote_contract": "score", "remote_execution_id": "r-1", "remote_status": "pending",
            "waiting_for": [], "inputs_digest": "d", "timeout": 5.0})


class Waiting(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("text", type=str)
        c.compute("sentiment", depends_on=["text"], call=RemoteCallStandIn)
        c.output("sentiment")
