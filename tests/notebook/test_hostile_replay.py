"""Hostile-user trial of ``ig.nb.replay`` and a SnapshotStepper over an audit frame edited by hand or written by
another tool: a payload whose ``waiting_for`` is a number and whose ``event`` is a map, a ``seq`` that is NaN or
text. The steps show what they can; what cannot be ordered is a ``ValueError`` naming the row."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from contracts import ApprovalContract  # (the module the other files import: one ApprovalContract class)

import igniter_nb as ig
from tests.notebook.test_hostile_values import assert_inert

SCRIPT = "<script>alert(1)</script>"


def _frame(**first: Any) -> pd.DataFrame:
    rows = [{"seq": 1, "type": "node_waiting", "node": "approval", "path": "approval", "status": "waiting",
             "graph": "ApprovalContract", "execution_id": "e-1", "payload": "{}", **first},
            {"seq": 2, "type": "node_failed", "node": "summary", "path": "summary", "status": "failed",
             "graph": "ApprovalContract", "execution_id": "e-1", "payload": json.dumps({"error": SCRIPT})}]
    return pd.DataFrame(rows)


ODD_PAYLOADS = {
    "waiting_for a number": {"waiting_for": 5, "event": {"name": SCRIPT}, "error": [1]},
    "waiting_for one name": {"waiting_for": "order_id", "event": 7},
    "waiting_for odd items": {"waiting_for": [1, None, SCRIPT]},
}


@pytest.mark.parametrize("payload", ODD_PAYLOADS.values(), ids=list(ODD_PAYLOADS))
def test_a_payload_of_odd_shape_still_replays_and_shows(payload: dict[str, Any]) -> None:
    """``waiting_for: 5`` made replay raise ``TypeError: 'int' object is not iterable``, and the stepper with it."""
    frame = _frame(payload=json.dumps(payload))
    steps = list(ig.nb.replay(frame))
    first = steps[0].states["approval"]
    assert first.status == "waiting"
    assert all(isinstance(name, str) for name in first.waiting_for)
    assert first.event is None or isinstance(first.event, str)
    stepper = ig.nb.SnapshotStepper(frame, graph=ApprovalContract)
    stepper.goto(0)
    bundle = stepper._repr_mimebundle_()
    assert "approval" in bundle["text/plain"]
    assert_inert(bundle["text/html"])


def test_a_waiting_for_name_given_as_text_is_one_name() -> None:
    steps = list(ig.nb.replay(_frame(payload=json.dumps({"waiting_for": "order_id"}))))
    assert steps[0].states["approval"].waiting_for == ("order_id",)


@pytest.mark.parametrize("seq", [float("nan"), "first", None], ids=["NaN", "text", "None"])
def test_a_seq_that_is_not_a_whole_number_is_named_with_its_row(seq: Any) -> None:
    """A NaN ``seq`` raised ``cannot convert float NaN to integer``, a text one a ``TypeError`` from sorting:
    neither said which column or row."""
    frame = _frame(seq=seq)
    with pytest.raises(ValueError, match=r"row 0 has seq .*every seq is a whole number"):
        list(ig.nb.replay(frame))
    with pytest.raises(ValueError, match=r"row 0 has seq"):
        ig.nb.SnapshotStepper(frame, graph=ApprovalContract)
