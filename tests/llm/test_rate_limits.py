"""A rate limit (429) or an overloaded provider (503, 529) answering with a ``Retry-After`` that is huge, negative,
not a number or an HTTP date far in the future. The Anthropic SDK slept for as long as the header said (up to
~50 days: one bad header from a proxy hung the worker and its node, whatever the executor's ``timeout``); now
every provider waits at most ``MAX_RETRY_AFTER`` seconds before its retry, and a longer wait is not retried but a
``ProviderError`` saying how long the provider asked to wait (``retry_after`` in its context)."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.providers.base import MAX_RETRY_AFTER, retry_after_of
from igniter_nb.llm.testing import StubFailure, StubReply
from tests.llm.llm_contracts import contract_class, executor_class

pytestmark = pytest.mark.timeout(30)  # on main some of these slept for the header's time

TOO_LONG = {
    "seconds": {"retry-after": "99999999"},
    "an HTTP date": {"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"},
    "milliseconds": {"retry-after-ms": "1e15"},
}


@pytest.mark.parametrize("header", list(TOO_LONG))
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_retry_after_longer_than_the_bound_is_not_waited_but_said(provider, header, stubs):
    # (on main the Anthropic SDK slept for the header's time: this test's timeout ended it)
    stub = stubs(provider, [StubFailure(429, "rate limited", headers=TOO_LONG[header]), StubReply("late")])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=2)().complete("q")
    error = info.value
    assert error.status_code == 429 and error.context["retry_after"] > MAX_RETRY_AFTER
    assert "asked to wait" in str(error) and "not retried" in str(error)
    assert len(stub.requests) == 1  # not retried


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_short_retry_after_is_still_honoured_and_the_request_retried(provider, stubs):
    stub = stubs(provider, [StubFailure(429, "rate limited", headers={"retry-after": "0.2"}), StubReply("ok")])
    assert executor_class(provider, max_retries=1)().complete("q") == "ok"
    assert len(stub.requests) == 2


@pytest.mark.parametrize("value", ["-5", "nan", "inf", "soon", ""])
def test_a_retry_after_that_is_no_wait_is_the_sdks_back_off(value, stubs):
    stub = stubs("anthropic", [StubFailure(429, "rate limited", headers={"retry-after": value}), StubReply("ok")])
    assert executor_class("anthropic", max_retries=1)().complete("q") == "ok"
    assert len(stub.requests) == 2


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_rate_limit_left_unretried_fails_the_node_with_the_wait_in_its_context(provider, stubs):
    stubs(provider, [StubFailure(429, "slow down", headers={"retry-after": "30"})])
    contract = contract_class(executor_class(provider, max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.status_code == 429
    assert error.context["retry_after"] == 30.0 and error.context["node"] == "answer"
    assert "asked to wait 30 s" in str(error)
    (call,) = [e.payload for e in contract.events if e.type == "llm_call"]
    assert call["status_code"] == 429 and call["retry_after"] == 30.0  # in the audit too


def test_retry_after_is_read_as_the_sdks_read_it():
    assert retry_after_of({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_of({"retry-after": "12"}) == 12.0
    assert retry_after_of({"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"}) > 10**9
    for value in ("-5", "nan", "inf", "soon", "", "0"):
        assert retry_after_of({"retry-after": value}) is None, value
    assert retry_after_of({}) is None and retry_after_of(None) is None
