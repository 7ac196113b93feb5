"""A tool call as a durable wait across processes: one process starts the contract on SQLite and exits while
it waits on the tool calls; a new process resumes it from the store with the results, and the follow-up
request carries the tool-call ids in the provider's wire format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import SQLStore
from tests.llm.conftest import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]

START = """
import json, sys
from igniter_nb.stores import SQLStore
from tests.llm import llm_contracts
cls = getattr(llm_contracts, sys.argv[1])
store = SQLStore(sys.argv[2])
contract = cls(question="Which Dune books exist?", store=store)
answer = contract.result.answer
print(json.dumps({"id": contract.execution_id, "status": str(contract.status), "token": answer.token,
                  "calls": answer.payload["tool_calls"]}))
"""

RESUME = """
import json, sys
from igniter_nb.stores import SQLStore
from tests.llm import llm_contracts
cls = getattr(llm_contracts, sys.argv[1])
store = SQLStore(sys.argv[2])
contract = cls.resume_from_store(sys.argv[3], token=sys.argv[4], value=json.loads(sys.argv[5]), store=store)
print(json.dumps({"status": str(contract.status), "answer": contract.result.answer}))
"""


def _run(code: str, *args: str, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_results_resume_the_contract_in_a_new_process(provider, stubs, tmp_path):
    stub = stubs(provider, [
        StubReply(tool_calls=(("toolu_01", "search", {"query": "dune"}), ("toolu_02", "search", {"query": "arrakis"})),
                  input_tokens=40, output_tokens=9),
        StubReply("Dune and Dune Messiah.", input_tokens=80, output_tokens=6),
    ])
    url = f"sqlite:///{tmp_path / 'executions.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    name = f"Durable{provider.capitalize()}"

    started = _run(START, name, url, env=env)
    assert started["status"] == "pending"
    ids = ["call_1", "call_2"] if provider == "ollama" else ["toolu_01", "toolu_02"]
    assert [c["id"] for c in started["calls"]] == ids

    store = SQLStore(url)
    record = store.record(started["id"])
    assert record.status == "pending"
    stored = record.snapshot["states"]["answer"]
    assert stored["status"] == "pending"
    store.close()

    results = [{"id": ids[0], "name": "search", "content": "Dune (1965)"},
               {"id": ids[1], "name": "search", "content": "Dune Messiah (1969)"}]
    resumed = _run(RESUME, name, url, started["id"], started["token"], json.dumps(results), env=env)
    assert resumed == {"status": "succeeded", "answer": "Dune and Dune Messiah."}

    assert len(stub.requests) == 2  # the first request was not sent again by the second process
    follow_up = stub.requests[1].messages
    if provider == "anthropic":
        assert [b["id"] for b in follow_up[1]["content"] if b["type"] == "tool_use"] == ids
        assert [b["tool_use_id"] for b in follow_up[2]["content"]] == ids
        assert stub.requests[1].body["system"] == "You answer from the catalogue."
    elif provider == "openai":
        assert [c["id"] for c in follow_up[2]["tool_calls"]] == ids
        assert [(m["role"], m["tool_call_id"]) for m in follow_up[3:]] == [("tool", ids[0]), ("tool", ids[1])]
    else:
        assert [(m["role"], m["tool_name"], m["content"]) for m in follow_up[3:]] == [
            ("tool", "search", "Dune (1965)"), ("tool", "search", "Dune Messiah (1969)")]

    store = SQLStore(url)
    final = store.record(started["id"])
    assert final.status == "succeeded"
    events = [e for e in final.snapshot["events"] if e["type"].startswith("llm_")]
    assert [e["type"] for e in events] == ["llm_call", "llm_tool_results", "llm_call"]
    assert [e["payload"]["input_tokens"] for e in events if e["type"] == "llm_call"] == [40, 80]
    store.close()
