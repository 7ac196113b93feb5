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

A lease holds until its holder finishes (the resume returned or failed) or, if the holder died mid-call, until it
has stayed unchanged for longer than its length (the executor's ``resume_lease`` seconds, stored as ``seconds``):
then the next resume takes it over. A holder that lives renews it (``keep_alive``: a save every third of its length,
which changes the record's store version), so a call slower than the lease — a slow provider, the SDK's retries, auto
tools — is not taken over and paid for a second time while its holder still waits for the answer.

"Unchanged for longer than its length" is judged by the claimer's own *monotonic* clock, never by comparing wall
clocks (until 2026-12-05 ``expires_at``, the holder's wall clock plus the lease, was compared with the claimer's:
a claimer whose clock ran ahead by more than the lease took over a live lease and paid again). A claimer on the
holder's own monotonic clock (the same host and boot, ``clock``) measures from the holder's last save (``beat``);
any other measures from when its machine first saw that holder at that store version (kept in a small file per
lease under the temporary directory, so the next process on the machine — a forking queue worker's next child —
continues the observation). A dead holder is thus taken over at most one lease length after another machine first
looks, whatever the clocks say; the first look at a lease whose holder died long ago is refused once.
``claimed_at``/``expires_at`` are still written and renewed for workers of the previous release, which judge them
by their wall clock; a lease the previous release wrote (no ``seconds``) is judged by observation, its length read
as ``expires_at - claimed_at`` (at least the claimer's own).

Lease records stay after their resume (one small record per resumed wait, listed beside the executions like the
response cache's): :func:`sweep` deletes the old ones.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import socket
import tempfile
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

    @property
    def source_id(self) -> str:
        """``source``, or this machine's: its host name and boot (every process of one boot reads one monotonic
        clock)."""
        return self.source if self.source is not None else _machine_clock()


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
        self.seconds = float(entry["seconds"])
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
        third of its length it is saved again (a new store version and ``beat``; ``expires_at`` becomes now plus its
        length, for the previous release's workers). A store that fails a renewal is tried again at the next one."""
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
                     "claimed_at": now, "expires_at": now + seconds, "seconds": float(seconds),
                     "clock": clock.source_id, "beat": clock.monotonic(), "running": True, "replies": {}}
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
            left = _left(held, record_id, record.version, seconds, clock)
            if left is not None:
                raise ResumeInProgressError(
                    f"the tool-call wait {token[:120]!r}{where} is being resumed by another worker (pid "
                    f"{str(held.get('pid'))[:20]} on {str(held.get('host'))[:80]!r}, since {_ago(held, now)} by this "
                    "machine's clock); nothing was sent to the provider. Read the execution again: once that resume is "
                    "saved the node is no longer pending on this token (the claim is taken over once it stays unchanged "
                    f"for {left:.1f} s more by this machine's monotonic clock: its holder died)", token=token)
            _forget(clock, record_id)
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
        self._entry["beat"] = self.clock.monotonic()  # (a sign of life, on the holder's monotonic clock)
        self._version = self.store.save(self._entry, graph=LEASE_GRAPH, status="succeeded",
                                        expected_version=self._version)


def sweep(store: Any, older_than: float = 86400.0, clock: LeaseClock = SYSTEM_CLOCK) -> int:
    """Delete the resume leases of ``store`` that no worker holds and that were claimed more than ``older_than``
    seconds ago (a day unless given); returns how many. Their waits were resumed long since: the replies they keep
    served only a worker resuming the same wait soon after. A lease still marked running is held unless its holder
    is seen dead as a claimer sees it (unchanged for longer than its length, by ``clock``'s monotonic clock: a
    sweep run again later deletes it)."""
    if isinstance(older_than, bool) or not isinstance(older_than, int | float) or not older_than >= 0:
        raise ValueError(f"older_than must be a number of seconds >= 0, got {older_than!r}")
    now, removed = clock.wall(), 0
    for record in store.list(graph=LEASE_GRAPH):
        entry = record.snapshot
        claimed = entry.get("claimed_at")
        old = not isinstance(claimed, int | float) or isinstance(claimed, bool) or claimed < now - older_than
        if (old and _left(entry, record.execution_id, record.version, DEFAULT_RESUME_LEASE, clock) is None
                and store.delete(record.execution_id)):
            _forget(clock, record.execution_id)
            removed += 1
    return removed


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a number (a record damaged by hand)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) else None


def _left(entry: Mapping[str, Any], record_id: str, version: int, own: float, clock: LeaseClock) -> float | None:
    """How many more seconds (of ``clock``'s monotonic clock) a stored lease holds, or ``None`` when it holds nothing:
    released, damaged or of another format, or unchanged for longer than its length — since its holder's last save
    when the holder wrote it on this very monotonic clock (``beat``), else since this machine first saw this holder
    at this store version. Wall clocks are not read: skew between machines or a step of one changes nothing."""
    expires = _number(entry.get("expires_at"))
    if entry.get("format") != LEASE_FORMAT or entry.get("running") is not True or expires is None:
        return None
    length = _number(entry.get("seconds"))
    if length is None or length <= 0:  # written by the previous release: at least its span as claimed
        claimed = _number(entry.get("claimed_at"))
        length = max(expires - claimed if claimed is not None else 0.0, own)
    if length > _LONGEST_LEASE[0]:  # (sightings are kept ten times the longest lease read: _prune_seen)
        _LONGEST_LEASE[0] = length
    now, beat = clock.monotonic(), _number(entry.get("beat"))
    if entry.get("clock") == clock.source_id and beat is not None:
        since = min(beat, now)
    else:
        since = _first_seen(clock, record_id, str(entry.get("holder")), version, now)
    left = length - (now - since)
    return left if left >= 0 else None


#: This process's observations of held leases: (clock source, record id) -> (holder, version, first seen at).
_SEEN: dict[tuple[str, str], tuple[str, int, float]] = {}
_SEEN_MAX = 4096
_SEEN_LOCK = threading.Lock()  # (resumes of several threads observe at once)


def _first_seen(clock: LeaseClock, record_id: str, holder: str, version: int, now: float) -> float:
    """When (by ``clock.monotonic``) this machine first saw lease ``record_id`` held by ``holder`` at ``version``:
    kept in memory and in a small file of ``seen_dir``, so that the next process on this machine (a forking queue
    worker's next child) continues the observation instead of starting it again. Never earlier than a real sighting:
    a lost or unreadable observation only starts a new one."""
    key = (clock.source_id, record_id)
    found = _SEEN.get(key)
    if found is None or found[:2] != (holder, version):
        found = _read_seen(clock, record_id)
    if found is not None and found[:2] == (holder, version) and found[2] <= now:
        _SEEN[key] = found
        return found[2]
    with _SEEN_LOCK:
        _SEEN[key] = (holder, version, now)
        while len(_SEEN) > _SEEN_MAX:  # (the oldest sightings go first)
            _SEEN.pop(next(iter(_SEEN)), None)
    _write_seen(clock, record_id, {"holder": holder, "version": version, "at": now})
    with contextlib.suppress(OSError):
        _prune_seen(clock)
    return now


#: Sighting files are pruned at most once per process and directory in this many seconds (by the monotonic clock)…
SEEN_PRUNE_EVERY = 3600.0
#: …at most this many directory entries looked at and this many files removed per pruning…
SEEN_PRUNE_SCAN = 2000
SEEN_PRUNE_REMOVE = 200
#: …once their mtime is older than this many seconds, or ten times the longest lease this process read if longer.
SEEN_KEEP = 86400.0
#: …but never longer than thirty days (a lease record damaged by hand must not stop the pruning).
SEEN_KEEP_MAX = 30 * 86400.0
_SEEN_PRUNED: dict[str, tuple[int, float]] = {}  # directory -> (pid, monotonic time of its last pruning)
_LONGEST_LEASE = [DEFAULT_RESUME_LEASE]


def _prune_seen(clock: LeaseClock, force: bool = False) -> int:
    """Remove the sighting files of ``clock``'s directory (and partial ones a dead writer left) whose mtime, by this
    host's wall clock, is older than ``SEEN_KEEP`` or ten times the longest lease this process read (at most
    ``SEEN_KEEP_MAX``); at most once an hour per process (``force``: now), a bounded number each time. Returns how many. Safe whatever it removes: a
    sighting is written once, when a holder is first seen at a store version, so an old one is of a lease released,
    taken over or takeable long ago; a removed one is read as no sighting (a reader that opened it first still
    reads it whole), which only starts the observation again — it delays a takeover, never hastens one."""
    directory = os.path.dirname(_seen_path(clock, "x") or "")  # (None: no private directory to prune)
    if not directory:
        return 0
    now = time.monotonic()
    last = _SEEN_PRUNED.get(directory)
    if not force and last is not None and last[0] == os.getpid() and now - last[1] < SEEN_PRUNE_EVERY:
        return 0
    _SEEN_PRUNED[directory] = (os.getpid(), now)
    cutoff = time.time() - min(max(SEEN_KEEP, 10 * _LONGEST_LEASE[0]), SEEN_KEEP_MAX)
    removed = 0
    with os.scandir(directory) as entries:
        for looked, entry in enumerate(entries):
            if looked >= SEEN_PRUNE_SCAN or removed >= SEEN_PRUNE_REMOVE:
                break
            if ".llm-resume." not in entry.name:  # (only what _seen_path and _write_seen name)
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _forget(clock: LeaseClock, record_id: str) -> None:
    _SEEN.pop((clock.source_id, record_id), None)
    path = _seen_path(clock, record_id)
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _seen_path(clock: LeaseClock, record_id: str) -> str | None:
    """The file of this machine's observation of ``record_id``, or ``None`` when there is no private place for it
    (the default directory, under the temporary one, must belong to this user: another could backdate a sighting)."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    owner = "user" if uid is None else str(uid)
    directory = clock.seen_dir or os.path.join(tempfile.gettempdir(), f"igniter_nb-leases-{owner}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if clock.seen_dir is None and uid is not None and os.stat(directory).st_uid != uid:
            return None
    except OSError:
        return None
    source = hashlib.sha256(clock.source_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return os.path.join(directory, f"{source}.{record_id}.json")


def _read_seen(clock: LeaseClock, record_id: str) -> tuple[str, int, float] | None:
    path = _seen_path(clock, record_id)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        found = (data["holder"], data["version"], data["at"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    at = _number(found[2])
    return (found[0], found[1], at) if isinstance(found[0], str) and isinstance(found[1], int) and at is not None else None


def _write_seen(clock: LeaseClock, record_id: str, data: dict[str, Any]) -> None:
    path = _seen_path(clock, record_id)
    if path is None:
        return
    partial = f"{path}.{os.getpid()}.{threading.get_ident()}"
    try:
        with open(partial, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)


@functools.cache
def _machine_clock() -> str:
    """This machine's monotonic clock: its host name and boot id (Linux), else its boot time by the wall clock to the
    second (a wall step makes it another clock, which only delays a takeover)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            boot = file.read().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot or round(time.time() - time.monotonic())}"


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


__all__ = ["DEFAULT_RESUME_LEASE", "LEASE_FORMAT", "LEASE_GRAPH", "SYSTEM_CLOCK", "LeaseClock", "ResumeInProgressError", "ResumeLease", "lease_id",
           "sweep"]
