"""An Anthropic stream whose events come out of the API's order (a proxy reordering or dropping events, a broken
provider): the SDK's accumulator assumes the order, and the node failed with "not a valid response: AssertionError"
or "IndexError: list index out of range". Now the ProviderError names the provider, its URL and what was out of
order."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.stub_wire import anthropic_events
from igniter_nb.llm.testing import StubRaw, StubReply
from tests.llm.llm_contracts import executor_class

EVENTS = list(anthropic_events(StubReply("Paris is the capital."), "m", 1))


def _kind(event: str) -> str:
    return event.split("\n")[0].removeprefix("event: ")


CASES = {
    "no message_start": ([e for e in EVENTS if _kind(e) != "message_start"],
                         "the stream ended without a message_start event"),
    "only a ping": ([e for e in EVENTS if _kind(e) == "ping"], "the stream ended without a message_start event"),
    "no content_block_start": ([e for e in EVENTS if _kind(e) != "content_block_start"],
                               "a content_block_delta or content_block_stop came for a content block that no "
                               "content_block_start had opened (events before it: message_start"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_events_out_of_order_are_a_provider_error_saying_what(case, stubs):
    events, said = CASES[case]
    stub = stubs("anthropic", [StubRaw("".join(events), content_type="text/event-stream")])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class("anthropic", max_retries=0)().complete("q", stream=lambda text: None)
    message = str(info.value)
    assert info.value.provider == "anthropic" and f"127.0.0.1:{stub.port}" in message
    assert "the streamed events came out of order" in message and said in message, message
    assert "AssertionError" not in message and "IndexError" not in message


def test_a_stream_in_order_still_streams_its_text(stubs):
    stubs("anthropic", [StubRaw("".join(EVENTS), content_type="text/event-stream")])
    pieces: list[str] = []
    assert executor_class("anthropic", max_retries=0)().complete("q", stream=pieces.append) == "Paris is the capital."
    assert "".join(pieces) == "Paris is the capital." and len(pieces) > 1


def test_an_assertion_error_of_the_callers_stream_function_goes_through_unchanged(stubs):
    stubs("anthropic", [StubRaw("".join(EVENTS), content_type="text/event-stream")])

    def checking(text: str) -> None:
        raise AssertionError("the caller's own check")

    with pytest.raises(AssertionError, match="the caller's own check"):
        executor_class("anthropic", max_retries=0)().complete("q", stream=checking)
