"""Tools an LLM executor offers the model: built from a Python function (signature + docstring) or a pydantic
model, described by one JSON schema that each provider adapter wraps in its own format.

A function tool validates the model's arguments with pydantic before it runs; a pydantic-model tool only
describes arguments (someone outside the contract runs it: a durable tool call).
"""

from __future__ import annotations

import contextvars
import inspect
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.llm.conversation import ToolCall, content_text
from igniter_nb.llm.errors import ConfigurationError, ProviderError, ToolLoopError
from igniter_nb.runtime.surrogates import lone_surrogate_at

#: What Anthropic and OpenAI accept as a tool name (Ollama accepts these too).
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Tool output sent back to the model is cut at this many characters in the audit events (not in the request).
AUDIT_TEXT_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool offered to the model: ``name``, ``description``, ``parameters`` (a JSON schema of an object),
    and ``function`` when this process can run it (``tools_run="auto"``)."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    function: Callable[..., Any] | None = None
    arguments_model: Any = None  # the pydantic model validating arguments (None: passed through as given)

    def to_dict(self) -> dict[str, Any]:
        """The provider-neutral description (what the cache key and audit use)."""
        return {"name": self.name, "description": self.description, "parameters": dict(self.parameters)}

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments as the function receives them (pydantic-validated); raises ``ValueError`` with the
        validation message when they do not fit."""
        if self.arguments_model is None:
            return dict(arguments)
        import pydantic

        try:
            model = self.arguments_model.model_validate(dict(arguments))
        except pydantic.ValidationError as exc:
            raise ValueError(_validation_text(exc)) from None
        return {name: getattr(model, name) for name in type(model).model_fields}

    def run(self, call: ToolCall, timeout: float | None = None, owner: str = "") -> dict[str, Any]:
        """Run this tool for ``call``: ``{"id", "name", "content", "is_error"}``. A bad argument or an exception
        becomes an error result the model reads (and the audit records), not a failed node. With ``timeout``
        (seconds) the function runs in a thread of its own, and one that has not returned by then raises
        ``ToolLoopError`` naming the tool and the timeout (``owner``: whose setting it is, for the message)."""
        if self.function is None:
            raise ConfigurationError(f"tool {self.name!r} has no function to run (a pydantic-model tool only describes "
                                     "arguments): answer its calls by resuming the node, or give a function")
        try:
            kwargs = self.validate(call.arguments)
        except ValueError as exc:
            return _result(call, f"invalid arguments for {self.name}: {exc}", True)
        try:
            output = self.function(**kwargs) if timeout is None else self._within(call, kwargs, timeout, owner)
        except ToolLoopError:
            raise
        except Exception as exc:  # the model sees the failure and may try again (rounds are bounded)
            return _result(call, f"{type(exc).__name__}: {exc}", True)
        if inspect.isawaitable(output):
            if inspect.iscoroutine(output):
                output.close()  # never awaited: closed so it does not warn
            return _result(call, f"tool {self.name} returned an awaitable ({type(output).__name__}); tools run "
                                 "synchronously", True)
        try:
            text = content_text(output)
        except Exception as exc:  # not text nor JSON data (an object, a cycle, too deep, bytes that are not UTF-8)
            return _result(call, f"tool {self.name} returned a value that cannot be sent to the model "
                                 f"({type(output).__name__}: {type(exc).__name__}: {exc})", True)
        if lone_surrogate_at(text, "") is not None:  # UTF-8 cannot carry it to the model
            return _result(call, f"tool {self.name} returned text that is not valid Unicode (it holds an unpaired "
                                 "surrogate, as os.fsdecode makes of bytes that are not UTF-8)", True)
        return _result(call, text, False)


    def _within(self, call: ToolCall, kwargs: dict[str, Any], timeout: float, owner: str) -> Any:
        """The function's value, run in a daemon thread (with the caller's context variables) and waited for at most
        ``timeout`` seconds. Python cannot stop a thread: one that overruns is left to finish, its value unused."""
        assert self.function is not None
        function = self.function
        outcome: list[Any] = []
        context = contextvars.copy_context()

        def work() -> None:
            try:
                outcome.append((True, context.run(function, **kwargs)))
            except BaseException as exc:  # handed to the caller's thread, which decides
                outcome.append((False, exc))

        thread = threading.Thread(target=work, name=f"igniter-tool-{self.name}", daemon=True)
        thread.start()
        thread.join(timeout)
        if not outcome:
            setting = f"{owner}.tool_timeout" if owner else "tool_timeout"
            raise ToolLoopError(f"tool {self.name!r} (call {call.id}) did not return within {timeout:g} s ({setting}); "
                                "the node fails rather than send the model a missing result (the tool's thread is "
                                "left to finish, its value unused)", tool=self.name, timeout=timeout, tool_call=call.id)
        done, value = outcome[0]
        if not done:
            raise value
        return value


def _check_tool(tool: Tool) -> None:
    """A ``Tool`` built by hand: each field of the type the providers and the runner need."""
    if not isinstance(tool.name, str):
        raise ConfigurationError(f"tool name must be text, got {tool.name!r}")
    if not isinstance(tool.description, str):
        raise ConfigurationError(f"tool {tool.name!r}: description must be text, got {type(tool.description).__name__}")
    if not isinstance(tool.parameters, Mapping) or tool.parameters.get("type") != "object":
        raise ConfigurationError(f"tool {tool.name!r}: parameters must be the JSON schema of an object "
                                 f"({{'type': 'object', 'properties': {{...}}}}), got {tool.parameters!r}")
    if tool.function is not None and not callable(tool.function):
        raise ConfigurationError(f"tool {tool.name!r}: function must be callable (or None), got {tool.function!r}")


def _result(call: ToolCall, content: str, is_error: bool) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "content": content, "is_error": is_error}


def _validation_text(exc: Any) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        parts.append(f"{where}: {err.get('msg')}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------------------------- building


def make_tool(spec: Any, *, name: str | None = None, description: str | None = None) -> Tool:
    """A ``Tool`` from a function, a pydantic model class, or a ``Tool`` (returned as is unless renamed)."""
    if isinstance(spec, Tool):
        _check_tool(spec)
        tool = spec
        if name is not None or description is not None:
            tool = Tool(name or tool.name, tool.description if description is None else description, tool.parameters,
                        tool.function, tool.arguments_model)
    elif _is_pydantic_model(spec):
        schema = _object_schema(spec.model_json_schema())
        doc = description if description is not None else (inspect.getdoc(spec) or "")
        schema.pop("description", None)
        tool = Tool(name or spec.__name__, doc, schema, None, spec)
    elif inspect.isfunction(spec) or inspect.ismethod(spec) or inspect.isbuiltin(spec):
        tool = _function_tool(spec, name, description)
    else:
        raise ConfigurationError(f"a tool must be a function, a pydantic model class or an ig.llm.Tool, got {spec!r}")
    if not TOOL_NAME.match(tool.name):
        raise ConfigurationError(f"tool name {tool.name!r} is not allowed: use 1-64 letters, digits, '_' or '-'")
    return tool


def make_tools(specs: Iterable[Any], owner: str) -> tuple[Tool, ...]:
    """The tools of an executor, checked: well-formed and uniquely named."""
    if isinstance(specs, str | bytes | Mapping) or not isinstance(specs, Iterable):
        raise ConfigurationError(f"{owner}.tools must be a list of functions, pydantic models or ig.llm.Tool objects, "
                                 f"got {type(specs).__name__}")
    tools: list[Tool] = []
    for spec in specs:
        try:
            tool = make_tool(spec)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{owner}.tools: {exc.message}") from None
        if any(t.name == tool.name for t in tools):
            raise ConfigurationError(f"{owner}.tools: two tools are named {tool.name!r}")
        tools.append(tool)
    return tuple(tools)


def _function_tool(fn: Callable[..., Any], name: str | None, description: str | None) -> Tool:
    import pydantic

    label = getattr(fn, "__qualname__", repr(fn))
    try:
        signature = inspect.signature(fn)
        hints = inspect.get_annotations(fn, eval_str=True) if inspect.isfunction(fn) else {}
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigurationError(f"cannot read the signature of tool {label}: {exc}") from None
    summary, arg_docs = parse_docstring(inspect.getdoc(fn))
    fields: dict[str, Any] = {}
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise ConfigurationError(f"tool {label}: parameter {p.name!r} cannot be described to a model "
                                     "(use plain or keyword-only parameters)")
        if p.name.startswith("_"):
            raise ConfigurationError(f"tool {label}: parameter {p.name!r} starts with '_', which pydantic treats as private")
        if p.name == "model_config":
            raise ConfigurationError(f"tool {label}: parameter 'model_config' is reserved by pydantic, which validates "
                                     "the arguments: rename it")
        annotation = hints.get(p.name, Any)
        default = ... if p.default is p.empty else p.default
        fields[p.name] = (annotation, pydantic.Field(default, description=arg_docs.get(p.name) or None))
    try:
        with warnings.catch_warnings():  # a parameter named like a BaseModel method (json, copy, ...) works as a field
            warnings.filterwarnings("ignore", message=".*shadows an attribute in parent", category=UserWarning)
            model = pydantic.create_model(f"{fn.__name__}_arguments", **fields)
        schema = _object_schema(model.model_json_schema())
    except Exception as exc:  # an annotation pydantic cannot describe
        raise ConfigurationError(f"tool {label}: its parameters cannot be described as JSON schema: {exc}") from None
    return Tool(name or fn.__name__, summary if description is None else description, schema, fn, model)


def _object_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(schema)
    data.pop("title", None)
    data.setdefault("type", "object")
    data.setdefault("properties", {})
    return data


def _is_pydantic_model(value: Any) -> bool:
    return isinstance(value, type) and any(
        base.__name__ == "BaseModel" and base.__module__.startswith("pydantic") for base in value.__mro__[1:])


_SECTION = re.compile(r"^(args|arguments|parameters|params|returns?|yields?|raises?|examples?|notes?)\s*:\s*$", re.I)
_ARG_LINE = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """``(description, {argument: description})`` from a Google-style docstring: the text before the first
    section is the description; the ``Args:`` section gives the arguments (continuation lines indented)."""
    if not doc:
        return "", {}
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for raw in doc.splitlines():
        line = raw.strip()
        match = _SECTION.match(line)
        if match:
            section = match.group(1).lower()
            current = None
            continue
        if section is None:
            summary.append(raw.rstrip())
        elif section in ("args", "arguments", "parameters", "params") and line:
            arg = _ARG_LINE.match(line)
            if arg and not raw.startswith(" " * 8):
                current = arg.group(1).lstrip("*")
                args[current] = arg.group(2).strip()
            elif current is not None:
                args[current] = f"{args[current]} {line}".strip()
    return "\n".join(summary).strip(), args


def tool_named(tools: tuple[Tool, ...], call: ToolCall) -> Tool:
    """The tool ``call`` names; for a name not offered, one whose function raises saying so (the model reads it
    as an error result, in ``tools_run="auto"`` mode)."""
    for tool in tools:
        if tool.name == call.name:
            return tool
    return Tool(call.name, function=_unknown_tool(call.name, tools))


def _unknown_tool(name: str, tools: tuple[Tool, ...]) -> Callable[..., Any]:
    def refuse(**_: Any) -> Any:
        raise LookupError(f"there is no tool named {name!r} (tools: {', '.join(t.name for t in tools)})")

    return refuse


def unknown_tool_error(calls: Iterable[ToolCall], tools: Iterable[Tool], owner: str, provider: str | None,
                       model: str | None, stop_reason: Any) -> ProviderError | None:
    """The error for the first of ``calls`` naming a tool not among ``tools`` (a durable wait must not ask whoever
    answers it to run a tool the executor never offered), or ``None``."""
    offered = [t.name for t in tools]
    call = next((c for c in calls if c.name not in offered), None)
    if call is None:
        return None
    return ProviderError(f"{owner}: the model called tool {call.name!r} (call {call.id!r}), which {owner} does not "
                         f"offer (tools: {', '.join(offered)}); no tool-call wait was made", provider=provider,
                         model=model, tool=call.name, tool_call_id=call.id, tools=offered, stop_reason=stop_reason)


__all__ = ["Tool", "make_tool", "make_tools", "parse_docstring", "tool_named", "unknown_tool_error"]
