"""Text holding an unpaired UTF-16 surrogate (what ``os.fsdecode`` makes of a non-UTF-8 file name), given in
process to ``start`` and ``deliver_event``, is kept and read back equal on every store kind, and a repeat of the
delivery with its idempotency key is recognised (its payload digest used to raise a bare ``UnicodeEncodeError``).
Over HTTP, webhooks and RQ such text is refused at the boundary instead (docs/server.md, docs/integrations.md)."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig

ODD = "report-\udce9.csv"  # os.fsdecode(b"report-\xe9.csv") on a UTF-8 file system


class Upload(ig.Contract):
    def define(c):
        c.correlate_by("name")
        c.input("name", type=str)
        c.await_event("file", event="file_arrived", schema=dict)

        @c.compute
        def seen(name, file):
            return {"name": name, "file": file}

        c.output("seen")


def test_a_lone_surrogate_in_a_correlation_and_a_payload_is_kept_on_every_store(store: Any) -> None:
    started = Upload.start(name=ODD, store=store)
    done = Upload.deliver_event("file_arrived", correlation={"name": ODD}, payload={"path": ODD}, store=store,
                                idempotency_key="k1")
    assert done.result.seen == {"name": ODD, "file": {"path": ODD}}
    again = Upload.restore_from_store(started.execution_id, store=store)
    assert again.result.seen == {"name": ODD, "file": {"path": ODD}}
    version = store.record(started.execution_id).version
    repeat = Upload.deliver_event("file_arrived", correlation={"name": ODD}, payload={"path": ODD}, store=store,
                                  idempotency_key="k1")
    assert repeat.execution_id == started.execution_id
    assert store.record(started.execution_id).version == version  # answered from the record, nothing written
    assert len(store.record(started.execution_id).snapshot["workflow"]["signals"]) == 1
