"""``IgniterError.message`` was never cut: a 5 MB value a caller passed, quoted in a message, reached ``str(err)``,
logs and a server's error body whole. A message past ``errors.MESSAGE_SHOWN`` characters is now its head and tail
around how many characters were left out (``err.full_message`` keeps it). ``stores.url.shown_url`` gave anything
but text back whole (``from_url(b"...")`` quoted 5 MB of bytes): it is now shown as its ``repr``, cut past 200
characters, the password of a bytes URL hidden first."""

from __future__ import annotations

import pytest

from igniter_nb import errors
from igniter_nb.errors import IgniterError, InputError, StoreArgumentError
from igniter_nb.stores.url import from_url, shown_url

MB5 = 5 * 1024 * 1024


def test_a_message_quoting_a_5_mb_value_is_cut_and_still_says_what_and_where() -> None:
    huge = "x" * MB5
    err = InputError(f"Input 'total' must be of type numeric, got str {huge!r}", graph="Price", node="total")
    shown = errors.MESSAGE_SHOWN
    assert len(err.message) < shown + 100, len(err.message)
    assert err.message.startswith("Input 'total' must be of type numeric, got str 'xxx")
    assert err.message.endswith("xxx'")
    left_out = int(err.message.split(" … ", 1)[1].split(" characters left out … ")[0].replace(",", ""))
    assert left_out + shown - 20 < len(huge) + 2 + 48 and left_out > MB5 - shown  # the count is about the value
    text = str(err)
    assert len(text) < shown + 200 and text.endswith("[graph=Price, node=total]"), text[-100:]
    assert err.to_dict()["message"] == err.message and err.args == (text,)
    assert err.full_message.endswith(huge + "'")  # whole where asked for


def test_a_message_up_to_the_limit_is_whole_and_the_cut_is_exact() -> None:
    whole = "m" * errors.MESSAGE_SHOWN
    assert IgniterError(whole).message == whole
    longer = "a" * errors.MESSAGE_SHOWN + "\n" + "b" * errors.MESSAGE_SHOWN
    cut = IgniterError(longer).message
    head, rest = cut.split(" … ", 1)
    count, tail = rest.split(" characters left out … ")
    assert len(head) + int(count.replace(",", "")) + len(tail) == len(longer)


@pytest.mark.parametrize("given", [b"postgresql://user:s3cret@db/" + b"q" * MB5, bytearray(b"z" * MB5),
                                   ["redis://a"] * 700_000, 10 ** 4000], ids=["bytes", "bytearray", "list", "int"])
def test_a_store_url_that_is_not_text_is_shown_cut(given: object) -> None:
    with pytest.raises(StoreArgumentError) as info:
        from_url(given)  # type: ignore[arg-type]
    text = str(info.value)
    assert len(text) < 600, len(text)
    assert "characters left out" in text and "s3cret" not in text
    assert text.startswith("store URL ") and "has no scheme" in text


def test_a_short_non_text_url_is_shown_once_as_its_repr() -> None:
    assert f"{shown_url(b'redis://u:pw@h')!r}" == "b'redis://u:***@h'"
    assert f"{shown_url(42)!r}" == "42"
    assert f"{shown_url('redis://u:pw@h')!r}" == "'redis://u:***@h'"
