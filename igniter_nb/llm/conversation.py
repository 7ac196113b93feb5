"""``ig.llm.Conversation``: an immutable chat history in one provider-neutral form.

Every operation returns a new conversation, so a conversation kept in a notebook variable, in a node value or
in a snapshot never changes under anyone's feet. Messages are plain data (``to_dict()`` / ``from_dict()``)::

    {"role": "system" | "user" | "assistant", "content": "..."}
    {"role": "assistant", "content": "...", "tool_calls": [{"id": "...", "name": "...", "arguments": {...}}]}
    {"role": "tool", "tool_call_id": "...", "name": "...", "content": "...", "is_error": False}

Each provider adapter turns this form into its own wire format (Anthropic ``tool_use``/``tool_result``
blocks, OpenAI ``tool_calls`` and ``tool`` messages with ``tool_call_id``, Ollama ``tool`` messages with
``tool_name``), so a conversation moves between providers unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.llm.errors import ConfigurationError

ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for: the provider's ``id`` (kept for the follow-up request), the tool
    ``name`` and its ``arguments`` (a JSON object)."""

    id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "name", "arguments"}``, JSON-safe."""
        return {"id": self.id, "name": self.name, "arguments": _plain(self.arguments)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "tool call") -> ToolCall:
        """A tool call from ``{"id", "name", "arguments"}``; ``ConfigurationError`` naming ``where`` and the bad field
        otherwise."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{where} must be a dict with id, name and arguments, got {type(data).__name__}")
        ident, name, arguments = data.get("id"), data.get("name"), data.get("arguments", {})
        if not isinstance(ident, str) or not ident:
            raise ConfigurationError(f"{where} needs a non-empty string 'id', got {ident!r}")
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"{where} needs a non-empty string 'name', got {name!r}")
        if not isinstance(arguments, Mapping):
            raise ConfigurationError(f"{where} 'arguments' must be a JSON object, got {type(arguments).__name__}")
        return cls(ident, name, _plain(arguments))


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation (see the module docstring for the shapes)."""

    role: str
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The message in the documented shape (``role``, ``content``, plus ``tool_calls`` or the tool answer's
        ``tool_call_id``/``name``/``is_error``), JSON-safe."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.role == "tool":
            data["tool_call_id"] = self.tool_call_id
            data["name"] = self.name
            if self.is_error:
                data["is_error"] = True
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "message") -> Message:
        """A message from a dict in the documented shape (a ``Message`` is returned as is); ``ConfigurationError``
        naming ``where`` and the bad field otherwise."""
        if isinstance(data, Message):
            return data
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{where} must be a dict with role and content, got {type(data).__name__}")
        role, content = data.get("role"), data.get("content", "")
        if role not in ROLES:
            raise ConfigurationError(f"{where} has role {role!r}; use one of {', '.join(ROLES)}")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise ConfigurationError(f"{where} content must be text, got {type(content).__name__}")
        calls = data.get("tool_calls") or ()
        if calls and role != "assistant":
            raise ConfigurationError(f"{where}: only assistant messages carry tool_calls (role is {role!r})")
        if not isinstance(calls, Sequence) or isinstance(calls, str):
            raise ConfigurationError(f"{where} tool_calls must be a list")
        tool_calls = tuple(ToolCall.from_dict(c, f"{where} tool_calls[{i}]") for i, c in enumerate(calls))
        if role != "tool":
            return cls(role, content, tool_calls)
        ident, name = data.get("tool_call_id"), data.get("name")
        if not isinstance(ident, str) or not ident:
            raise ConfigurationError(f"{where}: a tool message needs the 'tool_call_id' of the call it answers")
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"{where}: a tool message needs the 'name' of the tool that ran")
        return cls("tool", content, (), ident, name, bool(data.get("is_error", False)))


class Conversation:
    """An immutable chat history: ``append_user``/``append_assistant``/... return new conversations.

    ``Conversation(system="Be brief")`` (or ``Conversation.empty(system=...)``) starts one with a system
    message. ``messages`` is a fresh list of dicts, ``len()`` counts messages, ``to_dict()`` /
    ``Conversation.from_dict()`` round-trip it as JSON-safe data.
    """

    __slots__ = ("_messages",)

    def __init__(self, system: str | None = None, messages: Iterable[Any] = ()) -> None:
        items: list[Message] = []
        if system is not None:
            items.append(Message("system", _text(system, "system")))
        items.extend(Message.from_dict(m, f"messages[{i}]") for i, m in enumerate(messages))
        _check_tool_answers(items)
        self._messages: tuple[Message, ...] = tuple(items)

    @classmethod
    def _of(cls, messages: tuple[Message, ...]) -> Conversation:
        new = cls.__new__(cls)
        new._messages = messages
        return new

    @classmethod
    def empty(cls, system: str | None = None) -> Conversation:
        """A conversation with no messages, or only the given system message."""
        return cls(system=system)

    @classmethod
    def from_dict(cls, data: Any) -> Conversation:
        """The inverse of ``to_dict()`` (a list of message dicts is accepted too); bad data raises
        ``ConfigurationError`` naming the message."""
        if isinstance(data, Conversation):
            return data
        if isinstance(data, Mapping):
            if "messages" not in data:
                raise ConfigurationError("a conversation dict needs a 'messages' list")
            data = data["messages"]
        if not isinstance(data, Sequence) or isinstance(data, str | bytes):
            raise ConfigurationError(f"a conversation is a list of messages, got {type(data).__name__}")
        return cls(messages=data)

    # ------------------------------------------------------------------ reading
    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages as a fresh list of dicts (changing it changes nothing here)."""
        return [m.to_dict() for m in self._messages]

    @property
    def items(self) -> tuple[Message, ...]:
        """The messages as immutable ``Message`` objects."""
        return self._messages

    @property
    def system(self) -> str | None:
        """The system messages joined by a blank line, or ``None`` when there is none."""
        parts = [m.content for m in self._messages if m.role == "system"]
        return "\n\n".join(parts) if parts else None

    @property
    def last_assistant_message(self) -> str | None:
        """The text of the latest assistant message, or ``None``."""
        return next((m.content for m in reversed(self._messages) if m.role == "assistant"), None)

    def pending_tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls of the latest assistant message that no tool message answers yet."""
        answered: set[str] = set()
        for m in reversed(self._messages):
            if m.role == "tool" and m.tool_call_id:
                answered.add(m.tool_call_id)
            elif m.role == "assistant":
                return tuple(c for c in m.tool_calls if c.id not in answered)
        return ()

    def __len__(self) -> int:
        return len(self._messages)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.messages)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Conversation) and other._messages == self._messages

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        roles = ", ".join(m.role for m in self._messages)
        return f"Conversation({len(self._messages)} messages: {roles})" if roles else "Conversation(empty)"

    def to_dict(self) -> dict[str, Any]:
        """``{"messages": [...]}``, JSON-safe."""
        return {"messages": self.messages}

    # ------------------------------------------------------------------ growing
    def append(self, message: Mapping[str, Any] | Message) -> Conversation:
        """A new conversation with ``message`` (a dict in the documented shape) at the end."""
        item = Message.from_dict(message, f"messages[{len(self._messages)}]")
        items = (*self._messages, item)
        _check_tool_answers(items)
        return Conversation._of(items)

    def append_user(self, text: str) -> Conversation:
        """A new conversation with a user message ``text`` at the end."""
        return Conversation._of((*self._messages, Message("user", _text(text, "user message"))))

    def append_assistant(self, text: str, tool_calls: Iterable[ToolCall | Mapping[str, Any]] = ()) -> Conversation:
        """A new conversation with the model's message ``text`` (and the tool calls it made) at the end."""
        calls = tuple(c if isinstance(c, ToolCall) else ToolCall.from_dict(c) for c in tool_calls)
        return Conversation._of((*self._messages, Message("assistant", _text(text or "", "assistant message"), calls)))

    def append_system(self, text: str) -> Conversation:
        """A new conversation with a system message ``text`` at the end (``with_system`` replaces them instead)."""
        return Conversation._of((*self._messages, Message("system", _text(text, "system message"))))

    def with_system(self, text: str) -> Conversation:
        """A new conversation whose only system message is ``text``, first."""
        rest = tuple(m for m in self._messages if m.role != "system")
        return Conversation._of((Message("system", _text(text, "system message")), *rest))

    def append_tool_result(self, tool_call_id: str, name: str, content: Any, *, is_error: bool = False) -> Conversation:
        """A new conversation answering the tool call ``tool_call_id`` (content that is not text becomes JSON)."""
        item = Message("tool", content_text(content), (), tool_call_id, name, is_error)
        items = (*self._messages, item)
        _check_tool_answers(items)
        return Conversation._of(items)

    def append_tool_results(self, results: Iterable[Mapping[str, Any]]) -> Conversation:
        """``append_tool_result`` for each ``{"id", "name", "content", "is_error"?}``."""
        conversation = self
        for r in results:
            conversation = conversation.append_tool_result(r["id"], r["name"], r.get("content", ""),
                                                           is_error=bool(r.get("is_error", False)))
        return conversation


def content_text(content: Any) -> str:
    """Tool output as the text sent to the model: text as is, anything else as JSON."""
    if isinstance(content, str):
        return content
    from pydantic_core import to_jsonable_python

    return json.dumps(to_jsonable_python(content), ensure_ascii=False, sort_keys=True)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"the {what} must be text, got {type(value).__name__}")
    return value


def _plain(value: Any) -> Any:
    """A JSON round trip: arguments become plain, independent data (and non-JSON values fail here)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigurationError(f"tool call arguments must be JSON data: {type(exc).__name__}: {exc}") from None


def _check_tool_answers(items: Sequence[Message]) -> None:
    """A tool message must answer a call some earlier assistant message made (providers reject it otherwise)."""
    asked: set[str] = set()
    for i, m in enumerate(items):
        if m.role == "assistant":
            asked.update(c.id for c in m.tool_calls)
        elif m.role == "tool" and m.tool_call_id not in asked:
            raise ConfigurationError(f"messages[{i}] answers tool call {m.tool_call_id!r}, which no earlier "
                                     "assistant message made")


__all__ = ["Conversation", "Message", "ToolCall", "content_text"]
