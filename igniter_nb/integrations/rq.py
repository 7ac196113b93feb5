"""Background jobs on RQ (Redis Queue): workflow calls put on a queue and run by an RQ worker.

``enqueue_start``, ``enqueue_deliver_event`` and ``enqueue_resume`` check their arguments, name the contract
by import path (``"billing.flows:LeadWorkflow"``) and encode every argument as JSON with igniter_nb's snapshot
codec (dates, decimals, pydantic models survive; nothing is pickled), then enqueue one of ``run_start``,
``run_deliver_event``, ``run_resume`` on a queue that must use RQ's ``JSONSerializer``. The worker runs the
call against its default store (``IGNITER_STORE_URL``)::

    queue = make_queue("igniter", connection="redis://localhost:6379/0")
    job = enqueue_deliver_event(LeadWorkflow, "billing_data_fetched", correlation={"request_id": "r-1"},
                                payload={"plan": "pro"}, idempotency_key="evt-9", queue=queue)

    $ export IGNITER_STORE_URL=postgresql+psycopg://...
    $ rq worker -S rq.serializers.JSONSerializer -w igniter_nb.integrations.rq.SimpleWorker igniter

Transient store errors (a compare-and-set lost too often, a dropped connection) are retried with RQ's own
``Retry`` (``retry=`` per job, default ``Retry(max=3)``); every other failure goes straight to RQ's failed
registry, the igniter error's type, message and context readable with :func:`job_error`. See
``docs/integrations.md``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from rq import Queue, Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from igniter_nb.errors import (
    ConcurrencyError,
    DuplicateWorkflowError,
    IgniterError,
    ResolutionError,
    SnapshotEncodingError,
    SnapshotNotFoundError,
    StoreError,
)
from igniter_nb.integrations.contract_ref import contract_path, resolve_contract
from igniter_nb.integrations.delivery import delivery_summary, error_record, is_transient
from igniter_nb.integrations.idempotency_keys import KEY_RULE, idempotency_key_problem
from igniter_nb.integrations.rq_timeouts import is_timeout, timeouts_pass_through
from igniter_nb.integrations.rq_workers import (  # (re-exported: `rq worker -w igniter_nb.integrations.rq.SimpleWorker`)
    PUBSUB_STOP_WAIT,
    SimpleWorker,
    StopsPubSubFirst,
    Worker,
    stopping_at_once,
)
from igniter_nb.runtime import codec
from igniter_nb.runtime.codec_tags import located

DEFAULT_QUEUE = "igniter"
"""The queue jobs go to when no other is named (``make_queue``, ``worker``, ``enqueue_*``)."""
ERROR_META_KEY = "igniter_error"
"""The ``job.meta`` key under which a failed job keeps its error (type, message, context, whether transient, retries
left); ``job_error(job)`` reads it."""
DEFAULT_RETRIES = 3

# Options of ``Queue.enqueue`` that a job may set; anything else is refused rather than silently dropped.
_JOB_OPTIONS = frozenset({
    "job_timeout", "description", "result_ttl", "ttl", "failure_ttl", "depends_on", "job_id", "at_front", "meta",
    "retry", "repeat", "on_success", "on_failure", "on_stopped", "rate_limit", "pipeline", "unique", "webhooks",
})

# ------------------------------------------------------------------------------------------------- queues
def make_queue(name: str = DEFAULT_QUEUE, *, connection: Any, **queue_options: Any) -> Queue:
    """An RQ ``Queue`` named ``name`` that stores jobs as JSON; ``connection`` is a ``redis.Redis`` or a URL."""
    return Queue(name, connection=_redis(connection), serializer=JSONSerializer, **queue_options)


def worker(queues: Iterable[str] | str = (DEFAULT_QUEUE,), *, connection: Any, worker_class: Any = None,
           **worker_options: Any) -> Any:
    """An RQ worker for ``queues`` that reads JSON jobs (``worker_class`` defaults to RQ's forking ``Worker``;
    ``rq.SimpleWorker`` runs jobs in its own process). Call ``.work()`` (``burst=True`` to stop when empty).

    The worker is of a subclass of ``worker_class`` that stops its pub/sub thread at once (see
    :class:`~igniter_nb.integrations.rq_workers.StopsPubSubFirst`), unless the class has its own ``unsubscribe``."""
    names = [queues] if isinstance(queues, str) else list(queues)
    cls = stopping_at_once(worker_class or Worker)
    return cls(names, connection=_redis(connection), serializer=JSONSerializer, **worker_options)


def _redis(connection: Any) -> Any:
    if isinstance(connection, str):
        import redis

        return redis.Redis.from_url(connection)
    if not (hasattr(connection, "pipeline") and hasattr(connection, "connection_pool")):  # a client, duck-typed
        raise TypeError(f"connection= must be a redis.Redis or a redis:// URL, got {type(connection).__name__}")
    return connection


def _check_queue(queue: Any) -> Queue:
    if not isinstance(queue, Queue):
        raise TypeError(f"queue= must be an rq.Queue (make_queue(name, connection=...) makes one), got {queue!r}")
    serializer = queue.serializer
    if not (serializer is JSONSerializer or isinstance(serializer, JSONSerializer)
            or (isinstance(serializer, type) and issubclass(serializer, JSONSerializer))):
        raise ValueError(
            f"queue {queue.name!r} stores jobs with {getattr(serializer, '__name__', serializer)!r}; igniter_nb jobs "
            "are JSON only (never pickles): Queue(name, connection=..., serializer=rq.serializers.JSONSerializer) "
            "or make_queue(name, connection=...)")
    return queue


# ------------------------------------------------------------------------------------------------- enqueueing
def enqueue_start(contract: Any, inputs: Mapping[str, Any], *, queue: Any, **job_options: Any) -> Job:
    """Enqueue ``contract.start(inputs)``; the worker starts the workflow in its default store.

    ``job_options`` are ``Queue.enqueue``'s (``job_id``, ``job_timeout``, ``retry``...). Raises before anything
    is enqueued when the contract cannot be imported by path, a correlation value is missing or blank, or an input
    cannot be encoded as JSON a worker can decode.
    """
    from igniter_nb.runtime.inputs import InputValidator
    from igniter_nb.workflow.correlation import correlation_from_inputs

    path = contract_path(contract)
    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be a mapping of input names to values, got {type(inputs).__name__}")
    graph = contract.compiled_graph()
    correlation_from_inputs(graph, inputs)  # what start refuses in every worker, refused now
    kwargs = {"contract": path, "inputs": codec.encode(dict(inputs), path="inputs")}
    InputValidator(graph).initial(inputs, None)  # also: an unknown input, a value of another type than declared
    return _enqueue(queue, run_start, kwargs, job_options, f"{contract.__name__}.start")


def enqueue_deliver_event(contract: Any, event: str, *, correlation: Mapping[str, Any], payload: Any = None,
                          idempotency_key: str | None = None, queue: Any, **job_options: Any) -> Job:
    """Enqueue ``contract.deliver_event(event, correlation=..., payload=..., idempotency_key=...)``.

    The event, the correlation's keys and the payload's schema are checked now, so a bad call raises here and
    enqueues nothing. Without an ``idempotency_key`` the job's id is used (``"rq:<job id>"``), so RQ running
    the same job again (a retry, a requeue after a crash) applies the signal once.
    """
    from igniter_nb.workflow.correlation import check_delivery_correlation
    from igniter_nb.workflow.engine import await_for_event
    from igniter_nb.workflow.payloads import validate_payload

    path = contract_path(contract)
    graph = contract.compiled_graph()
    node = await_for_event(graph, event)
    corr = check_delivery_correlation(graph, correlation)
    validate_payload(graph.name, node, payload)
    problem = idempotency_key_problem(idempotency_key) if idempotency_key is not None else None
    if problem is not None:  # the webhook's limit and check: a key one takes, the other takes too
        raise ValueError(f"idempotency_key must be {KEY_RULE}, got {problem}")
    job_options = dict(job_options)
    job_id = job_options["job_id"] = job_options.get("job_id") or uuid.uuid4().hex
    kwargs = {
        "contract": path,
        "event": event,
        "correlation": codec.encode(corr, path="correlation"),
        "payload": codec.encode(payload, path="payload"),
        "idempotency_key": idempotency_key if idempotency_key is not None else f"rq:{job_id}",
    }
    return _enqueue(queue, run_deliver_event, kwargs, job_options, f"{contract.__name__}.deliver_event({event!r})")


def enqueue_resume(contract: Any, execution_id: str, *, token: str, value: Any = None, queue: Any,
                   **job_options: Any) -> Job:
    """Enqueue ``contract.resume_from_store(execution_id, token, value)``: the worker restores the execution
    from its default store, gives the node deferred on ``token`` its value, and saves it back."""
    path = contract_path(contract)
    for name, text in (("execution_id", execution_id), ("token", token)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    kwargs = {"contract": path, "execution_id": execution_id, "token": token,
              "value": codec.encode(value, path="value")}
    return _enqueue(queue, run_resume, kwargs, job_options, f"{contract.__name__}.resume({execution_id!r})")


def _enqueue(queue: Any, func: Any, kwargs: dict[str, Any], job_options: dict[str, Any], what: str) -> Job:
    queue = _check_queue(queue)
    unknown = sorted(set(job_options) - _JOB_OPTIONS)
    if unknown:
        raise TypeError(f"unknown job option(s) {', '.join(unknown)}; RQ's are: {', '.join(sorted(_JOB_OPTIONS))}")
    retry = job_options.get("retry")
    if retry is not None and not isinstance(retry, Retry):  # (RQ failed on it with "'int' object has no attribute 'max'")
        raise TypeError(f"retry= must be an rq.Retry (for example Retry(max=3)) or None for no retries, got {retry!r:.100}")
    _refuse_unworkable_values(kwargs)
    options = dict(job_options)
    options.setdefault("retry", Retry(max=DEFAULT_RETRIES))
    options.setdefault("description", f"igniter: {what}")
    return queue.enqueue(func, kwargs=kwargs, **options)


def _refuse_unworkable_values(kwargs: dict[str, Any]) -> None:
    """Refuse now, naming where it is, what travels through RQ's JSON but would fail in every worker: text holding
    an unpaired UTF-16 surrogate (``os.fsdecode`` of a non-UTF-8 file name), which no store can write as UTF-8, and
    a dataclass, pydantic model or enum of a class defined in ``__main__`` (a script, a notebook), which the
    worker's ``__main__`` (RQ's own) does not have."""
    try:
        text = json.dumps(kwargs, ensure_ascii=False)
    except ValueError:  # an integer of more digits than Python writes (or a worker reads) as JSON text
        limit = sys.get_int_max_str_digits()
        for name, value in kwargs.items():
            long = _long_int_at(value, name, limit)
            if long is not None:
                raise _refusal(long[0], f"Cannot enqueue the value at {{at}}: an integer of {long[1]} digits, more "
                               f"than the {limit} Python writes or reads as JSON text (sys.set_int_max_str_digits); "
                               "send it as a string") from None
        raise
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        from igniter_nb.runtime.surrogates import lone_surrogate_at  # the server's reader walks bodies the same way

        for name, value in kwargs.items():
            where = lone_surrogate_at(value, name)
            if where is not None:
                raise _refusal(where[0], f"Cannot encode the value at {{at}}: it holds an unpaired UTF-16 surrogate "
                               f"(\\u{ord(where[1]):04x}), which no store can write as UTF-8 (a file name decoded with "
                               "surrogateescape? pass it as bytes, or decode it with errors='replace')") from None
        raise
    if '"__main__:' in text:  # (rare: then find it exactly, a string that merely contains it is fine)
        for name, value in kwargs.items():
            found = _main_class_at(value, name)
            if found is not None:
                raise _refusal(found[0], f"Cannot enqueue the value at {{at}}: it is a {found[1]:.200}, defined in "
                               "__main__ (a script or a notebook), which a worker cannot import: define the class in "
                               "a module both this process and the worker import")


def _refusal(where: str, text: str) -> SnapshotEncodingError:
    """``SnapshotEncodingError(text)`` naming the place ``{at}`` as the codec does: cut (``codec.short_path``: a key
    of 100,000 characters or a value 200 levels deep, still one readable line), the whole kept as ``full_path``."""
    shown = codec.short_path(where)
    return located(SnapshotEncodingError(text.replace("{at}", shown, 1), path=shown), where)


def _long_int_at(value: Any, path: str, limit: int) -> tuple[str, int] | None:
    """``(path, digits)`` of the first integer in ``value`` (codec-encoded JSON) of more than ``limit`` decimal digits
    (``limit`` 0: no limit), or None; counted without converting it to text, which is what fails."""
    if limit <= 0:
        return None
    return _int_past(value, path, 10**limit)  # (once: a limit may be millions of digits, a payload many numbers)


def _int_past(value: Any, path: str, bound: int) -> tuple[str, int] | None:
    """``_long_int_at`` with its bound computed: the first integer whose size is ``bound`` or more."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = abs(value)
        if size < bound:
            return None
        digits = max(1, int(size.bit_length() * 0.30102999566398120))  # log10(2): exact, or one short
        return path, digits + 1 if size >= 10**digits else digits
    if isinstance(value, dict):
        tagged = codec.TAG in value
        for key, item in value.items():
            inner = path if tagged and key in ("fields", "data", "items", "value") else f"{path}.{key}"
            found = _int_past(item, inner, bound)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _int_past(item, f"{path}[{index}]", bound)
            if found is not None:
                return found
    return None


def _main_class_at(value: Any, path: str) -> tuple[str, str] | None:
    """``(path, class reference)`` of the first codec-tagged value whose class lives in ``__main__``, or None."""
    if isinstance(value, dict):
        ref = value.get(codec.TAG) and value.get("class")
        if isinstance(ref, str) and ref.startswith("__main__:"):
            return path, ref
        tagged = codec.TAG in value
        for key, item in value.items():
            if tagged and key in ("fields", "data", "items", "value"):  # (a tag's own parts: the same place)
                found = _main_class_at(item, path)
            else:
                found = _main_class_at(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _main_class_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


# ------------------------------------------------------------------------------------------------- the worker side
def run_start(contract: str, inputs: Any) -> dict[str, Any]:
    """Job body of :func:`enqueue_start` (runs in the worker)."""

    def call(store: Any) -> dict[str, Any]:
        from igniter_nb.workflow.correlation import correlation_from_inputs
        from igniter_nb.workflow.engine import start

        cls = resolve_contract(contract)
        name = cls.compiled_graph().name
        job = get_current_job()
        if job is None:  # called directly, not by a worker: an ordinary start
            started = start(cls, codec.decode(inputs), store=store)
            return {"graph": name, "execution_id": started.execution_id,
                    "workflow_status": started.workflow_status, "replayed": False}
        # The execution is named after the job, so a second run of this job (a retry after its worker died past
        # the save, a requeue, its job id enqueued twice) finds the workflow its first run started.
        execution_id = str(uuid.uuid5(_START_NAMESPACE, job.id))
        given = codec.decode(inputs)
        correlation = correlation_from_inputs(cls.compiled_graph(), given)
        earlier = _started_earlier(store, name, correlation, execution_id, job.id)
        if earlier is not None:
            return earlier
        try:
            started = start(cls, given, store=store, execution_id=execution_id)
        except (DuplicateWorkflowError, ConcurrencyError):
            earlier = _started_earlier(store, name, correlation, execution_id, job.id)  # another run won the race
            if earlier is not None:
                return earlier
            raise
        return {"graph": name, "execution_id": started.execution_id, "workflow_status": started.workflow_status,
                "replayed": False}

    return _perform(call)


_START_NAMESPACE = uuid.UUID("0b3c4e52-6a1d-5f0e-9a57-2f1c8e9d7b10")  # start jobs' execution ids: uuid5(this, job id)


def _started_earlier(store: Any, graph: str, correlation: dict[str, Any], execution_id: str,
                     job_id: str) -> dict[str, Any] | None:
    """The result of an earlier run of this start job, or None when it has not run; raises
    ``DuplicateWorkflowError`` when the execution its job id names is another start's (another contract's, or another
    correlation's: the job id was used again), which was answered as this job's before."""
    from igniter_nb.workflow.correlation import shown

    try:
        record = store.record(execution_id)
    except SnapshotNotFoundError:
        return None
    if record.graph != graph or dict(record.correlation) != correlation:
        raise DuplicateWorkflowError(
            f"job id {job_id!r} already started a {record.graph} workflow with correlation "
            f"{shown(record.correlation)} (execution {execution_id}); this {graph} start with correlation "
            f"{shown(correlation)} was not made: a start job's id names one workflow in a store, so enqueue this start "
            "under a job id of its own (the default, a random one)",
            graph=graph, correlation=correlation, existing_execution_id=execution_id, job_id=job_id)
    return {"graph": graph, "execution_id": execution_id, "workflow_status": record.status, "replayed": True}


def run_deliver_event(contract: str, event: str, correlation: Any, payload: Any = None,
                      idempotency_key: str | None = None) -> dict[str, Any]:
    """Job body of :func:`enqueue_deliver_event` (runs in the worker)."""

    def call(store: Any) -> dict[str, Any]:
        cls = resolve_contract(contract)
        moment = dt.datetime.now(dt.UTC)
        delivered = cls.deliver_event(event, correlation=codec.decode(correlation), payload=codec.decode(payload),
                                      store=store, idempotency_key=idempotency_key, now=moment)
        return delivery_summary(delivered, event, idempotency_key, moment)

    return _perform(call)


def run_resume(contract: str, execution_id: str, token: str, value: Any = None) -> dict[str, Any]:
    """Job body of :func:`enqueue_resume` (runs in the worker)."""

    def call(store: Any) -> dict[str, Any]:
        cls = resolve_contract(contract)
        given = codec.decode(value)
        try:
            resumed = cls.resume_from_store(execution_id, token, given, store=store)
        except ResolutionError:
            # Run again after its first run saved (a retry after the worker died, a requeue): the token is no
            # longer pending. With the same value, that run is this one; another value is a real conflict.
            earlier = _resumed_earlier(cls, store, execution_id, token, given)
            if earlier is None:
                raise
            return earlier
        return {"graph": cls.compiled_graph().name, "execution_id": resumed.execution_id,
                "status": str(resumed.execution.status_of()), "replayed": False}

    return _perform(call)


def _resumed_earlier(cls: Any, store: Any, execution_id: str, token: str, value: Any) -> dict[str, Any] | None:
    """The result to answer when ``token`` of ``execution_id`` was already resumed with ``value``, else None."""
    restored = cls.restore_from_store(execution_id, store=store)
    ex = restored.execution
    resumed_nodes: set[str] = set()  # nodes resumed after the point reached, walking the log backwards
    tool_results: dict[str, Any] = {}  # an LLM node's first tool results after the point reached
    node = None
    for e in reversed(restored.events):
        if e.type == "node_resumed":
            resumed_nodes.add(e.node)
        elif e.type == "llm_tool_results":
            tool_results[e.node] = e.payload.get("results")
        elif e.type == "node_pending" and e.payload.get("token") == token and e.payload.get("source_node") == e.node:
            node = e.node
            break
    state = ex.states.get(node) if node is not None else None
    if state is None or node not in resumed_nodes:
        return None
    if node in tool_results:  # an LLM node's value is the model's reply, not the results it was resumed with
        from igniter_nb.llm.durable import same_tool_results

        if not same_tool_results(tool_results[node], value):
            return None
    elif str(state.status) != "succeeded" or state.value != value:
        return None
    return {"graph": cls.compiled_graph().name, "execution_id": execution_id, "status": str(ex.status_of()),
            "replayed": True}


def _worker_store() -> Any:
    from igniter_nb.config import ENV_VAR, default_store
    from igniter_nb.stores.memory import MemoryStore

    store = default_store()
    if isinstance(store, MemoryStore):
        # A forking worker runs each job in a child process: a memory store would forget every job's work.
        raise StoreError(f"this RQ worker's default store is an in-process MemoryStore, which no other process "
                         f"sees: set {ENV_VAR} (e.g. postgresql+psycopg://..., redis://..., sqlite:///path.db) "
                         "in the worker's environment")
    return store


def _perform(call: Any) -> dict[str, Any]:
    """Run ``call(store)``; on failure record the error in the job's meta and retry only transient errors."""
    job = get_current_job()
    try:
        with timeouts_pass_through():  # (RQ's timeout ends the job unsaved: never a node's failure)
            result: dict[str, Any] = call(_worker_store())
    except Exception as exc:
        if job is not None:
            transient = is_transient(exc) or _resume_in_progress(exc) or is_timeout(exc)
            if not transient:
                job.retries_left = 0  # RQ retries what raised while retries are left: these would fail the same way
            job.meta[ERROR_META_KEY] = {**error_record(exc), "transient": transient,
                                        "retries_left": job.retries_left or 0}
            with contextlib.suppress(Exception):  # best effort: the exception itself is what RQ records
                job.save_meta()
        raise
    if job is not None and ERROR_META_KEY in job.meta:  # an earlier attempt failed; this one did not
        del job.meta[ERROR_META_KEY]
        with contextlib.suppress(Exception):  # the work is done and saved; a stale note must not fail it
            job.save_meta()
    return result


def _resume_in_progress(exc: BaseException) -> bool:
    """Whether ``exc`` is an LLM resume refused because another worker holds the wait's resume lease: "resume it
    again" (once that worker is done, or its lease expired), so a retry may succeed."""
    llm_errors = sys.modules.get("igniter_nb.llm.errors")  # (loaded whenever an LLM node ran: no import here)
    cls = getattr(llm_errors, "ResumeInProgressError", None)
    return isinstance(cls, type) and isinstance(exc, cls)


class JobNotFoundError(IgniterError, NoSuchJobError):
    """The record of an RQ job is no longer in Redis: it expired (``result_ttl``, ``failure_ttl``) or was deleted.
    ``context["job_id"]`` names the job. Also RQ's ``NoSuchJobError``, which it was before."""


def job_error(job: Job) -> dict[str, Any] | None:
    """The igniter error of a failed job — ``{"type", "message", "context", "transient", "retries_left"}`` —
    or ``None`` if it has not failed (reads the job's meta fresh from Redis). A job whose record expired or was
    deleted raises :class:`JobNotFoundError`: whether it failed can no longer be told, so it is not ``None``."""
    try:
        job.refresh()
    except NoSuchJobError:
        raise JobNotFoundError(
            f"RQ job {job.id!r} is no longer in Redis: its record expired or was deleted (RQ keeps a failed job "
            f"failure_ttl, a year by default, and a finished one result_ttl, 500 s by default), so whether it failed, "
            f"and why, cannot be read; the workflow it acted on is in the store", job_id=job.id) from None
    found = job.meta.get(ERROR_META_KEY)
    return dict(found) if isinstance(found, dict) else None


__all__ = [
    "DEFAULT_QUEUE",
    "ERROR_META_KEY",
    "JobNotFoundError",
    "PUBSUB_STOP_WAIT",
    "SimpleWorker",
    "StopsPubSubFirst",
    "Worker",
    "enqueue_deliver_event",
    "enqueue_resume",
    "enqueue_start",
    "is_transient",
    "job_error",
    "make_queue",
    "run_deliver_event",
    "run_resume",
    "run_start",
    "worker",
]
