"""Executors and contracts the LLM tests use, importable by name (subprocesses resume them from a store)."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig


def search(query: str, limit: int = 2) -> list[str]:
    """Search the library catalogue.

    Args:
        query: words to look for
        limit: how many titles to return
    """
    return [f"{query} #{i}" for i in range(1, limit + 1)]


def lookup_price(title: str) -> dict[str, Any]:
    """The price of a title."""
    if title == "missing":
        raise KeyError(title)
    return {"title": title, "price": 12.5}


def executor_class(provider: str, name: str = "Assistant", **settings: Any) -> type[ig.llm.Executor]:
    """An executor answering ``question`` with ``complete_with_tools`` when it has tools, else ``complete``."""
    def call(self: Any, question: str) -> Any:
        if self.tool_specs:
            return self.complete_with_tools(question)
        return self.complete(question)

    attrs = {"provider": provider, "model": f"{provider}-test-model", "call": call, "__module__": __name__, **settings}
    return type(name, (ig.llm.Executor,), attrs)


def contract_class(executor: type, name: str = "Asking", store_runner: bool = False) -> type[ig.Contract]:
    def define(c: Any) -> None:
        if store_runner:
            c.run_with("store")
        c.input("question", type=str)
        c.compute("answer", call=executor)
        c.output("answer")

    return type(name, (ig.Contract,), {"define": define, "__module__": __name__})


# Durable contracts, one per provider, importable as tests.llm.llm_contracts:Durable<Provider>
for _provider in ("anthropic", "openai", "ollama"):
    _title = _provider.capitalize()
    _executor = executor_class(_provider, f"DurableResearcher{_title}", tools=[search],
                               system_prompt="You answer from the catalogue.")
    globals()[_executor.__name__] = _executor
    globals()[f"Durable{_title}"] = contract_class(_executor, f"Durable{_title}", store_runner=True)


LOOKALIKE = {"llm": {"conversation": [{"role": "user", "content": "mine"}], "note": "the user's own"},
             "tool_calls": [{"id": "t1", "name": "mine", "arguments": {}}]}


def lookalike() -> dict[str, Any]:
    """A user's own value of the pending-LLM payload's shape (``llm`` with a conversation, and ``tool_calls``)."""
    return {"llm": dict(LOOKALIKE["llm"]), "tool_calls": list(LOOKALIKE["tool_calls"])}


def _define_with_lookalike(c: Any) -> None:
    c.run_with("store")
    c.input("question", type=str)
    c.compute("answer", call=DurableResearcherOpenai)  # type: ignore[name-defined]  # noqa: F821
    c.compute("mine", call=lookalike)
    c.output("answer")
    c.output("mine")


DurableWithLookalike = type("DurableWithLookalike", (ig.Contract,),
                            {"define": _define_with_lookalike, "__module__": __name__})


# A durable contract whose resume lease expires after a second (a holder killed mid-call is taken over quickly)
ShortLeaseResearcher = executor_class("anthropic", "ShortLeaseResearcher", tools=[search], resume_lease=1.0)
ShortLease = contract_class(ShortLeaseResearcher, "ShortLease", store_runner=True)
