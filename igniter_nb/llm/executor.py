"""``ig.llm.Executor``: an executor whose ``call`` talks to a language model.

Settings are class attributes (``provider``, ``model``, ``system_prompt``, ``temperature``, ``max_tokens``,
``tools``, ...), checked when the class is created. Inside ``call`` three helpers send requests:
``complete(prompt)``, ``chat(conversation)`` and ``complete_with_tools(prompt)``. A tool-call reply makes the
node pending on the calls (``{"tool_calls": [{id, name, arguments}]}``); resuming it with
``[{"id", "name", "content"}]`` runs ``call`` again, which replays the requests it made before from the
pending state and sends the tool results back to the model with their ids — in this process or in another one
after ``Contract.resume_from_store``. See ``docs/llm.md``.

This module answers how the helpers talk to the model (the exchange, the tool loop, its replay on resume); which
settings an executor class may have, and their checks, are in ``executor_settings.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from igniter_nb.llm.audit import audit_result as _audit_result
from igniter_nb.llm.audit import call_payload
from igniter_nb.llm.conversation import Conversation, Message
from igniter_nb.llm.durable import PendingTools, check_results, check_storable, tool_token
from igniter_nb.llm.errors import ConfigurationError, LLMError, OutputValidationError, ToolLoopError
from igniter_nb.llm.executor_settings import DEFAULT_TOOL_TIMEOUT as DEFAULT_TOOL_TIMEOUT
from igniter_nb.llm.executor_settings import RESERVED_OPTIONS as RESERVED_OPTIONS
from igniter_nb.llm.executor_settings import TOOLS_RUN as TOOLS_RUN
from igniter_nb.llm.executor_settings import _check_stream as _check_stream
from igniter_nb.llm.executor_settings import _check_tools_run as _check_tools_run
from igniter_nb.llm.executor_settings import check_settings as check_settings
from igniter_nb.llm.lease import DEFAULT_RESUME_LEASE, ResumeLease
from igniter_nb.llm.providers import provider
from igniter_nb.llm.providers.base import Connection
from igniter_nb.llm.providers.bounds import DEFAULT_MAX_ANSWER_BYTES, DEFAULT_TOTAL_TIMEOUT
from igniter_nb.llm.request import Reply, Request, Usage, reasoning_from_data, reasoning_to_data
from igniter_nb.llm.tools import Tool, make_tools, tool_named, unknown_tool_error
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.executor import Executor as BaseExecutor
from igniter_nb.runtime.surrogates import lone_surrogate_at


@dataclass(frozen=True, slots=True)
class _Replay:
    """A resumed executor's pending state and the checked tool results it was resumed with."""

    state: PendingTools
    results: list[dict[str, Any]]


class Executor(BaseExecutor):
    """Subclass it, set the settings below, and implement ``call(self, **dependencies)`` with the helpers.

    ``provider`` (``"anthropic"``, ``"openai"``, ``"ollama"``) and ``model`` are required; ``system_prompt``,
    ``temperature`` and ``max_tokens`` are sent when set. ``tools`` lists functions, pydantic models or
    ``ig.llm.Tool`` objects; ``tools_run`` is ``"defer"`` (a tool call makes the node pending: a durable wait)
    or ``"auto"`` (the functions run here, at most ``max_tool_rounds`` rounds, each call at most ``tool_timeout``
    seconds: 60 unless set, ``None`` for no limit). ``resume_lease`` (seconds, 600 unless set; ``None``: off)
    is how long a resume of a tool-call wait holds it against other workers in the execution's store, should its
    holder die mid-call (``igniter_nb.llm.lease``). ``response_model`` (a pydantic model) validates replies into it and becomes the node's type. ``cache`` (``MemoryCache``/``StoreCache``)
    answers repeated requests without calling the provider; ``stream = True`` prints text as it arrives (or
    give a callable taking each piece). Connection: ``api_key``, ``base_url``, ``timeout``, ``max_retries``,
    ``client_options`` (SDK client keywords); ``request_options`` are extra keywords for each SDK request.
    A refusal fails with ``OutputValidationError``, and so does a text reply cut at the output limit unless
    ``on_truncated = "keep"`` (default ``"error"``).
    With nothing set in code, each SDK reads its own environment variables, at call time.

    After a helper returns, ``last_usage`` holds its tokens and ``last_context`` the conversation so far.
    """

    provider: ClassVar[str | None] = None
    model: ClassVar[str | None] = None
    system_prompt: ClassVar[str | None] = None
    temperature: ClassVar[float | None] = None
    max_tokens: ClassVar[int | None] = None
    tools: ClassVar[Sequence[Any]] = ()
    tools_run: ClassVar[str] = "defer"
    max_tool_rounds: ClassVar[int] = 8
    tool_timeout: ClassVar[float | None] = DEFAULT_TOOL_TIMEOUT
    resume_lease: ClassVar[float | None] = DEFAULT_RESUME_LEASE
    response_model: ClassVar[Any] = None
    structured_output: ClassVar[str] = "native"
    on_truncated: ClassVar[str] = "error"
    cache: ClassVar[Any] = None
    stream: ClassVar[bool | Callable[[str], Any]] = False
    api_key: ClassVar[str | None] = None
    base_url: ClassVar[str | None] = None
    timeout: ClassVar[float | None] = None
    max_retries: ClassVar[int | None] = None
    total_timeout: ClassVar[float | None] = DEFAULT_TOTAL_TIMEOUT  # one call in all (None: no deadline)
    max_answer_bytes: ClassVar[int | None] = DEFAULT_MAX_ANSWER_BYTES  # read of one call (None: no limit)
    client_options: ClassVar[Mapping[str, Any]] = {}
    request_options: ClassVar[Mapping[str, Any]] = {}
    category: ClassVar[str | None] = "llm"

    tool_specs: ClassVar[tuple[Tool, ...]] = ()  # ``tools`` as checked ``Tool`` objects (set per class)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_settings(cls)

    def __init__(self, contract: Any = None, execution: Any = None, node: Any = None) -> None:
        super().__init__(contract, execution, node)
        self.last_usage = Usage()
        self.last_context: Conversation | None = None
        self._requests = 0  # helper calls made so far by this instance (their order is replayed on resume)
        self._journal: list[dict[str, Any]] = []
        self._replay: _Replay | None = None
        self._lease: ResumeLease | None = None  # the claim on the wait being resumed (with the replies it keeps)

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        """The base executor's metadata, plus ``type``: the ``response_model``, so the compiler checks the node's type
        like any other."""
        data = super().metadata()
        if cls.response_model is not None:
            data["type"] = cls.response_model  # the node's type, checked by the compiler like any other
        return data

    # ------------------------------------------------------------------ helpers for call()
    def complete(self, prompt: str, context: Conversation | Any = None, *, response_model: Any = None,
                 stream: bool | Callable[[str], Any] | None = None) -> Any:
        """Send ``prompt`` (after ``context``'s messages) and return the reply text, or the reply validated
        into ``response_model`` (default: the class's)."""
        conversation = self._context(context).append_user(prompt)
        return self._exchange("complete", conversation, (), self._model_of(response_model), self._sink(stream), "defer")

    def chat(self, conversation: Conversation | Any, *, response_model: Any = None,
             stream: bool | Callable[[str], Any] | None = None) -> Any:
        """Send ``conversation`` as it is and return the reply (text, or validated into ``response_model``)."""
        conversation = Conversation.from_dict(conversation)
        if not any(m.role != "system" for m in conversation.items):
            raise ConfigurationError("chat() needs a conversation with at least one user message")
        return self._exchange("chat", conversation, (), self._model_of(response_model), self._sink(stream), "defer")

    def complete_with_tools(self, prompt: str, context: Conversation | Any = None, *, tools: Sequence[Any] | None = None,
                            tools_run: str | None = None, response_model: Any = None) -> Any:
        """Like ``complete``, offering the tools. With ``tools_run="defer"`` a tool-call reply returns a
        ``DeferredResult`` (return it from ``call``: the node waits for the results); with ``"auto"`` the tools
        run here and the final reply is returned."""
        specs = self.tool_specs if tools is None else make_tools(tools, type(self).__qualname__)
        if not specs:
            raise ConfigurationError(f"{type(self).__qualname__} has no tools: set `tools = [...]` or pass tools=")
        mode = self.tools_run if tools_run is None else tools_run
        _check_tools_run(mode, specs, type(self).__qualname__)
        conversation = self._context(context).append_user(prompt)
        return self._exchange("tools", conversation, specs, self._model_of(response_model), None, mode)

    def continue_with_tool_results(self, deferred: DeferredResult, results: Any) -> Any:
        """Outside a contract: continue the conversation ``deferred`` waits on with ``results`` (the tool
        results, ``[{"id", "name", "content"}]``); returns the reply or another ``DeferredResult``."""
        given: Any = deferred
        if isinstance(deferred, Mapping):  # a saved DeferredResult.to_dict()
            try:
                given = DeferredResult.from_dict(deferred) if "token" in deferred else DeferredResult("", dict(deferred))
            except (TypeError, ValueError, KeyError, AttributeError):  # damaged: said below like any other non-wait
                given = None
        payload = getattr(given, "payload", None)
        state = PendingTools.from_payload(payload) if isinstance(payload, Mapping) else None
        if state is None:
            raise ConfigurationError("continue_with_tool_results() needs the DeferredResult (or its to_dict()) of an "
                                     f"LLM executor waiting for tool results, got {type(deferred).__name__}")
        checked = check_results(results, state.tool_calls)
        self.last_usage = Usage()
        return self._continue(state, checked, self.tool_specs, self._model_of(None), self.tools_run, 0)

    # ------------------------------------------------------------------ resuming
    def resumed(self, value: Any, deferred: DeferredResult, **dependencies: Any) -> Any:
        """Resumed with tool results: run ``call`` again; the request that waited continues with the results."""
        state = PendingTools.from_payload(deferred.payload)
        if state is None:
            return value
        results = check_results(value, state.tool_calls)
        store = getattr(self.execution, "store", None)
        if store is not None and self.resume_lease is not None and deferred.token:  # before anything is sent
            self._lease = ResumeLease.claim(store, deferred.token, self.resume_lease)
            self._lease.keep_alive()  # renewed while this process lives: a slow call is not taken over
        self._replay = _Replay(state, results)
        try:
            output = self.call(**dependencies)
        except LLMError as exc:
            if self._replay is None:  # the follow-up failed: the results stay with the failed node, not lost
                exc.context.setdefault("tool_results", [dict(r) for r in results])
            raise
        finally:
            if self._lease is not None:
                self._lease.finish()
                self._lease = None
        if self._replay is not None:
            raise ToolLoopError(f"{type(self).__qualname__}.call() no longer makes request #{state.request + 1}, which "
                                "was waiting for these tool results")
        return output

    # ------------------------------------------------------------------ the exchange
    def _exchange(self, kind: str, conversation: Conversation, tools: tuple[Tool, ...], model: Any,
                  sink: Callable[[str], Any] | None, tools_run: str) -> Any:
        index = self._requests
        self._requests += 1
        self.last_usage = Usage()
        fingerprint = _fingerprint(kind, conversation, tools, model)
        replay = self._replay
        if replay is not None and index <= replay.state.request:
            if index == replay.state.request:
                if fingerprint != replay.state.fingerprint:
                    raise self._changed(index)
                self._replay = None
                return self._continue(replay.state, replay.results, tools, model, tools_run, len(conversation))
            entry = next((j for j in replay.state.journal if j.get("request") == index), None)
            if entry is not None:  # answered before the wait: replayed, not asked again
                if entry.get("fingerprint") != fingerprint:
                    raise self._changed(index)
                self._journal.append(dict(entry))
                text = str(entry["output"])
                turns = entry.get("turns")
                if isinstance(turns, list):  # the turns the request added, as they were: a context passed on from
                    context = conversation     # here makes the same next request (its fingerprint matches)
                    for turn in turns:
                        context = context.append(turn)
                    self.last_context = context
                else:  # a journal written before turns were kept
                    self.last_context = conversation.append_assistant(text)
                if entry.get("stop_reason") is not None:  # a reply that stopped early: it fails again, as it did
                    self._check_stop(model, text, entry["stop_reason"], reasoning_from_data(entry.get("reasoning")))
                return _parse(model, text)
            # no answer was kept (the request failed and call() carried on): ask now
        return self._loop(index, fingerprint, conversation, tools, model, sink, tools_run, 0, len(conversation))

    def _continue(self, state: PendingTools, results: list[dict[str, Any]], tools: tuple[Tool, ...], model: Any,
                  tools_run: str, base: int) -> Any:
        self._emit("llm_tool_results", {"request": state.request, "round": state.round,
                                        "results": [_audit_result(r) for r in results]})
        conversation = state.conversation.append_tool_results(results)
        return self._loop(state.request, state.fingerprint, conversation, tools, model, None, tools_run, state.round,
                          base)

    def _loop(self, index: int, fingerprint: str, conversation: Conversation, tools: tuple[Tool, ...], model: Any,
              sink: Callable[[str], Any] | None, tools_run: str, rounds: int, base: int) -> Any:
        """Ask until the reply has no tool calls to run here (or defer them). ``base`` is the number of messages of
        the conversation ``call`` passed: the turns after it are journaled, so a replay gives the same
        ``last_context``."""
        while True:
            reply = self._send(index, "call", conversation, tools, model, sink, rounds)
            if not (reply.tool_calls and tools):
                conversation = conversation.append_assistant(reply.text)
                break
            conversation = conversation.append_assistant(reply.text, reply.tool_calls)
            if tools_run == "defer":  # a wait on a tool nobody offers: whoever answers it runs something unasked for
                self._refuse_unknown_tools(reply, tools, conversation)
            rounds += 1
            if rounds > self.max_tool_rounds:
                self.last_context = conversation
                raise ToolLoopError(f"the model still asks for tools after {self.max_tool_rounds} rounds "
                                    f"(max_tool_rounds of {type(self).__qualname__})")
            if tools_run == "defer":
                self.last_context = conversation
                state = PendingTools(index, rounds, fingerprint, conversation, tuple(self._journal))
                if self.node is not None:  # (in a contract the wait is the node's value: a snapshot value)
                    check_storable(state.payload(), reply.tool_calls, self.node.name, type(self).__qualname__,
                                   self.provider)
                return self.defer(tool_token(getattr(self.execution, "execution_id", None),
                                             getattr(self.node, "name", None), rounds, index, state), state.payload())
            owner = type(self).__qualname__
            results = [tool_named(tools, call).run(call, self.tool_timeout, owner) for call in reply.tool_calls]
            self._emit("llm_tool_round", {"request": index, "round": rounds,
                                          "calls": [c.to_dict() for c in reply.tool_calls],
                                          "results": [_audit_result(r) for r in results]})
            conversation = conversation.append_tool_results(results)
        try:
            output, text, conversation = self._validated(index, reply, conversation, tools, model, rounds)
        except OutputValidationError as exc:
            if exc.context.get("stop_reason") is not None and self.last_context is not None:
                # refused or cut, and paid for: kept, so a resume replays this failure (call() may have caught it)
                kept = {"request": index, "fingerprint": fingerprint, "output": reply.text,
                        "stop_reason": reply.stop_reason,
                        "turns": [m.to_dict() for m in self.last_context.items[base:]]}
                if reply.reasoning:  # (its fields' names and sizes, not the text: the replay names them too)
                    kept["reasoning"] = reasoning_to_data(reply.reasoning)
                self._journal.append(kept)
            raise
        self._journal.append({"request": index, "fingerprint": fingerprint, "output": text,
                              "turns": [m.to_dict() for m in conversation.items[base:]]})
        self.last_context = conversation
        return output

    def _validated(self, index: int, reply: Reply, conversation: Conversation, tools: tuple[Tool, ...], model: Any,
                   rounds: int) -> tuple[Any, str, Conversation]:
        """``(output, journal text, conversation)``: the reply, validated into ``model`` when there is one (asking
        once more with the validation error when it does not validate)."""
        from igniter_nb.llm import structured

        self.last_context = conversation  # (what an error raised here leaves)
        first = self._check_stop(model, reply.text, reply.stop_reason, reply.reasoning)
        if first is None:  # the text that validated (or the whole text reply): a replay validates it again
            return _parse(model, reply.text), reply.text, conversation
        conversation = conversation.append_user(structured.reask(model, first))
        again = self._send(index, "reask", conversation, tools, model, None, rounds)
        conversation = conversation.append_assistant(again.text, again.tool_calls if tools else ())
        try:
            if again.tool_calls and tools:
                raise ValueError("the model asked for tools instead of replying")
            value = structured.parse(model, again.text)
        except ValueError as exc:
            self.last_context = conversation
            raise OutputValidationError(f"the reply did not validate as {model.__name__}: {first}; asked again, the "
                                        f"reply still did not: {exc}", errors=[first, str(exc)]) from None
        return value, again.text, conversation

    def _check_stop(self, model: Any, text: str, stop_reason: Any,
                    reasoning: tuple[tuple[str, int], ...] = ()) -> str | None:
        """``structured.check_stop`` with this executor's settings: the same check for a live and a replayed reply
        (a live one may name the reasoning field its model's text went to)."""
        from igniter_nb.llm import structured

        return structured.check_stop(model, text, stop_reason, owner=type(self).__qualname__, provider=self.provider,
                                     model_name=self.model, max_tokens=self.max_tokens, on_truncated=self.on_truncated,
                                     reasoning=reasoning)

    def _refuse_unknown_tools(self, reply: Reply, tools: tuple[Tool, ...], conversation: Conversation) -> None:
        """In ``defer`` mode, a call to a tool the executor does not offer fails here (``auto`` mode answers it with
        an error result instead): no wait is made for it."""
        error = unknown_tool_error(reply.tool_calls, tools, type(self).__qualname__, self.provider, self.model,
                                   reply.stop_reason)
        if error is not None:
            self.last_context = conversation
            raise error

    def _changed(self, index: int) -> ToolLoopError:
        return ToolLoopError(f"{type(self).__qualname__}.call() made a different request #{index + 1} on resume than "
                             "before it waited for tool results (its prompt, context, tools or response model changed)")

    # ------------------------------------------------------------------ one request
    def _send(self, index: int, purpose: str, conversation: Conversation, tools: tuple[Tool, ...], model: Any,
              sink: Callable[[str], Any] | None, rounds: int) -> Reply:
        request = self._request(conversation, tools, model)
        cache, lease = self.cache, self._lease
        key = request.key() if cache is not None or lease is not None else None
        started = time.perf_counter()
        kept = lease.reply_for(key) if lease is not None and key is not None else None  # an earlier holder's
        if kept is None and cache is not None and key is not None:
            kept = cache.get(key)
        found = self._readable(kept) if kept is not None else None
        if found is not None:
            reply = found
            if sink is not None:
                sink(reply.text)
            billed = Usage()
        else:
            try:
                reply = provider(request.provider).send(request, self._connection(), sink)
            except LLMError as exc:
                self._emit_call(request, index, purpose, rounds, None, started, cached=False, streamed=sink is not None,
                                error=exc)
                raise
            if lease is not None and key is not None:
                self._keep(lease, key, reply)
            if cache is not None and key is not None:
                try:
                    cache.put(key, reply.to_dict(), request.to_dict())
                except Exception as exc:  # the reply is paid for: a cache that cannot keep it does not lose it
                    warnings.warn(f"{type(self).__qualname__}: the response cache could not keep the reply "
                                  f"({type(exc).__name__}: {exc}); the reply is used, not cached", RuntimeWarning,
                                  stacklevel=2)
            billed = reply.usage
        if sink is _print_text:
            sys.stdout.write("\n")
        self.last_usage = self.last_usage + billed
        self._emit_call(request, index, purpose, rounds, reply, started, cached=found is not None,
                        streamed=sink is not None, billed=billed)
        return reply

    def _keep(self, lease: ResumeLease, key: str, reply: Reply) -> None:
        """Record ``reply`` in the resume lease, so a worker resuming this wait after us is not billed again."""
        try:
            lease.keep(key, reply.to_dict())
        except Exception as exc:  # the reply is paid for: used even if the lease cannot keep it
            warnings.warn(f"{type(self).__qualname__}: the resume lease of {lease.token[:120]!r} could not keep the "
                          f"reply ({type(exc).__name__}: {str(exc)[:200]}); the reply is used", RuntimeWarning,
                          stacklevel=3)

    def _readable(self, found: Any) -> Reply | None:
        """The cached reply ``found`` as a ``Reply``; ``None`` (a miss, with a warning) when it cannot be read — a
        store record edited by hand, another program's data under the key: the provider is asked and the fresh
        reply replaces it, instead of the node failing on that entry for ever."""
        try:
            if not isinstance(found, Mapping):
                raise TypeError(f"a {type(found).__name__}, not a dict")
            return Reply.from_dict(found)
        except Exception as exc:
            warnings.warn(f"{type(self).__qualname__}: the response cache gave a reply that cannot be read "
                          f"({type(exc).__name__}: {str(exc)[:200]}); asked the provider", RuntimeWarning, stacklevel=3)
            return None

    def _request(self, conversation: Conversation, tools: tuple[Tool, ...], model: Any) -> Request:
        cls = type(self)
        if cls.provider is None:
            raise ConfigurationError(f"{cls.__qualname__} has no provider: set provider = 'anthropic', 'openai' or "
                                     "'ollama'")
        if not cls.model:
            raise ConfigurationError(f"{cls.__qualname__} has no model: set model = '<model name>'")
        systems: list[str] = [self.system_prompt] if self.system_prompt else []
        native = model is not None and self.structured_output == "native"
        if model is not None and not native:
            from igniter_nb.llm import structured

            systems.append(structured.instruction(model))
        messages = [Message("system", s) for s in systems]
        seen = set(systems)
        for m in conversation.items:  # the same system text twice is never useful (L-49: none is dropped either)
            if m.role == "system":
                if m.content in seen:
                    continue
                seen.add(m.content)
            messages.append(m)
        schema = None
        if native:
            from igniter_nb.llm import structured

            schema = structured.schema_of(model)
        found = lone_surrogate_at([m.to_dict() for m in messages], "messages")
        if found is not None:  # UTF-8 cannot carry it: every provider would fail to send the request
            raise ConfigurationError(f"{cls.__qualname__}: the request holds text that is not valid Unicode, an unpaired "
                                     f"surrogate {found[1].encode('unicode_escape').decode()} at {found[0]} (as "
                                     "os.fsdecode makes of bytes that are not UTF-8); providers take UTF-8 text only")
        return Request(cls.provider, cls.model, tuple(messages), tools, self.temperature, self.max_tokens, schema,
                       model.__name__ if model is not None else None, dict(self.request_options))

    def _connection(self) -> Connection:
        total = self.total_timeout
        if self.timeout is not None and not any("total_timeout" in vars(k) for k in type(self).__mro__
                                                if k is not Executor):  # the default: each attempt keeps its timeout
            total = max(DEFAULT_TOTAL_TIMEOUT, self.timeout * (1 + (2 if self.max_retries is None else self.max_retries)))
        return Connection(self.api_key, self.base_url, self.timeout, self.max_retries, dict(self.client_options),
                          total, self.max_answer_bytes)

    # ------------------------------------------------------------------ small parts
    def _context(self, context: Any) -> Conversation:
        if context is None:
            return Conversation.empty(system=self.system_prompt)
        return Conversation.from_dict(context)

    def _model_of(self, response_model: Any) -> Any:
        from igniter_nb.llm.structured import check_response_model

        return check_response_model(response_model, f"{type(self).__qualname__}: response_model=", "") \
            if response_model is not None else self.response_model

    def _sink(self, stream: bool | Callable[[str], Any] | None) -> Callable[[str], Any] | None:
        _check_stream(stream, "stream=")
        # read on the class: a function set as ``stream = fn`` would come back bound to self from the instance
        choice = type(self).stream if stream is None else stream
        if choice is True:
            return _print_text
        if callable(choice):
            return choice
        return None

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        execution, node = self.execution, self.node
        if execution is not None and node is not None:
            execution.bus.emit(kind, node.name, node.path, "running", payload)

    def _emit_call(self, request: Request, index: int, purpose: str, rounds: int, reply: Reply | None, started: float,
                   *, cached: bool, streamed: bool, billed: Usage | None = None, error: LLMError | None = None) -> None:
        self._emit("llm_call", call_payload(request, index, purpose, rounds, reply, started, cached=cached,
                                            streamed=streamed, billed=billed, error=error))


def _fingerprint(kind: str, conversation: Conversation, tools: tuple[Tool, ...], model: Any) -> str:
    data = {"kind": kind, "messages": conversation.messages, "tools": sorted(t.name for t in tools),
            "response_model": getattr(model, "__qualname__", None)}
    # (surrogatepass: the same digest for any valid text; a lone surrogate is refused with a clear error later)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
                          ).hexdigest()[:32]


def _parse(model: Any, text: str) -> Any:
    if model is None:
        return text
    from igniter_nb.llm import structured

    return structured.parse(model, text)


def _print_text(text: str) -> None:
    """Streaming into a notebook cell (or a terminal): each piece written as it arrives."""
    sys.stdout.write(text)
    sys.stdout.flush()


__all__ = ["Executor", "check_settings"]
