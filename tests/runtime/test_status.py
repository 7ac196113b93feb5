"""`status` and the reporting APIs never raise on failed contracts (L-05)."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig


@ig.contract
def HalfBroken(c):
    c.input("x", type="integer")

    @c.compute
    def broken(x):
        raise ValueError("kaput")

    @c.compute
    def fine(x):
        return x + 1

    c.output("broken")
    c.output("fine")


def test_status_is_a_str_enum():
    assert issubclass(ig.Status, str)
    assert ig.Status.SUCCEEDED == "succeeded"
    assert {s.value for s in ig.Status} >= {"succeeded", "failed", "pending", "waiting", "running", "stale"}


def test_status_of_failed_contract_does_not_raise_L05():
    contract = HalfBroken(x=1)
    assert contract.status is ig.Status.FAILED
    assert contract.failed is True
    assert contract.succeeded is False
    assert contract.pending is False
    assert contract.waiting is False
    assert contract.result.status is ig.Status.FAILED
    assert contract.result.failed is True


def test_result_errors_to_dict_states_do_not_raise_L05():
    contract = HalfBroken(x=1)
    errors = contract.result.errors
    assert list(errors) == ["broken"]
    assert isinstance(errors["broken"], ig.ResolutionError)
    data = contract.result.to_dict()
    assert data["fine"] == 2
    assert data["broken"]["status"] == "failed"
    assert data["broken"]["error"]["type"] == "ResolutionError"
    assert data["broken"]["error"]["cause_type"] == "ValueError"
    json.dumps(data)  # plain data
    states = contract.result.states
    assert states["broken"]["status"] == "failed"
    assert states["broken"]["error_type"] == "ResolutionError"
    assert "kaput" in states["broken"]["error"]
    assert states["fine"]["status"] == "succeeded"
    assert contract.states["broken"]["status"] == "failed"


def test_execution_states_do_not_raise_L05():
    contract = HalfBroken(x=1)
    contract.resolve_all()  # never raises either
    assert contract.execution.states["broken"].status is ig.Status.FAILED


def test_execution_to_dict_does_not_raise_L05():
    contract = HalfBroken(x=1)
    data = contract.execution.to_dict()
    assert data["execution_id"] == contract.execution_id
    assert data["status"] == "failed"


def test_raise_for_status():
    with pytest.raises(ig.ResolutionError, match="kaput"):
        HalfBroken(x=1).raise_for_status()

    @ig.contract
    def Ok(c):
        c.input("x")
        c.output("x")

    contract = Ok(x=1)
    assert contract.raise_for_status() is contract


def test_reading_the_failed_output_raises_but_the_other_does_not():
    contract = HalfBroken(x=1)
    assert contract.result.fine == 2
    with pytest.raises(ig.ResolutionError, match="ValueError: kaput"):
        _ = contract.result.broken


def test_status_succeeded_pending():
    class Later(ig.Executor):
        def call(self, x):
            return self.defer()

    @ig.contract
    def Pending(c):
        c.input("x")
        c.compute("later", call=Later)
        c.output("later")

    contract = Pending(x=1)
    assert contract.status is ig.Status.PENDING
    assert contract.pending is True
    assert contract.result.to_dict()["later"]["token"] == contract.first_deferred().token
