"""Structured replies: validated into the ``response_model``, its schema sent in each provider's native form,
one re-ask with the validation error, then a failed node carrying both messages; the model is the node type."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class


class Verdict(pydantic.BaseModel):
    """Whether a claim holds."""

    claim: str
    holds: bool
    confidence: float = pydantic.Field(ge=0, le=1)


GOOD = '{"claim": "water is wet", "holds": true, "confidence": 0.9}'


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_reply_is_validated_into_the_response_model_and_the_schema_is_sent(provider, stubs):
    stub = stubs(provider, [StubReply(GOOD)])
    contract = contract_class(executor_class(provider, response_model=Verdict))(question="Is water wet?")
    assert contract.result.answer == Verdict(claim="water is wet", holds=True, confidence=0.9)
    body = stub.requests[0].body
    if provider == "anthropic":
        schema = body["output_config"]["format"]
        assert schema["type"] == "json_schema"
        assert set(schema["schema"]["properties"]) == {"claim", "holds", "confidence"}
        assert schema["schema"]["additionalProperties"] is False  # the SDK's transform for Anthropic
    elif provider == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Verdict"
        assert body["response_format"]["json_schema"]["schema"] == Verdict.model_json_schema()
    else:
        assert body["format"] == Verdict.model_json_schema()


def test_a_fenced_json_reply_is_accepted(stubs):
    stubs("ollama", [StubReply(f"```json\n{GOOD}\n```")])
    assert executor_class("ollama")().complete("q", response_model=Verdict).holds is True


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_invalid_reply_is_asked_again_once_with_the_validation_error(provider, stubs):
    stub = stubs(provider, [StubReply('{"claim": "x", "holds": "perhaps", "confidence": 3}'), StubReply(GOOD)])
    contract = contract_class(executor_class(provider, response_model=Verdict))(question="q")
    assert contract.result.answer.confidence == 0.9
    assert len(stub.requests) == 2
    reask = stub.requests[1].messages[-1]
    text = reask["content"] if isinstance(reask["content"], str) else reask["content"][0]["text"]
    assert reask["role"] == "user"
    assert "did not validate as Verdict" in text and "holds" in text and "confidence" in text
    purposes = [e.payload["purpose"] for e in contract.events if e.type == "llm_call"]
    assert purposes == ["call", "reask"]


def test_a_reply_invalid_twice_fails_the_node_with_both_messages(stubs):
    stub = stubs("openai", [StubReply("not json at all"), StubReply('{"claim": "x"}')])
    contract = contract_class(executor_class("openai", response_model=Verdict))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.OutputValidationError)
    assert len(error.errors) == 2
    assert "Invalid JSON" in error.errors[0]
    assert "holds: Field required" in error.errors[1]
    assert error.errors[0] in error.message and error.errors[1] in error.message
    assert len(stub.requests) == 2  # bounded: asked again once, not more


def test_prompt_mode_asks_for_the_schema_in_a_system_message(stubs):
    stub = stubs("openai", [StubReply(GOOD)])
    executor = executor_class("openai", response_model=Verdict, structured_output="prompt", system_prompt="Be exact.")
    assert executor().complete("q").holds is True
    body = stub.requests[0].body
    assert "response_format" not in body
    systems = [m["content"] for m in body["messages"] if m["role"] == "system"]
    assert systems[0] == "Be exact."
    assert systems[1].startswith("Reply with a single JSON object") and '"confidence"' in systems[1]


def test_the_response_model_is_the_node_type():
    executor = executor_class("openai", response_model=Verdict)
    contract = contract_class(executor, "Typed")
    node = contract.graph.node("answer")
    assert node.type_spec is Verdict
    assert node.metadata["category"] == "llm"
    assert contract.graph.to_schema()["nodes"][1]["kind"] == "compute"


def test_a_structured_reply_survives_a_snapshot(stubs):
    stubs("anthropic", [StubReply(GOOD)])
    contract = contract_class(executor_class("anthropic", response_model=Verdict), "Snapshotted")(question="q")
    snapshot = json.loads(json.dumps(contract.snapshot()))
    restored = type(contract).restore(snapshot)
    assert restored.result.answer == contract.result.answer


def test_structured_output_with_tools_validates_the_final_reply(stubs):
    def score(claim: str) -> float:
        return 0.75

    stub = stubs("anthropic", [StubReply(tool_calls=(("t1", "score", {"claim": "c"}),)),
                               StubReply('{"claim": "c", "holds": false, "confidence": 0.75}')])
    executor = executor_class("anthropic", tools=[score], tools_run="auto", response_model=Verdict)()
    assert executor.complete_with_tools("q").confidence == 0.75
    assert "output_config" in stub.requests[1].body


class Unrelated(pydantic.BaseModel):
    """A model with nothing in common with Verdict."""

    score: int


class SignedVerdict(Verdict):
    """A Verdict with a signature: every SignedVerdict is a Verdict, not the other way round."""

    signed_by: str


def _typed_contract(answer_model: Any, consumer_type: Any) -> type[ig.Contract]:
    consumer = type("Consumer", (ig.Executor,), {
        "inputs": {"answer": {"type": consumer_type}}, "call": lambda self, answer: answer, "__module__": __name__})

    def define(c: Any) -> None:
        c.input("question", type=str)
        c.compute("answer", call=executor_class("openai", response_model=answer_model))
        c.compute("used", call=consumer)
        c.output("used")

    return type("TypedChain", (ig.Contract,), {"define": define, "__module__": __name__})


@pytest.mark.parametrize("consumer_type", ["integer", "hash", dict, Unrelated, SignedVerdict])
def test_a_response_model_that_cannot_feed_a_typed_input_fails_at_compile_time(consumer_type):
    with pytest.raises(ig.ValidationError) as caught:
        _typed_contract(Verdict, consumer_type).compiled_graph()
    message = str(caught.value)
    assert "Type mismatch for executor input 'answer'" in message
    assert "dependency 'answer' is Verdict" in message
    assert "TypedChain" in message and "used" in message


@pytest.mark.parametrize("consumer_type", [Verdict, object, Any, "Verdict | None"])
def test_a_response_model_feeds_its_own_type_a_base_or_an_unchecked_input(consumer_type):
    spec = Verdict | None if consumer_type == "Verdict | None" else consumer_type
    contract = _typed_contract(SignedVerdict if consumer_type is Verdict else Verdict, spec)
    assert contract.graph.node("used").dependencies == ("answer",)


def test_a_typed_value_cannot_feed_a_model_typed_input():
    consumer = type("Judge", (ig.Executor,), {
        "inputs": {"question": {"type": Verdict}}, "call": lambda self, question: question, "__module__": __name__})

    def define(c: Any) -> None:
        c.input("question", type=str)
        c.compute("judged", call=consumer)
        c.output("judged")

    with pytest.raises(ig.ValidationError, match="dependency 'question' is str, expected Verdict"):
        type("Backwards", (ig.Contract,), {"define": define, "__module__": __name__}).compiled_graph()
