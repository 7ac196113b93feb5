"""A remote node's URL that is refused when the contract is defined (not http(s), no host, a bad port) was quoted
whole in the ``ValidationError``, a password in it included (``http://user:s3cr3t-PW@host:99999``): the message
goes to a terminal, a log, the CLI's ``error:`` line. Now the URL is quoted as ``settings.redact_url`` shows it
(``user:***@``), as every other view of a remote node's URL."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig


@pytest.mark.parametrize(("url", "shown", "why"), [
    ("ftp://user:s3cr3t-PW@host/", "ftp://user:***@host/", "must be http:// or https://"),
    ("http://user:s3cr3t-PW@host:99999/", "http://user:***@host:99999/", "bad port"),
    ("http://user:s3cr3t-PW@host:port/", "http://user:***@host:port/", "bad port"),
    ("user:s3cr3t-PW@host:80", "user:***@host:80", "must be http:// or https://"),  # no scheme (redact_url finds it)
    ("//user:s3cr3t-PW@host/", "//user:***@host/", "must be http:// or https://"),
    # a bracket left open was urllib's bare ValueError, naming no graph, node or URL
    ("http://user:s3cr3t-PW@[::1/", "http://user:***@[::1/", "Invalid IPv6 URL"),
    # a port and no host compiled, and failed when the node was called
    ("http://user:s3cr3t-PW@:80/", "http://user:***@:80/", "with a host"),
])
def test_a_refused_remote_url_is_quoted_without_its_password(url: str, shown: str, why: str) -> None:
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def Remote(c):
            c.input("x")
            c.remote("r", contract="Other", node=url, inputs={"x": "x"})
            c.output("r")

    err = info.value
    assert f"invalid node URL '{shown}'" in err.message and why in err.message
    assert err.context["node"] == "r"
    assert "s3cr3t-PW" not in f"{err} {err!r} {json.dumps(err.to_dict(), default=str)}"
