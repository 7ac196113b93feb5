"""LLM executors (``ig.llm``): contract nodes that ask Anthropic, OpenAI or Ollama models, through their official
SDKs, with tool calls as durable waits, structured replies, a response cache and an audit of every call.

Importing this package imports no SDK: each loads on the first request to its provider. See ``docs/llm.md``.
"""

from __future__ import annotations

from typing import Any

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


__getattr__, __dir__ = lazy_attributes("igniter_nb.llm", globals(), _LAZY,
                                       {name: f"igniter_nb.llm.{name}" for name in _SUBMODULES})

__all__ = sorted(_LAZY)
