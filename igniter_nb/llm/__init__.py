"""LLM executors (``ig.llm``): contract nodes that ask Anthropic, OpenAI or Ollama models, through their official
SDKs, with tool calls as durable waits, structured replies, a response cache and an audit of every call.

Importing this package imports no SDK: each loads on the first request to its provider. See ``docs/llm.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._lazy import lazy_attributes

_LAZY = {
    "Executor": "igniter_nb.llm.executor",
    "Conversation": "igniter_nb.llm.conversation",
    "Message": "igniter_nb.llm.conversation",
    "ToolCall": "igniter_nb.llm.conversation",
    "Tool": "igniter_nb.llm.tools",
    "make_tool": "igniter_nb.llm.tools",
    "Usage": "igniter_nb.llm.request",
    "Reply": "igniter_nb.llm.request",
    "Request": "igniter_nb.llm.request",
    "MemoryCache": "igniter_nb.llm.cache",
    "StoreCache": "igniter_nb.llm.cache",
    "LLMError": "igniter_nb.llm.errors",
    "ConfigurationError": "igniter_nb.llm.errors",
    "ProviderError": "igniter_nb.llm.errors",
    "OutputValidationError": "igniter_nb.llm.errors",
    "ToolLoopError": "igniter_nb.llm.errors",
    "ResumeInProgressError": "igniter_nb.llm.errors",
    "PROVIDERS": "igniter_nb.llm.providers",
    "llm_frame": "igniter_nb.llm.frame",
}


_SUBMODULES = ("testing", "providers", "cache", "tools", "conversation", "frame", "structured", "durable", "lease")


if TYPE_CHECKING:  # (the lazy names for type checkers, which see no module __getattr__; `as`: re-exported)
    from igniter_nb.llm import cache as cache
    from igniter_nb.llm import conversation as conversation
    from igniter_nb.llm import durable as durable
    from igniter_nb.llm import frame as frame
    from igniter_nb.llm import lease as lease
    from igniter_nb.llm import providers as providers
    from igniter_nb.llm import structured as structured
    from igniter_nb.llm import testing as testing
    from igniter_nb.llm import tools as tools
    from igniter_nb.llm.cache import MemoryCache as MemoryCache
    from igniter_nb.llm.cache import StoreCache as StoreCache
    from igniter_nb.llm.conversation import Conversation as Conversation
    from igniter_nb.llm.conversation import Message as Message
    from igniter_nb.llm.conversation import ToolCall as ToolCall
    from igniter_nb.llm.errors import ConfigurationError as ConfigurationError
    from igniter_nb.llm.errors import LLMError as LLMError
    from igniter_nb.llm.errors import OutputValidationError as OutputValidationError
    from igniter_nb.llm.errors import ProviderError as ProviderError
    from igniter_nb.llm.errors import ResumeInProgressError as ResumeInProgressError
    from igniter_nb.llm.errors import ToolLoopError as ToolLoopError
    from igniter_nb.llm.executor import Executor as Executor
    from igniter_nb.llm.frame import llm_frame as llm_frame
    from igniter_nb.llm.providers import PROVIDERS as PROVIDERS
    from igniter_nb.llm.request import Reply as Reply
    from igniter_nb.llm.request import Request as Request
    from igniter_nb.llm.request import Usage as Usage
    from igniter_nb.llm.tools import Tool as Tool
    from igniter_nb.llm.tools import make_tool as make_tool
else:
    __getattr__, __dir__ = lazy_attributes("igniter_nb.llm", globals(), _LAZY,
                                           {name: f"igniter_nb.llm.{name}" for name in _SUBMODULES})

__all__ = sorted(_LAZY)
