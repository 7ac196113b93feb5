"""A ``StoreArgumentError`` about a store URL quoted the URL whole, up to three times (the URL given, the file
name SQLite would make, the URL to write): a 5,000-character option made a 15,000-character message. Each quoted
URL, file name and list of options is now cut past ``stores.url.URL_SHOWN`` characters to its head and tail with
how many characters were left out, its passwords still replaced by ``***`` (before the cut, so no half password
is left)."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.errors import StoreArgumentError

LONG = "y" * 5_000
BOUND = 1_200  # (three quotes of at most ~240 characters, and the words around them)

URLS = [
    f"sqlite:///x.db?cache=shared&foo={LONG}",  # options without uri=true
    f"sqlite:///x.db?cache=shared&uri=true&{LONG}=1",  # options to a name that is not a file: URI filename
    f"sqlite:///{LONG}.db?cache=shared&uri=true",  # the same, the file name long
    f"sqlite:///{LONG}?mode=memory",  # in memory, no uri=true
    f"sqlite:///:MEMORY:?cache=shared&{LONG}=1",  # a case slip
    f"sqlite:///?cache=shared&uri=true&{LONG}=2",  # options to no file name
    f"sqlite:///?{LONG}=2",  # in memory, options without uri=true
    f"bogus://{LONG}",  # an unknown scheme
    f"file://u:pw@{LONG}",  # a user part on a directory store
    f"postgresql://u:pw@h:notaport/{LONG}",  # a driver refusing it
]


@pytest.mark.parametrize("url", URLS, ids=range(len(URLS)))
def test_a_huge_url_is_quoted_cut(url: str) -> None:
    with pytest.raises(StoreArgumentError) as caught:
        ig.stores.from_url(url)
    text = str(caught.value)
    assert len(text) < BOUND, (len(text), text[:300])
    assert "characters left out" in text
    assert ":pw@" not in text  # (the password: hidden as before)


def test_passwords_are_hidden_before_the_cut_in_every_quote() -> None:
    secret = "S3cr3t" * 1_000
    url = f"sqlite:///x.db?cache=shared&password={secret}&uri=true&{LONG}=1"
    with pytest.raises(StoreArgumentError) as caught:
        ig.stores.from_url(url)
    text = str(caught.value)
    assert len(text) < BOUND and "S3cr" not in text and "3t" * 2 not in text
    assert text.count("password=***") == 3, text  # the URL given, the file name SQLite would make, the URL to write


def test_a_short_url_is_quoted_whole_as_before() -> None:
    with pytest.raises(StoreArgumentError) as caught:
        ig.stores.from_url("sqlite:///x.db?cache=shared&password=secret&uri=true")
    assert str(caught.value) == (
        "store URL 'sqlite:///x.db?cache=shared&password=***&uri=true' gives SQLite URI options (cache, password) to "
        "'x.db', which is not a file: URI filename, so SQLite would make a file named 'x.db?cache=shared&password=***'"
        ": write 'sqlite:///file:x.db?cache=shared&password=***&uri=true'")
