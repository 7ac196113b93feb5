import pytest
import igniter_nb as ig
from igniter_nb.llm.testing import StubRaw, StubReply
from igniter_nb.llm.stub_wire import anthropic_events
from tests.llm.llm_contracts import executor_class

EV = list(anthropic_events(StubReply("Paris is the capital."), "m", 1))

@pytest.mark.parametrize("order", ["reversed", "no_block_start", "no_message_start", "swap_stop_delta", "empty", "ping", "two_starts"])
def test_b(stubs, order):
    ev = list(EV)
    print([e.split("\n")[0] for e in ev])
    if order == "reversed": ev = ev[::-1]
    elif order == "no_block_start": ev = [e for e in ev if "content_block_start" not in e]
    elif order == "no_message_start": ev = ev[1:]
    elif order == "swap_stop_delta": ev = ev[:-2] + [ev[-1], ev[-2]]
    elif order == "empty": ev = []
    elif order == "ping": ev = ["event: ping\ndata: {\"type\": \"ping\"}\n\n"]
    elif order == "two_starts": ev = [ev[0]] + ev
    stubs("anthropic", [StubRaw("".join(ev), content_type="text/event-stream")])
    with pytest.raises(Exception) as e:
        executor_class("anthropic", max_retries=0)().complete("q", stream=lambda t: None)
    print("GOT", repr(e.value))
    assert 0
