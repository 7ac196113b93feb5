"""Structured replies: a pydantic ``response_model`` the reply text must validate into.

``native`` mode hands the model's JSON schema to the provider (Anthropic ``output_config.format``, OpenAI
``response_format`` of type ``json_schema``, Ollama ``format``); ``prompt`` mode asks for it in a system
message instead (for OpenAI-compatible servers without JSON-schema output). Either way the reply is validated
here, and a reply that does not validate is answered once with the validation error before the node fails.
"""

from __future__ import annotations

import json
import re
from typing import Any

from igniter_nb.llm.errors import ConfigurationError, OutputValidationError

MODES = ("native", "prompt")
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.S)


def is_response_model(value: Any) -> bool:
    return isinstance(value, type) and any(
        base.__name__ == "BaseModel" and base.__module__.startswith("pydantic") for base in value.__mro__[1:])


def check_response_model(value: Any, owner: str, attribute: str = ".response_model") -> Any:
    if value is not None and not is_response_model(value):
        raise ConfigurationError(f"{owner}{attribute} must be a pydantic model class, got {value!r}")
    return value


def schema_of(model: Any) -> dict[str, Any]:
    return dict(model.model_json_schema())


def instruction(model: Any) -> str:
    """The system message of ``prompt`` mode."""
    return ("Reply with a single JSON object, and nothing else, that validates against this JSON schema:\n"
            + json.dumps(schema_of(model), sort_keys=True))


def parse(model: Any, text: str) -> Any:
    """The reply validated into ``model``; raises ``ValueError`` with the validation message when it does not."""
    import pydantic

    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        return model.model_validate_json(body)
    except pydantic.ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e.get('loc', ())) or '(root)'}: {e.get('msg')}" for e in exc.errors()]
        raise ValueError("; ".join(lines)) from None


def reask(model: Any, error: str) -> str:
    """The user message sent after a reply that did not validate."""
    return (f"Your reply did not validate as {model.__name__}: {error}. Reply again with only the JSON object, "
            "corrected.")


#: stop reasons of a refusal (those of a reply cut at the output limit: ``providers.base.CUT_STOPS``)
REFUSAL_STOPS = frozenset({"refusal", "content_filter"})


def stopped_early(reason: Any, text: str, max_tokens: int | None, provider: str | None, owner: str,
                  reasoning: tuple[tuple[str, int], ...] = ()) -> str | None:
    """Why asking again for a structured reply that did not validate cannot help, from its stop ``reason``: it was
    cut at ``max_tokens`` (the same conversation is cut again) or the model refused; ``None`` otherwise. A cut
    reply whose text went to a reasoning field (``Reply.reasoning``) says so: the model spent the limit thinking."""
    from igniter_nb.llm.providers.base import CUT_STOPS

    if reason in CUT_STOPS:
        if max_tokens is not None:
            limit = f"max_tokens={max_tokens}"
        else:
            from igniter_nb.llm.providers.anthropic_api import DEFAULT_MAX_TOKENS

            limit = "max_tokens unset: " + (f"{DEFAULT_MAX_TOKENS} for anthropic" if provider == "anthropic"
                                            else "the provider's default")
        thought = ""
        if reasoning and not text:
            field, chars = reasoning[0]
            thought = (f"; its {chars:,} characters of output are all in {field!r}, a reasoning model's thinking, "
                       "not its reply: it spent the limit thinking")
        return (f"the model stopped at its output limit (stop reason {reason!r}, {limit}){thought}: raise max_tokens "
                f"on {owner} or ask for less")
    if reason in REFUSAL_STOPS:
        said = " ".join(text.split())
        return f"the model refused (stop reason {reason!r})" + (f": {said[:200]!r}" if said else "")
    return None


def unfinished(reason: Any, text: str, max_tokens: int | None, provider: str | None, owner: str,
               on_truncated: str, reasoning: tuple[tuple[str, int], ...] = ()) -> str | None:
    """Why a plain-text reply is not the model's whole answer, from its stop ``reason`` — it refused, or it was cut
    at the output limit and ``on_truncated`` is ``"error"`` — or ``None`` when it may be returned."""
    if reason in REFUSAL_STOPS or (reason in _cut_stops() and on_truncated == "error"):
        said = stopped_early(reason, text, max_tokens, provider, owner, reasoning)
        if reason in REFUSAL_STOPS:
            return said
        return f"{said}, or set on_truncated = 'keep' on {owner} to take a cut reply"
    return None


def _cut_stops() -> frozenset[str]:
    from igniter_nb.llm.providers.base import CUT_STOPS

    return CUT_STOPS


def check_stop(model: Any, text: str, stop_reason: Any, *, owner: str, provider: str | None, model_name: str | None,
               max_tokens: int | None, on_truncated: str, reasoning: tuple[tuple[str, int], ...] = ()) -> str | None:
    """Raise ``OutputValidationError`` for a reply that stopped early and is not taken: a refusal or a text reply
    (``model`` is ``None``) cut at the output limit unless ``on_truncated="keep"``; a structured reply that does not
    validate and was refused or cut (asking again cannot help, and is paid for). Otherwise ``None`` for a reply to
    take, or the validation message of a structured reply worth asking again. The context names the stop reason,
    the provider and the model."""
    if model is None:
        why = unfinished(stop_reason, text, max_tokens, provider, owner, on_truncated, reasoning)
        if why is not None:  # a refusal or a cut reply is not the model's answer: never returned as if it were
            raise OutputValidationError(f"{owner}: {why}", errors=[why], stop_reason=stop_reason, provider=provider,
                                        model=model_name)
        return None
    try:
        parse(model, text)
    except ValueError as exc:
        first = str(exc)
    else:
        return None
    stopped = stopped_early(stop_reason, text, max_tokens, provider, owner, reasoning)
    if stopped is not None:  # asking again cannot help (and is paid for): said at once
        raise OutputValidationError(f"the reply did not validate as {model.__name__}: {first}; {stopped}, so it "
                                    "was not asked again", errors=[first], stop_reason=stop_reason,
                                    provider=provider, model=model_name)
    return first


def dump(value: Any) -> str:
    """A validated reply as the JSON text kept in the journal of a durable executor."""
    return str(value.model_dump_json())


__all__ = ["MODES", "check_response_model", "check_stop", "dump", "instruction", "is_response_model", "parse", "reask", "schema_of"]
