"""What an executor asks a provider (``Request``) and what it gets back (``Reply``, ``Usage``), in the
provider-neutral form the adapters translate to and from each SDK."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.llm.conversation import Message, ToolCall
from igniter_nb.llm.tools import Tool


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one call (or a sum of calls) used, as the provider reported them. ``reported`` is False when the
    provider's answer held no usage (some OpenAI-compatible servers): the zeros then say nothing."""

    input_tokens: int = 0
    output_tokens: int = 0
    reported: bool = True

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                     self.reported and other.reported)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, int]:
        """``{"input_tokens", "output_tokens"}``."""
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass(frozen=True, slots=True)
class Request:
    """One request to a provider. ``messages`` hold every system message in order (the executor's
    ``system_prompt`` first); each adapter places them the way its API wants."""

    provider: str
    model: str
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    response_schema: Mapping[str, Any] | None = None  # JSON schema of a structured reply (native mode)
    response_name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # extra SDK keyword arguments, as given

    @property
    def system_texts(self) -> list[str]:
        """The texts of the system messages, in order."""
        return [m.content for m in self.messages if m.role == "system"]

    def to_dict(self) -> dict[str, Any]:
        """Everything that decides the reply: what the response cache keys on."""
        return {
            "provider": self.provider,
            "model": self.model,
            "messages": [m.to_dict() for m in self.messages],
            "tools": [t.to_dict() for t in self.tools],
            "settings": {"temperature": self.temperature, "max_tokens": self.max_tokens,
                         "response_schema": self.response_schema, "response_name": self.response_name,
                         "options": self.options},
        }

    def key(self) -> str:
        """A stable digest of ``to_dict()`` (sha256 hex): the same in every process. A set among the SDK options
        counts by its members in a fixed order (its own order changes with the process's hash seed), dict keys that
        are not text count as JSON writes them, and any other value that is not JSON by its ``repr``."""
        text = json.dumps(_canonical(self.to_dict()), sort_keys=True, ensure_ascii=False, default=repr)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k if type(k) is str else _key_text(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        members = [_canonical(v) for v in value]
        return sorted(members, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, default=repr))
    return value


def _key_text(key: Any) -> str:
    """A dict key as JSON writes one (``1`` → "1", ``True`` → "true", ``None`` → "null"), else its ``repr``."""
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return repr(key)


@dataclass(frozen=True, slots=True)
class Reply:
    """A provider's answer: its text, the tool calls it asked for (ids kept), why it stopped, and usage."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    #: ``(field, characters)`` of text an OpenAI-compatible server put in a reasoning field (``reasoning_content``)
    #: of an answer with no content: not the reply, named when the reply is refused as cut (``to_dict`` keeps the
    #: field's name and size, never its text, so a replayed reply is refused with the same message)
    reasoning: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The reply as JSON-safe data (text, tool calls, stop reason, usage, model, and the reasoning fields'
        names and sizes when there are any): what caches and snapshots keep."""
        data: dict[str, Any] = {"text": self.text, "tool_calls": [c.to_dict() for c in self.tool_calls],
                                "stop_reason": self.stop_reason, "usage": self.usage.to_dict(), "model": self.model}
        if self.reasoning:  # (only then: every other reply's record is as it was)
            data["reasoning"] = reasoning_to_data(self.reasoning)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reply:
        """A reply from ``to_dict()`` data."""
        usage = data.get("usage") or {}
        return cls(str(data.get("text") or ""), tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ()),
                   data.get("stop_reason"), Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)),
                   data.get("model"), reasoning_from_data(data.get("reasoning")))


def reasoning_to_data(reasoning: tuple[tuple[str, int], ...]) -> list[list[Any]]:
    """``Reply.reasoning`` as JSON data: ``[[field, characters], ...]``."""
    return [[name, chars] for name, chars in reasoning]


def reasoning_from_data(data: Any) -> tuple[tuple[str, int], ...]:
    """``Reply.reasoning`` from :func:`reasoning_to_data`'s data; ``()`` for anything else (a record written before
    it was kept, or edited: the message then does not name the field, as before)."""
    if not isinstance(data, list):
        return ()
    found = []
    for item in data:
        if not (isinstance(item, list | tuple) and len(item) == 2 and type(item[0]) is str and type(item[1]) is int):
            return ()
        found.append((item[0], item[1]))
    return tuple(found)


__all__ = ["Reply", "Request", "Usage"]
