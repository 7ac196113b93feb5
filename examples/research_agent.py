"""E-12: a research agent — LLM executors (Ollama), composition-style reasoning, and an await for external
search results with ``start``/``deliver_event``.

Run from the repository root: ``python examples/research_agent.py``. Without ``--ollama`` it talks to a local
stub of the Ollama API (the reference's "mock fallback"), started here on 127.0.0.1, so it runs anywhere and
prints the same thing every time; with ``--ollama`` it uses your Ollama server (``OLLAMA_HOST``, default
``http://127.0.0.1:11434``) and the model in ``RESEARCH_MODEL`` (default ``llama3.2``). The reference's
version never got past its class definition (L-50).
"""

from __future__ import annotations

import json
import os
import sys

import pydantic

import igniter_nb as ig
from igniter_nb.stores import MemoryStore


class QueryPlan(pydantic.BaseModel):
    """The web searches worth running for a topic."""

    queries: list[str]


def count_sources(results: list[str]) -> int:
    """Count the distinct sources among search results.

    Args:
        results: the search result lines, each starting with its source
    """
    return len({line.split(":", 1)[0] for line in results})


class Ollama(ig.llm.Executor):
    provider = "ollama"
    model = os.environ.get("RESEARCH_MODEL", "llama3.2")
    temperature = 0


class PlanSearches(Ollama):
    system_prompt = "You plan web research. Propose at most three short search queries."
    response_model = QueryPlan

    def call(self, topic: str) -> QueryPlan:
        return self.complete(f"Topic: {topic}")


class Analyst(Ollama):
    system_prompt = "You summarise search results in two sentences and say how many sources they come from."
    tools = [count_sources]
    tools_run = "auto"

    def call(self, topic: str, results: list[str]) -> str:
        return self.complete_with_tools(f"Topic: {topic}\nResults:\n" + "\n".join(results))


class Analysis(ig.Contract):
    """The reasoning step, as its own contract (composed below)."""

    def define(c):
        c.input("topic", type=str)
        c.input("results", type=list)
        c.compute("summary", call=Analyst)
        c.output("summary")


class ResearchAgent(ig.Contract):
    def define(c):
        c.correlate_by("request_id")
        c.input("request_id", type=str)
        c.input("topic", type=str)
        c.compute("plan", call=PlanSearches)
        c.await_event("search_results", event="search_completed")

        @c.compute
        def results(search_results: dict) -> list:
            return list(search_results["results"])

        c.compose("analysis", contract=Analysis, inputs={"topic": "topic", "results": "results"})
        c.output("plan")
        c.output("summary", source="analysis.summary")


def offline_ollama() -> ig.llm.testing.StubServer:
    """A stand-in Ollama answering like a small model would, started on 127.0.0.1."""
    from igniter_nb.llm.testing import StubReply, StubServer

    def answer(request):
        body = request.body
        if body.get("format"):
            plan = {"queries": ["durable workflow engines", "LLM tool calling", "event sourcing audit"]}
            return StubReply(json.dumps(plan), input_tokens=42, output_tokens=18)
        if body.get("tools") and request.roles[-1] != "tool":
            results = body["messages"][-1]["content"].split("\n")[2:]
            return StubReply(tool_calls=(("-", "count_sources", {"results": results}),), input_tokens=120,
                             output_tokens=15)
        sources = body["messages"][-1]["content"]
        return StubReply(f"Durable engines persist each step so long waits survive restarts, and tool calls can be "
                         f"such waits. The results come from {sources} sources.", input_tokens=160, output_tokens=31)

    return StubServer("ollama", responder=answer).start()


def main() -> None:
    stub = None
    if "--ollama" not in sys.argv:
        stub = offline_ollama()
        os.environ["OLLAMA_HOST"] = stub.url
    try:
        store = MemoryStore()
        correlation = {"request_id": "r-42"}
        print("==> Starting research...")
        agent = ResearchAgent.start({**correlation, "topic": "durable LLM workflows"}, store=store)
        print(f"waiting? {agent.waiting} for {[w['event'] for w in agent.diagnostics['waiting_on']]}")
        print(f"planned queries: {agent.result.plan.queries}")
        print()
        print("==> Delivering search results...")
        agent = ResearchAgent.deliver_event("search_completed", correlation=correlation, store=store, payload={
            "results": ["temporal.io: workflows survive crashes", "anthropic.com: tool use returns tool_use blocks",
                        "temporal.io: activities are retried", "martinfowler.com: event sourcing keeps every change"]})
        print(f"succeeded? {agent.succeeded}")
        print(f"summary: {agent.result.summary}")
        usage = agent.diagnostics["llm_usage"]
        child = agent.execution.children.instances["analysis"].diagnostics["llm_usage"]
        print(f"llm calls: {usage['calls'] + child['calls']}, "
              f"tokens: {usage['input_tokens'] + child['input_tokens']} in / "
              f"{usage['output_tokens'] + child['output_tokens']} out")
    finally:
        if stub is not None:
            stub.stop()


if __name__ == "__main__":
    main()
