"""Response caches: a repeated request is answered without calling (or billing) the provider; any change to
what decides the reply asks again; the store-backed cache survives a new cache object on the same store."""

from __future__ import annotations

import io

import pytest

import igniter_nb as ig
from igniter_nb.llm.cache import CACHE_GRAPH
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import MemoryStore, SQLStore
from tests.llm.llm_contracts import contract_class, executor_class, search


def test_memory_cache_answers_a_rerun_without_a_request(stubs):
    stub = stubs("anthropic", [StubReply("cached answer", input_tokens=50, output_tokens=20)])
    cache = ig.llm.MemoryCache()
    contract_cls = contract_class(executor_class("anthropic", cache=cache, system_prompt="s"))
    first = contract_cls(question="q")
    assert first.result.answer == "cached answer"
    again = contract_cls(question="q")  # re-running the cell
    assert again.result.answer == "cached answer"
    assert len(stub.requests) == 1
    (call,) = [e.payload for e in again.events if e.type == "llm_call"]
    assert call["cached"] is True and call["input_tokens"] == 0 and call["output_tokens"] == 0
    assert cache.hits == 1 and len(cache) == 1


@pytest.mark.parametrize("change", [
    {"temperature": 0.5}, {"system_prompt": "other"}, {"max_tokens": 9}, {"model": "another-model"},
    {"request_options": {"top_k": 2}},
])
def test_anything_that_decides_the_reply_is_part_of_the_key(change, stubs):
    stub = stubs("anthropic", [StubReply("one"), StubReply("two")])
    cache = ig.llm.MemoryCache()
    settings = {"cache": cache, "system_prompt": "s"}
    if "request_options" in change:
        change = {"request_options": {"extra_body": change["request_options"]}}
    assert executor_class("anthropic", **settings)().complete("q") == "one"
    assert executor_class("anthropic", **{**settings, **change})().complete("q") == "two"
    assert len(stub.requests) == 2


def test_the_offered_tools_are_part_of_the_key(stubs):
    def other(x: int) -> int:
        return x

    stub = stubs("openai", [StubReply("one"), StubReply("two")])
    cache = ig.llm.MemoryCache()
    assert executor_class("openai", cache=cache, tools=[search])().complete_with_tools("q") == "one"
    assert executor_class("openai", cache=cache, tools=[search, other])().complete_with_tools("q") == "two"
    assert executor_class("openai", cache=cache, tools=[search])().complete_with_tools("q") == "one"
    assert len(stub.requests) == 2


def test_a_different_prompt_is_a_different_entry(stubs):
    stub = stubs("openai", [StubReply("a"), StubReply("b")])
    executor = executor_class("openai", cache=ig.llm.MemoryCache())
    assert [executor().complete("x"), executor().complete("y"), executor().complete("x")] == ["a", "b", "a"]
    assert len(stub.requests) == 2


def test_a_cached_streamed_reply_is_still_shown(stubs, monkeypatch):
    stubs("ollama", [StubReply("shown twice")])
    executor = executor_class("ollama", cache=ig.llm.MemoryCache(), stream=True)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    executor().complete("q")
    executor().complete("q")
    assert out.getvalue() == "shown twice\nshown twice\n"


def test_store_cache_survives_a_new_process_view_of_the_store(stubs, tmp_path):
    stub = stubs("openai", [StubReply("from the provider")])
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    first = executor_class("openai", cache=ig.llm.StoreCache(SQLStore(url)))
    assert first().complete("q") == "from the provider"
    second = executor_class("openai", cache=ig.llm.StoreCache(SQLStore(url)))  # another store object, same file
    assert second().complete("q") == "from the provider"
    assert len(stub.requests) == 1
    (record,) = SQLStore(url).list(graph=CACHE_GRAPH)
    assert record.snapshot["request"]["model"] == "openai-test-model"
    assert record.snapshot["reply"]["text"] == "from the provider"


def test_tool_call_replies_are_cached_with_their_ids(stubs):
    stub = stubs("anthropic", [StubReply(tool_calls=(("id-1", "search", {"query": "x"}),))])
    cache = ig.llm.StoreCache(MemoryStore())
    executor = executor_class("anthropic", tools=[search], cache=cache)
    first = contract_class(executor)(question="q").result.answer
    second = contract_class(executor)(question="q").result.answer
    assert first.payload["tool_calls"] == second.payload["tool_calls"] == [
        {"id": "id-1", "name": "search", "arguments": {"query": "x"}}]
    assert len(stub.requests) == 1


def test_a_cache_must_have_get_and_put():
    with pytest.raises(ig.llm.ConfigurationError, match="cache must be"):
        executor_class("openai", cache={"not": "a cache"})
    with pytest.raises(ValueError, match="max_entries"):
        ig.llm.MemoryCache(max_entries=0)


def test_memory_cache_drops_the_least_recently_used():
    cache = ig.llm.MemoryCache(max_entries=2)
    cache.put("a", {"text": "A"}, {})
    cache.put("b", {"text": "B"}, {})
    assert cache.get("a") == {"text": "A"}
    cache.put("c", {"text": "C"}, {})
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2


def test_a_store_cache_keeps_a_reply_whose_request_has_an_sdk_option_that_is_not_json(stubs, tmp_path):
    """``timeout=openai.Timeout(...)`` is an SDK per-request option: saving the request beside the reply failed
    with SnapshotEncodingError after the provider had answered, so the node failed and the paid reply was lost."""
    import openai

    stub = stubs("openai", [StubReply("kept")])
    store = SQLStore(f"sqlite:///{tmp_path / 'cache.db'}")
    executor = executor_class("openai", cache=ig.llm.StoreCache(store),
                              request_options={"timeout": openai.Timeout(30.0)})
    assert contract_class(executor)(question="q").result.answer == "kept"
    assert contract_class(executor)(question="q").result.answer == "kept"
    assert len(stub.requests) == 1
    (record,) = store.list(graph=CACHE_GRAPH)
    assert "Timeout" in record.snapshot["request"]["settings"]["options"]["timeout"]


def test_a_cache_that_cannot_keep_a_reply_warns_and_the_reply_is_used(stubs):
    class Broken:
        def get(self, key):
            return None

        def put(self, key, reply, request):
            raise OSError("disk full")

    stubs("anthropic", [StubReply("still here")])
    with pytest.warns(RuntimeWarning, match="could not keep the reply .OSError: disk full"):
        assert executor_class("anthropic", cache=Broken())().complete("q") == "still here"


@pytest.mark.parametrize("damaged", [
    {"text": "x", "usage": {"input_tokens": "many"}},
    {"text": "x", "tool_calls": "abc"},
    {"text": "x", "tool_calls": [{"id": "", "name": "search"}]},
])
def test_a_cached_reply_that_cannot_be_read_is_a_miss_that_warns_and_is_replaced(damaged, stubs):
    """An entry damaged in the cache (a store record edited by hand, another program's data under the key, a cache
    object answering garbage) failed the node with a bare ``ValueError``/``AttributeError`` — and for ever, since the
    entry stayed there. It is now a miss: the provider is asked, and the fresh reply replaces the entry."""
    stub = stubs("anthropic", [StubReply("first"), StubReply("fresh")])
    cache = ig.llm.MemoryCache()
    executor = executor_class("anthropic", cache=cache)
    assert executor().complete("q") == "first"
    (key,) = list(cache._entries)
    cache._entries[key] = damaged
    with pytest.warns(RuntimeWarning, match=r"the response cache gave a reply that cannot be read \(.+\); asked "
                                            r"the provider"):
        assert executor().complete("q") == "fresh"
    assert executor().complete("q") == "fresh" and len(stub.requests) == 2  # the fresh reply replaced it


def test_a_damaged_store_cache_entry_is_replaced_by_the_fresh_reply(stubs, tmp_path):
    stub = stubs("openai", [StubReply("first"), StubReply("fresh")])
    store = SQLStore(f"sqlite:///{tmp_path / 'cache.db'}")
    executor = executor_class("openai", cache=ig.llm.StoreCache(store))
    assert executor().complete("q") == "first"
    (record,) = store.list(graph=CACHE_GRAPH)
    snapshot = dict(record.snapshot)
    snapshot["reply"] = {"text": "x", "usage": {"input_tokens": "many"}}
    store.save(snapshot, graph=CACHE_GRAPH, status="succeeded", expected_version=record.version)
    with pytest.warns(RuntimeWarning, match="cannot be read"):
        assert executor().complete("q") == "fresh"
    assert executor().complete("q") == "fresh" and len(stub.requests) == 2


@pytest.mark.parametrize("garbage", ["not a reply", ["x"], 42])
def test_a_cache_object_answering_something_that_is_not_a_reply_is_a_miss_that_warns(garbage, stubs):
    class Garbage:
        def get(self, key):
            return garbage

        def put(self, key, reply, request):
            pass

    stubs("anthropic", [StubReply("asked")])
    with pytest.warns(RuntimeWarning, match=rf"cannot be read \(TypeError: a {type(garbage).__name__}, not a dict\)"):
        assert executor_class("anthropic", cache=Garbage())().complete("q") == "asked"
