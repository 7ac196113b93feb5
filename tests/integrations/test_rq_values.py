"""RQ enqueue calls carrying values that travel through the codec but not through RQ's JSON: an integer of more
digits than Python reads or writes as JSON text (4300 by default). It must be refused at enqueue, naming the place,
and nothing enqueued — not fail with json's "Exceeds the limit" naming nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rq import Queue

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from tests.integrations.int_contracts import AsyncQuote, OrderWorkflow

pytestmark = pytest.mark.services

HUGE = 10**5000


@pytest.mark.parametrize(("call", "where"), [
    (lambda queue: ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-1", "placed_on": {"n": [1, HUGE]}},
                                       queue=queue), "inputs.placed_on.n[1]"),
    (lambda queue: ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-1"},
                                               payload={"carrier": "x", "weight": -HUGE}, queue=queue),
     "payload.weight"),
    (lambda queue: ig_rq.enqueue_resume(AsyncQuote, "e-1", token="t", value=HUGE, queue=queue), "value"),
])
def test_an_integer_too_long_for_json_is_refused_at_enqueue_naming_the_place(queue: Queue, call: Any,
                                                                             where: str) -> None:
    with pytest.raises(ig.SnapshotEncodingError, match="5001 digits") as raised:
        call(queue)
    assert raised.value.context["path"] == where, raised.value.context
    assert where in str(raised.value)
    assert queue.count == 0


def test_an_integer_just_under_the_limit_is_still_enqueued(queue: Queue) -> None:
    job = ig_rq.enqueue_resume(AsyncQuote, "e-1", token="t", value=10**4200, queue=queue)
    assert queue.count == 1 and job.kwargs["value"] == 10**4200


class _CountingLimit(int):
    """A digit limit that counts how often ``10 ** limit`` is computed (``int.__rpow__`` of a subclass runs first)."""

    powers = 0

    def __rpow__(self, base: Any, mod: Any = None) -> Any:
        type(self).powers += 1
        return pow(base, int(self), mod)


def test_the_digit_bound_is_computed_once_not_per_integer() -> None:
    """Each integer compared with ``10**limit`` computed it again: a payload of 5,000 small numbers and one too long
    paid 5,000 big powers on the error path (``sys.set_int_max_str_digits`` can be millions)."""
    _CountingLimit.powers = 0
    found = ig_rq._long_int_at({"n": [*range(5000), HUGE]}, "payload", _CountingLimit(4300))
    assert found == ("payload.n[5000]", 5001)
    assert _CountingLimit.powers <= 1


@pytest.mark.parametrize(("value", "where", "shown"), [
    ({"k" * 100_000: HUGE}, "payload." + "k" * 100_000, "payload.kkkk"),
    ({"<b>&amp;": [0] * 3 + [-HUGE]}, "payload.<b>&amp;[3]", "payload.<b>&amp;[3]"),
])
def test_the_place_of_a_long_integer_is_named_in_a_readable_message(queue: Queue, value: Any, where: str,
                                                                    shown: str) -> None:
    """A key of 100,000 characters made a message of 200,000 (the place, then again as its context): the place is
    cut as the codec cuts it (head and tail, the characters left out counted), ``full_path`` keeps it whole."""
    with pytest.raises(ig.SnapshotEncodingError, match="5001 digits") as raised:
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-1"}, payload=value,
                                    queue=queue)
    err = raised.value
    assert err.full_path == where and err.context["path"].startswith(shown) and len(str(err)) < 700
    assert f"at {err.context['path']}: an integer" in str(err)
    assert queue.count == 0


def test_a_main_class_far_down_a_long_key_is_named_readably(
        queue: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import sys

    parcel = dataclasses.make_dataclass("Parcel", [("carrier", str)], namespace={"__module__": "__main__"})
    monkeypatch.setattr(sys.modules["__main__"], "Parcel", parcel, raising=False)
    with pytest.raises(ig.SnapshotEncodingError, match=r"it is a .*__main__:Parcel.*a worker cannot import") as raised:
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-1"},
                                    payload={"<i>" * 20_000: parcel("ups")}, queue=queue)
    assert raised.value.full_path == "payload." + "<i>" * 20_000 and len(str(raised.value)) < 800
    assert queue.count == 0
