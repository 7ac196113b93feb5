"""Cost and audit: ``ig.nb.llm_frame`` (one row per call, from a contract or a store, children included) and
the usage summed per execution in diagnostics."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import igniter_nb as ig
from igniter_nb.llm.frame import LLM_COLUMNS
from igniter_nb.llm.testing import StubFailure, StubReply
from igniter_nb.stores import SQLStore
from tests.llm.llm_contracts import contract_class, executor_class, search


def test_llm_frame_has_one_row_per_call_of_a_contract(stubs):
    stubs("anthropic", [StubReply(tool_calls=(("t1", "search", {"query": "x"}),), input_tokens=11, output_tokens=4),
                        StubReply("done", input_tokens=17, output_tokens=2)])
    contract = contract_class(executor_class("anthropic", tools=[search], tools_run="auto"))(question="q")
    assert contract.result.answer == "done"
    frame = ig.nb.llm_frame(contract)
    assert tuple(frame.columns) == LLM_COLUMNS
    assert frame["provider"].tolist() == ["anthropic", "anthropic"]
    assert frame["input_tokens"].tolist() == [11, 17] and frame["output_tokens"].tolist() == [4, 2]
    assert frame["round"].tolist() == [0, 1]
    assert [json.loads(x) for x in frame["tool_call_ids"]] == [["t1"], []]
    assert frame["stop_reason"].tolist() == ["tool_use", "end_turn"]
    assert frame["node"].tolist() == ["answer", "answer"]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert (frame["latency_ms"] > 0).all()
    assert frame["error"].isna().all() and not frame["cached"].any()


def test_llm_frame_reads_every_execution_of_a_store_and_child_contracts(stubs, tmp_path):
    stubs("openai", [StubReply("a", input_tokens=3, output_tokens=1), StubReply("b", input_tokens=5, output_tokens=2),
                     StubFailure(400, "bad request")])
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    inner = contract_class(executor_class("openai", max_retries=0), "InnerAsking")

    class Outer(ig.Contract):
        def define(c):
            c.run_with("store")
            c.input("question", type=str)
            c.compose("inner", contract=inner, inputs={"question": "question"})
            c.output("inner")

    for question in ("one", "two", "three"):
        Outer(question=question, store=store).resolve_all()
    frame = ig.nb.llm_frame(store)
    assert len(frame) == 3
    assert frame["graph"].unique().tolist() == ["InnerAsking"]
    assert sorted(frame["input_tokens"].tolist()) == [0, 3, 5]
    failed = frame[frame["error"].notna()]
    assert failed["error"].tolist() == ["openai answered 400: bad request"]
    assert len(ig.nb.llm_frame(store, graph="Nothing")) == 0


def test_usage_adds_up_per_execution_in_diagnostics(stubs):
    stubs("ollama", [StubReply(tool_calls=(("x", "search", {"query": "q"}),), input_tokens=10, output_tokens=3),
                     StubReply("final", input_tokens=25, output_tokens=7)])
    contract = contract_class(executor_class("ollama", tools=[search], tools_run="auto"))(question="q")
    report = contract.diagnostics
    assert report["llm_usage"] == {"calls": 2, "cached_calls": 0, "failed_calls": 0, "input_tokens": 35,
                                   "output_tokens": 10}
    assert "LLM: calls=2 (cached=0, failed=0), input_tokens=35, output_tokens=10" in report.to_text()
    assert "- LLM: calls=2" in report.to_markdown()


def test_executions_without_llm_calls_have_no_llm_section():
    @ig.contract
    def Plain(c):
        c.input("x")
        c.compute("y", call=lambda x: x)
        c.output("y")

    report = Plain(x=1).diagnostics
    assert "llm_usage" not in report.to_dict() and "LLM:" not in report.to_text()


def test_llm_frame_refuses_other_things():
    with pytest.raises(TypeError, match="contract, an execution or a store"):
        ig.nb.llm_frame(42)
    empty = ig.nb.llm_frame(ig.stores.MemoryStore())
    assert isinstance(empty, pd.DataFrame) and len(empty) == 0 and tuple(empty.columns) == LLM_COLUMNS
