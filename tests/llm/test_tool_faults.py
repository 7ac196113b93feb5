"""Tools that misbehave with ``tools_run="auto"``: a return value that cannot be sent to the model (an object, a
cycle, nesting too deep, bytes that are not UTF-8) is an error result the model reads, like a tool that raises
(it failed the node with a bare serialization error before); an ``async def`` tool is refused when the class is
made (it returned an un-awaited coroutine). Text holding a lone surrogate is refused where it enters: a prompt
(``ConfigurationError``), a tool's output (an error result), resumed tool results (``PayloadValidationError``,
the node stays pending)."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import DurableAnthropic, DurableOllama, DurableOpenai, contract_class, executor_class

ONE_CALL = StubReply("", tool_calls=(("c1", "fetch", {"key": "k"}),))


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _cycle() -> list:
    value: list = []
    value.append(value)
    return value


UNSENDABLE = {"an object": object, "a cycle": _cycle, "nesting 5,000 deep": lambda: _deep(5000),
              "bytes that are not UTF-8": lambda: b"\xff\xfe"}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("value", list(UNSENDABLE))
def test_a_tool_value_that_cannot_be_sent_is_an_error_result_the_model_reads(value, provider, stubs):
    make = UNSENDABLE[value]

    def fetch(key: str):
        """Fetch a record."""
        return make()

    stub = stubs(provider, [ONE_CALL, StubReply("The tool failed.")])
    contract = contract_class(executor_class(provider, tools=[fetch], tools_run="auto"))(question="q")
    assert contract.status == "succeeded" and contract.result.answer == "The tool failed."
    (tool_round,) = [e for e in contract.events if e.type == "llm_tool_round"]
    (result,) = tool_round.payload["results"]
    assert result["is_error"] is True
    assert "tool fetch returned a value that cannot be sent to the model" in result["content"]
    sent = stub.requests[1].messages[-1]
    if provider == "anthropic":
        (block,) = sent["content"]
        assert block["is_error"] is True and "cannot be sent" in block["content"]
    else:
        assert sent["role"] == "tool" and "cannot be sent" in sent["content"]


def test_an_async_tool_is_refused_when_the_class_is_made():
    async def fetch(key: str) -> str:
        """Fetch a record."""
        return key

    with pytest.raises(ig.llm.ConfigurationError, match=r"runs tools synchronously, and fetch is async"):
        executor_class("openai", tools=[fetch], tools_run="auto")
    executor_class("openai", tools=[fetch])  # a durable call: whoever answers it may await it


def test_a_tool_that_returns_an_awaitable_is_an_error_result(stubs):
    async def later() -> str:
        return "x"

    def fetch(key: str):
        """Fetch a record."""
        return later()

    stubs("openai", [ONE_CALL, StubReply("ok")])
    contract = contract_class(executor_class("openai", tools=[fetch], tools_run="auto"))(question="q")
    assert contract.status == "succeeded"
    (tool_round,) = [e for e in contract.events if e.type == "llm_tool_round"]
    assert "returned an awaitable" in tool_round.payload["results"][0]["content"]


# ----------------------------------------------------------------------------------------------- lone surrogates
# Text with an unpaired UTF-16 surrogate (what os.fsdecode makes of a non-UTF-8 file name) cannot be sent as UTF-8.


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_prompt_with_a_lone_surrogate_is_refused_naming_where_before_anything_is_sent(provider, stubs):
    """It raised a bare UnicodeEncodeError (from the request digest) before."""
    stub = stubs(provider, [StubReply("ok")])
    with pytest.raises(ig.llm.ConfigurationError, match=r"unpaired surrogate \\ud800 at messages\[0\]\.content"):
        executor_class(provider)().complete("report on caf\ud800.txt")
    with pytest.raises(ig.llm.ConfigurationError, match=r"at messages\[0\]\.content"):
        executor_class(provider, system_prompt="You read \udcff files.")().complete("hi")
    assert stub.requests == []


def test_a_tool_returning_a_lone_surrogate_is_an_error_result(stubs):
    def fetch(key: str) -> str:
        """Fetch a record."""
        return "name: caf\udce9.txt"

    stub = stubs("anthropic", [ONE_CALL, StubReply("It failed.")])
    contract = contract_class(executor_class("anthropic", tools=[fetch], tools_run="auto"))(question="q")
    assert contract.status == "succeeded"
    (block,) = stub.requests[1].messages[-1]["content"]
    assert block["is_error"] is True and "not valid Unicode" in block["content"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_results_with_a_lone_surrogate_are_refused_and_the_node_stays_pending(provider, stubs, tmp_path):
    """The resume was accepted, the follow-up request failed to encode, and the node failed with the results
    lost (saved failed in the store)."""
    from igniter_nb.stores import SQLStore

    stub = stubs(provider, [StubReply("", tool_calls=(("c1", "search", {"query": "dune"}),)), StubReply("Found it.")])
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    contract = DurableOpenai if provider == "openai" else DurableAnthropic if provider == "anthropic" else DurableOllama
    started = contract(question="q", store=store)
    waiting = started.result.answer
    ident = waiting.payload["tool_calls"][0]["id"]
    for value in ([{"id": ident, "content": "caf\udce9.txt"}], [{"id": ident, "content": {"file": "\ud800"}}]):
        with pytest.raises(ig.PayloadValidationError, match="not valid Unicode"):
            contract.resume_from_store(started.execution_id, token=waiting.token, value=value, store=store)
    assert store.fetch(started.execution_id)["status"] == "pending" and len(stub.requests) == 1
    done = contract.resume_from_store(started.execution_id, token=waiting.token,
                                      value=[{"id": ident, "content": "cafe.txt"}], store=store)
    assert done.status == "succeeded" and done.result.answer == "Found it."


def test_tool_results_whose_follow_up_fails_are_kept_with_the_failed_node(stubs, tmp_path):
    """The node fails (documented: contract.retry() asks again from the start), but the results it was resumed
    with were gone with the pending state; whoever ran the tools (maybe with side effects) can now read them back,
    also from the store in another process."""
    from igniter_nb.llm.testing import StubFailure
    from igniter_nb.stores import SQLStore

    stubs("anthropic", [StubReply("", tool_calls=(("c1", "search", {"query": "dune"}),)),
                        StubFailure(529, "overloaded", headers={"x-should-retry": "false"})])
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    started = DurableAnthropic(question="q", store=store)
    waiting = started.result.answer
    done = DurableAnthropic.resume_from_store(started.execution_id, token=waiting.token, store=store,
                                              value=[{"id": "c1", "content": "Dune (1965)"}])
    assert done.status == "failed"
    restored = DurableAnthropic.restore(store.fetch(started.execution_id))
    error = restored.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.status_code == 529
    assert error.context["tool_results"] == [{"id": "c1", "name": "search", "content": "Dune (1965)", "is_error": False}]


def test_an_auto_tool_that_overruns_its_timeout_fails_the_node_naming_the_tool_and_the_timeout(stubs):
    import threading

    release = threading.Event()

    def fetch(key: str):
        """Fetch a record (here: never, until the test lets it go)."""
        release.wait(30)
        return "late"

    stub = stubs("openai", [ONE_CALL, StubReply("never asked")])
    executor = executor_class("openai", tools=[fetch], tools_run="auto", tool_timeout=0.2)
    try:
        contract = contract_class(executor)(question="q")
        assert contract.status == "failed"
    finally:
        release.set()  # the tool's thread finishes; its result is not used
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ToolLoopError)
    assert "tool 'fetch' (call c1) did not return within 0.2 s" in error.message
    assert "Assistant.tool_timeout" in error.message
    assert error.context["tool"] == "fetch" and error.context["timeout"] == 0.2
    assert len(stub.requests) == 1  # the model was not asked again with a missing result


def test_an_auto_tool_within_its_timeout_runs_as_before_with_the_caller_s_context(stubs):
    import contextvars

    tenant = contextvars.ContextVar("tenant", default="none")

    def fetch(key: str):
        """Fetch a record."""
        return f"{key} for {tenant.get()}"

    stub = stubs("anthropic", [ONE_CALL, StubReply("done")])
    tenant.set("acme")
    contract = contract_class(executor_class("anthropic", tools=[fetch], tools_run="auto", tool_timeout=30))(question="q")
    assert contract.result.answer == "done"
    (block,) = stub.requests[1].messages[-1]["content"]
    assert block["content"] == "k for acme" and not block.get("is_error")
    assert ig.llm.Executor.tool_timeout == 60.0  # the documented default


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), True, "10"])
def test_a_tool_timeout_that_is_not_a_positive_number_is_refused_when_the_class_is_made(value):
    with pytest.raises(ig.llm.ConfigurationError, match="tool_timeout must be a number of seconds > 0 or None"):
        executor_class("openai", tool_timeout=value)
    assert executor_class("openai", tool_timeout=None).tool_timeout is None  # no limit: the tool runs inline


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("failure", [(529, "overloaded"), (503, "unavailable"), (429, "rate limited")])
def test_a_transient_error_on_the_follow_up_is_retried_as_on_the_first_call(provider, failure, stubs, tmp_path):
    """The first request and the follow-up after a resume go through the same ``Provider.send`` with the same
    connection settings, so the SDK's retries (``max_retries``: 429, 5xx and connection errors, honouring
    ``retry-after``) apply to both: a transient error answered once is retried, the node succeeds."""
    from igniter_nb.llm.testing import StubFailure
    from igniter_nb.stores import SQLStore

    status, message = failure
    contract_cls = {"anthropic": DurableAnthropic, "openai": DurableOpenai}[provider]
    stub = stubs(provider, [StubFailure(status, message, retry_after_ms=10),
                            StubReply("", tool_calls=(("c1", "search", {"query": "dune"}),)),
                            StubFailure(status, message, retry_after_ms=10), StubReply("Dune (1965).")])
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    started = contract_cls(question="q", store=store)
    assert started.status == "pending"  # the first call: answered after one retry
    done = contract_cls.resume_from_store(started.execution_id, token=started.result.answer.token, store=store,
                                          value=[{"id": "c1", "content": "Dune (1965)"}])
    assert done.status == "succeeded" and done.result.answer == "Dune (1965)."  # the follow-up: the same
    assert len(stub.requests) == 4
    calls = [e.payload for e in done.events if e.type == "llm_call"]
    assert [c["stop_reason"] is not None for c in calls] == [True, True]
    store.close()
