"""What a snapshot error says about stored data it cannot use (2026-12-04 trials): a dict that is not a snapshot
names the execution and graph it was to restore; a key holding a newline, a control or a bidi character is shown
escaped as ``repr`` shows it, so the message stays one readable line (``full_path`` keeps the key exact)."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime import codec
from tests.runtime.snapshot_contracts import Checkout

ODD_KEY = "line\nbreak\r\x00\x1b[31m\u202eevil\u2028\ud800"


def _one_line(text: str) -> None:
    assert text.isprintable(), repr(text)  # no newline, control, bidi or lone surrogate character left raw


def test_a_dict_that_is_not_a_snapshot_names_the_execution_and_the_graph() -> None:
    with pytest.raises(ig.SnapshotEncodingError) as info:
        Checkout.restore({"execution_id": "x", "states": {}})
    err = info.value
    assert err.execution_id == "x" and err.graph == "Checkout"
    assert str(err).startswith("not an igniter_nb snapshot (format None")
    assert str(err).endswith("[graph=Checkout, execution=x]")


@pytest.mark.parametrize("execution_id, shown", [
    ("<b>x</b>\n" * 100, repr("<b>x</b>\n" * 100)[:80]),  # escaped, cut to 80
    ("a" * 10_000, repr("a" * 10_000)[:80]),
    (12, "12"),
    (["x"], "['x']"),
    ("abc\u202edef", "'abc\\u202edef'"),
])
def test_an_odd_execution_id_is_named_escaped_and_cut(execution_id: Any, shown: str) -> None:
    for snapshot in ({"execution_id": execution_id}, {**Checkout(total=1).snapshot(), "execution_id": execution_id,
                                                      "graph": "Other"}):
        with pytest.raises(ig.SnapshotEncodingError) as info:
            Checkout.restore(snapshot)
        assert info.value.execution_id == shown
        _one_line(str(info.value))
        assert len(str(info.value)) < 300


def test_not_a_mapping_names_the_graph_only() -> None:
    with pytest.raises(ig.SnapshotEncodingError) as info:
        Checkout.restore("x")  # type: ignore[arg-type]
    assert info.value.graph == "Checkout" and info.value.execution_id is None and "format 'str'" in str(info.value)


def test_an_encoding_error_shows_an_odd_key_escaped_and_keeps_it_whole_on_full_path() -> None:
    with pytest.raises(ig.SnapshotEncodingError) as info:
        codec.encode({"order": {ODD_KEY: object()}}, path="inputs")
    err = info.value
    _one_line(str(err))
    assert "line\\nbreak\\r\\x00\\x1b[31m\\u202eevil\\u2028\\ud800" in str(err)
    assert err.full_path == f"inputs.order.{ODD_KEY}" and err.path == codec.short_path(err.full_path)


def test_a_decoding_error_shows_an_odd_key_escaped() -> None:
    with pytest.raises(ig.SnapshotEncodingError) as info:
        codec.decode({ODD_KEY: {"__ig__": "no-such-tag"}})
    _one_line(str(info.value))
    assert "line\\nbreak" in str(info.value) and info.value.full_path == ODD_KEY


def test_a_restore_of_data_that_is_not_json_shows_an_odd_key_escaped() -> None:
    snapshot = Checkout(total=1).snapshot()
    snapshot["inputs"] = {ODD_KEY: object()}  # marshal cannot copy it: the walk names where
    with pytest.raises(ig.SnapshotEncodingError) as info:
        Checkout.restore(snapshot)
    _one_line(str(info.value))
    assert info.value.full_path == f"snapshot.inputs.{ODD_KEY}" and "inputs.line\\nbreak" in str(info.value)


def test_a_long_odd_path_is_escaped_then_cut() -> None:
    path = "inputs" + f".{ODD_KEY}" * 50
    shown = codec.short_path(path)
    _one_line(shown)
    assert shown.startswith("inputs.line\\nbreak") and "left out" in shown and len(shown) < 220


def test_an_ordinary_path_is_shown_as_it_is() -> None:
    for path in ("inputs.order.items[2]", "inputs['a b']", "inputs.Überweisung", "a\\nb"):
        assert codec.short_path(path) == path


def _deep_list(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("field", ["execution_id", "format", "graph"])
def test_a_stored_field_absurdly_deep_or_long_is_named_briefly_not_a_recursion_error(field: str) -> None:
    for odd in (_deep_list(100_000), list(range(1_000_000))):
        snapshot = {**Checkout(total=1).snapshot(), field: odd}
        with pytest.raises(ig.SnapshotEncodingError) as info:
            Checkout.restore(snapshot)
        assert len(str(info.value)) < 700 and ("[[[[" in str(info.value) or "[0, 1, 2" in str(info.value))
