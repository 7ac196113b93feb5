"""The errors of the LLM executors. They are ``ig.IgniterError`` subclasses, so a failed LLM node carries its
graph, node and execution like any other failure."""

from __future__ import annotations

from typing import Any

from igniter_nb.errors import IgniterError


class LLMError(IgniterError):
    """Base class of the LLM executor errors."""


class ConfigurationError(LLMError):
    """An LLM executor is configured wrongly or incompletely: unknown provider, no model, no API key (the
    message names the environment variable to set), a tool that cannot be described, ..."""


class ProviderError(LLMError):
    """The provider refused or failed a request. ``status_code`` is its HTTP status (``None`` when it could
    not be reached), ``provider_message`` its own words, ``provider`` its name."""

    def __init__(self, message: str = "", *, provider: str | None = None, status_code: int | None = None,
                 provider_message: str | None = None, **kw: Any) -> None:
        self.provider = provider
        self.status_code = status_code
        self.provider_message = provider_message
        super().__init__(message, provider=provider, status_code=status_code, **kw)


class OutputValidationError(LLMError):
    """The reply did not validate into the executor's ``response_model``, neither at first nor after the
    model was asked again with the validation error; ``errors`` holds both messages."""

    def __init__(self, message: str = "", *, errors: list[str] | None = None, **kw: Any) -> None:
        self.errors = list(errors or [])
        super().__init__(message, **kw)


class ToolLoopError(LLMError):
    """The model kept asking for tools beyond the executor's ``max_tool_rounds``, or a resumed executor's
    ``call`` no longer makes the request that was waiting for tool results."""


__all__ = ["ConfigurationError", "LLMError", "OutputValidationError", "ProviderError", "ToolLoopError"]
