"""A SnapshotEncodingError about a value deep inside another (300+ levels, or keys thousands of characters long)
names where in a readable message: the path is cut to its head and tail, saying how many characters were left out
(a key may hold ".", "[" or "{", so the text cannot say how many levels), and the whole path stays on
``err.full_path``. Before, the message (and its ``[path=...]`` suffix) held the whole ``.a.a.a…`` path, twice."""

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
    head, count, tail = _parts(err.context["path"])
    assert head.startswith("inputs.order.x.a") and tail.endswith(".a.a.a") and tail.startswith(".")
    assert len(head) + count + len(tail) == len(full)  # the count is exact
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
    assert " characters left out … [0]" in str(err)  # cut before an index


def test_decoding_a_bad_tag_deep_inside_cuts_the_path_too() -> None:
    data: Any = {"__ig__": "no.such.tag", "value": 1}
    for _ in range(300):
        data = {"a": data}
    with pytest.raises(SnapshotEncodingError) as info:
        decode(data)
    err = info.value
    assert err.full_path == ".".join(["a"] * 300)
    assert len(str(err)) < 2 * LONGEST + 300
    assert " characters left out … .a" in str(err) and "unknown tag 'no.such.tag'" in str(err)


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
    head, count, tail = _parts(shown)
    assert path.startswith(head) and path.endswith(tail)
    assert len(head) + len(tail) <= codec.PATH_SHOWN
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


def _parts(shown: str) -> tuple[str, int, str]:
    found = re.fullmatch(r"(.*) … ([\d,]+) characters? left out … (.*)", shown)
    assert found is not None, shown
    return found.group(1), int(found.group(2).replace(",", "")), found.group(3)


def test_keys_holding_dots_and_brackets_are_not_counted_as_levels() -> None:
    """A key may itself hold ``.``, ``[`` or ``{`` ("a.b", "x[1]"): the text of a path cannot say how many levels
    a cut part holds, so the message counts what it surely knows, the characters, and the count is exact."""
    for key in ("a.b", "x[1]", "s{0}.t"):
        err = _raised({"x": _nested(300, key)}, path="inputs")
        assert err.full_path == "inputs.x" + f".{key}" * (codec.MAX_DEPTH - 1)
        head, count, tail = _parts(err.context["path"])
        assert "levels left out" not in str(err)
        assert head + err.full_path[len(head):len(head) + count] + tail == err.full_path
        assert len(head) + count + len(tail) == len(err.full_path)
        assert head.endswith(key[:1]) or head.endswith(key)  # still cut where a level may start
        assert tail[0] in ".[{"


def test_an_escaped_path_is_cut_between_characters_and_counts_the_path_s_own() -> None:
    """Escaping shows a bidi override as six characters (``\\u202e``): the cut never splits one, and what was left
    out is counted in the path's own characters (what ``full_path`` holds)."""
    for path in ("\u202e" * 200, "inputs." + "\u202ea\n" * 100, "k" * 79 + "\u202e" * 100):
        shown = codec.short_path(path)
        head, count, tail = _parts(shown)
        escaped = [ch if ch.isprintable() else repr(ch)[1:-1] for ch in path]
        cut = next(k for k in range(len(path) + 1) if "".join(escaped[:k]) == head)
        assert "".join(escaped[cut + count:]) == tail
        assert len(head) + len(tail) <= codec.PATH_SHOWN and shown.isprintable()


@pytest.mark.parametrize("limit", [-5, 0, 1])
def test_a_tiny_or_negative_limit_leaves_everything_out_and_says_so(limit: int) -> None:
    assert codec.short_path("x" * 10, limit) == " … 10 characters left out … "
    assert codec.short_path("", limit) == ""
