"""Callbacks, the reporting side: a caller asked to hear when an execution finishes (a remote node of another
server does, see ``remote.py``); this server tells it.

``POST /v1/contracts/{name}/execute`` with ``callback: {url, token}`` records the request in the execution's own
event log (a ``callback_registered`` event — it travels with the execution through the store, so whichever
worker or server finishes it later sees it). When a route of any server sharing the store finishes the execution
(event delivery, resume, a remote callback), the route schedules :func:`send_due` **after the save and off the
request path**: it POSTs the execution view to the URL with ``Authorization: Bearer <token>``, retrying
connection errors, timeouts, 404, 409, 429 and 5xx with back-off (0.5 s, doubling, at most 8 s), and records the
result in the execution's log (``callback_sent`` / ``callback_failed``) and the ``igniter_nb.server`` log.
Nothing resends a callback later (a restarted server does not scan for them; a server killed before recording a
result leaves only the ``callback_registered``): the caller's ``Contract.sync_remote`` is what catches up.

The token is what lets the receiver trust the callback; the execution's stored log keeps it so it can be sent
later, and the server's own answers (the live stream, history) show it as ``"<redacted>"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from igniter_nb.errors import ConcurrencyError
from igniter_nb.settings import DEFAULT_CALLBACK_RETRIES, redact_url, redact_url_value
from igniter_nb.stores.base import FINISHED_STATUSES as FINISHED

log = logging.getLogger("igniter_nb.server")

REGISTERED = "callback_registered"
SENT = "callback_sent"
FAILED = "callback_failed"
_CALLBACK_EVENTS = frozenset({REGISTERED, SENT, FAILED})
_SHOWN_OTHERWISE = frozenset({*_CALLBACK_EVENTS, "node_pending"})  # the events redact_event changes
#: Retries after the first attempt, unless the app says otherwise (``create_app(callback_retries=...)``,
#: ``IGNITER_CALLBACK_RETRIES``, ``igniter-nb serve --callback-retries``).
RETRIES = DEFAULT_CALLBACK_RETRIES
FIRST_DELAY, MAX_DELAY = 0.5, 8.0
#: The longest wait a receiver's ``Retry-After`` (on a 429 or 503) sets before the next attempt.
MAX_RETRY_AFTER = 60.0
TIMEOUT = 5.0
#: The most one attempt may take in all (connecting, sending, the receiver's status line and headers, the start of
#: an error answer): ``TIMEOUT`` bounds each read only, and a receiver trickling a byte at a time held the sending
#: thread for as long as it liked. The client's rule: 3 × the timeout.
TOTAL_TIMEOUT = 15.0
#: The most bytes of a receiver's answer the sender reads (the start of an error answer, quoted in its message).
ANSWER_READ = 4096
#: 401 too: a parent answers 401 to a callback for an execution it has not saved yet (its pending state is saved
#: after the remote server answered the call), the same answer as for a wrong token (``resuming.restore_for_callback``)
_RETRY_STATUSES = frozenset({401, 404, 408, 409, 425, 429})
REDACTED = "<redacted>"
_MAX_ATTEMPTS = 50  # compare-and-set saves of a result record before giving up


@dataclass(frozen=True, slots=True)
class Callback:
    """One registered callback of one execution: ``registration`` is the seq of its ``callback_registered``."""

    execution_id: str
    registration: int
    url: str
    token: str


def register(contract: Any, url: str, token: str) -> None:
    """Record that ``url`` wants to hear when ``contract``'s execution finishes (saved with the execution)."""
    contract.execution.bus.emit(REGISTERED, payload={"url": url, "token": token})


def _events(execution: Any) -> list[Mapping[str, Any]]:
    """The execution's events as plain dicts (``seq``, ``type``, ``payload``): the stored form when it is complete
    (just saved or restored: no decoding of a restored log, which would cost more than the delivery itself) —
    the chunks a store in this process keeps (``runtime/event_chunks.py``) then the events encoded after them."""
    stored = execution.encoded_events
    chunks = execution.event_chunks
    held = chunks.count if chunks is not None else 0
    if held + len(stored) == execution.bus.count():
        return [*chunks.load(), *stored] if held else stored  # type: ignore[no-any-return]
    return [{"seq": e.seq, "type": e.type, "payload": e.payload} for e in execution.bus.events]


def due(contract: Any, status: str) -> list[Callback]:
    """The callbacks of a finished execution that were not reported yet (none while it is not finished)."""
    if status not in FINISHED:
        return []
    events = _events(contract.execution)
    registered = [e for e in events if e["type"] == REGISTERED]
    if not registered:
        return []
    reported = {(e.get("payload") or {}).get("registration") for e in events if e["type"] in (SENT, FAILED)}
    return [Callback(contract.execution_id, int(e["seq"]), str(e["payload"]["url"]), str(e["payload"]["token"]))
            for e in registered if e["seq"] not in reported]


def redact_event(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored event as the server shows it: a callback registration without its token (and a callback event's URL
    without its password), a node pending on an LLM's
    tool calls without the conversation its payload keeps (``views.shown_payload``)."""
    payload = event.get("payload")
    kind = event.get("type")
    if kind in _CALLBACK_EVENTS and isinstance(payload, Mapping):
        shown = {**payload, "token": REDACTED} if kind == REGISTERED and "token" in payload else dict(payload)
        if "url" in shown:  # a password in the caller's callback URL is shown as user:***@ (the stored one is kept)
            shown["url"] = redact_url_value(shown["url"])
        return {**event, "payload": shown}
    if event.get("type") == "node_pending" and isinstance(payload, Mapping) and isinstance(payload.get("payload"),
                                                                                           Mapping):
        from igniter_nb.server.views import shown_payload

        return {**event, "payload": {**payload, "payload": shown_payload(payload["payload"])}}
    return event


def redact_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """``snapshot`` with its callback registrations redacted and its remote waits' ``remote_url`` without a
    password (``settings.without_url_passwords``; the events list and changed parts are replaced, not changed)."""
    from igniter_nb.settings import without_url_passwords

    events = snapshot.get("events")
    if isinstance(events, list) and any(isinstance(e, Mapping) and e.get("type") in _SHOWN_OTHERWISE
                                        for e in events):
        snapshot["events"] = [redact_event(e) if isinstance(e, Mapping) else e for e in events]
    for key, value in list(snapshot.items()):
        if key != "events":
            snapshot[key] = without_url_passwords(value)
    return snapshot


# ----------------------------------------------------------------------------------------------- sending


def post(callback: Callback, view: Mapping[str, Any], *, retries: int = RETRIES,
         stop: threading.Event | None = None) -> dict[str, Any]:
    """POST ``view`` to the callback URL until it is accepted or ``retries`` retries are spent (or ``stop`` is set
    during a back-off: the server is shutting down); what happened. The back-off is 0.5 s doubling to 8 s, or what
    a 429 or 503 answer's ``Retry-After`` asks (whole seconds, at most :data:`MAX_RETRY_AFTER`)."""
    import httpx

    from igniter_nb.server.stopping_retry import retry_after
    from igniter_nb.server.total_timeout import bounded_transport, passed, within

    headers = {"Authorization": f"Bearer {callback.token}"}
    attempts = 0
    delay = FIRST_DELAY
    problem = ""
    transport = bounded_transport(httpx.HTTPTransport())  # each wait cut to the attempt's TOTAL_TIMEOUT
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, transport=transport) as http:
        while True:
            attempts += 1
            retry = True
            response = None
            try:
                with within(TOTAL_TIMEOUT):
                    try:
                        response, start = _post_reading_the_start(http, callback.url, view, headers)
                    except httpx.TimeoutException as exc:
                        if not passed():
                            raise
                        raise type(exc)(f"no complete answer within {TOTAL_TIMEOUT:g}s (the total timeout of "
                                        "one attempt; each read may take "
                                        f"{TIMEOUT:g}s)") from exc
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a URL httpx cannot even send to: retrying will not help
                return {"sent": False, "attempts": attempts, "error": f"{type(exc).__name__}: {exc}"}
            else:
                if response.is_success:
                    return {"sent": True, "attempts": attempts, "status_code": response.status_code}
                problem = f"HTTP {response.status_code}: {start[:300]}"
                if response.has_redirect_location:  # never followed: the view and the token go to the URL only
                    problem = f"HTTP {response.status_code}: {_redirect(response)}"
                retry = response.status_code in _RETRY_STATUSES or response.status_code >= 500
                if not retry:
                    return {"sent": False, "attempts": attempts, "status_code": response.status_code,
                            "error": problem}
            if attempts > retries:
                return {"sent": False, "attempts": attempts, "error": problem}
            said = retry_after(response) if response is not None and response.status_code in (429, 503) else None
            if (stop or threading.Event()).wait(delay if said is None else min(said, MAX_RETRY_AFTER)):
                return {"sent": False, "attempts": attempts, "error": f"{problem} (then the server shut down)"}
            delay = min(delay * 2, MAX_DELAY)


def _redirect(response: Any) -> str:
    """What a receiver's redirect answer is said to be: where it pointed (a password in it as ``***``)."""
    location = response.headers["location"]
    with contextlib.suppress(ValueError):  # (a Location that is no URL: shown as it came)
        location = str(response.request.url.join(location))
    return (f"a redirect to {redact_url(location)[:300]}, which is not followed (the execution view and the callback "
            "token go only to the callback URL)")


def _post_reading_the_start(http: Any, url: str, view: Mapping[str, Any],
                            headers: Mapping[str, str]) -> tuple[Any, str]:
    """POST ``view``; the response (its status and headers) and at most the first :data:`ANSWER_READ` bytes of its
    body as text. The rest is never read: a receiver's answer says only accepted or not, and one streaming an endless
    body must not hold the sending thread (or its memory)."""
    from igniter_nb.server.client_base import without_credentials

    target, auth = without_credentials(url)  # (httpx logs the URL it is given: a password in it goes as auth=)
    with http.stream("POST", target, json=dict(view), headers=headers, auth=auth) as response:
        start = b""
        if not response.is_success:
            for chunk in response.iter_bytes():  # (decoded: a compressed error answer reads as text)
                start += chunk
                if len(start) >= ANSWER_READ:
                    break
        return response, start[:ANSWER_READ].decode("utf-8", "replace")


def send_due(store: Any, cls: Any, callbacks: list[Callback], view: Mapping[str, Any], *,
             retries: int = RETRIES, stop: threading.Event | None = None) -> list[dict[str, Any]]:
    """Report ``view`` (the finished execution) to each callback, and record each result in the execution's log.

    Blocking (HTTP with back-off, then store writes): a server runs it in a worker thread after answering."""
    results = []
    for callback in callbacks:
        result = post(callback, view, retries=retries, stop=stop)
        result["registration"] = callback.registration
        shown = redact_url(callback.url)  # (a password in the URL is never logged, nor stored in the result event)
        result["url"] = shown
        if not result["sent"]:
            result["error"] = redact_url(callback.url, str(result["error"]))
        if result["sent"]:
            log.info("callback of execution %s sent to %s (%d attempt(s))", callback.execution_id, shown,
                     result["attempts"])
        else:
            log.warning("callback of execution %s to %s failed after %d attempt(s): %s", callback.execution_id,
                        shown, result["attempts"], result["error"])
        _record(store, cls, callback, result)
        results.append(result)
    return results


class CallbackReports:
    """How an app sends the callbacks a change made due (``Answer.callbacks``): :func:`send_due` in a worker
    thread, started after the answer went out; the tasks are kept until they end (the app waits a little for them
    when it shuts down, then stops their retries)."""

    def __init__(self, store: Any, retries: int) -> None:
        if type(retries) is not int or retries < 0:
            raise ValueError(f"callback_retries must be an int >= 0, got {retries!r}")
        self.store = store
        self.retries = retries
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = threading.Event()

    def send(self, answer: Any) -> None:
        if not answer.callbacks:
            return
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(
            send_due, self.store, answer.contract_class, list(answer.callbacks), answer.view, retries=self.retries,
            stop=self.stopping))
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending callbacks failed", exc_info=task.exception())

    async def drain(self, timeout: float) -> None:
        """Give callbacks in flight ``timeout`` seconds, then stop their retries (each records its failure)."""
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
            if pending:
                log.warning("%d callback report(s) still retrying at shutdown: stopping their retries", len(pending))
                self.stopping.set()
                await asyncio.wait(pending, timeout=TOTAL_TIMEOUT + 1)


def _record(store: Any, cls: Any, callback: Callback, result: dict[str, Any]) -> None:
    from igniter_nb.runtime.restore import restore_record
    from igniter_nb.runtime.store_runner import persist

    kind = SENT if result["sent"] else FAILED
    for _ in range(_MAX_ATTEMPTS):
        try:
            contract = restore_record(cls, store.record(callback.execution_id), store=store)
            contract.execution.bus.emit(kind, payload=dict(result))
            persist(contract.execution, store)
            return
        except ConcurrencyError:
            continue
        except Exception:  # the report itself went out; a store that fails here must not lose the log line
            log.exception("could not record the callback result of execution %s", callback.execution_id)
            return
    log.warning("could not record the callback result of execution %s: %d conflicting saves in a row",
                callback.execution_id, _MAX_ATTEMPTS)


__all__ = ["FAILED", "REGISTERED", "SENT", "Callback", "CallbackReports", "due", "post", "redact_event", "redact_snapshot", "register",
           "send_due"]
