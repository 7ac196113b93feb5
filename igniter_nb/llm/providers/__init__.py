"""The providers an LLM executor can name, each behind its official SDK (imported on first use)."""

from __future__ import annotations

import importlib
import threading
from typing import Any

from igniter_nb.llm.errors import ConfigurationError

#: provider name → "module:class" of its adapter
PROVIDERS: dict[str, str] = {
    "anthropic": "igniter_nb.llm.providers.anthropic_api:AnthropicProvider",
    "openai": "igniter_nb.llm.providers.openai_api:OpenAIProvider",
    "ollama": "igniter_nb.llm.providers.ollama_api:OllamaProvider",
}

_adapters: dict[str, Any] = {}
_lock = threading.Lock()


def check_provider(name: Any) -> str:
    """``name`` if it is a known provider, else ``ConfigurationError`` listing the known ones."""
    if not isinstance(name, str) or name not in PROVIDERS:
        raise ConfigurationError(f"Unknown LLM provider: {name!r}. Available: {', '.join(PROVIDERS)}")
    return str(name)


def provider(name: str) -> Any:
    """The adapter for ``name`` (one per process; it builds SDK clients from the configuration at call time)."""
    check_provider(name)
    with _lock:
        found = _adapters.get(name)
        if found is None:
            try:
                importlib.import_module(name)  # each SDK's package has its provider's name
            except ImportError as exc:
                raise ConfigurationError(f"the {name} provider needs its SDK: pip install 'igniter_nb[llm]' ({exc})",
                                         provider=name) from None
            module, cls = PROVIDERS[name].split(":")
            found = _adapters[name] = getattr(importlib.import_module(module), cls)()
        return found


def close_clients() -> int:
    """Close the SDK clients every provider adapter of this process has cached (each keeps up to 16, one per
    configuration, with their pooled connections): at shutdown, or in tests whose provider servers are gone. Later
    requests build new clients. How many were closed."""
    with _lock:
        adapters = list(_adapters.values())
    return sum(adapter.close_clients() for adapter in adapters)


__all__ = ["PROVIDERS", "check_provider", "close_clients", "provider"]
