"""``settings.redact_url`` (the one rule every view of a URL hides a password by) found the user part only after a
``scheme://``: a URL without one (``user:s3cr3t-PW@host:80``, ``//user:s3cr3t-PW@host``) was shown whole, and
``c.remote(...)`` quoted it so in its "must be http:// or https://" error. Now the authority is read after
``scheme://``, after a leading ``//``, or from the start when there is neither; the odd forms around it (an
uppercase scheme, an IPv6 host, a user without a password, an ``@`` only in the path or query) are pinned here."""

from __future__ import annotations

import pytest

from igniter_nb import settings

SECRET = "s3cr3t-PW"


@pytest.mark.parametrize(("url", "shown"), [
    (f"user:{SECRET}@host:80", "user:***@host:80"),
    (f"user:{SECRET}@host:80/path?x=1#f", "user:***@host:80/path?x=1#f"),
    (f"user:{SECRET}@host", "user:***@host"),
    (f"user:{SECRET}@x@host:80", "user:***@host:80"),  # an unencoded @: up to the host part's last one
    (f":{SECRET}@host:80", ":***@host:80"),
    (f"user:{SECRET}@host/?next=http://other/", "user:***@host/?next=http://other/"),  # a URL in the query
    (f"host:80/db?password={SECRET}", "host:80/db?password=***"),
    (f"//user:{SECRET}@host/", "//user:***@host/"),
    (f"//user:{SECRET}@host:8080", "//user:***@host:8080"),
    (f"HTTP://user:{SECRET}@HOST:8080/", "HTTP://user:***@HOST:8080/"),
    (f"HTTPS://user:{SECRET}@host", "HTTPS://user:***@host"),
    (f"Http://user:{SECRET}%40x@host/", "Http://user:***@host/"),
    (f"http://user:{SECRET}@[::1]:8080/x", "http://user:***@[::1]:8080/x"),
    (f"http://user:{SECRET}@[2001:db8::1]/", "http://user:***@[2001:db8::1]/"),
    (f"user:{SECRET}@[::1]:80", "user:***@[::1]:80"),
    (f"//user:{SECRET}@[fe80::1%25eth0]:80/", "//user:***@[fe80::1%25eth0]:80/"),
])
def test_a_password_is_hidden_with_or_without_a_scheme(url: str, shown: str) -> None:
    assert settings.redact_url(url) == shown
    message = settings.redact_url(url, f"cannot reach {url}: refused")
    assert SECRET not in message and shown in message, message
    assert settings.redacted_line(f"cannot reach {url}", url) == f"cannot reach {shown}"


@pytest.mark.parametrize("url", [
    "user@host", "user@host:80", "http://user@host/", "//user@host", "HTTP://user@[::1]:80/",  # no password
    "user:@host:80", "http://user:@host/",  # an empty one
    "http://host/a:b@c", "host/a:b@c", "//host/a:b@c", "/a:b@c", "host:80/p?x=a:b@c", "http://host/p?x=a:b@c#u:p@h",
    "http://[::1]:80/", "[::1]:80", "host:80", "host", "", "sqlite:///x.db", "memory://", "memory:",
    "redis://127.0.0.1:6379/0",
])
def test_a_url_without_a_password_in_its_user_part_is_left_as_it_is(url: str) -> None:
    assert settings.redact_url(url) == url
