"""A reasoning model behind an OpenAI-compatible server (vLLM, DeepSeek) may answer ``content: null`` with its text
in ``message.reasoning_content`` (``reasoning`` on some servers): not part of the OpenAI API, and the model's
thinking rather than its reply. It stays a ``ProviderError`` (``test_openai_null_content.py``), which now names the
field and how much text it holds instead of guessing "a field it does not document"; the ``llm_call`` record keeps
that error and, as for any reply, not the text itself. With a content beside it, the content is the answer, as
before. Real stub server on 127.0.0.1, the official SDK."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from tests.llm.llm_contracts import contract_class, executor_class
from tests.llm.test_openai_null_content import _answer, _streamed

THOUGHT = "SECRET-THOUGHT: the user asks q; I should answer 42."


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_a_null_content_beside_reasoning_text_is_an_error_naming_the_field(stubs, field):
    stub = stubs("openai", [_answer(None, "stop", **{field: THOUGHT})])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class("openai")().complete("q")  # (default retries: not asked again)
    message = str(info.value)
    assert f"The model's text is in '{field}' ({len(THOUGHT)} characters)" in message
    assert "does not take as the answer" in message and "content is null" in message
    assert THOUGHT not in message and len(stub.requests) == 1


def test_a_streamed_answer_with_only_reasoning_chunks_names_the_field(stubs):
    stubs("openai", [_streamed({"role": "assistant", "content": None, "reasoning_content": THOUGHT[:20]},
                               {"reasoning_content": THOUGHT[20:]})])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class("openai", max_retries=0)().complete("q", stream=lambda _: None)
    assert f"'reasoning_content' ({len(THOUGHT)} characters)" in str(info.value)


def test_the_llm_call_record_keeps_the_error_not_the_reasoning_text(stubs):
    stubs("openai", [_answer(None, "stop", reasoning_content=THOUGHT)])
    contract = contract_class(executor_class("openai", max_retries=0))(question="q")
    assert contract.status == "failed"
    (call,) = [e.payload for e in contract.events if e.type == "llm_call"]
    assert "The model's text is in 'reasoning_content'" in call["error"]
    assert THOUGHT not in json.dumps(contract.snapshot(), default=str)


@pytest.mark.parametrize("stream", [False, True])
def test_a_content_beside_reasoning_text_is_the_answer(stubs, stream):
    if stream:
        reply = _streamed({"role": "assistant", "content": None, "reasoning_content": THOUGHT}, {"content": "42"})
    else:
        reply = _answer("42", "stop", reasoning_content=THOUGHT)
    stubs("openai", [reply])
    assert executor_class("openai", max_retries=0)().complete("q", stream=(lambda _: None) if stream else None) == "42"


@pytest.mark.parametrize("stream", [False, True])
def test_a_reply_cut_while_thinking_says_its_output_went_to_the_reasoning_field(stubs, stream):
    """``finish_reason: length`` with ``content: null`` and the text in ``reasoning_content``: a reasoning model
    that spent its whole token budget thinking, the commonest real case. The cut reply's error names the field and
    how much went there (it said only that the output limit was reached); with ``on_truncated="keep"`` the reply is
    still ``""``."""
    if stream:
        reply = _streamed({"role": "assistant", "content": None, "reasoning_content": THOUGHT}, finish="length")
    else:
        reply = _answer(None, "length", reasoning_content=THOUGHT)
    stubs("openai", [reply, reply])
    sink = (lambda _: None) if stream else None
    with pytest.raises(ig.llm.OutputValidationError) as info:
        executor_class("openai", max_retries=0)().complete("q", stream=sink)
    message = str(info.value)
    assert "output limit" in message and f"its {len(THOUGHT)} characters of output are all in 'reasoning_content'" \
        in message and THOUGHT not in message
    assert executor_class("openai", max_retries=0, on_truncated="keep")().complete("q", stream=sink) == ""
