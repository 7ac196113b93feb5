"""A SnapshotEncodingError about a value deep inside another (300+ levels, or keys thousands of characters long)
names where in a readable message: the path is cut to its head and tail, saying how much was left out, and the
whole path stays on ``err.full_path``. Before, the message (and its ``[path=...]`` suffix) held the whole
``.a.a.a…`` path, twice."""

from __future__ import annotations

import re
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.runtime import codec
from igniter_nb.runtime.codec import decode, encode

LONGEST = 400  # characters a message may spend on the path (it names it twice: in the text and in [path=...])


def _nested(depth: int, key: str = "a") -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {key: value}
    return value


def _raised(value: Any, **where: Any) -> SnapshotEncodingError:
    with pytest.raises(SnapshotEncodingError) as info:
        encode(value, **where)
    return info.value


@pytest.mark.parametrize("depth", [300, 1000, 20_000])
def test_a_deep_path_is_cut_in_the_message_and_kept_whole_on_full_path(depth: int) -> None:
    err = _raised({"x": _nested(depth)}, node="order", path="inputs.order")
    full = "inputs.order.x" + ".a" * (codec.MAX_DEPTH - 1)  # where the encoder stopped
    assert err.full_path == full
    text = str(err)
    assert len(text) < 2 * LONGEST + 200
    assert full not in text
    assert text.startswith("Cannot encode a value of type dict at inputs.order.x.a.a")
    found = re.search(r"… (\d+) levels left out … ", text)
    assert found is not None, text
    assert err.context["path"].startswith("inputs.order.x.a") and err.context["path"].endswith(".a.a.a")
    kept = err.context["path"].replace(found.group(0), "")
    assert kept.count(".a") + int(found.group(1)) == full.count(".a")  # the count is exact
    assert "nested deeper than 200 levels" in text
    assert err.path == err.context["path"]


def test_a_short_path_is_left_as_it_was() -> None:
    err = _raised({"inputs": {"order": {"items": [1, 2, lambda: 3]}}}, node="order_total")
    assert err.context["path"] == err.full_path == "inputs.order.items[2]"
    assert "left out" not in str(err)


def test_a_huge_key_is_cut_by_characters() -> None:
    key = "<b>" + "k" * 100_000 + "</b>"  # a name shaped like HTML, too long to print
    err = _raised({key: {"y": object()}}, path="inputs.p")
    assert err.full_path == f"inputs.p.{key}.y"
    text = str(err)
    assert len(text) < 2 * LONGEST + 400
    assert re.search(r"… [\d,]+ characters left out … ", text)
    assert text.count("k" * 1000) == 0
    assert err.context["path"].startswith("inputs.p.<b>kkk") and err.context["path"].endswith("k</b>.y")


def test_many_short_levels_of_lists_and_sets_are_cut_too() -> None:
    value: Any = object()
    for _ in range(150):
        value = [[value]]
    err = _raised(value, path="inputs.grid")
    assert err.full_path == "inputs.grid" + "[0]" * codec.MAX_DEPTH
    assert len(str(err)) < 2 * LONGEST + 200
    assert "levels left out" in str(err)


def test_decoding_a_bad_tag_deep_inside_cuts_the_path_too() -> None:
    data: Any = {"__ig__": "no.such.tag", "value": 1}
    for _ in range(300):
        data = {"a": data}
    with pytest.raises(SnapshotEncodingError) as info:
        decode(data)
    err = info.value
    assert err.full_path == ".".join(["a"] * 300)
    assert len(str(err)) < 2 * LONGEST + 300
    assert "levels left out" in str(err) and "unknown tag 'no.such.tag'" in str(err)


def test_a_node_holding_a_too_deep_value_names_the_node_and_keeps_the_full_path() -> None:
    class Deep(ig.Contract):
        def define(c):
            c.input("n", type="integer")
            c.compute("tree", call=lambda n: _nested(n))
            c.output("tree")

    contract = Deep(n=300)
    assert contract.result.tree == _nested(300)
    with pytest.raises(SnapshotEncodingError) as info:
        contract.snapshot()
    err = info.value
    assert "tree" in str(err)
    assert len(str(err)) < 4 * LONGEST + 400
    assert err.full_path is not None and err.full_path.count(".a") >= 150


@pytest.mark.parametrize("path", ["", "a", "x" * 160, "x" * 161, "inputs" + "[0]" * 53, ".a" * 81, "k" * 10_000 + ".y",
                                  "inputs." + "<i>.".join("abc" * 40 for _ in range(30))])
def test_short_path_keeps_short_paths_and_bounds_long_ones(path: str) -> None:
    shown = codec.short_path(path)
    if len(path) <= codec.PATH_SHOWN:
        assert shown == path
        return
    head, left_out, tail = re.fullmatch(r"(.*) … ([\d,]+ (?:levels?|characters?)) left out … (.*)", shown).groups()
    assert path.startswith(head) and path.endswith(tail)
    assert len(head) + len(tail) <= codec.PATH_SHOWN
    count = int(left_out.split()[0].replace(",", ""))
    if "character" in left_out:
        assert len(head) + count + len(tail) == len(path)


def test_the_node_a_cut_path_is_about_is_still_found() -> None:
    from igniter_nb.runtime.unstorable import node_of

    name = "n" * 200  # a node name longer than the part of a path a message keeps
    err = _raised({"x": object()}, path=f"inputs.{name}")
    assert "characters left out" in err.context["path"]
    assert node_of(err) == name


def test_a_path_given_as_another_type_is_named_as_text() -> None:
    err = _raised([object()], path=7)  # type: ignore[arg-type]
    assert err.context["path"] == err.full_path == "7[0]"
    err = _raised(object(), path=7)  # type: ignore[arg-type]
    assert err.context["path"] == err.full_path == "7"
    assert "at 7:" in str(err)
