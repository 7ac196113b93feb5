"""An error's ``[graph=..., execution=...]`` suffix showed each located item whole: a caller passing a
60,000-character execution id (``ServiceStore.record``, a store's ``fetch``) got a message of that size. Each item
past ``errors.CONTEXT_SHOWN`` characters is now shown as its head and tail with how many characters were left out
(the one middle cut, ``_error_text.short_path``); ``err.context`` keeps it whole, and shorter items are shown as
before."""

from __future__ import annotations

import pytest

from igniter_nb import errors
from igniter_nb.errors import IgniterError, SnapshotNotFoundError, StoreArgumentError
from igniter_nb.runtime import codec

CONTEXT_SHOWN = getattr(errors, "CONTEXT_SHOWN", 240)


@pytest.mark.parametrize("key", ["graph", "node", "path", "execution_id", "source_location"])
def test_a_huge_located_item_is_cut_in_the_message_and_kept_whole_in_the_context(key: str) -> None:
    huge = "a" * 30_000 + "-middle-" + "z" * 30_000
    err = IgniterError("something went wrong", **{key: huge})
    text = str(err)
    assert len(text) < 400, len(text)
    assert text.startswith("something went wrong [")
    assert "characters left out" in text
    assert "aaaa" in text and text.endswith("zzzz]")
    assert err.context[key] == huge and getattr(err, key) == huge
    assert err.args == (text,)
    assert err.to_dict()["context"][key] == huge


def test_the_count_of_left_out_characters_is_exact() -> None:
    huge = "e" * 60_000
    text = str(SnapshotNotFoundError("no snapshot", execution_id=huge))
    shown = text.split("[execution=", 1)[1][:-1]
    head, rest = shown.split(" … ", 1)
    count, tail = rest.split(" characters left out … ")
    assert len(head) + int(count.replace(",", "")) + len(tail) == len(huge)


def test_every_huge_item_is_cut_and_with_context_cuts_what_it_fills_in() -> None:
    err = StoreArgumentError("bad", graph="G" * 10_000, execution_id="x" * 60_000)
    err.with_context(node="n" * 50_000, path="p.q" * 20_000)
    assert len(str(err)) < 4 * 400 and len(err.args[0]) < 4 * 400
    assert err.context["node"] == "n" * 50_000 and err.context["path"] == "p.q" * 20_000


def test_a_huge_item_with_newlines_stays_on_one_line() -> None:
    text = str(IgniterError("bad", execution_id="line\n" * 20_000))
    assert "\n" not in text and len(text) < 400


@pytest.mark.parametrize("size", [1, 80, 200, CONTEXT_SHOWN])
def test_items_up_to_the_limit_are_shown_as_before(size: int) -> None:
    """An execution id a store accepts (up to 200 characters) and a path the codec already cut stay whole."""
    value = "i" * size
    err = IgniterError("bad", graph="PriceContract", node="order_total", execution_id=value)
    assert str(err) == f"bad [graph=PriceContract, node=order_total, execution={value}]"
    odd = IgniterError("bad", node="a\nb")  # (a short item with a newline is shown escaped: one line)
    assert str(odd) == "bad [node=a\\nb]"


def test_a_path_the_codec_cut_is_not_cut_again() -> None:
    deep = {"k" * 300: {"v" * 300: object()}}
    with pytest.raises(errors.SnapshotEncodingError) as caught:
        codec.encode(deep)
    err = caught.value
    assert err.path is not None and "characters left out" in err.path
    assert f"[path={err.path}]" in str(err)


@pytest.mark.parametrize("name", ["a\nb", "tab\there", "esc\x1b[31mred", "bidi\u202eevil", "nul\x00"])
def test_a_context_item_that_would_break_the_line_is_shown_escaped_in_the_suffix(name: str) -> None:
    err = IgniterError("refused", graph=name, node="n")
    text = str(err)
    assert "\n" not in text and "\x1b" not in text and "\u202e" not in text and "\x00" not in text, text
    assert f"[graph={repr(name)[1:-1]}, node=n]" in text, text
    assert err.context["graph"] == name  # the context keeps the value whole


def test_a_refused_graph_name_with_a_newline_keeps_the_error_one_line() -> None:
    import igniter_nb as ig

    with pytest.raises(ig.ValidationError) as caught:
        ig.compile(lambda c: c.input("x"), name="a\nb")
    assert "\n" not in str(caught.value) and "[graph=a\\nb" in str(caught.value)
