"""Are an ``ig.llm.Executor`` class's settings usable? Checked when the class is created.

The settings' allowed values (``tools_run`` modes, the default ``tool_timeout``, the request options the executor
sets itself) and the checks that refuse anything else, naming the class and the setting.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.llm.errors import ConfigurationError
from igniter_nb.llm.providers import check_provider
from igniter_nb.llm.tools import Tool, make_tools

if TYPE_CHECKING:
    from igniter_nb.llm.executor import Executor

TOOLS_RUN = ("defer", "auto")
#: ``on_truncated``'s values: a plain-text reply cut at the output limit fails the node, or is taken as it is
ON_TRUNCATED = ("error", "keep")
#: ``tool_timeout``'s default: seconds a tool run with ``tools_run="auto"`` may take before the node fails.
DEFAULT_TOOL_TIMEOUT = 60.0
#: request options the executor sets itself, and the setting to use instead
RESERVED_OPTIONS = {"model": "set model", "messages": "pass the prompt or conversation to the helper",
                    "stream": "set stream (or pass stream= to complete/chat)", "stream_options": "set stream",
                    "tools": "set tools", "system": "set system_prompt"}


def check_settings(cls: type[Executor]) -> None:
    """Check an executor class's settings when it is created (errors name the class and the setting)."""
    name = cls.__qualname__
    if cls.provider is not None:
        check_provider(cls.provider)
    if cls.model is not None and (not isinstance(cls.model, str) or not cls.model):
        raise ConfigurationError(f"{name}.model must be a model name (text), got {cls.model!r}")
    for attr in ("system_prompt", "api_key", "base_url"):
        value = getattr(cls, attr)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{name}.{attr} must be text, got {type(value).__name__}")
    if cls.temperature is not None and (isinstance(cls.temperature, bool) or not isinstance(cls.temperature, int | float)
                                        or not math.isfinite(cls.temperature) or cls.temperature < 0):
        raise ConfigurationError(f"{name}.temperature must be a number >= 0, got {cls.temperature!r}")
    for attr in ("max_tokens", "max_tool_rounds"):
        value = getattr(cls, attr)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigurationError(f"{name}.{attr} must be a positive integer, got {value!r}")
    if cls.max_retries is not None and (isinstance(cls.max_retries, bool) or not isinstance(cls.max_retries, int)
                                        or cls.max_retries < 0):
        raise ConfigurationError(f"{name}.max_retries must be an integer >= 0, got {cls.max_retries!r}")
    if cls.timeout is not None and (isinstance(cls.timeout, bool) or not isinstance(cls.timeout, int | float)
                                    or not math.isfinite(cls.timeout) or cls.timeout <= 0):
        raise ConfigurationError(f"{name}.timeout must be a number of seconds > 0, got {cls.timeout!r}")
    if cls.total_timeout is not None and (isinstance(cls.total_timeout, bool)
                                          or not isinstance(cls.total_timeout, int | float)
                                          or not math.isfinite(cls.total_timeout) or cls.total_timeout <= 0):
        raise ConfigurationError(f"{name}.total_timeout must be a number of seconds > 0 or None, got "
                                 f"{cls.total_timeout!r}")
    if cls.max_answer_bytes is not None and (type(cls.max_answer_bytes) is not int or cls.max_answer_bytes < 1):
        raise ConfigurationError(f"{name}.max_answer_bytes must be an int >= 1 or None (no limit), got "
                                 f"{cls.max_answer_bytes!r}")
    if cls.tool_timeout is not None and (isinstance(cls.tool_timeout, bool) or not isinstance(cls.tool_timeout, int | float)
                                         or not math.isfinite(cls.tool_timeout) or cls.tool_timeout <= 0):
        raise ConfigurationError(f"{name}.tool_timeout must be a number of seconds > 0 or None, got {cls.tool_timeout!r}")
    if cls.resume_lease is not None and (isinstance(cls.resume_lease, bool) or not isinstance(cls.resume_lease, int | float)
                                         or not math.isfinite(cls.resume_lease) or cls.resume_lease <= 0):
        raise ConfigurationError(f"{name}.resume_lease must be a number of seconds > 0 or None, got {cls.resume_lease!r}")
    for attr in ("client_options", "request_options"):
        if not isinstance(getattr(cls, attr), Mapping):
            raise ConfigurationError(f"{name}.{attr} must be a dict of keyword arguments")
        bad = next((key for key in getattr(cls, attr) if not isinstance(key, str)), None)
        if bad is not None:  # (it failed at the first request, blamed on the provider's answer)
            raise ConfigurationError(f"{name}.{attr} keys must be keyword names (text), got {bad!r:.80} "
                                     f"({type(bad).__name__})")
    for key in cls.request_options:
        if key in RESERVED_OPTIONS:  # the executor sets them: an override would bypass its audit, cache key or parsing
            raise ConfigurationError(f"{name}.request_options may not set {key!r}: {RESERVED_OPTIONS[key]}")
    from igniter_nb.llm.structured import MODES, check_response_model

    check_response_model(cls.response_model, name)
    if cls.structured_output not in MODES:
        raise ConfigurationError(f"{name}.structured_output must be one of {', '.join(MODES)}, got {cls.structured_output!r}")
    if cls.cache is not None and not (callable(getattr(cls.cache, "get", None)) and callable(getattr(cls.cache, "put", None))):
        raise ConfigurationError(f"{name}.cache must be an ig.llm.MemoryCache, an ig.llm.StoreCache or an object with "
                                 f"get(key) and put(key, reply, request), got {cls.cache!r}")
    if cls.on_truncated not in ON_TRUNCATED:
        raise ConfigurationError(f"{name}.on_truncated must be 'error' or 'keep', got {cls.on_truncated!r}")
    _check_stream(cls.stream, f"{name}.stream")
    cls.tool_specs = make_tools(cls.tools, name) if "tools" in cls.__dict__ else cls.tool_specs
    _check_tools_run(cls.tools_run, cls.tool_specs, name)


def _check_stream(value: Any, owner: str) -> None:
    if not (value is None or isinstance(value, bool) or callable(value)):
        raise ConfigurationError(f"{owner} must be True, False or a callable taking each piece of text, got {value!r}")


def _check_tools_run(mode: Any, tools: tuple[Tool, ...], owner: str) -> None:
    if mode not in TOOLS_RUN:
        raise ConfigurationError(f"{owner}.tools_run must be 'defer' or 'auto', got {mode!r}")
    if mode == "auto":
        unrunnable = [t.name for t in tools if t.function is None]
        if unrunnable:
            raise ConfigurationError(f"{owner}: tools_run='auto' needs a function for every tool; "
                                     f"{', '.join(unrunnable)} only describe arguments")
        asynchronous = [t.name for t in tools if inspect.iscoroutinefunction(t.function)
                        or inspect.isasyncgenfunction(t.function)]
        if asynchronous:
            raise ConfigurationError(f"{owner}: tools_run='auto' runs tools synchronously, and "
                                     f"{', '.join(asynchronous)} {'is' if len(asynchronous) == 1 else 'are'} async "
                                     "(async def): give a plain function")
