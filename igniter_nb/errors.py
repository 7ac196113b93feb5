"""Every error igniter_nb raises, in one place.

Each error carries ``context``: a dict with the items that locate it — ``graph``, ``node``, ``path``,
``execution_id``, ``source_location`` — and any extra items the raiser knows. The message ends with the
located items so a log line alone says where the problem is::

    Input 'order_total' must be of type numeric, got str [graph=PriceContract, node=order_total, ...]

An item longer than :data:`CONTEXT_SHOWN` characters (a 60,000-character execution id a caller passed) is shown
cut to its head and tail, with how many characters were left out; ``err.context`` keeps it whole. So is a message
longer than :data:`MESSAGE_SHOWN` characters (a huge value quoted in it); ``err.full_message`` keeps it whole.
"""

from __future__ import annotations

from typing import Any

from igniter_nb._error_text import short_path

_LOCATION_KEYS = ("graph", "node", "path", "execution_id", "source_location")
_LABELS = {
    "graph": "graph",
    "node": "node",
    "path": "path",
    "execution_id": "execution",
    "source_location": "location",
}
#: The most characters of one located item shown whole in a message: an execution id a store takes (at most 200)
#: and a path the codec has already cut (``codec.PATH_SHOWN`` and its marker) stay whole; longer ones are cut.
CONTEXT_SHOWN = 240
#: The most characters of a message kept whole (``err.message``, and so ``str(err)``, a log line, a server's error
#: body): a longer one — a 5 MB value a caller passed, quoted in it — is its head and tail around how many characters
#: were left out; ``err.full_message`` keeps it whole.
MESSAGE_SHOWN = 10_000


def _shown_message(message: Any) -> Any:
    """``message`` whole up to :data:`MESSAGE_SHOWN` characters, else its head and tail around how many characters
    were left out (``_error_text.short_path``; its characters as they are: a message may hold newlines). What says
    which problem it is — its start — and how the text ends are kept."""
    if type(message) is not str or len(message) <= MESSAGE_SHOWN:
        return message
    return short_path(message, MESSAGE_SHOWN, escape=False)


def _shown_item(value: Any) -> str:
    """``value`` as the ``[graph=..., execution=...]`` suffix shows it: whole up to :data:`CONTEXT_SHOWN`
    characters, else its head and tail around how many characters were left out (``_error_text.short_path``); a
    newline or another character that is not printable shown escaped (``\\n``), so the suffix stays one line."""
    text = f"{value}"
    return text if len(text) <= CONTEXT_SHOWN and text.isprintable() else short_path(text, CONTEXT_SHOWN)


class IgniterError(Exception):
    """Base class of every igniter_nb error; ``err.context`` says where it happened."""

    def __init__(self, message: str = "", *, context: dict[str, Any] | None = None, **extra: Any) -> None:
        ctx = {k: v for k, v in (context or {}).items() if v is not None}
        ctx.update({k: v for k, v in extra.items() if v is not None})
        self.full_message = message
        self.message = _shown_message(message)
        self.context: dict[str, Any] = ctx
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{_LABELS[k]}={_shown_item(self.context[k])}" for k in _LOCATION_KEYS if self.context.get(k) is not None]
        return f"{self.message} [{', '.join(parts)}]" if parts else self.message

    def __str__(self) -> str:
        return self._render()

    def with_context(self, **items: Any) -> IgniterError:
        """Fill in context items that are still unknown (never overwrites what the raiser knew)."""
        for k, v in items.items():
            if v is not None and self.context.get(k) is None:
                self.context[k] = v
        self.args = (self._render(),)
        return self

    # Short readers for the usual items.
    @property
    def graph(self) -> str | None:
        """The graph (contract) name from ``context``, or None."""
        return self.context.get("graph")

    @property
    def node(self) -> str | None:
        """The node name from ``context``, or None."""
        return self.context.get("node")

    @property
    def path(self) -> str | None:
        """The node's full path (with its scopes, e.g. ``pricing.gross_total``) from ``context``, or None."""
        return self.context.get("path")

    @property
    def execution_id(self) -> str | None:
        """The execution the error happened in, from ``context``, or None."""
        return self.context.get("execution_id")

    @property
    def source_location(self) -> str | None:
        """Where the node was declared (``file.py:LINE``), from ``context``, or None."""
        return self.context.get("source_location")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: type name, message without the location suffix, and context."""
        data: dict[str, Any] = {"type": type(self).__name__, "message": self.message, "context": dict(self.context)}
        cause_type = self.context.get("cause_type")
        if cause_type:
            data["cause_type"] = cause_type
        return data


class CompileError(IgniterError):
    """A contract definition is wrong; raised when the class is created."""


class ValidationError(CompileError):
    """The compiled graph breaks a rule (unknown dependency, duplicate name, ...)."""


class CycleError(ValidationError):
    """The graph (or a chain of composed contracts) depends on itself; ``cycle`` lists the names."""

    def __init__(self, message: str = "", *, cycle: list[str] | None = None, **kw: Any) -> None:
        self.cycle = list(cycle or [])
        super().__init__(message, **kw)


class InputError(IgniterError):
    """An input is unknown, missing, or of the wrong type."""


class ResolutionError(IgniterError):
    """A node failed while resolving; the user's exception is ``__cause__``."""


class CollectionInputError(ResolutionError):
    """A collection's source is not a list of item dicts."""


class CollectionKeyError(ResolutionError):
    """A collection item lacks its key, or two items share one."""


class BranchSelectionError(ResolutionError):
    """No branch case matched and there is no default."""


class PendingError(IgniterError):
    """Reading an output that is pending or waiting; ``deferred`` says on what."""

    def __init__(self, message: str = "", *, deferred: Any = None, **kw: Any) -> None:
        self.deferred = deferred
        super().__init__(message, **kw)


class WorkflowError(IgniterError):
    """Base of the distributed-workflow errors."""


class WorkflowNotFoundError(WorkflowError):
    """No active workflow has this correlation."""


class AwaitedEventMismatchError(WorkflowError):
    """The event is not awaited by this graph."""


class DuplicateSignalError(WorkflowError):
    """The awaited event was already delivered (with another idempotency key)."""


class DuplicateWorkflowError(WorkflowError):
    """An active workflow with this correlation already exists."""


class PayloadValidationError(WorkflowError):
    """An event payload does not match the await's schema."""


class StoreError(IgniterError):
    """Base of the store errors."""


class ConcurrencyError(StoreError):
    """A compare-and-set save lost: someone saved a newer version first."""


class SnapshotNotFoundError(StoreError):
    """No stored snapshot has this execution id."""


class SnapshotEncodingError(IgniterError):
    """A value cannot be put into a JSON-safe snapshot. ``full_path`` is where inside the value, whole: the message
    and ``path`` cut a very long one to its head and tail (None when the error names no place inside a value)."""

    full_path: str | None = None


__all__ = [
    "AwaitedEventMismatchError",
    "BranchSelectionError",
    "CollectionInputError",
    "CollectionKeyError",
    "CompileError",
    "ConcurrencyError",
    "CycleError",
    "DuplicateSignalError",
    "DuplicateWorkflowError",
    "IgniterError",
    "InputError",
    "PayloadValidationError",
    "PendingError",
    "ResolutionError",
    "SnapshotEncodingError",
    "SnapshotNotFoundError",
    "StoreError",
    "ValidationError",
    "WorkflowError",
    "WorkflowNotFoundError",
]


class StoreArgumentError(StoreError, ValueError):
    """A store was called with an invalid argument (execution id, correlation, status, version); nothing was written."""


__all__ += ["StoreArgumentError"]


class AwaitTimeoutError(WorkflowError):
    """An awaited event did not arrive before its ``timeout`` (found by ``Contract.expire_due``)."""


__all__ += ["AwaitTimeoutError"]


# ---------------------------------------------------------------------------- LLM executors (igniter_nb.llm)
# Here rather than in igniter_nb.llm so that a failed LLM node restored from a snapshot keeps its error class.


class LLMError(IgniterError):
    """Base class of the LLM executor errors (``ig.llm``)."""


class ConfigurationError(LLMError):
    """An LLM executor is configured wrongly or incompletely: unknown provider, no model, no API key (the message
    names the environment variable to set), a tool that cannot be described, a malformed conversation."""


class ProviderError(LLMError):
    """The provider refused or failed a request: ``status_code`` (``None`` when it could not be reached),
    ``provider_message`` (its own words) and ``provider`` (its name), also in ``context``."""

    def __init__(self, message: str = "", *, provider: str | None = None, status_code: int | None = None,
                 provider_message: str | None = None, **kw: Any) -> None:
        super().__init__(message, provider=provider, status_code=status_code, provider_message=provider_message, **kw)

    @property
    def provider(self) -> str | None:
        """The provider's name: ``anthropic``, ``openai`` or ``ollama``."""
        return self.context.get("provider")

    @property
    def status_code(self) -> int | None:
        """The HTTP status the provider answered, or None when there was none (unreachable, timed out, an error
        reported inside a stream)."""
        return self.context.get("status_code")

    @property
    def provider_message(self) -> str | None:
        """The provider's own error message, as it sent it."""
        return self.context.get("provider_message")


class OutputValidationError(LLMError):
    """A reply did not validate into the executor's ``response_model``, neither at first nor after the model was
    asked again with the validation error; ``errors`` holds both messages (also in ``context``)."""

    def __init__(self, message: str = "", *, errors: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, errors=list(errors or []), **kw)

    @property
    def errors(self) -> list[str]:
        """The validation messages: the first reply's and the retry's."""
        return list(self.context.get("errors") or [])


class ToolLoopError(LLMError):
    """The model kept asking for tools beyond ``max_tool_rounds``, or a resumed LLM executor's ``call`` no longer
    makes the request that was waiting for tool results."""


__all__ += ["ConfigurationError", "LLMError", "OutputValidationError", "ProviderError", "ToolLoopError"]


class IdempotencyConflictError(DuplicateSignalError):
    """An ``idempotency_key`` already recorded for this workflow came with a different payload or another event
    (as Stripe and Temporal answer a reused key); nothing was written."""


class GraphChangedError(WorkflowError):
    """A stored workflow refers to an await that the current graph no longer has (removed or renamed by a
    deploy); ``Contract.migrate`` moves stored workflows onto the new graph."""


class WorkflowArgumentError(WorkflowError, ValueError):
    """A workflow call got an argument of the wrong kind (``now=``, ``idempotency_key=``, ``rename=`` ...);
    nothing was read or written."""


class NotAContractClassError(WorkflowArgumentError, TypeError):
    """A workflow call that takes a contract class (``start``, ``deliver_event``, ``migrate``,
    ``ig.nb.start_or_restore`` ...) got something else — usually an instance of the class; the message names what
    was given. Also a ``TypeError``; nothing was read or written."""


__all__ += ["GraphChangedError", "IdempotencyConflictError", "NotAContractClassError", "WorkflowArgumentError"]


class SettingsError(IgniterError, ValueError):
    """An ``IGNITER_*`` environment variable has a value igniter_nb cannot use; the message names the variable
    (``err.context["variable"]``) and its value, except a token's (see ``igniter_nb.settings``)."""


__all__ += ["SettingsError"]


class LookalikeCorrelationWarning(UserWarning):
    """A workflow is being started with a correlation that prints like an active workflow's but is another value
    (invisible characters, another Unicode normalisation): matching is exact, so it becomes a second workflow.
    ``existing_execution_id`` and ``existing_correlation`` name the active one, ``differs_in`` says per key how the
    values differ (``workflow/lookalikes.py``); ``graph`` and ``correlation`` are the start's."""

    def __init__(self, message: str, *, graph: str, correlation: dict[str, Any], existing_execution_id: str,
                 existing_correlation: dict[str, Any], differs_in: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.graph = graph
        self.correlation = correlation
        self.existing_execution_id = existing_execution_id
        self.existing_correlation = existing_correlation
        self.differs_in = differs_in

    @property
    def context(self) -> dict[str, Any]:
        """The items above as a dict, like an error's ``context`` (the body of a server's 409 when warnings are
        errors)."""
        return {"graph": self.graph, "correlation": self.correlation, "existing_execution_id":
                self.existing_execution_id, "existing_correlation": self.existing_correlation,
                "differs_in": self.differs_in}


__all__ += ["LookalikeCorrelationWarning"]
