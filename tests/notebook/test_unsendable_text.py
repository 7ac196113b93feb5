"""A lone UTF-16 surrogate (``os.fsdecode`` of a non-UTF-8 file name gives one, ``json.loads('"\\ud800"')`` too)
in an input, a value or an error message: every notebook bundle is still one Jupyter can send (it writes
messages as UTF-8 JSON), the surrogate shown as U+FFFD, and the HTML stays escaped."""

from __future__ import annotations

import json

import igniter_nb as ig
from igniter_nb.notebook import reprs

LONE = "file-\ud800<blink>.csv"


class Unsendable(ig.Contract):
    def define(c):
        c.input("path", type=str)
        c.await_event("approval", event="approved")

        @c.compute
        def echo(path):
            return {path: [path]}

        @c.compute
        def boom(path):
            raise ValueError(path)

        c.output("echo")
        c.output("boom")
        c.output("approval")


def assert_sendable(bundle):
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    # jupyter_client's json_packer: json.dumps(ensure_ascii=False).encode("utf8", errors="surrogateescape"),
    # which raises for U+D800 and writes U+DC80-U+DCFF as bytes that are not UTF-8: neither may be left
    json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    shown = " ".join(v for v in bundle.values() if isinstance(v, str))
    assert "\ufffd" in shown  # the rest of the text is still there, the surrogate shown as U+FFFD
    assert "<blink>" not in bundle.get("text/html", "")
    return bundle


def test_lone_surrogates_leave_every_bundle_sendable():
    c = Unsendable(path=LONE)
    c.resolve_all()
    for obj in (c, c.result, c.plan(), c.diagnostics, c.audit):
        assert_sendable(obj._repr_mimebundle_())
    assert_sendable(reprs.show(c)._repr_mimebundle_())


def test_lone_surrogates_in_a_store_listing_and_a_frame_stay_sendable():
    from igniter_nb.notebook.frames import audit_frame, states_frame
    from igniter_nb.notebook.store_frames import store_frame
    from igniter_nb.stores import MemoryStore

    store = MemoryStore()
    store.save({"execution_id": "e-1", "states": {}}, graph="Lead", correlation={"path": LONE}, status="waiting")
    assert_sendable(store._repr_mimebundle_())
    assert_sendable({"text/html": store_frame(store)._repr_html_()})
    c = Unsendable(path=LONE)
    c.resolve_all()
    for frame in (states_frame(c), audit_frame(c.execution)):
        assert_sendable({"text/html": frame._repr_html_()})


def test_lone_surrogates_in_html_pieces_widgets_show_stay_sendable():
    # Widget views (EventSimulator, Follow, SnapshotStepper, InputPlayground) set their HTML values from these
    # pieces; a widget's value goes to the front end as UTF-8 JSON like any output.
    from igniter_nb.notebook import html as h
    from igniter_nb.notebook.delivery import error_html, note_html
    from igniter_nb.notebook.stepper import _table

    pieces = [h.table([[LONE, LONE]], ["a", "status"]), h.pre(LONE), h.heading(LONE, LONE, LONE), h.badge(LONE),
              h.details(LONE, ""), error_html(LONE, LONE + "\nmore " + LONE), note_html(LONE),
              _table([[LONE, LONE]], ["a", "b"], badges=(1,))]
    for piece in pieces:
        assert_sendable({"text/html": piece})
