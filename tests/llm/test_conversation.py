"""``ig.llm.Conversation``: immutable, round-trips as data, refuses malformed messages (reference §12.3)."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig

Conversation = ig.llm.Conversation


def test_appending_returns_a_new_conversation_and_leaves_the_old_one():
    empty = Conversation.empty(system="Be kind.")
    one = empty.append_user("hi")
    two = one.append_assistant("hello")
    assert (len(empty), len(one), len(two)) == (1, 2, 3)
    assert two.messages == [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hi"},
                            {"role": "assistant", "content": "hello"}]
    two.messages.append({"role": "user", "content": "sneaky"})  # a fresh list each time
    two.messages[0]["content"] = "changed"
    assert len(two) == 3 and two.messages[0]["content"] == "Be kind."
    assert Conversation() == Conversation.empty() and len(Conversation()) == 0
    assert repr(two) == "Conversation(3 messages: system, user, assistant)"


def test_to_dict_and_from_dict_round_trip_tool_turns_through_json():
    conversation = (Conversation(system="s").append_user("q")
                    .append_assistant("looking", [{"id": "c1", "name": "search", "arguments": {"q": [1, {"a": None}]}}])
                    .append_tool_result("c1", "search", {"found": 2}, is_error=False)
                    .append_assistant("done"))
    data = json.loads(json.dumps(conversation.to_dict()))
    assert Conversation.from_dict(data) == conversation
    assert Conversation.from_dict(data["messages"]) == conversation
    assert data["messages"][3] == {"role": "tool", "content": '{"found": 2}', "tool_call_id": "c1", "name": "search"}
    assert hash(Conversation.from_dict(data)) == hash(conversation)


def test_system_with_system_and_the_last_assistant_message():
    conversation = Conversation(system="one").append_user("q").append_system("two").append_assistant("a")
    assert conversation.system == "one\n\ntwo"
    assert conversation.with_system("only").system == "only"
    assert conversation.with_system("only").messages[0] == {"role": "system", "content": "only"}
    assert conversation.last_assistant_message == "a"
    assert Conversation().system is None and Conversation().last_assistant_message is None


def test_pending_tool_calls_are_those_not_answered_yet():
    conversation = Conversation().append_user("q").append_assistant("", [
        {"id": "a", "name": "t", "arguments": {}}, {"id": "b", "name": "t", "arguments": {}}])
    assert [c.id for c in conversation.pending_tool_calls()] == ["a", "b"]
    assert [c.id for c in conversation.append_tool_result("a", "t", "r").pending_tool_calls()] == ["b"]


@pytest.mark.parametrize(("data", "words"), [
    ({"messages": [{"role": "robot", "content": "x"}]}, "role 'robot'"),
    ({"messages": [{"role": "user", "content": 42}]}, "content must be text"),
    ({"messages": [{"role": "tool", "content": "x", "name": "t"}]}, "tool_call_id"),
    ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "zz", "name": "t"}]}, "no earlier assistant"),
    ({"messages": [{"role": "user", "content": "x", "tool_calls": [{"id": "a", "name": "t"}]}]}, "only assistant"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"id": "", "name": "t"}]}]}, "non-empty string 'id'"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"id": "a", "name": "t", "arguments": [1]}]}]},
     "JSON object"),
    ({"no": "messages"}, "'messages' list"),
    ("just text", "list of messages"),
    (["not a dict"], "must be a dict"),
])
def test_malformed_data_is_refused_naming_the_message(data, words):
    with pytest.raises(ig.llm.ConfigurationError, match=words.replace("(", r"\(")):
        Conversation.from_dict(data)


def test_appending_non_text_is_refused():
    with pytest.raises(ig.llm.ConfigurationError, match="user message must be text"):
        Conversation().append_user(["x"])
    with pytest.raises(ig.llm.ConfigurationError, match="no earlier assistant"):
        Conversation().append_tool_result("nope", "t", "r")
    with pytest.raises(ig.llm.ConfigurationError, match="JSON data"):
        Conversation().append_assistant("", [{"id": "a", "name": "t", "arguments": {"x": object()}}])


def test_a_conversation_is_a_valid_node_value_and_snapshot_value():
    @ig.contract
    def Talking(c):
        c.input("text", type=str)
        c.compute("conversation", call=lambda text: Conversation(system="s").append_user(text).to_dict())
        c.output("conversation")

    contract = Talking(text="hi")
    restored = Talking.restore(json.loads(json.dumps(contract.snapshot())))
    assert Conversation.from_dict(restored.result.conversation) == Conversation(system="s").append_user("hi")
