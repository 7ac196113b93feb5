"""Webhook signatures: GitHub's published test vector, Stripe's official SDK as the judge of our Stripe headers,
and every malformed, wrong, expired and rotated case."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from igniter_nb.integrations.signatures import SignatureRejected, secrets_of, sign, verify

BODY = b'{"id": "evt_1", "data": {"order_id": "o-1"}}'
SECRET = "whsec_a"


def _stripe(header: str | None, body: bytes = BODY, secrets: tuple[bytes, ...] = (b"whsec_a",), *,
            tolerance: float = 300, now: float | None = None) -> None:
    verify("stripe", header, body, secrets, tolerance=tolerance, now=now)


def test_github_signature_matches_the_vector_github_publishes() -> None:
    secret = secrets_of("It's a Secret to Everybody")
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(b"Hello, World!", "It's a Secret to Everybody", scheme="github") == {"X-Hub-Signature-256": header}
    verify("github", header, b"Hello, World!", secret, tolerance=300)
    verify("github", header.upper().replace("SHA256=", "sha256="), b"Hello, World!", secret, tolerance=300)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify("github", header, b"Hello, World?", secret, tolerance=300)


@pytest.mark.parametrize("header", ["sha1=757107ea0eb2509fc211221cce984b8a37570b6d", "sha256=", "757107ea0e",
                                    "sha256=" + "z" * 64, "sha256=" + "a" * 63])
def test_malformed_github_headers_are_rejected_as_malformed(header: str) -> None:
    with pytest.raises(SignatureRejected, match="malformed"):
        verify("github", header, BODY, secrets_of("s"), tolerance=300)


def test_our_stripe_header_is_accepted_by_stripes_own_sdk_and_a_tampered_body_is_not() -> None:
    header = sign(BODY, "whsec_test_secret")["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, "whsec_test_secret", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(BODY.decode().replace("o-1", "o-2"), header, "whsec_test_secret",
                                              tolerance=300)
    _stripe(header, secrets=(b"whsec_test_secret",))


def test_a_header_made_by_stripes_own_sdk_is_accepted_and_an_expired_one_is_not() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), "whsec_test_secret")
    _stripe(header, secrets=(b"whsec_test_secret",))
    old = stripe.WebhookSignature.generate_signature_header(BODY.decode(), "whsec_test_secret",
                                                           timestamp=int(time.time()) - 600)
    with pytest.raises(SignatureRejected, match="tolerance"):
        _stripe(old, secrets=(b"whsec_test_secret",))


def test_a_stripe_header_with_several_signatures_and_other_schemes_passes_on_any_matching_v1() -> None:
    now = int(time.time())
    good = sign(BODY, "whsec_a", timestamp=now)["Stripe-Signature"].split("v1=")[1]
    _stripe(f"t={now},v0=deadbeef,v1={'0' * 64},v1={good}")


def test_several_active_secrets_let_a_secret_be_rotated() -> None:
    old, new = "whsec_old", "whsec_new"
    for secret in (old, new):
        _stripe(sign(BODY, secret)["Stripe-Signature"], secrets=secrets_of([new, old]))
    with pytest.raises(SignatureRejected, match="does not match"):
        _stripe(sign(BODY, "whsec_retired")["Stripe-Signature"], secrets=secrets_of([new, old]))


def test_an_old_or_future_stripe_timestamp_is_refused_even_with_a_valid_signature() -> None:
    now = 1_800_000_000
    for stamp in (now - 301, now + 301):
        header = sign(BODY, "whsec_a", timestamp=stamp)["Stripe-Signature"]
        with pytest.raises(SignatureRejected, match="outside the tolerance of 300 seconds"):
            _stripe(header, now=now)
    _stripe(sign(BODY, "whsec_a", timestamp=now - 300)["Stripe-Signature"], now=now)


def test_a_replayed_stripe_header_for_another_timestamp_does_not_verify() -> None:
    # Moving the timestamp forward to pass the tolerance breaks the signature, which covers it.
    old = sign(BODY, "whsec_a", timestamp=1_700_000_000)["Stripe-Signature"]
    moved = old.replace("t=1700000000", f"t={int(time.time())}")
    with pytest.raises(SignatureRejected, match="does not match"):
        _stripe(moved)


@pytest.mark.parametrize("header, why", [
    (None, "missing"),
    ("", "missing"),
    ("v1=" + "a" * 64, "exactly one 't="),
    ("t=1,t=2,v1=" + "a" * 64, "exactly one 't="),
    ("t=soon,v1=" + "a" * 64, "exactly one 't="),
    ("t=1700000000", "no 'v1="),
    ("t=1700000000,v1=xyz", "no 'v1="),
    ("garbage", "malformed"),
    ("t=1700000000,v1=" + "a" * 5000, "too long"),
])
def test_missing_and_malformed_stripe_headers_say_what_is_wrong(header: str | None, why: str) -> None:
    with pytest.raises(SignatureRejected, match=why):
        _stripe(header)


def test_secrets_must_be_non_empty() -> None:
    for bad in ("", [], [b""], [None]):
        with pytest.raises(ValueError, match="secret"):
            secrets_of(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scheme"):
        sign(BODY, "s", scheme="paypal")


@pytest.mark.parametrize(("body", "secret", "options", "error", "says"), [
    ({"id": 1}, SECRET, {}, TypeError, r"sign\(\) signs the raw body bytes \(or text\) sent, got dict: sign "
                                      r"json.dumps\(event\).encode\(\) and send those same bytes"),
    (None, SECRET, {}, TypeError, "sign\\(\\) signs the raw body bytes \\(or text\\) sent, got NoneType"),
    (b"{}", [SECRET, "other"], {}, ValueError, "sign\\(\\) signs with one secret, the sender's; got a list of 2"),
    (b"{}", SECRET, {"timestamp": -5}, ValueError, "timestamp must be whole unix seconds >= 0, got -5"),
    (b"{}", SECRET, {"timestamp": 1.9}, ValueError, "timestamp must be whole unix seconds >= 0, got 1.9"),
    (b"{}", SECRET, {"timestamp": True}, ValueError, "timestamp must be whole unix seconds >= 0, got True"),
    (b"{}", SECRET, {"timestamp": "1700000000"}, ValueError, "timestamp must be whole unix seconds >= 0, got '17"),
])
def test_sign_refuses_what_would_make_a_header_no_receiver_accepts(body: Any, secret: Any, options: dict[str, Any],
                                                                   error: type[Exception], says: str) -> None:
    """A dict body failed with "'str' object cannot be interpreted as an integer", a list of secrets with "too many
    values to unpack"; a negative timestamp made a header every receiver refuses, and 1.9 or True were truncated."""
    with pytest.raises(error, match=says):
        sign(body, secret, **options)
