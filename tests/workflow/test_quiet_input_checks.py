"""A quiet or completing delivery checks the workflow's inputs as often as the general path does: the delivered
correlation against its keys' input types once (``check_delivery_correlation``), and each input once more when the
contract returned is restored. The proof before the save that the record restores (``applied_save.restores``)
checked the correlation keys' stored values a second time; they are the delivered values, checked already.

Counted with an input type whose ``isinstance`` check counts its calls (a metaclass hook), not with timing."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import quiet

CHECKS: list[Any] = []


class _Counting(type):
    def __instancecheck__(cls, value: Any) -> bool:
        CHECKS.append(value)
        return isinstance(value, str)


class Key(metaclass=_Counting):
    """Any str, each check counted."""


class Counted(ig.Contract):
    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("key")
        c.input("key", type=Key)
        c.await_event("a", event="a_arrived")
        c.await_event("b", event="b_arrived")
        c.compute("joined", depends_on=["a", "b"], call=lambda a, b: [a, b])
        c.output("joined")


def _checks_of(event: str, *, general: bool, monkeypatch: pytest.MonkeyPatch,
               fast: Any) -> tuple[int, int, int]:
    """``(checks made by the delivery, checks when its contract is first read, fast paths it took)``."""
    monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
    store = MemoryStore()
    Counted.start({"key": "k-1"}, store=store)
    if event == "b_arrived":
        Counted.deliver_event("a_arrived", correlation={"key": "k-1"}, payload=1, store=store)
    CHECKS.clear()
    before = fast()
    wf = Counted.deliver_event(event, correlation={"key": "k-1"}, payload=2, store=store)
    delivered = len(CHECKS)
    taken = fast() - before
    assert wf.execution.workflow["status"] in ("waiting", "succeeded")  # (reads it: restored now at the latest)
    return delivered, len(CHECKS) - delivered, taken


@pytest.mark.parametrize("event", ["a_arrived", "b_arrived"])  # quiet, then completing
def test_fast_paths_check_the_inputs_as_often_as_the_general_path(
        event: str, monkeypatch: pytest.MonkeyPatch, count_quiet: list[int],
        count_completing: dict[str, int]) -> None:
    def fast() -> int:
        return count_quiet[0] + count_completing["applied"]

    delivered, on_read, taken = _checks_of(event, general=True, monkeypatch=monkeypatch, fast=fast)
    assert taken == 0
    general = delivered + on_read
    delivered, on_read, taken = _checks_of(event, general=False, monkeypatch=monkeypatch, fast=fast)
    assert taken == 1  # (this delivery took a fast path)
    assert general == 2  # the delivered correlation, then the restored input
    assert delivered == 1  # the delivered correlation: its stored input is that value, not checked again
    assert delivered + on_read == general


class Extra(ig.Contract):
    """An input besides the correlation key: the proof before the save still checks it."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("key")
        c.input("key", type=str)
        c.input("region", type=Key)
        c.await_event("a", event="a_arrived")
        c.await_event("b", event="b_arrived")
        c.compute("joined", depends_on=["a", "b", "region"], call=lambda a, b, region: [a, b, region])
        c.output("joined")


def test_an_input_that_is_no_correlation_key_is_still_checked_before_the_save(count_quiet: list[int]) -> None:
    store = MemoryStore()
    Extra.start({"key": "k-1", "region": "eu"}, store=store)
    CHECKS.clear()
    Extra.deliver_event("a_arrived", correlation={"key": "k-1"}, payload=1, store=store)
    assert count_quiet == [1]
    assert CHECKS == ["eu"]
