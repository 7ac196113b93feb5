"""Tool calls as durable waits: what a node pending on tool calls keeps, and the check of the results it is
resumed with.

The pending payload is plain JSON data, so it lives in snapshots and stores like any deferred value::

    {"tool_calls": [{"id": "toolu_1", "name": "search", "arguments": {"q": "x"}}],
     "llm": {"request": 0, "round": 1, "fingerprint": "...", "conversation": {...}, "journal": [...]}}

``tool_calls`` is the public part (what someone must run: all the server shows, :func:`public_payload`); ``llm``
is what the executor needs to continue:
the conversation up to and including the assistant's tool-call turn, which of ``call``'s requests was waiting
(``request``, with its ``fingerprint``), the tool round, and the requests ``call`` made before it
(``journal``: the text each reply validated from, and the turns it added to the conversation), so that running
``call`` again on resume replays them — same values, same ``last_context`` — without asking the provider twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from igniter_nb.errors import PayloadValidationError
from igniter_nb.llm.conversation import Conversation, ToolCall, content_text
from igniter_nb.llm.errors import ConfigurationError, ProviderError
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.surrogates import lone_surrogate_at

RESULT_SHAPE = '[{"id": <tool call id>, "name": <tool name>, "content": <result>}, ...]'


@dataclass(frozen=True, slots=True)
class PendingTools:
    """The state of an executor waiting for tool results."""

    request: int
    round: int
    fingerprint: str
    conversation: Conversation
    journal: tuple[Mapping[str, Any], ...]

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self.conversation.pending_tool_calls()

    def payload(self) -> dict[str, Any]:
        return {
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "llm": {"request": self.request, "round": self.round, "fingerprint": self.fingerprint,
                    "conversation": self.conversation.to_dict(), "journal": [dict(j) for j in self.journal]},
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> PendingTools | None:
        """The state in a pending payload, or ``None`` when the payload is not an LLM executor's."""
        state = payload.get("llm")
        if not isinstance(state, Mapping) or "conversation" not in state:
            return None
        for key, least in (("request", 0), ("round", 1)):  # (a hand-edited or truncated store record: said, located)
            value = state.get(key)
            if type(value) is not int or value < least:
                raise ConfigurationError(f"the pending LLM state (payload['llm']) is damaged: {key!r} must be an int "
                                         f">= {least}, got {value!r:.80}")
        if not isinstance(state.get("fingerprint"), str):
            raise ConfigurationError("the pending LLM state (payload['llm']) is damaged: 'fingerprint' must be text, "
                                     f"got {type(state.get('fingerprint')).__name__}")
        journal = state.get("journal") or ()
        if isinstance(journal, Mapping | str | bytes) or not isinstance(journal, Sequence) or not all(
                isinstance(entry, Mapping) and type(entry.get("request")) is int and "output" in entry
                for entry in journal):
            raise ConfigurationError("the pending LLM state (payload['llm']) is damaged: 'journal' must be a list of "
                                     "{request, fingerprint, output, turns} dicts")
        return cls(state["request"], state["round"], state["fingerprint"], Conversation.from_dict(state["conversation"]),
                   tuple(journal))


def public_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A pending payload as it is shown outside this process (the server's answers and live stream): an LLM
    executor's without its ``llm`` state — the conversation (system prompt included), the journal of earlier
    replies and the fingerprint are the executor's own, to continue from the store — so ``{"tool_calls": [...]}``;
    any other payload as it is."""
    state = payload.get("llm")
    if isinstance(state, Mapping) and "conversation" in state:
        return {key: value for key, value in payload.items() if key != "llm"}
    return dict(payload)


def tool_token(execution_id: str | None, node: str | None, round_: int, request: int = 0,
               wait: PendingTools | None = None) -> str | None:
    """The resume token of a node pending on tool calls: ``<execution>:<node>:tool-calls-<round>:<digest>`` for the
    first request ``call`` makes, ``<execution>:<node>:request-<n>:tool-calls-<round>:<digest>`` for its n-th
    (n >= 2) — so a resume sent twice never answers a later request's wait (with calls numbered alike: Ollama's
    ``call_1``) — where ``<digest>`` (:func:`wait_digest` of ``wait``) names what the node waits on, so a node that
    runs again with other inputs and waits on other calls gets a token of its own (results run for the old calls
    do not answer the new ones), and the same wait made again gets the same token. ``None`` outside a contract
    (a random token is used then)."""
    if execution_id is None or node is None:
        return None
    which = f"request-{request + 1}:" if request else ""
    digest = f":{wait_digest(wait)}" if wait is not None else ""
    return f"{execution_id}:{node}:{which}tool-calls-{round_}{digest}"


def wait_digest(wait: PendingTools) -> str:
    """12 hex digits of sha256 over what a wait is for: the request that waits (its fingerprint) and the
    conversation up to and including the tool calls, with their ids and arguments."""
    data = {"fingerprint": wait.fingerprint, "conversation": wait.conversation.to_dict()}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def check_storable(payload: Mapping[str, Any], calls: Sequence[ToolCall], node: str, owner: str,
                   provider: str | None = None) -> None:
    """Raise ``ProviderError`` naming ``node``, the tool and the call when the pending ``payload`` cannot be kept as
    the node's value in a snapshot because a call's arguments nest deeper than the snapshot codec keeps (``MAX_DEPTH``
    levels, counted from the wait): the codec's own error names neither, and its path is hundreds of characters."""
    from igniter_nb.errors import SnapshotEncodingError
    from igniter_nb.runtime import codec

    try:
        codec.encode(DeferredResult("check", payload), node=node, path=f"states.{node}.value")
    except SnapshotEncodingError:
        pass
    else:
        return
    deepest = max(calls, key=lambda c: _deepest(c.arguments)[0], default=None)
    if deepest is None:  # (not the arguments: leave it to the codec's own error at the save)
        return
    levels, path = _deepest(deepest.arguments)
    shown = codec.short_path(path, 100)  # (its head and tail, the characters left out counted)
    raise ProviderError(f"{owner} (node {node!r}): the model called tool {deepest.name!r} (call {deepest.id!r}) with "
                        f"arguments nested {levels} levels deep, at {shown}; a tool-call wait is kept in the "
                        f"node's snapshot, which holds values nested at most {codec.MAX_DEPTH} levels (the wait and "
                        "its conversation take some of them)", provider=provider, tool=deepest.name, call_id=deepest.id)


def _deepest(value: Any) -> tuple[int, str]:
    """How many containers deep ``value`` nests (itself included), and the path to the deepest one — without
    recursion, so any depth is measured."""
    best, best_path = 0, "arguments"
    stack: list[tuple[Any, int, str]] = [(value, 1, "arguments")]
    while stack:
        item, level, path = stack.pop()
        if isinstance(item, Mapping):
            children: Any = ((_step(path, k), v) for k, v in item.items())
        elif isinstance(item, list | tuple):
            children = ((f"{path}[{i}]", v) for i, v in enumerate(item))
        else:
            continue
        if level > best:
            best, best_path = level, path
        stack.extend((v, level + 1, p) for p, v in children)
    return best, best_path


def _step(path: str, key: Any) -> str:
    """``path`` and a dict key: ``.name`` for a short identifier, else ``[repr]`` (a long one cut, quotes kept)."""
    if isinstance(key, str) and key.isidentifier() and len(key) <= 30:
        return f"{path}.{key}"
    text = repr(key)
    return f"{path}[{text if len(text) <= 24 else text[:20] + '…' + text[-1]}]"


def same_tool_results(recorded: Any, value: Any) -> bool:
    """Whether ``value`` — tool results a resume was asked with — are the ``recorded`` ones of an
    ``llm_tool_results`` event: the same ids with the same contents (compared as the audit keeps them, cut at
    ``AUDIT_TEXT_LIMIT``), in any order. How a job run again finds that the resume it asks for was applied."""
    from igniter_nb.llm.tools import AUDIT_TEXT_LIMIT

    def cut(text: str) -> str:
        return text if len(text) <= AUDIT_TEXT_LIMIT else text[:AUDIT_TEXT_LIMIT] + "…"

    if not (isinstance(value, Sequence) and isinstance(recorded, Sequence)) or isinstance(value, str | bytes):
        return False
    try:
        given = sorted((str(r["id"]), cut(content_text(r["content"]))) for r in value)
        kept = sorted((str(r["id"]), str(r["content"])) for r in recorded)
    except Exception:  # (not results at all: not the same)
        return False
    return given == kept


def check_results(value: Any, calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """The tool results a node is resumed with, checked against the calls it waits for and put in call order:
    ``[{"id", "name", "content" (text), "is_error"}]``. Anything else raises ``PayloadValidationError`` saying
    what is wrong (the node then stays pending)."""
    expected = {c.id: c for c in calls}
    listing = ", ".join(f"{c.id} ({c.name})" for c in calls)

    def refuse(problem: str) -> PayloadValidationError:
        return PayloadValidationError(f"tool results {problem}; expected {RESULT_SHAPE} answering {listing}",
                                      expected=[c.id for c in calls])

    if isinstance(value, Mapping) or not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise refuse(f"must be a list, got {type(value).__name__}")
    found: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise refuse(f"[{i}] must be a dict, got {type(item).__name__}")
        ident = item.get("id")
        if not isinstance(ident, str) or ident not in expected:
            raise refuse(f"[{i}] has id {ident!r}, which is not a pending tool call")
        if ident in found:
            raise refuse(f"answer tool call {ident!r} twice")
        call = expected[ident]
        name = item.get("name", call.name)
        if name != call.name:
            raise refuse(f"[{i}] names tool {name!r}, but call {ident!r} is for {call.name!r}")
        if "content" not in item:
            raise refuse(f"[{i}] has no 'content'")
        try:
            content = content_text(item["content"])
        except (TypeError, ValueError, RecursionError) as exc:
            raise refuse(f"[{i}] content is not text or JSON data ({type(exc).__name__}: {exc})") from None
        surrogate = lone_surrogate_at(content, "content")
        if surrogate is not None:  # UTF-8 cannot carry it: the follow-up request would fail and lose the results
            raise refuse(f"[{i}] content is not valid Unicode text: it holds an unpaired surrogate "
                         f"{surrogate[1].encode('unicode_escape').decode()}")
        is_error = item.get("is_error", False)
        if not isinstance(is_error, bool):
            raise refuse(f"[{i}] 'is_error' must be true or false")
        found[ident] = {"id": ident, "name": call.name, "content": content, "is_error": is_error}
    missing = [c.id for c in calls if c.id not in found]
    if missing:
        raise refuse(f"do not answer {', '.join(missing)}")
    return [found[c.id] for c in calls]


__all__ = ["RESULT_SHAPE", "PendingTools", "check_results", "check_storable", "public_payload", "tool_token", "wait_digest"]
