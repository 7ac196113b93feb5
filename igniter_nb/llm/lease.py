"""Resume leases: one process at a time asks the provider for a tool-call wait's follow-up.

Two workers resuming the same wait at the same moment (two servers behind a load balancer, a client retrying
``POST …/resume`` on another one) both restored the pending node and both sent the follow-up request; the store's
compare-and-set kept one result, but the provider was paid twice. Now, before ``call`` runs again, the resuming
executor claims the wait in the execution's store — a record of graph ``igniter_nb.llm_resume`` with id
``llm-resume.<sha256 of the token>``, created (or taken over) by a compare-and-set save — and a second worker
that finds it held is refused with :class:`ResumeInProgressError` before anything is sent.

The lease also keeps each reply the holder got (by request key), so whoever resumes the wait after it — the holder
itself when the execution's save lost to another writer and the resume is applied again, or a worker taking over
from a holder that died after the provider answered — is answered from it instead of asking (and paying) again.

A lease holds until its holder finishes (the resume returned or failed) or, if the holder died mid-call, until
``expires_at`` (the claim's time plus the executor's ``resume_lease`` seconds, by the claiming machine's clock):
then the next resume takes it over. A holder that lives renews it (``keep_alive``: ``expires_at`` moved to now plus
``resume_lease`` every third of it), so a call slower than the lease — a slow provider, the SDK's retries, auto
tools — is not taken over and paid for a second time while its holder still waits for the answer.

Lease records stay after their resume (one small record per resumed wait, listed beside the executions like the
response cache's): :func:`sweep` deletes the old ones.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from igniter_nb.errors import ConcurrencyError, SnapshotNotFoundError
from igniter_nb.llm.errors import ResumeInProgressError

LEASE_GRAPH = "igniter_nb.llm_resume"
LEASE_FORMAT = "igniter_nb.llm_resume/1"
#: ``resume_lease``'s default: seconds a resume holds its wait against other workers if its holder dies mid-call.
DEFAULT_RESUME_LEASE = 600.0


@dataclass(frozen=True)
class LeaseClock:
    """The clocks a claimer reads: ``wall`` (seconds since the epoch, written as ``claimed_at``/``expires_at``),
    ``monotonic`` (seconds, never stepped), ``source`` (which monotonic clock that is: processes whose ``source`` is
    equal read the same one) and ``seen_dir`` (where observations of held leases are kept; ``None``: the temporary
    directory). Pass one to ``ResumeLease.claim``/``sweep`` to run them on other clocks (tests)."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    source: str | None = None
    seen_dir: str | None = None


SYSTEM_CLOCK = LeaseClock()


def lease_id(token: str) -> str:
    """The store record id of the lease on ``token``: ``llm-resume.<sha256 hex of the token>`` (any token, any
    length or characters, gives a valid store id)."""
    return "llm-resume." + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ResumeLease:
    """A claim on one wait's resume, held by this executor; see the module docstring."""

    def __init__(self, store: Any, token: str, entry: dict[str, Any], version: int,
                 clock: LeaseClock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.clock = clock
        self.seconds = float(entry["expires_at"]) - float(entry["claimed_at"])  # (as claimed: renewals keep it)
        self.token = token
        self._entry = entry
        self._version = version
        self._lock = threading.Lock()  # (the renewing thread and the holder both save the entry)
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lost = False  # taken over by another worker after it expired: never saved again by this holder

    @property
    def renewing(self) -> bool:
        """Whether a ``keep_alive`` thread is renewing the lease now."""
        return self._renewer is not None and self._renewer.is_alive()

    def keep_alive(self) -> None:
        """Renew the lease while this process lives, until ``finish`` (or until another worker took it over): every
        third of its length, ``expires_at`` becomes now plus its length. A store that fails a renewal is tried
        again at the next one."""
        if self._renewer is not None:
            return
        self._renewer = threading.Thread(target=self._renew, args=(self.seconds,), daemon=True,
                                         name=f"igniter_nb resume lease {self.token[:40]}")
        self._renewer.start()

    def _renew(self, seconds: float) -> None:
        while not self._stop.wait(max(seconds / 3, 0.1)):  # (a tiny lease must not flood the store)
            if not self.renew():
                return

    def renew(self) -> bool:
        """Renew the lease once (what the ``keep_alive`` thread does every third of its length); ``False`` once it is
        finished or was taken over by another worker. A store that fails the renewal leaves it as it was."""
        with self._lock:
            if self._stop.is_set() or self._lost:
                return False
            previous = dict(self._entry)
            self._entry["expires_at"] = self.clock.wall() + self.seconds
            try:
                self._save()
            except ConcurrencyError:
                self._lost = True
                return False
            except Exception:  # a store down for a moment: the next renewal tries again
                self._entry = previous
            return True

    @classmethod
    def claim(cls, store: Any, token: str, seconds: float, where: str = "",
              clock: LeaseClock = SYSTEM_CLOCK) -> ResumeLease:
        """Claim the resume of ``token`` in ``store`` for ``seconds``, or raise ``ResumeInProgressError`` when
        another worker holds it (``where`` names the node, for the message) — or when the store fails: the resume
        is refused then too, so the node stays pending instead of failing on a store that is down for a moment."""
        try:
            return cls._claim(store, token, seconds, where, clock)
        except ResumeInProgressError:
            raise
        except Exception as exc:  # (a ConcurrencyError never gets here: _claim answers each one)
            raise ResumeInProgressError(f"the tool-call wait {token[:120]!r}{where} could not be claimed: the store "
                                        f"failed ({type(exc).__name__}: {str(exc)[:200]}); nothing was sent to the "
                                        "provider and the node stays pending: resume it again", token=token) from exc

    @classmethod
    def _claim(cls, store: Any, token: str, seconds: float, where: str, clock: LeaseClock) -> ResumeLease:
        record_id = lease_id(token)
        for _ in range(3):  # (a record deleted between the failed create and its read: claimed again)
            now = clock.wall()
            entry = {"format": LEASE_FORMAT, "execution_id": record_id, "graph": LEASE_GRAPH, "token": token,
                     "holder": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(),
                     "claimed_at": now, "expires_at": now + seconds, "running": True, "replies": {}}
            try:
                return cls(store, token, entry, store.save(entry, graph=LEASE_GRAPH, status="succeeded",
                                                           expected_version=0), clock)
            except ConcurrencyError:
                pass
            try:
                record = store.record(record_id)
            except SnapshotNotFoundError:
                continue
            held = record.snapshot
            if _holds(held, now):
                raise ResumeInProgressError(
                    f"the tool-call wait {token[:120]!r}{where} is being resumed by another worker (pid "
                    f"{str(held.get('pid'))[:20]} on {str(held.get('host'))[:80]!r}, since {_ago(held, now)}); nothing was "
                    "sent to the provider. Read the execution again: once that resume is saved the node is no longer "
                    f"pending on this token (the claim expires after {_left(held, now)} if its holder died)",
                    token=token)
            entry["replies"] = _replies(held)  # (what an earlier holder was answered: not asked again)
            try:
                return cls(store, token, entry, store.save(entry, graph=LEASE_GRAPH, status="succeeded",
                                                           expected_version=record.version), clock)
            except ConcurrencyError:  # another worker took it over first
                raise ResumeInProgressError(f"the tool-call wait {token[:120]!r}{where} was just claimed by another "
                                            "worker; nothing was sent to the provider", token=token) from None
        raise ResumeInProgressError(f"the tool-call wait {token[:120]!r}{where} could not be claimed (its lease record "
                                    "kept changing); nothing was sent to the provider", token=token)

    def reply_for(self, key: str) -> dict[str, Any] | None:
        """The reply an earlier holder of this wait got for request ``key``, if any."""
        found = self._entry["replies"].get(key)
        return dict(found) if isinstance(found, Mapping) else None

    def keep(self, key: str, reply: Mapping[str, Any]) -> None:
        """Record the provider's ``reply`` to request ``key`` (raises ``ConcurrencyError`` when the lease was taken
        over meanwhile, after it expired)."""
        with self._lock:
            if self._lost:
                raise ConcurrencyError(f"the resume lease of {self.token[:120]!r} was taken over by another worker")
            self._entry["replies"] = {**self._entry["replies"], key: dict(reply)}
            try:
                self._save()
            except ConcurrencyError:
                self._lost = True
                raise

    def finish(self) -> None:
        """Release the claim (its replies stay, for whoever resumes this wait next); a lease taken over meanwhile is
        left to its new holder. Never raises: it runs after the resume, whose result or error must not be replaced (a
        store that cannot be written leaves the lease to expire, with a warning)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(30)  # (at most one store save to wait for)
        if not self._lock.acquire(timeout=30):  # a renewal stuck in a store that does not answer
            warnings.warn(f"the resume lease of {self.token[:120]!r} could not be released (a renewal is still "
                          "waiting for the store); other workers may resume the wait once it expires", RuntimeWarning,
                          stacklevel=2)
            return
        try:
            if self._lost:
                return
            self._entry["running"] = False
            try:
                self._save()
            except ConcurrencyError:
                return
            except Exception as exc:
                warnings.warn(f"the resume lease of {self.token[:120]!r} could not be released ({type(exc).__name__}: "
                              f"{str(exc)[:200]}); other workers may resume the wait once it expires", RuntimeWarning,
                              stacklevel=2)
        finally:
            self._lock.release()

    def _save(self) -> None:
        self._version = self.store.save(self._entry, graph=LEASE_GRAPH, status="succeeded",
                                        expected_version=self._version)


def sweep(store: Any, older_than: float = 86400.0, clock: LeaseClock = SYSTEM_CLOCK) -> int:
    """Delete the resume leases of ``store`` that no worker holds and that were claimed more than ``older_than``
    seconds ago (a day unless given); returns how many. Their waits were resumed long since: the replies they keep
    served only a worker resuming the same wait soon after."""
    if isinstance(older_than, bool) or not isinstance(older_than, int | float) or not older_than >= 0:
        raise ValueError(f"older_than must be a number of seconds >= 0, got {older_than!r}")
    now, removed = clock.wall(), 0
    for record in store.list(graph=LEASE_GRAPH):
        entry = record.snapshot
        claimed = entry.get("claimed_at")
        old = not isinstance(claimed, int | float) or isinstance(claimed, bool) or claimed < now - older_than
        if old and not _holds(entry, now) and store.delete(record.execution_id):
            removed += 1
    return removed


def _holds(entry: Mapping[str, Any], now: float) -> bool:
    """Whether a stored lease is still held: running and not expired (a record damaged or of another format is not)."""
    expires = entry.get("expires_at")
    return (entry.get("format") == LEASE_FORMAT and entry.get("running") is True
            and isinstance(expires, int | float) and not isinstance(expires, bool) and expires > now)


def _replies(entry: Mapping[str, Any]) -> dict[str, Any]:
    replies = entry.get("replies") if entry.get("format") == LEASE_FORMAT else None
    if not isinstance(replies, Mapping):
        return {}
    return {k: dict(v) for k, v in replies.items() if isinstance(k, str) and isinstance(v, Mapping)}


def _ago(entry: Mapping[str, Any], now: float) -> str:
    claimed = entry.get("claimed_at")
    if isinstance(claimed, int | float) and not isinstance(claimed, bool):
        return f"{max(0.0, now - claimed):.1f} s ago"
    return "an unknown time"


def _left(entry: Mapping[str, Any], now: float) -> str:
    return f"{max(0.0, float(entry['expires_at']) - now):.1f} s"


__all__ = ["DEFAULT_RESUME_LEASE", "LEASE_FORMAT", "LEASE_GRAPH", "SYSTEM_CLOCK", "LeaseClock", "ResumeInProgressError", "ResumeLease", "lease_id",
           "sweep"]
