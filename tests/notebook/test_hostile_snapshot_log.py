"""Hostile-user trial of a SnapshotStepper over a snapshot log (a DataFrame, or parquet) edited by hand or cut
short: a snapshot that is not JSON raised ``JSONDecodeError: Expecting value: line 1 column 1`` naming no version,
from the stepper's repr too (the notebook showed nothing); a version that is NaN or text failed in ``int()`` or in
sorting. Now: a ``ValueError`` naming the version or row, and a repr that says which step cannot be shown."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from contracts import ApprovalContract  # (the module the other files import: one ApprovalContract class)

import igniter_nb as ig
from tests.notebook.test_hostile_values import assert_inert

GOOD = json.dumps({"format": "igniter_nb.snapshot/1", "execution_id": "e-1",
                   "states": {"order_id": {"status": "succeeded", "value": "o-1"}}})


def _log(**first: Any) -> pd.DataFrame:
    row = {"execution_id": "e-1", "version": 1, "saved_at": pd.Timestamp("2026-01-01", tz="UTC"),
           "graph": "ApprovalContract", "status": "waiting", "correlation": "{}", "snapshot": GOOD}
    return pd.DataFrame([{**row, **first}, {**row, "version": 2}])


@pytest.mark.parametrize("snapshot", ["<script>alert(1)</script>", GOOD[:-5]], ids=["not JSON", "cut short"])
def test_a_snapshot_that_is_not_json_is_named_by_its_version(snapshot: str) -> None:
    stepper = ig.nb.SnapshotStepper(_log(snapshot=snapshot), graph=ApprovalContract)
    bundle = stepper._repr_mimebundle_()  # step 0: the damaged one
    assert "step 0 cannot be shown" in bundle["text/plain"]
    assert "version 1 of the snapshot log: its snapshot is not JSON" in bundle["text/plain"]
    assert_inert(bundle["text/html"])
    with pytest.raises(ValueError, match=r"version 1 of the snapshot log: its snapshot is not JSON"):
        stepper.goto(0)
    assert stepper.goto(1) is not None  # the other versions still step


@pytest.mark.parametrize("version", [float("nan"), "first"], ids=["NaN", "text"])
def test_a_version_that_is_not_a_whole_number_is_named_with_its_row(version: Any) -> None:
    with pytest.raises(ValueError, match=r"not a snapshot log: row 0 has version .*every version is a whole number"):
        ig.nb.SnapshotStepper(_log(version=version), graph=ApprovalContract)
