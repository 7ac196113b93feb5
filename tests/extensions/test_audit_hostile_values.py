"""The audit snapshot and the states view with values user code may produce: odd types, deep nesting."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import igniter_nb as ig


@ig.contract
def Echo(c):
    c.input("a")
    c.compute("b", call=lambda a: a)
    c.output("b")


class Opaque:
    def __str__(self) -> str:
        return "opaque"


def test_audit_snapshot_is_json_data_whatever_the_values():
    odd = {"when": dt.datetime(2020, 1, 2, 3, 4, 5), "price": decimal.Decimal("1.10"), "nan": float("nan"),
           (1, 2): "tuple key", "tags": {"b", "a"}, "obj": Opaque(), "raw": b"\x00\xff"}
    echo = Echo(a=odd)
    assert echo.result.b is odd
    snap = echo.audit.snapshot()
    text = json.dumps(snap, allow_nan=False)  # strict JSON: no TypeError, no NaN literal
    value = json.loads(text)["states"]["b"]["value"]
    assert value == {"when": "2020-01-02T03:04:05", "price": "1.10", "nan": "NaN", "[1, 2]": "tuple key",
                     "tags": ["a", "b"], "obj": "opaque", "raw": "AP8="}
    updated = [e for e in snap["events"] if e["type"] == "input_updated"]
    assert updated == []  # (set at construction: no update event)
    echo.update_inputs(a=dt.date(2021, 5, 6))
    snap = echo.audit.snapshot()
    [event] = [e for e in snap["events"] if e["type"] == "input_updated"]
    assert event["payload"] == {"value": "2021-05-06"}
    json.dumps(snap, allow_nan=False)


def _deep(levels: int) -> list:
    top: list = []
    cur = top
    for _ in range(levels):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    return top


def test_states_and_audit_snapshot_survive_a_deeply_nested_value():
    # contract.states "never raises": a value nested 5,000 lists deep raised RecursionError.
    deep = _deep(5000)
    echo = Echo(a=deep)
    assert echo.result.b is deep
    shown = echo.states["b"]["value"]  # the first levels as display values, the deeper ones kept as they are
    for _ in range(150):
        assert isinstance(shown, list) and len(shown) == 1
        shown = shown[0]
    snap = echo.audit.snapshot()
    json.dumps(snap)
    assert "..." in json.dumps(snap["states"]["b"]["value"])  # cut off, as the server does
