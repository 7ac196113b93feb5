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


class Noted(ig.Contract):
    def define(c):
        c.correlate_by("rid")
        c.input("rid", type=str)
        c.input("note", required=False, default=None)
        c.await_event("got", event="done")  # (no schema: the payload is kept as the editor read it)

        @c.compute
        def seen(note, got):
            return {"note": note, "got": got}

        c.output("seen")


def test_a_lone_surrogate_the_payload_editor_reads_is_kept_as_value_and_key_on_every_store(store: Any) -> None:
    # The EventSimulator's payload editor reads the escape "\ud800" (valid JSON syntax) into a lone surrogate.
    # Given in process, to a start input that is not a correlation value and to a payload's value and key, every
    # store keeps it and reads it back equal: nothing fails late (the engine need not refuse it up front; over
    # HTTP the server's JSON reader refuses it with a 400 naming where it is: tests/server/test_bad_requests.py).
    from igniter_nb.notebook.payload_editor import read_payload_text

    payload = read_payload_text('{"path": "a\\ud800b", "k\\udc00": ["\\udfff"]}')
    assert payload == {"path": "a\ud800b", "k\udc00": ["\udfff"]}
    started = Noted.start({"rid": "r1", "note": "n\ud800"}, store=store)
    done = Noted.deliver_event("done", correlation={"rid": "r1"}, payload=payload, store=store)
    expected = {"note": "n\ud800", "got": payload}
    assert done.result.seen == expected and done.workflow_status == "succeeded"
    record = store.record(started.execution_id)
    assert record.status == "succeeded" and record.version == 2
    assert Noted.restore_from_store(started.execution_id, store=store).result.seen == expected
    assert [len(h["workflow"]["signals"]) for h in store.history(started.execution_id)] == [0, 1]
