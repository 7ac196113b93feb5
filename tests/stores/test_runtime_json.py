"""Runtime snapshots are written by ``orjson`` on the JSON stores (``save(..., check_json=False)``,
``stores.json_text.runtime_json``): the same JSON as the checked encoder, ASCII text, and the checked encoder for what
``orjson`` would write differently (non-ASCII text, ints beyond 64 bits)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import igniter_nb as ig
from igniter_nb.errors import SnapshotEncodingError, StoreError
from igniter_nb.stores.base import (
    SaveRequest,
)
from igniter_nb.stores.json_text import _SNAPSHOT_JSON, parse_stored, runtime_json

# What the runtime puts in a snapshot: text keys, finite floats (the codec tags the others), any int, any text.
_LEAVES = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text())
_PLAIN = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=30)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_PLAIN)
def test_runtime_json_is_the_checked_encoders_json_in_ascii(value: Any) -> None:
    text = runtime_json(value)
    assert text.isascii()
    assert json.loads(text) == json.loads(_SNAPSHOT_JSON.encode(value))
    assert runtime_json(value) == text  # the same value, the same text (packed parts are keyed by its digest)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**40, "caf\u00e9", "\U0001f600", "\ud800 lone", {"k\u00e9": 1}])
def test_what_orjson_would_write_differently_is_written_by_the_checked_encoder(value: Any) -> None:
    assert runtime_json(value) == _SNAPSHOT_JSON.encode(value)


def test_a_trusted_save_request_fails_as_the_checked_one_for_what_no_encoder_writes() -> None:
    for bad in ({"execution_id": "ex-1", "v": object()}, {"execution_id": "ex-1", "v": {1, 2}}):
        with pytest.raises(SnapshotEncodingError, match="not JSON-safe"):
            SaveRequest.build(bad, None, None, None, None, trusted=True)
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(SnapshotEncodingError, match="nested too deeply"):
        SaveRequest.build({"execution_id": "ex-1", "v": deep}, None, None, None, None, trusted=True)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_PLAIN)
def test_stored_text_reads_back_as_the_standard_decoder_reads_it(value: Any) -> None:
    for text in (runtime_json(value), _SNAPSHOT_JSON.encode(value), json.dumps(value, ensure_ascii=False)):
        read = parse_stored(text, "test")
        assert read == json.loads(text)
        assert json.dumps(read) == json.dumps(json.loads(text))  # the same types too (an int stays an int)


@pytest.mark.parametrize("text", [
    "[123456789012345678901234567890]", "[-9223372036854775809]", "[18446744073709551616]",  # past 64 bits
    '{"id":"1234567890123456789012"}', "[1e400]", "[NaN,-Infinity]", '"\\ud800"', '["\\udc80x"]', "[-0, -0.0]",
])
def test_what_orjson_would_read_differently_is_read_by_the_standard_decoder(text: str) -> None:
    read = parse_stored(text, "test")
    assert repr(read) == repr(json.loads(text))


def test_unreadable_stored_text_still_names_where_it_was() -> None:
    with pytest.raises(StoreError, match="executions row ex-1: stored data is not valid JSON"):
        parse_stored('{"a": [1, 2', "executions row ex-1")
    with pytest.raises(StoreError, match="nested too deeply"):
        parse_stored("[" * 100_000 + "]" * 100_000, "executions row ex-1")


class Plain(ig.Contract):
    """ASCII text and ints within 64 bits: the snapshot is written by orjson (a NaN is tagged by the codec)."""

    def define(c):
        c.input("key", type=str)
        c.compute("nums", depends_on=["key"], call=lambda key: {"top": 2**63, "bottom": -(2**63), "floats": [
            float("nan"), float("-inf"), -0.0, 1e-320, 1e300, 0.1, 2.5e-05], "html": "<script>\"x\"</script>\n\t\x00"})
        c.output("nums")


def test_runtime_snapshots_written_by_orjson_round_trip_exactly(store: Any) -> None:
    contract = Plain({"key": "k0"}, runner="store", store=store)
    contract.resolve_all()
    nums = Plain.restore_from_store(contract.execution_id, store=store).result.nums
    assert nums["top"] == 2**63 and nums["bottom"] == -(2**63) and type(nums["top"]) is int
    nan, ninf, zero, tiny, large, tenth, small = nums["floats"]
    assert math.isnan(nan) and ninf == -math.inf and math.copysign(1, zero) == -1.0
    assert (tiny, large, tenth, small) == (1e-320, 1e300, 0.1, 2.5e-05)
    assert nums["html"] == "<script>\"x\"</script>\n\t\x00"
    assert store.fetch(contract.execution_id) == store.history(contract.execution_id)[-1]


class Values(ig.Contract):
    """Values orjson and the standard encoder would write differently, and a NaN the codec tags."""

    def define(c):
        c.input("key", type=str)
        c.compute("big", depends_on=["key"], call=lambda key: {"n": 2**70, "neg": -(2**65), "small": 2**63})
        c.compute("text", depends_on=["key"], call=lambda key: {"accent": "caf\u00e9", "emoji": "\U0001f600",
                                                                "lone": "\udc80", "html": "<b>&amp;</b>"})
        c.compute("odd", depends_on=["key"], call=lambda key: [float("nan"), float("inf"), -0.0, 1e-320, 1e300, 2.5e-05])
        c.output("big")
        c.output("text")
        c.output("odd")


def test_runtime_snapshots_round_trip_exactly_on_every_store(store: Any) -> None:
    contract = Values({"key": "k1"}, runner="store", store=store)
    contract.resolve_all()
    again = Values.restore_from_store(contract.execution_id, store=store)
    result = again.result
    assert result.big == {"n": 2**70, "neg": -(2**65), "small": 2**63}
    assert type(result.big["n"]) is int
    assert result.text == {"accent": "caf\u00e9", "emoji": "\U0001f600", "lone": "\udc80", "html": "<b>&amp;</b>"}
    nan, inf, zero, tiny, large, small = result.odd
    assert math.isnan(nan) and inf == math.inf and zero == 0.0 and math.copysign(1, zero) == -1.0
    assert tiny == 1e-320 and large == 1e300 and small == 2.5e-05
    assert store.fetch(contract.execution_id) == store.history(contract.execution_id)[-1]


def test_the_sql_store_keeps_runtime_text_ascii(sql_store: Any) -> None:
    import sqlalchemy as sa

    contract = Values({"key": "k2"}, runner="store", store=sql_store)
    contract.resolve_all()
    with sql_store.engine.connect() as conn:
        texts = conn.execute(sa.text(f"SELECT snapshot FROM {sql_store.table_prefix}executions")).scalars().all()
    plain = Plain({"key": "k3"}, runner="store", store=sql_store)
    plain.resolve_all()
    with sql_store.engine.connect() as conn:
        fast = conn.execute(sa.text(f"SELECT snapshot FROM {sql_store.table_prefix}executions WHERE execution_id = "
                                    ":eid"), {"eid": plain.execution_id}).scalar_one()
    assert "0.000025" in fast and "2.5e-05" not in fast  # orjson's spelling of 2.5e-05: the fast path wrote it
    assert len(texts) == 1 and texts[0].isascii()
    assert "caf\\u00e9" in texts[0] and "2.5e-05" in texts[0]  # non-ASCII: the standard encoder wrote it
    assert json.loads(texts[0])["states"]["text"]["value"]["accent"] == "caf\u00e9"
