"""The errors of the LLM executors, as ``ig.llm.*``. They live in ``igniter_nb.errors`` with every other error,
so a failed LLM node restored from a snapshot keeps its class; they are ``ig.IgniterError`` subclasses, so they
carry the graph, node and execution like any other failure."""

from __future__ import annotations

from igniter_nb.errors import (
    ConfigurationError,
    DuplicateSignalError,
    LLMError,
    OutputValidationError,
    PayloadValidationError,
    ProviderError,
    ToolLoopError,
)


class ResumeInProgressError(PayloadValidationError, DuplicateSignalError, LLMError):
    """Another worker is resuming this tool-call wait right now (it holds the wait's resume lease): this resume is
    refused before anything is sent to the provider, and the node stays pending as it was. A
    ``PayloadValidationError`` (so the engine leaves the node untouched instead of failing it) and a
    ``DuplicateSignalError`` (what it is: the same wait answered twice; ``409`` over HTTP). Not a
    ``ConcurrencyError``: that one means "re-read and save again", which the server does at once (up to 50 times),
    while this one holds until the other worker is done. It never fails a node, so it is never stored, and lives
    here rather than in ``igniter_nb.errors``."""


__all__ = ["ConfigurationError", "LLMError", "OutputValidationError", "ProviderError", "ResumeInProgressError",
           "ToolLoopError"]
