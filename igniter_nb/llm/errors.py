"""The errors of the LLM executors, as ``ig.llm.*``. They live in ``igniter_nb.errors`` with every other error,
so a failed LLM node restored from a snapshot keeps its class; they are ``ig.IgniterError`` subclasses, so they
carry the graph, node and execution like any other failure."""

from __future__ import annotations

from igniter_nb.errors import ConfigurationError, LLMError, OutputValidationError, ProviderError, ToolLoopError

__all__ = ["ConfigurationError", "LLMError", "OutputValidationError", "ProviderError", "ToolLoopError"]
