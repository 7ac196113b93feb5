"""A provider (or a proxy in its place) answering an error with a huge message — a 2 MB JSON error message, a 2 MB
HTML page. The ``ProviderError``'s message was cut (``errors.MESSAGE_SHOWN``), but its ``provider_message``
context kept the whole text, and a failed node keeps its error in the stored snapshot (and the ``llm_call``
audit): 2 MB stored per failure. Now the provider's words are cut to ``PROVIDER_MESSAGE_SHOWN`` characters,
saying how many were left out. (An HTML page was cut to 300 characters already for Anthropic and OpenAI: those two
cases pass on main and guard it.)"""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from igniter_nb.llm.providers import base
from igniter_nb.llm.testing import StubFailure, StubRaw
from igniter_nb.stores import MemoryStore
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class

PROVIDER_MESSAGE_SHOWN = getattr(base, "PROVIDER_MESSAGE_SHOWN", 2000)  # (main has no such bound)

HUGE = 2_000_000
ANSWERS = {
    "a JSON error message": StubFailure(400, "x" * HUGE),
    "an HTML page": StubRaw("<html>" + "y" * HUGE, status=502, content_type="text/html",
                            headers={"x-should-retry": "false"}),
}


@pytest.mark.parametrize("answer", list(ANSWERS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_huge_error_answer_is_kept_cut_in_the_error_and_the_stored_snapshot(provider, answer, stubs):
    stubs(provider, [ANSWERS[answer]])
    store = MemoryStore()
    contract = contract_class(executor_class(provider, max_retries=0), store_runner=True)({"question": "q"},
                                                                                         store=store)
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.status_code in (400, 502)
    said = error.context["provider_message"]
    assert len(said) < PROVIDER_MESSAGE_SHOWN + 100 and said.lstrip("<html>")[:20] in ("x" * 20, "y" * 20)
    assert "characters left out" in said or said.endswith("…")  # (an HTML page was cut to 300 already, but Ollama's)
    [listed] = store.list()
    assert len(json.dumps(store.record(listed.execution_id).snapshot, default=str)) < 100_000
