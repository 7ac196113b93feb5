"""Webhooks: ``endpoint(...)`` turns a signed JSON POST into ``Contract.deliver_event``, as a Starlette route.

::

    from starlette.applications import Starlette
    from igniter_nb.integrations.webhooks import endpoint

    app = Starlette(routes=[
        endpoint(LeadWorkflow, event="crm_webhook_received", correlation_from=["request_id", "company_id"],
                 payload_from="data", secret=os.environ["CRM_WEBHOOK_SECRET"]),
    ])

A request is read (at most ``max_body_size`` bytes, counted as they arrive), its signature checked on the raw
bytes, its JSON parsed, the correlation and payload picked out by dotted paths, the payload validated, and the
event delivered in a worker thread (``store=``, default store) or enqueued on RQ (``queue=``, answered 202).
Every refusal is a 4xx with a JSON body ``{"error": ..., "type": ..., ...context}``. See docs/integrations.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.errors import (
    AwaitedEventMismatchError,
    DuplicateSignalError,
    IgniterError,
    InputError,
    PayloadValidationError,
    WorkflowError,
    WorkflowNotFoundError,
)
from igniter_nb.integrations.delivery import delivery_summary, is_transient, json_safe
from igniter_nb.integrations.idempotency_keys import KEY_RULE, MAX_IDEMPOTENCY_KEY, idempotency_key_problem
from igniter_nb.integrations.signatures import (
    DEFAULT_HEADERS,
    LEGACY_GITHUB_HEADER,
    SCHEMES,
    SHA1_REFUSED,
    SignatureRejected,
    secrets_of,
    sign,
    verify,
)
from igniter_nb.integrations.webhook_paths import check_path, depth_exceeds, has_path, pick
from igniter_nb.integrations.webhook_requests import (
    _check_content_encoding,
    _check_content_type,
    _header_name,
    _one_header,
    _Refusal,
    store_failure,
)
from igniter_nb.runtime.repeated_keys import RepeatedKeyError, repeated_key_at
from igniter_nb.runtime.strict_json import NotJSONNumber, loads_strict
from igniter_nb.runtime.surrogates import escaped_lone_surrogate_at

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
"""``endpoint(max_body_size=...)``'s default: bodies larger than this many bytes (1 MiB) are refused with 413, counted
as they arrive."""
DEFAULT_MAX_DEPTH = 64
"""``endpoint(max_depth=...)``'s default: JSON bodies nested deeper than this many levels are refused with 400."""
_SHOWN = 200  # characters of a correlation value echoed in the 404 for an unknown correlation
_BY_SCHEME: Any = object()  # idempotency_header's and idempotency_from's default: what the scheme signs (below)
# The key each scheme takes by default comes from what its signature covers, the body, never from a header a replay
# may change: Stripe's event id (the body's "id", evt_…) for "stripe"; for "github", whose bodies carry no event id,
# the body's digest (``body_digest_key``).
STRIPE_EVENT_ID = "id"
"""The body field the stripe scheme keys a delivery by unless ``idempotency_header=`` or ``idempotency_from=`` is
given: Stripe's event id, inside the signed body."""
_DEFAULT_IDEMPOTENCY_FIELDS = {"stripe": STRIPE_EVENT_ID, "github": None}
GITHUB_DELIVERY_HEADER = "X-GitHub-Delivery"
"""GitHub's delivery id: unsigned, so only a label in the github scheme's answers, never its idempotency key."""
# What a picking callable raises on a body of the wrong shape: AttributeError too (``body["data"].get(...)`` on a list)
_USER_ERRORS = (AttributeError, LookupError, TypeError, ValueError)


def endpoint(
    contract: Any,
    *,
    event: str,
    correlation_from: Sequence[str] | Mapping[str, str] | str | Callable[[Any], Mapping[str, Any]],
    payload_from: str | Callable[[Any], Any] | None = None,
    path: str | None = None,
    secret: str | bytes | Sequence[str | bytes] | None = None,
    signature_scheme: str = "stripe",
    signature_header: str | None = None,
    tolerance: float = 300,
    idempotency_header: str | None = _BY_SCHEME,
    idempotency_from: str | None = _BY_SCHEME,
    queue: Any = None,
    store: Any = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
    name: str | None = None,
) -> Any:
    """A Starlette ``Route`` (``POST`` at ``path``, default ``/webhooks/<event>``) delivering ``event`` to ``contract``.

    ``correlation_from``: dotted paths into the JSON body, one per correlation key (the key is the path's last
    part), or ``{key: path}``, or a callable ``body -> {key: value}``. ``payload_from``: a dotted path or a
    callable (default: the whole body). ``secret``: one or several HMAC secrets (rotation); ``None`` accepts
    unsigned requests. ``signature_scheme``: ``"stripe"`` or ``"github"``. ``idempotency_header``/``idempotency_from``:
    where a delivery's idempotency key comes from, a header or a dotted path in the body; by default what is signed —
    the body's ``id`` for the stripe scheme (Stripe's event id), the body's digest for github. ``queue``: an RQ queue
    — the event is enqueued and answered 202 instead of delivered inline. Configuration mistakes raise here, at
    start-up.
    """
    return _Endpoint(contract, event=event, correlation_from=correlation_from, payload_from=payload_from,
                     secret=secret, signature_scheme=signature_scheme, signature_header=signature_header,
                     tolerance=tolerance, idempotency_header=idempotency_header, idempotency_from=idempotency_from,
                     queue=queue, store=store, max_body_size=max_body_size, max_depth=max_depth).route(path, name)


def body_digest_key(raw: bytes) -> str:
    """The github scheme's default idempotency key: ``"sha256:<hex digest of the raw body>"``. The body is what the
    signature covers, so a replay of a captured delivery carries the same key whatever headers it changes, and a
    redelivery (GitHub resends the same body) is answered as the repeat it is."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# ----------------------------------------------------------------------------------------------- the endpoint
class _Endpoint:
    """The checked configuration of one webhook route, and the request handler using it."""

    def __init__(self, contract: Any, *, event: str, correlation_from: Any, payload_from: Any, secret: Any,
                 signature_scheme: str, signature_header: str | None, tolerance: float, idempotency_header: Any,
                 idempotency_from: Any, queue: Any, store: Any, max_body_size: int, max_depth: int) -> None:
        from igniter_nb.dsl.contract import Contract
        from igniter_nb.workflow.engine import await_for_event

        if not (isinstance(contract, type) and issubclass(contract, Contract)):
            raise TypeError(f"endpoint() needs a contract class, got {contract!r}")
        self.contract = contract
        self.graph = contract.compiled_graph()
        self.event = event
        self.node = await_for_event(self.graph, event)  # AwaitedEventMismatchError now, not per request
        self.correlation_paths, self.correlation_call = self._correlation_config(correlation_from)
        if payload_from is not None and not callable(payload_from):
            check_path(payload_from, "payload_from")
        self.payload_from = payload_from
        if signature_scheme not in SCHEMES:
            raise ValueError(f"signature_scheme must be one of {', '.join(SCHEMES)}, got {signature_scheme!r}")
        self.scheme = signature_scheme
        self.secrets = secrets_of(secret) if secret is not None else None
        self.signature_header = _header_name(signature_header or DEFAULT_HEADERS[signature_scheme], "signature_header")
        if (isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not tolerance > 0
                or not math.isfinite(tolerance)):  # an infinite tolerance would accept a captured request for ever
            raise ValueError(f"tolerance must be a positive, finite number of seconds, got {tolerance!r}")
        self.tolerance = float(tolerance)
        self.idempotency_header = None if idempotency_header is _BY_SCHEME else idempotency_header
        if self.idempotency_header:
            _header_name(self.idempotency_header, "idempotency_header")
        # The stripe scheme signs the body, and each Stripe event carries its id there: a header (Stripe sends no
        # Idempotency-Key) would let whoever replays a signed body choose the key. A header named here is used as asked.
        if idempotency_from is _BY_SCHEME:
            idempotency_from = None if self.idempotency_header else _DEFAULT_IDEMPOTENCY_FIELDS[signature_scheme]
            self.event_id_by_default = idempotency_from is not None
        else:
            self.event_id_by_default = False
        # GitHub signs the body and nothing else: with no key from a signed field or a header chosen by the
        # operator, a delivery is keyed by its body's digest, which whoever replays it cannot change
        self.body_digest_key = signature_scheme == "github"
        if idempotency_from is not None:
            check_path(idempotency_from, "idempotency_from")
        self.idempotency_from = idempotency_from
        if queue is not None and store is not None:
            raise ValueError("give queue= or store=, not both: a queued event is delivered by an RQ worker, "
                             "into the worker's default store")
        if queue is not None:
            from igniter_nb.integrations.contract_ref import contract_path
            from igniter_nb.integrations.rq import _check_queue

            _check_queue(queue)
            contract_path(contract)  # the worker must be able to import it
        if isinstance(store, str | bytes):  # every request would fail (500) on a URL's missing methods
            raise TypeError(f"store= must be a store object, got {type(store).__name__}: open a URL with "
                            "ig.stores.from_url(url) and pass that store")
        self.queue = queue
        self.store = store
        for label, limit in (("max_body_size", max_body_size), ("max_depth", max_depth)):
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"{label} must be a positive integer, got {limit!r}")
        self.max_body_size = max_body_size
        self.max_depth = max_depth

    def _correlation_config(self, given: Any) -> tuple[dict[str, str], Any]:
        keys = list(self.graph.correlation_keys)
        if callable(given) and not isinstance(given, str | Mapping):
            return {}, given
        if isinstance(given, str):
            given = [given]
        if isinstance(given, Mapping):
            paths = {str(k): v for k, v in given.items()}
        elif isinstance(given, Sequence):
            paths = {check_path(p, "each correlation_from path")[-1]: p for p in given}
            if len(paths) != len(given):
                raise ValueError(f"correlation_from paths {list(given)} end in the same key twice; "
                                 "name the keys with a mapping {key: path}")
        else:
            raise TypeError("correlation_from must be a list of dotted paths, a {key: path} mapping or a callable, "
                            f"got {type(given).__name__}")
        for p in paths.values():
            check_path(p, "each correlation_from path")
        if sorted(paths) != sorted(keys):
            raise ValueError(f"correlation_from gives the keys {sorted(paths)} but {self.graph.name} correlates by "
                             f"{keys}: give one path per key (the key is the path's last part, or use {{key: path}})")
        return paths, None

    def route(self, path: str | None, name: str | None) -> Any:
        from starlette.routing import Route

        path = path if path is not None else f"/webhooks/{self.event}"
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        return Route(path, self.handle, methods=["POST"], name=name or f"webhook:{self.graph.name}:{self.event}")

    # ------------------------------------------------------------------------------------------ per request
    async def handle(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        try:
            status, body = await self._answer(request)
            return JSONResponse(body, status_code=status, headers={"X-Content-Type-Options": "nosniff"})
        except _Refusal as refusal:
            headers = {"X-Content-Type-Options": "nosniff", **refusal.headers}
            return JSONResponse(json_safe(refusal.body), status_code=refusal.status, headers=headers)

    async def _answer(self, request: Any) -> tuple[int, dict[str, Any]]:
        from starlette.concurrency import run_in_threadpool

        raw = await self._read(request)
        if self.secrets is not None:
            try:
                signature = _one_header(request, self.signature_header, SignatureRejected)
                if signature is None and self.scheme == "github" and LEGACY_GITHUB_HEADER in request.headers:
                    raise SignatureRejected(f"the request carries no {self.signature_header}; {SHA1_REFUSED}")
                verify(self.scheme, signature, raw, self.secrets, tolerance=self.tolerance)
            except SignatureRejected as rejected:
                raise _Refusal(401, f"invalid webhook signature: {rejected.reason}",
                               {"header": self.signature_header}) from None
        _check_content_type(request.headers.get("content-type"))
        _check_content_encoding(", ".join(request.headers.getlist("content-encoding")) or None)  # each one sent
        data = self._parse(raw)
        correlation = self._correlation(data)
        payload = self._payload(data)
        key = self._idempotency_key(request, data)
        if key is None and self.body_digest_key:
            key = body_digest_key(raw)
        label = self._delivery_label(request)
        try:
            from igniter_nb.workflow.payloads import validate_payload

            validate_payload(self.graph.name, self.node, payload)  # 422 before any store or queue is touched
            if self.queue is not None:
                from igniter_nb.integrations.rq import enqueue_deliver_event

                job = await run_in_threadpool(enqueue_deliver_event, self.contract, self.event, correlation=correlation,
                                              payload=payload, idempotency_key=key, queue=self.queue)
                return 202, {"status": "queued", "job_id": job.id, "queue": self.queue.name, "event": self.event,
                             "idempotency_key": key, **label}
            moment = dt.datetime.now(dt.UTC)
            delivered = await run_in_threadpool(self._deliver, correlation, payload, key, moment)
            return 200, {"status": "delivered", **delivery_summary(delivered, self.event, key, moment), **label}
        except Exception as exc:
            latest = None
            if isinstance(exc, WorkflowNotFoundError) and self.queue is None:  # too late, or never started?
                latest = await run_in_threadpool(self._latest, correlation)
            refusal = self._refusal_for(exc, correlation, latest)
            if refusal is None:
                raise  # a fault of this service, not of the request: Starlette answers 500 and logs it
            raise refusal from None

    def _store(self) -> Any:
        from igniter_nb.config import default_store

        return self.store if self.store is not None else default_store()

    def _deliver(self, correlation: dict[str, Any], payload: Any, key: str | None, moment: dt.datetime) -> Any:
        return self.contract.deliver_event(self.event, correlation=correlation, payload=payload, store=self._store(),
                                           idempotency_key=key, now=moment)

    def _latest(self, correlation: dict[str, Any]) -> dict[str, Any] | None:
        """``{"execution_id", "workflow_status"}`` of the latest, finished, workflow with ``correlation`` — the one
        a too-late delivery missed — or None (none ever started; the store could not say: the 404 stays plain)."""
        from igniter_nb.workflow.engine import _latest_with_correlation

        try:
            record = _latest_with_correlation(self._store(), self.graph.name, correlation)
        except Exception:  # only the wording of a 404 depends on it
            return None
        if record is None or record.status in ("running", "waiting"):  # (active again meanwhile: say nothing)
            return None
        return {"execution_id": record.execution_id, "workflow_status": record.status}

    async def _read(self, request: Any) -> bytes:
        from starlette.requests import ClientDisconnect

        declared = request.headers.get("content-length")
        if declared is not None:
            if not (declared.strip().isascii() and declared.strip().isdigit()):
                raise _Refusal(400, f"invalid Content-Length header {declared[:40]!r}")
            # more digits than the limit has is over it, without int() of thousands of digits (a ValueError past 4300)
            digits = declared.strip().lstrip("0") or "0"
            if len(digits) > len(str(self.max_body_size)) or int(digits) > self.max_body_size:
                raise self._too_large()
        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body_size:  # also for chunked bodies, which declare no length
                    raise self._too_large()
                chunks.append(chunk)
        except ClientDisconnect:
            raise _Refusal(400, "the client disconnected before sending the whole body") from None
        return b"".join(chunks)

    def _too_large(self) -> _Refusal:
        return _Refusal(413, f"request body is larger than {self.max_body_size} bytes", {"limit": self.max_body_size})

    def _parse(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            raise _Refusal(400, "empty body: expected a JSON object")
        encoding = json.detect_encoding(raw)  # as json.loads(bytes) reads: UTF-8 (a BOM allowed), UTF-16, UTF-32
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _Refusal(400, f"body is not valid JSON: it is not {encoding.upper()} text (byte {exc.start} is "
                                "invalid)", {"byte": exc.start}) from None
        try:  # the server's strict reader: no NaN/Infinity, no number that overflows a float, no repeated key
            data = loads_strict(text)
        except NotJSONNumber as exc:
            raise _Refusal(400, f"body is not valid JSON: {exc}", {"token": exc.token[:40]}) from None
        except RecursionError:
            raise self._too_deep() from None
        except RepeatedKeyError as exc:  # json keeps the last; whatever read the body before may have read another
            repeat = repeated_key_at(text, "body")
            # a place hundreds of levels deep is cut (head kept) as the 404 cuts a correlation: the answer stays small
            field = {"field": cut_text(repeat[0], _SHOWN, say_how_much=True)} if repeat is not None else {}
            raise _Refusal(400, f"body repeats the key {exc.key[:80]!r} in {field.get('field', 'one object')}: each "
                                "key may appear once", {**field, "key": exc.key[:80]}) from None
        except ValueError as exc:  # JSONDecodeError, an integer of too many digits
            raise _Refusal(400, f"body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")
            raise _Refusal(400, f"body must be a JSON object, got {kind}")
        if depth_exceeds(data, self.max_depth):
            raise self._too_deep()
        # JSON may spell a lone UTF-16 surrogate, which no store can encode: refused as the server's reader does
        where = escaped_lone_surrogate_at(text, data, "body")
        if where is not None:
            raise _Refusal(400, f"body is not valid JSON: an unpaired UTF-16 surrogate (\\u{ord(where[1]):04x}) in "
                                f"{where[0]}: JSON strings must be Unicode text", {"field": where[0]})
        return data

    def _too_deep(self) -> _Refusal:
        return _Refusal(400, f"body is nested deeper than {self.max_depth} levels", {"limit": self.max_depth})

    def _correlation(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.correlation_call is not None:
            try:
                found = self.correlation_call(data)
            except _USER_ERRORS as exc:
                raise _Refusal(400, f"could not read the correlation from the body: {type(exc).__name__}: {exc}") from None
            if not isinstance(found, Mapping):  # what the callable picked from the body, so the body's shape
                raise _Refusal(400, f"could not read the correlation from the body: correlation_from returned "
                                    f"{type(found).__name__}, not a mapping {{key: value}}")
            from igniter_nb.workflow.correlation import check_delivery_correlation

            try:
                return check_delivery_correlation(self.graph, found)
            except WorkflowNotFoundError as exc:  # the engine's word for a correlation of the wrong shape
                raise _Refusal(400, exc.message, {"type": type(exc).__name__}) from None
        correlation = {}
        for key, path in self.correlation_paths.items():
            try:
                value = pick(data, path)
            except LookupError as missing:
                raise _Refusal(400, f"missing correlation field '{path}'", {"field": path, "missing": str(missing)}) from None
            if isinstance(value, dict | list) or value is None:
                kind = "null" if value is None else ("an object" if isinstance(value, dict) else "an array")
                raise _Refusal(400, f"correlation field '{path}' must be a string or a number, got {kind}", {"field": path})
            if isinstance(value, str) and not value.strip():
                raise _Refusal(400, f"correlation field '{path}' is blank", {"field": path})
            correlation[key] = value
        from igniter_nb.workflow.correlation import check_delivery_correlation

        try:  # a value of another type than its key's input (5 for a str key) is malformed, not unknown
            return check_delivery_correlation(self.graph, correlation)
        except WorkflowNotFoundError as exc:
            field = self.correlation_paths.get(str(exc.context.get("node")))
            raise _Refusal(400, exc.message, {**exc.context, "type": type(exc).__name__,
                                              **({"field": field} if field else {})}) from None

    def _payload(self, data: dict[str, Any]) -> Any:
        if self.payload_from is None:
            return data
        if callable(self.payload_from):
            try:
                return self.payload_from(data)
            except _USER_ERRORS as exc:
                raise _Refusal(400, f"could not read the payload from the body: {type(exc).__name__}: {exc}") from None
        try:
            return pick(data, self.payload_from)
        except LookupError as missing:
            raise _Refusal(400, f"missing payload field '{self.payload_from}'",
                           {"field": self.payload_from, "missing": str(missing)}) from None

    def _delivery_label(self, request: Any) -> dict[str, str]:
        """``{"delivery": <X-GitHub-Delivery>}`` for the github scheme's answers, so a sender's log can be matched
        with ours; read as the idempotency header is (sent twice or not UTF-8: 400). Never the key: it is unsigned."""
        if self.scheme != "github" or (self.idempotency_header or "").lower() == GITHUB_DELIVERY_HEADER.lower():
            return {}
        value = _one_header(request, GITHUB_DELIVERY_HEADER, None)
        return {"delivery": cut_text(value, MAX_IDEMPOTENCY_KEY)} if value is not None else {}

    def _idempotency_key(self, request: Any, data: dict[str, Any]) -> str | None:
        header = _one_header(request, self.idempotency_header, None) if self.idempotency_header else None
        if header is not None:
            self._check_key(header, f"header {self.idempotency_header}", {"header": self.idempotency_header})
        if self.idempotency_from is None or (header is not None and not has_path(data, self.idempotency_from)):
            return header.strip() if header is not None else None
        source = f"field '{self.idempotency_from}'"
        try:
            value = pick(data, self.idempotency_from)
        except LookupError:
            if self.event_id_by_default:
                raise _Refusal(400, f"missing idempotency field '{self.idempotency_from}': the stripe scheme keys each "
                                    f"delivery by its signed body's event id ('{self.idempotency_from}', evt_… in a "
                                    "Stripe event), and this body has none — a sender other than Stripe needs the "
                                    "endpoint's idempotency_from= or idempotency_header=",
                               {"field": self.idempotency_from}) from None
            raise _Refusal(400, f"missing idempotency field '{self.idempotency_from}'",
                           {"field": self.idempotency_from}) from None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        self._check_key(value, source, {"field": self.idempotency_from})
        field = str(value).strip()
        if header is not None and header.strip() != field:
            # The body is signed and the header is not: whoever replays a captured request could choose the header,
            # have the event applied under a key of theirs, and leave the sender's own delivery a 409 duplicate.
            raise _Refusal(400, f"the header {self.idempotency_header} says {cut_text(header.strip(), 80)!r} but the "
                                f"{source} says {cut_text(field, 80)!r}: send one idempotency key (the signed body's, "
                                "or the same in both)", {"header": self.idempotency_header, "field": self.idempotency_from})
        return field

    @staticmethod
    def _check_key(value: Any, source: str, where: dict[str, Any]) -> None:
        problem = idempotency_key_problem(value)  # the check enqueue_deliver_event makes: one limit
        if problem is not None:
            raise _Refusal(400, f"idempotency key from {source} must be {KEY_RULE}, got {problem}", where)

    def _refusal_for(self, exc: Exception, correlation: dict[str, Any],
                     latest: dict[str, Any] | None = None) -> _Refusal | None:
        """The HTTP answer to an error raised while validating, enqueueing or delivering; ``None`` for a fault
        of this service rather than of the request. ``latest``: the finished workflow a 404 delivery came too late
        for, named in the answer."""
        kind = {"type": type(exc).__name__}
        if isinstance(exc, WorkflowNotFoundError):
            # Without the engine's "nearest active workflows" hint: a sender must not learn other correlations.
            # Each text value as sent, or cut to at most 200 characters: the answer to a ~1 MiB id is not that id again.
            shown = {key: cut_text(value, _SHOWN, say_how_much=True) if isinstance(value, str) else value
                     for key, value in correlation.items()}
            late = (f": the latest one, {latest['execution_id']}, is {latest['workflow_status']} and takes no more "
                    "events (the event came too late)") if latest else ""
            return _Refusal(404, f"no active {self.graph.name} workflow has this correlation{late}"
                                 f"{_controls_in(correlation)}",
                            {**kind, "graph": self.graph.name, "event": self.event, "correlation": shown,
                             **(latest or {})})
        if is_transient(exc):  # queued, only the enqueue reaches a server: Redis, not the store
            what = f"the job queue {self.queue.name!r} (Redis)" if self.queue is not None else "the workflow store"
            return _Refusal(503, f"{what} is busy or unreachable, try again ({type(exc).__name__})",
                            kind, headers={"Retry-After": "1"})
        failed = store_failure(exc, f"webhook for {self.graph.name} event {self.event!r}")
        if failed is not None:
            return failed
        if not isinstance(exc, IgniterError):
            return None
        message = exc.message
        context = {**{k: v for k, v in exc.context.items() if k not in _PRIVATE_CONTEXT}, **kind}
        if isinstance(exc, PayloadValidationError):
            return _Refusal(422, message, context)
        if isinstance(exc, DuplicateSignalError | AwaitedEventMismatchError):
            return _Refusal(409, message, context)
        if isinstance(exc, InputError | ValueError):  # e.g. a bad argument error that is also a ValueError
            return _Refusal(400, message, context)
        if isinstance(exc, WorkflowError):
            return _Refusal(409, message, context)
        return None


def _controls_in(correlation: Mapping[str, Any]) -> str:
    """`` (order_id holds the control character \\x0a (LF) at index 3; ...)`` for the text values of ``correlation``
    holding control characters (a start refuses them, so only a workflow stored before that has one), else nothing.
    Matching stays exact: this only says why a value a log prints plainly found nothing."""
    from igniter_nb.workflow.lookalikes import named_controls

    held = [f"{key} holds {named}" for key, value in correlation.items()
            if isinstance(value, str) and (named := named_controls(cut_text(value, _SHOWN)))]
    return f" ({'; '.join(held)}; correlation values are matched exactly)" if held else ""


# Context items a sender has no use for: where the contract's source lives on this server.
_PRIVATE_CONTEXT = ("source_location",)


__all__ = ["DEFAULT_MAX_BODY_SIZE", "DEFAULT_MAX_DEPTH", "MAX_IDEMPOTENCY_KEY", "STRIPE_EVENT_ID", "body_digest_key",
           "endpoint", "pick", "sign"]
